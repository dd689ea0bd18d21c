// TapMix and its adjoint TapScatter (native/tap_mix.cc) against the same sums composed from tfjs ops on the cpu
// backend (gather, product, sum; product and segment sum): values, gradients through each other, second order. On a
// GPU (GANFORGE_DEVICE=cuda, scripts/gpu-check.sh) this runs the kernels' composed ATen path.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { atenFallbackKernels } from 'tfjs-backend-aten';
import { TAP_MIX, TAP_SCATTER } from '../src/kernels/tap_mix.js';
import { matchesCpu, rand, randInt, setup, tf } from './helpers.js';

await setup();

const [R, C, N, T] = [23, 5, 31, 4];
const src = rand([R, C]);
const idx = randInt([N, T], 0, R); // with repeats: several taps land on one row
const w = rand([N, T]);
const dyValues = rand([N, C]);

/** Σ_t w · source[index] on aten's kernel, or composed on other backends. */
function mix(source: tf.Tensor2D): tf.Tensor2D {
  const index = tf.tensor2d(idx, [N, T], 'int32'), weight = tf.tensor2d(w, [N, T]);
  if (tf.getBackend() === 'aten') return tf.engine().runKernel(TAP_MIX, { source, index, weight }) as tf.Tensor2D;
  return tf.sum(tf.mul(tf.reshape(tf.gather(source, tf.reshape(index, [-1])), [N, T, C]), tf.expandDims(weight, 2)), 1);
}

/** TapScatter of dy into R rows on aten, or the composed adjoint (a segment sum adds the taps that share a row). */
function scatter(dy: tf.Tensor2D): tf.Tensor2D {
  const index = tf.tensor2d(idx, [N, T], 'int32'), weight = tf.tensor2d(w, [N, T]);
  if (tf.getBackend() === 'aten') return tf.engine().runKernel(TAP_SCATTER, { dy, index, weight }, { rows: R }) as tf.Tensor2D;
  const spread = tf.reshape(tf.mul(tf.expandDims(dy, 1), tf.expandDims(weight, 2)), [N * T, C]);
  return tf.unsortedSegmentSum(spread, tf.reshape(index, [N * T]) as tf.Tensor1D, R) as tf.Tensor2D;
}

test('TapMix and TapScatter match the composed sums, with gradients to second order, natively', async () => {
  const s = () => tf.tensor2d(src, [R, C]);
  const dy = () => tf.tensor2d(dyValues, [N, C]);
  await matchesCpu('TapMix', () => mix(s()), 1e-5);
  await matchesCpu('TapScatter', () => scatter(dy()), 1e-5);
  await matchesCpu('TapMix gradient', () => tf.grad((v: tf.Tensor) => tf.sum(tf.mul(mix(v as tf.Tensor2D), dy())))(s()), 1e-5);
  await matchesCpu('TapScatter gradient', () => tf.grad((v: tf.Tensor) => tf.sum(tf.mul(scatter(v as tf.Tensor2D), s())))(dy()), 1e-5);
  const penalty = (v: tf.Tensor) => tf.sum(tf.square(tf.grad((u: tf.Tensor) => tf.sum(tf.mul(dy(), tf.square(mix(u as tf.Tensor2D)))))(v)));
  await matchesCpu('TapMix second order', () => tf.grad(penalty)(s()), 1e-4);
  await tf.setBackend('aten');
  const before = atenFallbackKernels().length;
  tf.tidy(() => {
    tf.grad(penalty)(s());
  });
  assert.equal(atenFallbackKernels().length, before, `fallbacks: ${atenFallbackKernels().slice(before)}`);
});

test('TapMix and TapScatter refuse bad input with the fix named', async () => {
  await tf.setBackend('aten');
  const run = (name: string, inputs: tf.NamedTensorMap, attrs = {}) => tf.tidy(() => {
    tf.engine().runKernel(name, inputs, attrs);
  });
  const source = tf.ones([4, 2]), index = tf.tensor2d([0, 4], [1, 2], 'int32'), weight = tf.ones([1, 2]);
  assert.throws(() => run(TAP_MIX, { source, index, weight }), /aten TapMix: index out of range: each must be in \[0, 4\)/);
  assert.throws(() => run(TAP_MIX, { source, index: tf.tensor2d([0, 1], [1, 2], 'int32'), weight: tf.ones([2, 1]) }), /aten TapMix: weight must be float32 of index's shape/);
  assert.throws(() => run(TAP_SCATTER, { dy: tf.ones([2, 2]), index, weight }, { rows: 4 }), /aten TapScatter: dy must have one row per index row/);
  tf.dispose([source, index, weight]);
});
