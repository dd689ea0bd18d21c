import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers'; // also registers gradients for tf.grad in Node
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.js';
import { SpectralConv2D, SpectralDense, spectralConv2d, spectralDense, spectralNormalize } from '../../src/nn/spectral_norm.js';
import { loadModel, saveModel } from '../../src/gan/model_io.js';

await initBackend({ quiet: true });

/** Oracle: σ_max of a row-major [m, n] matrix by power iteration on AᵀA run to convergence, in plain JS (float64). */
function sigmaMax(a: Float32Array | number[], m: number, n: number): number {
  let v = Array.from({ length: n }, (_, i) => Math.sin(i + 1)); // a fixed start not orthogonal to anything in particular
  let sigma = 0;
  for (let it = 0; it < 5000; it++) {
    const av = Array.from({ length: m }, (_, i) => v.reduce((s, vj, j) => s + a[i * n + j] * vj, 0));
    const atav = Array.from({ length: n }, (_, j) => av.reduce((s, ai, i) => s + a[i * n + j] * ai, 0));
    const norm = Math.hypot(...atav);
    const next = Math.sqrt(norm); // ‖AᵀAv‖ → σ² for unit v
    v = atav.map((x) => x / norm);
    if (Math.abs(next - sigma) < 1e-12 * next) return next;
    sigma = next;
  }
  return sigma;
}

test('SpectralDense: the power iteration converges to σ_max(K), and K/σ has σ_max ≈ 1', () => {
  const layer = spectralDense({ units: 12, useBias: false, init: 'normal', stddev: 0.5, seed: 3 });
  const x = tf.randomNormal([4, 20], 0, 1, 'float32', 1);
  tf.dispose(layer.apply(x) as tf.Tensor); // builds the layer; ũ not updated (no training flag)
  const kernel = layer.getWeights()[0].dataSync() as Float32Array; // [20, 12]
  const trueSigma = sigmaMax(kernel, 20, 12);

  // One step from a random ũ is a lower bound (power iteration never overshoots σ_max).
  assert.ok(layer.sigma() <= trueSigma * (1 + 1e-5), `${layer.sigma()} > σ_max ${trueSigma}`);
  for (let i = 0; i < 40; i++) tf.dispose(layer.apply(x, { training: true }) as tf.Tensor);
  assert.ok(Math.abs(layer.sigma() - trueSigma) / trueSigma < 1e-3, `estimate ${layer.sigma()} vs σ_max ${trueSigma}`);

  const normalised = tf.tidy(() => layer.normalizedKernel().dataSync() as Float32Array);
  const s = sigmaMax(normalised, 20, 12);
  assert.ok(Math.abs(s - 1) < 1e-3, `σ_max(K/σ) = ${s}`);
  // And the layer really uses it: y = x·K/σ for an identity input.
  const y = tf.tidy(() => (layer.apply(tf.eye(20)) as tf.Tensor).dataSync());
  for (let i = 0; i < y.length; i++) assert.ok(Math.abs(y[i] - normalised[i]) < 1e-5);
  x.dispose();
  layer.dispose();
});

test('SpectralConv2D normalises the kernel flattened to [kh·kw·cIn, filters]; inference calls leave ũ alone', () => {
  const layer = spectralConv2d({ filters: 6, kernelSize: 3, strides: 2, init: 'normal', stddev: 0.3, seed: 5 });
  const x = tf.randomNormal([2, 8, 8, 4], 0, 1, 'float32', 2);
  const y = layer.apply(x) as tf.Tensor;
  assert.deepEqual(y.shape, [2, 4, 4, 6]);
  const uBefore = layer.getWeights()[2].dataSync().slice();
  tf.dispose(layer.apply(x, { training: false }) as tf.Tensor);
  assert.deepEqual(layer.getWeights()[2].dataSync(), uBefore, 'inference moved ũ');
  for (let i = 0; i < 40; i++) tf.dispose(layer.apply(x, { training: true }) as tf.Tensor);
  const normalised = tf.tidy(() => layer.normalizedKernel().dataSync() as Float32Array);
  assert.ok(Math.abs(sigmaMax(normalised, 3 * 3 * 4, 6) - 1) < 1e-3);
  tf.dispose([x, y]);
  layer.dispose();
});

test('gradients: ũ is a non-trainable weight (no optimizer moves it); kernels and biases get finite gradients', () => {
  const model = tfl.sequential();
  model.add(spectralDense({ inputShape: [3], units: 5, seed: 1 }));
  model.add(tfl.layers.leakyReLU({ alpha: 0.1 }));
  model.add(spectralDense({ units: 1, seed: 2 }));
  assert.equal(model.trainableWeights.length, 4, 'kernel and bias of each layer');
  assert.equal(model.nonTrainableWeights.length, 2, 'one ũ per layer');
  const x = tf.randomNormal([8, 3], 0, 1, 'float32', 4);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(() => tf.mean(model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, vars);
  for (const g of Object.values(grads)) assert.ok(Array.from(g.dataSync()).every(Number.isFinite));
  assert.equal(Object.keys(grads).length, 4);
  tf.dispose([value, x, ...Object.values(grads)]);
  model.dispose();
});

test("the kernel's gradient is the written-out one: autodiff of K/(ṽᵀKũ) with ũ, ṽ held fixed, and finite differences", () => {
  const kernel = tf.randomNormal([3, 3, 2, 4], 0, 0.3, 'float32', 3);
  const u = tf.randomNormal([1, 4], 0, 1, 'float32', 4);
  const w = tf.randomNormal(kernel.shape, 0, 1, 'float32', 9); // L = Σ w ⊙ K/σ: an arbitrary G = ∂L/∂(K/σ)
  const loss = (normalized: tf.Tensor) => tf.sum(tf.mul(w, normalized));
  const lossOf = (k: tf.Tensor) => {
    const step = spectralNormalize(k, u);
    step.u.dispose();
    return loss(step.kernel);
  };
  // Oracle: the power-iteration vectors from the same ũ as constants (plain values), σ = ṽᵀKũ differentiated by the tape.
  const flat = tf.reshape(kernel, [-1, 4]);
  const v = tf.tidy(() => { const t = tf.matMul(u, flat, false, true); return tf.div(t, tf.norm(t)); });
  const uNew = tf.tidy(() => { const t = tf.matMul(v, flat); return tf.div(t, tf.norm(t)); });
  const composed = tf.grad((k: tf.Tensor) => loss(tf.div(k, tf.sum(tf.mul(tf.matMul(v, tf.reshape(k, [-1, 4])), uNew)))));
  const g = tf.grad(lossOf)(kernel), ref = composed(kernel);
  const a = g.dataSync(), b = ref.dataSync();
  const scale = Math.max(...Array.from(b, Math.abs));
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-4 * scale, `∂L/∂K[${i}] ${a[i]} vs ${b[i]}`);
  // And by central differences of the op itself, whose ũ and ṽ move with K: they agree to first order.
  const at = (delta: number, i: number) => tf.tidy(() =>
    lossOf(tf.add(kernel, tf.mul(tf.reshape(tf.oneHot(i, kernel.size), kernel.shape), delta))).dataSync()[0]);
  for (const i of [0, 7, 30, kernel.size - 1]) {
    const fd = (at(1e-3, i) - at(-1e-3, i)) / 2e-3;
    assert.ok(Math.abs(fd - b[i]) < 0.1 * scale, `finite difference at ${i}: ${fd} vs ${b[i]}`);
  }
  tf.dispose([kernel, u, w, flat, v, uNew, g, ref]);
});

test('a model of spectral layers round-trips through save/load: same weights, same ũ, same next training step', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-sn-'));
  try {
    const model = tfl.sequential();
    model.add(spectralConv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 4, strides: 2, init: 'normal', seed: 7 }));
    model.add(tfl.layers.leakyReLU({ alpha: 0.1 }));
    model.add(tfl.layers.flatten());
    model.add(spectralDense({ units: 1, seed: 8 }));
    const x = tf.randomNormal([3, 8, 8, 1], 0, 1, 'float32', 9);
    for (let i = 0; i < 3; i++) tf.dispose(model.apply(x, { training: true }) as tf.Tensor); // move ũ away from its init
    await saveModel(model, path.join(dir, 'd'));
    const loaded = await loadModel(path.join(dir, 'd'));
    assert.deepEqual(loaded.layers.map((l) => l.getClassName()), ['SpectralConv2D', 'LeakyReLU', 'Flatten', 'SpectralDense']);
    const a = model.getWeights();
    const b = loaded.getWeights();
    assert.equal(b.length, 6);
    a.forEach((w, i) => assert.deepEqual(b[i].dataSync(), w.dataSync(), `weight ${i}`));
    // Continuing: one more training call on each gives the same output and the same ũ.
    const ya = model.apply(x, { training: true }) as tf.Tensor;
    const yb = loaded.apply(x, { training: true }) as tf.Tensor;
    assert.deepEqual(yb.dataSync(), ya.dataSync());
    const conv = loaded.layers[0] as SpectralConv2D;
    assert.equal(conv.sigma(), (model.layers[0] as SpectralConv2D).sigma());
    assert.ok(loaded.layers[3] instanceof SpectralDense);
    tf.dispose([x, ya, yb]);
    model.dispose();
    loaded.dispose();
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
