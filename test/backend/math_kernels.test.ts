import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { installFastCpuKernels, uninstallFastCpuKernels } from '../../src/backend/js_kernels.js';

await tf.setBackend('cpu');

function rand(shape: number[], seed: number): tf.Tensor {
  let s = (seed * 2654435761) >>> 0 || 1;
  const v = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < v.length; i++) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    v[i] = (s / 0x100000000) * 2 - 0.9; // away from 0 so RealDiv stays finite
  }
  return tf.tensor(v, shape);
}

/** fn on the fast kernels vs on the original cpu kernels: same shapes, values within 1e-4 relative. */
function compare(what: string, fn: () => tf.Tensor | tf.Tensor[]): void {
  const run = (): { shape: number[]; v: Float32Array }[] => tf.tidy(() => {
    const out = fn();
    return (Array.isArray(out) ? out : [out]).map((t) => ({ shape: t.shape, v: t.dataSync() as Float32Array }));
  });
  installFastCpuKernels();
  const fast = run();
  uninstallFastCpuKernels();
  const ref = run();
  installFastCpuKernels();
  fast.forEach((f, i) => {
    assert.deepEqual(f.shape, ref[i].shape, `${what}[${i}] shape`);
    for (let j = 0; j < f.v.length; j++) {
      const r = ref[i].v[j];
      assert.ok(Math.abs(f.v[j] - r) <= 1e-4 * Math.max(1, Math.abs(r)), `${what}[${i}] @${j}: ${f.v[j]} vs ${r}`);
    }
  });
}

const pairs: [number[], number[]][] = [
  [[3, 5, 7, 2], [3, 5, 7, 2]], [[3, 5, 7, 2], [1, 1, 1, 2]], [[1, 1, 1, 2], [3, 5, 7, 2]],
  [[3, 5, 7, 2], [2]], [[6, 9], [6, 1]], [[6, 1], [1, 9]], [[4, 1, 3], [5, 1]], [[], [3, 2]], [[7], []],
  [[2, 3, 1, 5], [3, 4, 1]], [[0, 3], [1, 3]],
];

test('broadcasting Add/Sub/Multiply/RealDiv/SquaredDifference match the original cpu kernels', () => {
  const ops: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
    ['add', tf.add], ['sub', tf.sub], ['mul', tf.mul], ['div', tf.div], ['sqdiff', tf.squaredDifference],
  ];
  ops.forEach(([name, op]) => pairs.forEach(([sa, sb], i) =>
    compare(`${name} [${sa}] [${sb}]`, () => op(rand(sa, i + 1), rand(sb, i + 50)))));
  compare('int32 add defers', () => tf.add(tf.tensor([1, 2, 3], [3], 'int32'), tf.tensor([4], [1], 'int32')));
});

test('Sum/Mean over any axes match the original cpu kernels', () => {
  const x = rand([3, 5, 4, 7], 3);
  const axes: (number | number[] | undefined)[] = [undefined, 0, 1, 3, -1, [0, 1, 2], [1, 3], [0, 3], [2, 0], []];
  for (const axis of axes) for (const keep of [false, true]) {
    compare(`sum ${JSON.stringify(axis)} ${keep}`, () => tf.sum(x, axis, keep));
    compare(`mean ${JSON.stringify(axis)} ${keep}`, () => tf.mean(x, axis, keep));
  }
  compare('sum of a scalar', () => tf.sum(tf.scalar(3)));
  compare('int sum defers', () => tf.sum(tf.tensor([1, 2, 3], [3], 'int32')));
});

test('matMul (transposes, batches, broadcast batch) and fused matMul match the original cpu kernels', () => {
  for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]]) {
    const a = rand(tA ? [13, 7] : [7, 13], 1), b = rand(tB ? [9, 13] : [13, 9], 2);
    compare(`matMul tA=${tA} tB=${tB}`, () => tf.matMul(a, b, tA, tB));
    compare(`batched tA=${tA} tB=${tB}`, () => tf.matMul(rand(tA ? [3, 13, 5] : [3, 5, 13], 3), rand(tB ? [3, 6, 13] : [3, 13, 6], 4), tA, tB));
  }
  compare('broadcast batch', () => tf.matMul(rand([2, 3, 5, 6], 5), rand([6, 4], 6)));
  compare('broadcast batch a', () => tf.matMul(rand([1, 5, 6], 5), rand([3, 6, 4], 6)));
  for (const activation of ['linear', 'relu', 'leakyrelu', 'sigmoid', 'elu', 'relu6', 'prelu'] as const) {
    compare(`fused ${activation}`, () => tf.fused.matMul({
      a: rand([6, 11], 7), b: rand([11, 5], 8), bias: rand([5], 9), activation, leakyreluAlpha: 0.1,
      preluActivationWeights: activation === 'prelu' ? rand([5], 10) : undefined,
    }));
  }
  compare('fused, transposed, scalar bias', () => tf.fused.matMul({
    a: rand([11, 6], 7), b: rand([5, 11], 8), transposeA: true, transposeB: true, bias: tf.scalar(0.3), activation: 'relu',
  }));
  compare('dense gradient', () => tf.grads((a, b) => tf.sum(tf.mul(tf.matMul(a, b), rand([9, 4], 3))))([rand([9, 17], 1), rand([17, 4], 2)]));
});
