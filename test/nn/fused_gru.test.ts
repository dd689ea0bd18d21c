// FusedGRU, the sequence families' GRU: with the same weights it must give what tfjs-layers' GRU gives on the tfjs
// cpu backend — outputs and the gradients of x, kernel, recurrent kernel and bias, for random shapes, masks,
// goBackwards, both gate activations and returnSequences false — train a stacked GRU the same way, keep GRU's
// weight names, save and load as itself, and run forward+backward on aten without CPU fallbacks or leaked tensors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/backend/index.js';
import { FusedGRU } from '../../src/nn/fused_gru.js';
import { Rng } from '../../src/util/rng.js';

await initBackend({ quiet: true });
const ATEN = tf.engine().registryFactory['aten'] !== undefined;
const { atenFallbackKernels } = ATEN
  ? (await import('tfjs-backend-aten' as string)) as { atenFallbackKernels(): string[] }
  : { atenFallbackKernels: () => [] as string[] };
const BACKENDS = ['cpu', ...(ATEN ? ['aten'] : [])]; // cpu: FusedGRU is GRU's own step chain there

interface Case {
  b: number; t: number; e: number; h: number; goBackwards: boolean; gates: 'sigmoid' | 'hardSigmoid';
  returnSequences: boolean; useBias: boolean; lengths?: number[];
}

const uniform = (n: number, rng: Rng, scale: number) => Float32Array.from({ length: n }, () => scale * (2 * rng.uniform() - 1));

/** A random case: small sizes, either direction and gate, sometimes a padding mask, no bias or the last step only. */
function randomCase(rng: Rng): Case {
  const b = 1 + rng.int(4), t = 1 + rng.int(6);
  const lengths = rng.uniform() < 0.5 ? Array.from({ length: b }, () => rng.int(t + 1)) : undefined;
  return {
    b, t, e: 1 + rng.int(5), h: 1 + rng.int(5), goBackwards: rng.uniform() < 0.5, gates: rng.uniform() < 0.5 ? 'sigmoid' : 'hardSigmoid',
    returnSequences: rng.uniform() < 0.75, useBias: rng.uniform() < 0.8, lengths,
  };
}

interface Run { y: number[]; grads: number[][] }

/** y and the gradients of Σ y·w with respect to x and each weight (kernel, recurrent_kernel[, bias]). */
function run(c: Case, fused: boolean, seed: number): Run {
  const args = { units: c.h, returnSequences: c.returnSequences, goBackwards: c.goBackwards, recurrentActivation: c.gates, useBias: c.useBias,
    recurrentInitializer: 'glorotUniform' as const }; // tfjs-layers' default orthogonal initializer fails on this tfjs-core (rMat.flatten)
  const layer = fused ? new FusedGRU(args) : tfl.layers.gru(args);
  const rng = new Rng(seed);
  return tf.tidy(() => {
    const x = tf.variable(tf.tensor3d(uniform(c.b * c.t * c.e, rng, 1), [c.b, c.t, c.e]));
    layer.apply(x); // builds the weights
    layer.setWeights(layer.getWeights().map((w) => tf.tensor(uniform(w.size, rng, 0.8), w.shape)));
    const mask = c.lengths && tf.tensor2d(c.lengths.flatMap((l) => Array.from({ length: c.t }, (_, s) => (s < l ? 1 : 0))), [c.b, c.t], 'bool');
    const yShape = c.returnSequences ? [c.b, c.t, c.h] : [c.b, c.h];
    const w = tf.tensor(uniform(yShape.reduce((p, d) => p * d, 1), rng, 1), yShape);
    // tfjs-layers' rnn() cannot be differentiated over a single step (the gradient of its unstack throws), so
    // there the reference is its GRUCell applied once to the zero state, the mask zeroing padded rows.
    const single = () => {
      const h = ((layer as tfl.RNN).cell.call([tf.reshape(x, [c.b, c.e]), tf.zeros([c.b, c.h])], {}) as tf.Tensor[])[0];
      const held = mask ? tf.mul(h, tf.reshape(tf.cast(mask, 'float32'), [c.b, 1])) : h;
      return c.returnSequences ? tf.reshape(held, [c.b, 1, c.h]) : held;
    };
    const f = !fused && c.t === 1 ? single : () => layer.apply(x, mask ? { mask } : {}) as tf.Tensor;
    const y = Array.from(f().dataSync());
    const vars = [x, ...layer.trainableWeights.map((v) => v.read() as tf.Variable)];
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(f(), w)), vars);
    const out = { y, grads: vars.map((v) => Array.from(grads[v.name].dataSync())) };
    layer.dispose();
    x.dispose();
    return out;
  });
}

function close(actual: number[], expected: number[], tol: number, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]) <= tol * Math.max(1, Math.abs(expected[i])), `${label}[${i}]: ${a} vs ${expected[i]}`));
}

test('FusedGRU = tfjs-layers GRU on cpu with the same weights: outputs and gradients of x, kernel, recurrent kernel, bias', async () => {
  const rng = new Rng(16);
  const cases: Case[] = [
    { b: 1, t: 1, e: 2, h: 3, goBackwards: false, gates: 'hardSigmoid', returnSequences: true, useBias: true },
    { b: 1, t: 5, e: 3, h: 2, goBackwards: true, gates: 'sigmoid', returnSequences: false, useBias: true, lengths: [3] },
    { b: 4, t: 6, e: 3, h: 5, goBackwards: true, gates: 'sigmoid', returnSequences: true, useBias: true, lengths: [6, 2, 0, 5] },
    ...Array.from({ length: 10 }, () => randomCase(rng)),
  ];
  for (const [k, c] of cases.entries()) {
    await tf.setBackend('cpu');
    const expected = run(c, false, 100 + k);
    // On cpu FusedGRU is tfjs-layers' GRU, which a single step's gradient breaks (see run()).
    for (const backend of BACKENDS.filter((b) => c.t > 1 || b !== 'cpu')) {
      await tf.setBackend(backend);
      const got = run(c, true, 100 + k);
      const label = `${backend} ${JSON.stringify(c)}`;
      close(got.y, expected.y, 1e-5, `${label} y`);
      assert.equal(got.grads.length, expected.grads.length);
      got.grads.forEach((g, i) => close(g, expected.grads[i], 1e-4, `${label} d${['x', 'kernel', 'recurrentKernel', 'bias'][i]}`));
    }
  }
});

/** A TimeGAN-like stack: three GRUs returning sequences, then a per-step dense layer with a sigmoid. */
function stack(fused: boolean, t: number, e: number, h: number): tfl.LayersModel {
  const input = tfl.input({ shape: [t, e] });
  let y = input;
  for (let i = 0; i < 3; i++) {
    const args = { units: h, returnSequences: true, recurrentActivation: 'sigmoid' as const, recurrentInitializer: 'glorotUniform' as const, name: `gru${i}` };
    y = (fused ? new FusedGRU(args) : tfl.layers.gru(args)).apply(y) as tfl.SymbolicTensor;
  }
  const out = tfl.layers.dense({ units: e, activation: 'sigmoid', name: 'out' }).apply(y) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

test('a stacked 3-layer FusedGRU trained a few Adam steps on aten matches tfjs-layers GRUs trained on cpu', async () => {
  const [B, T, E, H] = [8, 7, 3, 6];
  const rng = new Rng(7);
  const x = uniform(B * T * E, rng, 1), target = Float32Array.from(uniform(B * T * E, rng, 0.5), (v) => v + 0.5);
  let initial: Float32Array[] | undefined;
  const train = (model: tfl.LayersModel) => {
    initial ??= model.getWeights().map((w) => uniform(w.size, rng, 0.5));
    model.setWeights(initial.map((w, k) => tf.tensor(w, model.weights[k].shape as number[])));
    const optimizer = tf.train.adam(0.01);
    const xs = tf.tensor3d(x, [B, T, E]), ys = tf.tensor3d(target, [B, T, E]);
    const losses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const loss = optimizer.minimize(() => tf.mean(tf.square(tf.sub(model.apply(xs) as tf.Tensor, ys))) as tf.Scalar, true)!;
      losses.push(loss.dataSync()[0]);
      loss.dispose();
    }
    const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
    tf.dispose([xs, ys]);
    optimizer.dispose();
    return { losses, weights };
  };
  await tf.setBackend('cpu');
  const reference = stack(false, T, E, H);
  const expected = train(reference);
  assert.ok(expected.losses[3] < expected.losses[0], 'the loss falls');
  for (const backend of BACKENDS) {
    await tf.setBackend(backend);
    const model = stack(true, T, E, H);
    assert.deepEqual(model.weights.map((w) => w.originalName), reference.weights.map((w) => w.originalName));
    const got = train(model);
    close(got.losses, expected.losses, 1e-5, `${backend} losses`);
    got.weights.forEach((w, k) => close(w, expected.weights[k], 1e-4, `${backend} ${model.weights[k].originalName}`));
    model.dispose();
  }
  reference.dispose();
});

test('FusedGRU saves as itself and loads back to the same outputs', async () => {
  await tf.setBackend(ATEN ? 'aten' : 'cpu');
  const model = stack(true, 5, 2, 4);
  const artifacts: tf.io.ModelArtifacts[] = [];
  await model.save(tf.io.withSaveHandler(async (a) => { artifacts.push(a); return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }; }));
  assert.match(JSON.stringify(artifacts[0].modelTopology), /"class_name":"FusedGRU"/);
  const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts[0]));
  const x = tf.tensor3d(uniform(3 * 5 * 2, new Rng(3), 1), [3, 5, 2]);
  close(Array.from((loaded.predict(x) as tf.Tensor).dataSync()), Array.from((model.predict(x) as tf.Tensor).dataSync()), 1e-6, 'loaded');
  tf.dispose(x);
  model.dispose();
  loaded.dispose();
});

test('[aten] a training step through the GRU stack runs one kernel per layer, no CPU fallback, flat tensor counts', { skip: !ATEN }, async () => {
  await tf.setBackend('aten');
  const model = stack(true, 6, 3, 5);
  const x = tf.tensor3d(uniform(4 * 6 * 3, new Rng(4), 1), [4, 6, 3]);
  const optimizer = tf.train.adam(1e-3);
  const before = new Set(atenFallbackKernels());
  const step = () => tf.dispose(optimizer.minimize(() => tf.mean(tf.square(model.apply(x) as tf.Tensor)) as tf.Scalar, true)!);
  step();
  const tensors = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) step();
  assert.equal(tf.memory().numTensors, tensors);
  assert.deepEqual(atenFallbackKernels().filter((k) => !before.has(k)), []);
  const profile = await tf.profile(() => tf.tidy(() => model.predict(x)));
  assert.equal(profile.kernels.filter((k) => k.name === 'GruSequence').length, 3, 'one GruSequence kernel per layer');
  assert.ok(profile.kernels.length < 20, `a forward is a handful of kernels, got ${profile.kernels.length}`);
  // What the kernel does not take runs as tfjs-layers' GRU: dropout in training.
  const dropped = new FusedGRU({ units: 3, returnSequences: true, dropout: 0.5, recurrentInitializer: 'glorotUniform' });
  const chain = await tf.profile(() => tf.tidy(() => dropped.apply(x, { training: true }) as tf.Tensor));
  assert.equal(chain.kernels.filter((k) => k.name === 'GruSequence').length, 0);
  dropped.dispose();
  tf.dispose(x);
  optimizer.dispose();
  model.dispose();
});
