// InstanceNormalization and ReflectionPadding2D against plain-loop computations, finite differences and a
// save/load round trip, on every backend this machine has (aten runs its fused kernels, cpu the composed ops).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.js';
import { InstanceNormalization, instanceNorm } from '../../src/nn/instance_norm.js';
import { ReflectionPadding2D, reflectionPad2d, type Padding2D } from '../../src/nn/reflection_padding.js';
import { loadModel, saveModel } from '../../src/gan/model_io.js';
import { Rng } from '../../src/util/rng.js';

await initBackend({ quiet: true });
const BACKENDS = ['cpu', ...(tf.engine().registryFactory['aten'] ? ['aten'] : [])];

function randomValues(n: number, seed: number, scale = 1, offset = 0): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => offset + scale * (2 * rng.uniform() - 1));
}

/** Oracle: instance norm of a row-major [B, H, W, C] array in float64. */
function instanceNormLoops(x: Float32Array, [b, h, w, c]: number[], eps: number): Float64Array {
  const y = new Float64Array(x.length);
  const at = (n: number, i: number, j: number, k: number) => ((n * h + i) * w + j) * c + k;
  for (let n = 0; n < b; n++) for (let k = 0; k < c; k++) {
    let mean = 0, sq = 0;
    for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) mean += x[at(n, i, j, k)];
    mean /= h * w;
    for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) sq += (x[at(n, i, j, k)] - mean) ** 2;
    const inv = 1 / Math.sqrt(sq / (h * w) + eps);
    for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) y[at(n, i, j, k)] = (x[at(n, i, j, k)] - mean) * inv;
  }
  return y;
}

/** Source index of padded position p along an axis of length n reflect-padded by `before`. */
function reflectIndex(p: number, n: number, before: number): number {
  const i = p - before;
  return i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i;
}

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol * Math.max(1, Math.abs(expected[i])), `${label}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

/** Central finite differences of f at x for a few coordinates, in float32 (hence the loose step and tolerance). */
function finiteDifferences(f: (x: tf.Tensor) => tf.Scalar, x: Float32Array, shape: number[], coords: number[]): number[] {
  const h = 1e-2;
  return coords.map((i) => tf.tidy(() => {
    const plus = x.slice(), minus = x.slice();
    plus[i] += h;
    minus[i] -= h;
    return (f(tf.tensor4d(plus, shape as never)).dataSync()[0] - f(tf.tensor4d(minus, shape as never)).dataSync()[0]) / (2 * h);
  }));
}

for (const backend of BACKENDS) {
  test(`[${backend}] instance norm equals a direct computation, with and without γ/β`, async () => {
    await tf.setBackend(backend);
    const shape = [2, 5, 7, 3];
    const x = randomValues(2 * 5 * 7 * 3, 1, 2, 0.5);
    const expected = instanceNormLoops(x, shape, 1e-5);
    close(tf.tidy(() => instanceNorm(tf.tensor4d(x, shape as never)).dataSync()), expected, 1e-4, 'instanceNorm');

    const layer = new InstanceNormalization({ affine: true });
    tf.dispose(layer.apply(tf.zeros(shape)) as tf.Tensor); // builds γ = 1, β = 0
    assert.deepEqual(layer.getWeights().map((w) => Array.from(w.dataSync())), [[1, 1, 1], [0, 0, 0]]);
    layer.setWeights([tf.tensor1d([2, -1, 0.5]), tf.tensor1d([0.1, 0.2, -0.3])]);
    const y = tf.tidy(() => (layer.apply(tf.tensor4d(x, shape as never)) as tf.Tensor).dataSync());
    close(y, expected.map((v, i) => [2, -1, 0.5][i % 3] * v + [0.1, 0.2, -0.3][i % 3]), 1e-4, 'affine');
    assert.equal(new InstanceNormalization().apply(tf.zeros(shape)) instanceof tf.Tensor, true);
    layer.dispose();
  });

  test(`[${backend}] instance norm gradient agrees with finite differences`, async () => {
    await tf.setBackend(backend);
    const shape = [2, 3, 4, 2];
    const x = randomValues(48, 2, 1.5);
    const w = tf.tensor4d(randomValues(48, 3), shape as never);
    const f = (t: tf.Tensor) => tf.sum(tf.mul(tf.square(instanceNorm(t as tf.Tensor4D)), w)) as tf.Scalar; // non-linear in the output
    const grad = tf.tidy(() => tf.grad(f)(tf.tensor4d(x, shape as never)).dataSync());
    const coords = [0, 5, 17, 30, 47];
    const fd = finiteDifferences(f, x, shape, coords);
    coords.forEach((c, k) => assert.ok(Math.abs(grad[c] - fd[k]) < 2e-2 * Math.max(1, Math.abs(fd[k])), `∂/∂x[${c}]: ${grad[c]} vs ${fd[k]}`));
    w.dispose();
  });

  test(`[${backend}] reflection padding equals a direct computation; its gradient is the exact adjoint`, async () => {
    await tf.setBackend(backend);
    const shape = [2, 5, 4, 3];
    const x = randomValues(120, 4);
    for (const padding of [[[1, 1], [1, 1]], [[3, 2], [1, 3]], [[4, 0], [0, 2]]] as Padding2D[]) {
      const [[t, b], [l, r]] = padding;
      const [n, h, w, c] = shape;
      const ph = h + t + b, pw = w + l + r;
      const source = (bi: number, i: number, j: number, k: number) => ((bi * h + reflectIndex(i, h, t)) * w + reflectIndex(j, w, l)) * c + k;
      const expected: number[] = [];
      for (let bi = 0; bi < n; bi++) for (let i = 0; i < ph; i++) for (let j = 0; j < pw; j++) for (let k = 0; k < c; k++) expected.push(x[source(bi, i, j, k)]);
      const padded = tf.tidy(() => reflectionPad2d(tf.tensor4d(x, shape as never), padding).dataSync());
      close(padded, expected, 0, `pad ${JSON.stringify(padding)}`);

      // d/dx Σ wᵢ·pad(x)ᵢ: every padded position adds its weight to the element it copies.
      const weights = randomValues(n * ph * pw * c, 5);
      const adjoint = new Float64Array(x.length);
      let p = 0;
      for (let bi = 0; bi < n; bi++) for (let i = 0; i < ph; i++) for (let j = 0; j < pw; j++) for (let k = 0; k < c; k++) adjoint[source(bi, i, j, k)] += weights[p++];
      const grad = tf.tidy(() => tf.grad((a: tf.Tensor) => tf.sum(tf.mul(reflectionPad2d(a as tf.Tensor4D, padding), tf.tensor4d(weights, [n, ph, pw, c]))))(tf.tensor4d(x, shape as never)).dataSync());
      close(grad, adjoint, 1e-5, `grad ${JSON.stringify(padding)}`);
    }
    assert.throws(() => reflectionPad2d(tf.zeros([1, 3, 3, 1]), [[3, 0], [0, 0]]), /larger than the pad, got 3×3/);
  });
}

test('a model with both layers round-trips through save/load with the same outputs', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-imglayers-'));
  try {
    const model = tfl.sequential();
    model.add(new ReflectionPadding2D({ inputShape: [6, 6, 2], padding: [[2, 1], [1, 2]] }));
    model.add(tfl.layers.conv2d({ filters: 3, kernelSize: 3, kernelInitializer: tfl.initializers.randomNormal({ seed: 1 }) }));
    model.add(new InstanceNormalization({ affine: true, epsilon: 1e-3 }));
    model.add(new ReflectionPadding2D({ padding: 1 }));
    model.add(new InstanceNormalization());
    const g = model.layers[2];
    g.setWeights([tf.tensor1d([1.5, 0.5, 2]), tf.tensor1d([0, 1, -1])]);
    await saveModel(model, path.join(dir, 'm'));
    const loaded = await loadModel(path.join(dir, 'm'));
    assert.deepEqual(loaded.layers.map((l) => l.getClassName()), ['ReflectionPadding2D', 'Conv2D', 'InstanceNormalization', 'ReflectionPadding2D', 'InstanceNormalization']);
    assert.deepEqual((loaded.layers[0] as ReflectionPadding2D).padding, [[2, 1], [1, 2]]);
    assert.equal((loaded.layers[2] as InstanceNormalization).epsilon, 1e-3);
    assert.equal((loaded.layers[2] as InstanceNormalization).affine, true);
    const x = tf.randomNormal([2, 6, 6, 2], 0, 1, 'float32', 3);
    const [a, b] = [model, loaded].map((m) => m.predict(x) as tf.Tensor);
    assert.deepEqual(b.shape, [2, 9, 9, 3]); // 6 + 3 padded, 3×3 valid conv → 7, + 2 padded
    assert.deepEqual(b.dataSync(), a.dataSync());
    tf.dispose([x, a, b]);
    model.dispose();
    loaded.dispose();
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
