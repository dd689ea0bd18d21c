// The kernels of super-resolution generators: PReLU's fused gradient, pixel shuffle (DepthToSpace and its
// SpaceToDepth gradient) and nearest-neighbour resizing's gradient, against the CPU backend on odd shapes
// (non-square, batch 1, one channel, 64 channels), and against closed forms where the CPU has no answer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { atenFallbackKernels } from 'tfjs-backend-aten';
import { matchesCpu, rand, runOn, setup, tf } from './helpers.js';

await setup();
// The cpu oracle of the second-order test differentiates tfjs's Prelu gradient, which uses greater(x, 0): tfjs has
// no gradient for comparisons (ganforge registers this same zero gradient in src/nn/second_order_grads.ts).
tf.registerGradient({ kernelName: 'Greater', gradFunc: (dy) => ({ a: () => tf.zerosLike(dy as tf.Tensor), b: () => tf.zerosLike(dy as tf.Tensor) }) });

/** Kernel names one call of `f` runs on aten. */
async function kernelsOf(f: () => tf.TensorContainer): Promise<string[]> {
  await tf.setBackend('aten');
  return (await tf.profile(f)).kernels.map((k) => k.name);
}

const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

// [x shape, alpha shape]: alpha per channel as a PReLU layer with shared spatial axes holds it ([C] or [1, 1, C]),
// per pixel and channel (the layer's default, [H, W, C]), per column, and one channel.
const PRELU_CASES: [number[], number[]][] = [
  [[2, 5, 7, 3], [3]], [[2, 5, 7, 3], [1, 1, 3]], [[1, 6, 4, 1], [1, 1, 1]], [[3, 4, 5, 64], [1, 1, 64]],
  [[2, 5, 7, 3], [5, 7, 3]], [[2, 5, 7, 3], [7, 1]], [[4, 9], [9]],
];

test('Prelu forward and its fused gradients (dx, dalpha) match cpu; x = 0 takes alpha\'s branch', async () => {
  for (const [xs, as] of PRELU_CASES) {
    // Some exact zeros, where tfjs's mask (x > 0) sends the gradient through alpha.
    const x = rand(xs).map((v, i) => (i % 11 === 0 ? 0 : v));
    const alpha = rand(as, 0.05, 0.5), w = rand(xs);
    const label = `prelu x=[${xs}] alpha=[${as}]`;
    const f = (t: tf.Tensor, a: tf.Tensor) => tf.sum(tf.mul(tf.prelu(t, a), tf.tensor(w, xs)));
    await matchesCpu(label, () => tf.prelu(tf.tensor(x, xs), tf.tensor(alpha, as)));
    await matchesCpu(`${label} grads`, () => tf.grads(f)([tf.tensor(x, xs), tf.tensor(alpha, as)]));
  }
  const names = await kernelsOf(() => tf.grads((t: tf.Tensor, a: tf.Tensor) => tf.sum(tf.prelu(t, a)))([tf.ones([2, 3, 3, 4]), tf.ones([4])]));
  assert.ok(names.includes('AtenPreluGrad'), `the fused gradient ran: ${names.join(' ')}`);
  assert.ok(!names.includes('Select') && !names.includes('Greater'), `no composed gradient left: ${names.join(' ')}`);
});

test('Prelu differentiated twice (inside an outer gradient) matches cpu', async () => {
  const xs = [2, 4, 3, 5], x = rand(xs), alpha = rand([5], 0.1, 0.4);
  const penalty = (a: tf.Tensor) =>
    tf.sum(tf.square(tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.prelu(tf.mul(t, 1.5), a))))(tf.tensor(x, xs))));
  await matchesCpu('prelu second order', () => tf.grad(penalty)(tf.tensor(alpha)));
});

// [x shape, block size]: the SRResNet case (64 output channels), batch 1, non-square, one output channel, block 3.
const SHUFFLE_CASES: [number[], number][] = [[[2, 3, 5, 256], 2], [[1, 4, 4, 4], 2], [[2, 2, 3, 12], 2], [[1, 3, 2, 9], 3], [[3, 1, 1, 4], 2]];

test('DepthToSpace forward matches cpu (NHWC, DCR channel order)', async () => {
  for (const [xs, b] of SHUFFLE_CASES) {
    const x = rand(xs);
    await matchesCpu(`depthToSpace [${xs}] b=${b}`, () => tf.depthToSpace(tf.tensor4d(x, xs as never), b));
  }
  // Channel order spelled out: output pixel (i, j) of the 2×2 block holds input channels (2i + j)·C' + c.
  const out = await runOn('aten', () => tf.depthToSpace(tf.tensor4d([0, 1, 2, 3, 4, 5, 6, 7], [1, 1, 1, 8]), 2));
  assert.deepEqual(out[0].values, [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(out[0].shape, [1, 2, 2, 2]);
});

test('DepthToSpace gradient is SpaceToDepth of dy: matches cpu, inverts the forward pass, and so does its own gradient', async () => {
  for (const [xs, b] of SHUFFLE_CASES) {
    const x = rand(xs), w = rand([xs[0], xs[1] * b, xs[2] * b, xs[3] / (b * b)]);
    const wt = () => tf.tensor4d(w, [xs[0], xs[1] * b, xs[2] * b, xs[3] / (b * b)]);
    const label = `depthToSpace [${xs}] b=${b}`;
    await matchesCpu(`${label} grad`, () => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.depthToSpace(t as tf.Tensor4D, b), wt())))(tf.tensor4d(x, xs as never)));
    // A permutation's adjoint is its inverse: d/dx Σ depthToSpace(x)·depthToSpace(z) = z, on each backend.
    for (const backend of ['aten', 'cpu']) {
      const [g] = await runOn(backend, () => {
        const z = tf.depthToSpace(tf.tensor4d(w.slice(0, count(xs)), xs as never), b);
        return tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.depthToSpace(t as tf.Tensor4D, b), z)))(tf.tensor4d(x, xs as never));
      });
      assert.deepEqual(g.values, Array.from(w.slice(0, count(xs))), `${label}: gradient on ${backend} inverts the shuffle`);
    }
    // Second order: d/dy Σ (∂/∂x Σ depthToSpace(x)·y)·v = depthToSpace(v), through SpaceToDepth's own gradient.
    await matchesCpu(`${label} second order`, () => tf.grad((y: tf.Tensor) => {
      const gx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.depthToSpace(t as tf.Tensor4D, b), y)))(tf.tensor4d(x, xs as never));
      return tf.sum(tf.mul(gx, tf.tensor4d(w.slice(0, count(xs)), xs as never)));
    })(wt()));
  }
  const names = await kernelsOf(() => tf.grad((t: tf.Tensor) => tf.sum(tf.depthToSpace(t as tf.Tensor4D, 2)))(tf.ones([1, 2, 2, 8])));
  assert.ok(names.includes('AtenSpaceToDepth'), `the native SpaceToDepth ran: ${names.join(' ')}`);
});

test('ResizeNearestNeighbor gradient is the forward pass\'s adjoint and matches cpu where cpu is right', async () => {
  const before = atenFallbackKernels();
  const cases: { xs: number[]; size: [number, number]; align: boolean; half: boolean }[] = [];
  for (const xs of [[2, 5, 7, 3], [1, 5, 7, 3], [1, 4, 4, 1], [2, 3, 5, 64], [1, 3, 5, 64]]) {
    const [h, w] = [xs[1], xs[2]];
    for (const size of [[2 * h, 2 * w], [9, 4], [3, 11], [1, 1], [h, w]] as [number, number][]) {
      cases.push({ xs, size, align: false, half: false }, { xs, size, align: true, half: false });
      cases.push({ xs, size, align: false, half: true });
    }
  }
  for (const { xs, size, align, half } of cases) {
    const x = rand(xs), dy = rand([xs[0], ...size, xs[3]]);
    const label = `nearest [${xs}] → ${size} align=${align} half=${half}`;
    const grad = () => tf.grad((t: tf.Tensor) =>
      tf.sum(tf.mul(tf.image.resizeNearestNeighbor(t as tf.Tensor4D, size, align, half), tf.tensor(dy, [xs[0], ...size, xs[3]]))))(tf.tensor4d(x, xs as never));
    await matchesCpu(`${label} forward`, () => tf.image.resizeNearestNeighbor(tf.tensor4d(x, xs as never), size, align, half));
    // tfjs 4.22's CPU gradient kernel ignores halfPixelCenters (right at integer scale factors only) and reads
    // dy at the images' batch stride (right for batch 1 only); it is the oracle where it is right.
    const integerScale = size[0] % xs[1] === 0 && size[1] % xs[2] === 0;
    if (xs[0] === 1 && (!half || integerScale)) await matchesCpu(`${label} grad`, grad);
    // Adjoint: ⟨resize(e_k), dy⟩ = grad[k] for every input element k, i.e. the gradient sums dy over the
    // output pixels whose nearest source is k (the forward pass on cpu says which).
    const [g] = await runOn('aten', grad);
    const [src] = await runOn('cpu', () =>
      tf.image.resizeNearestNeighbor(tf.reshape(tf.range(0, count(xs), 1, 'float32'), xs as never) as tf.Tensor4D, size, align, half));
    const expected = new Array<number>(count(xs)).fill(0);
    src.values.forEach((k, i) => { expected[k] += dy[i]; });
    g.values.forEach((v, k) => assert.ok(Math.abs(v - expected[k]) <= 1e-5 * Math.max(1, Math.abs(expected[k])), `${label}: adjoint at ${k}: ${v} vs ${expected[k]}`));
  }
  const fellBack = atenFallbackKernels().filter((k) => !before.includes(k));
  assert.deepEqual(fellBack, [], 'kernels that ran on the CPU fallback');
});
