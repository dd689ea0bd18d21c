import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's node bundle ships no gradients; tfjs-layers registers them globally on import.
import '@tensorflow/tfjs-layers';
import { installFastCpuKernels, uninstallFastCpuKernels } from '../../src/backend/js_kernels.js';
import { gemmAcc } from '../../src/backend/gemm.js';

await tf.setBackend('cpu');

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
type Round = 'floor' | 'round' | 'ceil' | undefined;

/** Deterministic uniform(−1, 1) values so a failure reproduces. */
function rand(shape: number[], seed: number): tf.Tensor {
  let s = seed >>> 0 || 1;
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    v[i] = (s / 0x100000000) * 2 - 1;
  }
  return tf.tensor(v, shape);
}

/** Runs fn once on the fast kernels and once on the original cpu kernels; returns both outputs' values. */
function both(fn: () => tf.Tensor | tf.Tensor[]): [Float32Array[], Float32Array[]] {
  const run = (): Float32Array[] => tf.tidy(() => {
    const out = fn();
    return (Array.isArray(out) ? out : [out]).map((t) => t.dataSync() as Float32Array);
  });
  installFastCpuKernels();
  const fast = run();
  uninstallFastCpuKernels();
  const ref = run();
  installFastCpuKernels();
  return [fast, ref];
}

/** Max |a−b| relative to the reference's largest magnitude; conv sums make per-element rtol meaningless near 0. */
function assertClose(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  let diff = 0, scale = 1e-6;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  assert.ok(diff / scale <= 1e-4, `${what}: rel err ${diff / scale}`);
}

function compare(what: string, fn: () => tf.Tensor | tf.Tensor[]): void {
  const [fast, ref] = both(fn);
  assert.equal(fast.length, ref.length);
  fast.forEach((f, i) => assertClose(f, ref[i], `${what}[${i}]`));
}

const explicit: Pad = [[0, 0], [1, 2], [2, 0], [0, 0]];
const cases: { s: [number, number]; d: [number, number]; pad: Pad; round?: Round }[] = [
  { s: [1, 1], d: [1, 1], pad: 'same' },
  { s: [1, 1], d: [1, 1], pad: 'valid' },
  { s: [2, 2], d: [1, 1], pad: 'same' },
  { s: [2, 3], d: [1, 1], pad: 'valid' },
  { s: [3, 2], d: [1, 1], pad: explicit },
  { s: [2, 2], d: [1, 1], pad: 1, round: 'ceil' },
  { s: [2, 2], d: [1, 1], pad: 1, round: 'floor' },
  { s: [1, 1], d: [2, 3], pad: 'same' },
  { s: [1, 1], d: [2, 1], pad: 'valid' },
  { s: [1, 1], d: [1, 2], pad: explicit },
];
const label = (c: (typeof cases)[number]): string => `s=${c.s} d=${c.d} pad=${JSON.stringify(c.pad)} ${c.round ?? ''}`;

test('Conv2D matches the original cpu kernel', () => {
  cases.forEach((c, i) => compare(`conv2d ${label(c)}`, () =>
    tf.conv2d(rand([3, 11, 9, 5], i) as tf.Tensor4D, rand([3, 4, 5, 7], 100 + i) as tf.Tensor4D,
      c.s, c.pad, 'NHWC', c.d, c.round)));
  compare('conv2d 1x1', () => tf.conv2d(rand([2, 5, 7, 6], 1) as tf.Tensor4D, rand([1, 1, 6, 3], 2) as tf.Tensor4D, 1, 'valid'));
  compare('conv2d NCHW defers', () => tf.conv2d(rand([2, 3, 7, 6], 1) as tf.Tensor4D, rand([3, 3, 3, 4], 2) as tf.Tensor4D, 1, 'same', 'NCHW'));
});

test('conv2d gradients (Conv2DBackpropFilter/Input) match the original cpu kernels', () => {
  // 'ceil' is excluded here: tfjs' conv2d gradient forgets dimRoundingMode, so the original kernels
  // drop dy's last row/column; the adjoint test below checks that case against the definition.
  cases.filter((c) => c.d[0] === 1 && c.d[1] === 1 && c.round !== 'ceil').forEach((c, i) => compare(`grad conv2d ${label(c)}`, () => {
    const x = rand([3, 13, 10, 6], 10 + i) as tf.Tensor4D;
    const f = rand([4, 3, 6, 9], 20 + i) as tf.Tensor4D;
    const probe = rand(tf.conv2d(x, f, c.s, c.pad, 'NHWC', 1, c.round).shape, 30 + i);
    return tf.grads((a, b) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad, 'NHWC', 1, c.round), probe)))([x, f]);
  }));
});

test('conv2d gradients satisfy the adjoint identity, including ceil rounding', () => {
  installFastCpuKernels();
  for (const c of cases.filter((k) => k.d[0] === 1 && k.d[1] === 1)) tf.tidy(() => {
    const x = rand([2, 13, 10, 3], 5) as tf.Tensor4D;
    const f = rand([4, 3, 3, 5], 6) as tf.Tensor4D;
    const conv = (a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad, 'NHWC', 1, c.round);
    const probe = rand(conv(x, f).shape, 7);
    // <probe, conv(x, f)> is linear in x and in f, so <dx, x> = <df, f> = <probe, y>.
    const target = tf.sum(tf.mul(probe, conv(x, f))).arraySync() as number;
    const [dx, df] = tf.grads((a, b) => tf.sum(tf.mul(conv(a, b), probe)))([x, f]);
    for (const [g, v, name] of [[dx, x, 'dx'], [df, f, 'df']] as const) {
      const got = tf.sum(tf.mul(g, v)).arraySync() as number;
      assert.ok(Math.abs(got - target) <= 1e-4 * (Math.abs(target) + 1), `${name} ${label(c)}: ${got} vs ${target}`);
    }
  });
});

test('conv2dTranspose and its gradients match the original cpu kernels', () => {
  const shapes: { s: number; pad: 'same' | 'valid'; out: [number, number, number, number] }[] = [
    { s: 2, pad: 'same', out: [3, 14, 10, 5] },
    { s: 2, pad: 'valid', out: [3, 16, 12, 5] },
    { s: 1, pad: 'same', out: [3, 7, 5, 5] },
    { s: 3, pad: 'same', out: [3, 21, 15, 5] },
  ];
  shapes.forEach((c, i) => compare(`conv2dTranspose s=${c.s} ${c.pad}`, () => {
    const x = rand([3, 7, 5, 9], 40 + i) as tf.Tensor4D;
    const f = rand([4, 4, 5, 9], 50 + i) as tf.Tensor4D;
    const probe = rand(c.out, 60 + i);
    const fwd = (a: tf.Tensor, b: tf.Tensor) => tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, c.out, c.s, c.pad);
    return [fwd(x, f), ...tf.grads((a, b) => tf.sum(tf.mul(fwd(a, b), probe)))([x, f])];
  }));
});

test('dilated Conv2DBackpropFilter/Input match a direct sum and the conv2d they differentiate', () => {
  // tfjs' own gradient refuses dilations, so the kernels are checked against definitions instead.
  const x = rand([2, 9, 8, 3], 70) as tf.Tensor4D;
  const f = rand([3, 2, 3, 4], 71) as tf.Tensor4D;
  const dil: [number, number] = [2, 3];
  const y = tf.conv2d(x, f, 1, 'same', 'NHWC', dil);
  const dy = rand(y.shape, 72) as tf.Tensor4D;
  const attrs = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dilations: dil } as unknown as tf.NamedAttrMap;
  const dw = tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, { ...attrs, filterShape: f.shape }) as tf.Tensor;
  const dx = tf.engine().runKernel(tf.Conv2DBackpropInput, { dy, filter: f }, { ...attrs, inputShape: x.shape }) as tf.Tensor;
  // <dy, conv(x, f)> is bilinear, so its gradient in f at x and in x at f equal these kernels' outputs;
  // numerically: <dw, f> = <dx, x> = <dy, y>.
  const dot = (a: tf.Tensor, b: tf.Tensor): number => tf.sum(tf.mul(a, b)).arraySync() as number;
  const target = dot(dy, y);
  assert.ok(Math.abs(dot(dw, f) - target) <= 1e-4 * Math.abs(target) + 1e-4, 'filter grad');
  assert.ok(Math.abs(dot(dx, x) - target) <= 1e-4 * Math.abs(target) + 1e-4, 'input grad');
  // And per element: dw[ky,kx,0,0] via one-hot filters.
  const e = tf.buffer([3, 2, 3, 4]); e.set(1, 1, 1, 2, 3);
  const dir = dot(dy, tf.conv2d(x, e.toTensor() as tf.Tensor4D, 1, 'same', 'NHWC', dil));
  assert.ok(Math.abs((dw.arraySync() as number[][][][])[1][1][2][3] - dir) < 1e-4 * (Math.abs(dir) + 1));
});

test('fused conv2d (bias + activation) matches the original cpu kernel', () => {
  const acts = ['linear', 'relu', 'relu6', 'leakyrelu', 'elu', 'sigmoid', 'prelu'] as const;
  acts.forEach((activation, i) => compare(`fused ${activation}`, () => tf.fused.conv2d({
    x: rand([2, 9, 7, 3], 80 + i) as tf.Tensor4D, filter: rand([3, 3, 3, 5], 90 + i) as tf.Tensor4D,
    strides: 2, pad: 'same', bias: rand([5], 95 + i), activation, leakyreluAlpha: 0.3,
    preluActivationWeights: activation === 'prelu' ? rand([5], 99) : undefined,
  })));
  compare('fused scalar bias', () => tf.fused.conv2d({
    x: rand([1, 6, 6, 2], 1) as tf.Tensor4D, filter: rand([2, 2, 2, 3], 2) as tf.Tensor4D,
    strides: 1, pad: 'valid', bias: tf.scalar(0.5), activation: 'relu',
  }));
});

test('gemmAcc matches a naive product on ragged sizes', () => {
  for (const [m, n, k] of [[1, 1, 1], [5, 7, 3], [9, 6, 300], [4, 260, 513], [13, 3, 17]]) {
    const a = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i + 1));
    const b = Float32Array.from({ length: k * n }, (_, i) => Math.cos(i * 0.7));
    const c = new Float32Array(m * n).fill(1);
    gemmAcc(m, n, k, a, b, c);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let s = 1;
      for (let q = 0; q < k; q++) s += a[i * k + q] * b[q * n + j];
      assert.ok(Math.abs(c[i * n + j] - s) <= 1e-4 * (Math.abs(s) + 1), `gemm ${m}x${n}x${k} at ${i},${j}`);
    }
  }
});

test('installFastCpuKernels is idempotent', () => {
  const a = installFastCpuKernels();
  const fn = tf.getKernel(tf.Conv2D, 'cpu').kernelFunc;
  assert.deepEqual(installFastCpuKernels(), a);
  assert.equal(tf.getKernel(tf.Conv2D, 'cpu').kernelFunc, fn);
});
