import { test } from 'node:test';
import assert from 'node:assert/strict';
import '@tensorflow/tfjs-layers'; // registers TF.js's gradients first; ours (below) override some of them
import * as tf from '@tensorflow/tfjs-core';
import { gradientPenalty, lazyWeight, r1Penalty, r2Penalty } from '../../src/gan/regularizers.js';
import '../../src/nn/second_order_grads.js';
import { initBackend } from '../../src/backend/index.js';

function value(t: tf.Scalar): number {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
}

function close(actual: number, expected: number, what: string, tol = 1e-4) {
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what}: got ${actual}, want ${expected}`);
}

await initBackend({ quiet: true, prefer: 'cpu' });

test('gradient penalty of a linear critic D(x) = w·x + b is λ(‖w‖ − 1)², whatever the interpolation', () => {
  const w = tf.tensor2d([3, -4, 1, 2], [4, 1]); // ‖w‖ = √30
  const critic = (x: tf.Tensor) => tf.add(tf.matMul(tf.reshape(x, [-1, 4]), w), 0.5);
  const real = tf.randomNormal([5, 2, 2, 1], 0, 1, 'float32', 1);
  const fake = tf.randomNormal([5, 2, 2, 1], 0, 1, 'float32', 2);
  const eps = tf.tensor1d([0, 0.25, 0.5, 0.9, 1]);
  close(value(gradientPenalty(critic, real, fake, eps, 10)), 10 * (Math.sqrt(30) - 1) ** 2, 'gp');
  // A unit-norm linear critic is exactly 1-Lipschitz: no penalty.
  const unit = tf.tensor2d([0.6, 0, 0.8, 0], [4, 1]);
  close(value(gradientPenalty((x) => tf.matMul(tf.reshape(x, [-1, 4]), unit), real, fake, eps, 10)), 0, 'gp of a unit critic', 1e-5);
  tf.dispose([w, real, fake, eps, unit]);
});

test('R1 is zero for a constant critic and γ/2‖w‖² for a linear one; R2 reads the fake batch', () => {
  const x = tf.randomNormal([6, 3], 0, 1, 'float32', 3);
  const constant = (xx: tf.Tensor) => tf.add(tf.mul(tf.sum(xx, 1, true), 0), 7);
  close(value(r1Penalty(constant, x, 10)), 0, 'r1 of a constant');
  const w = tf.tensor2d([1, 2, -2], [3, 1]); // ‖w‖² = 9
  close(value(r1Penalty((xx) => tf.matMul(xx, w), x, 10)), 5 * 9, 'r1 linear');
  // D(x) = ½‖x‖²: ∇ = x, so R2 = γ/2 · mean ‖x‖².
  const quad = (xx: tf.Tensor) => tf.mul(0.5, tf.sum(tf.square(xx), 1, true));
  const meanSq = tf.tidy(() => tf.mean(tf.sum(tf.square(x), 1)).dataSync()[0]);
  close(value(r2Penalty(quad, x, 2)), meanSq, 'r2 quadratic');
  tf.dispose([x, w]);
});

test('lazy regularization: every k-th step with weight k·γ, never when γ = 0', () => {
  assert.deepEqual([0, 1, 2, 3, 4].map((s) => lazyWeight(s, 4, 0.5)), [2, 0, 0, 0, 2]);
  assert.equal(lazyWeight(3, 1, 0.5), 0.5);
  assert.equal(lazyWeight(0, 16, 0), 0);
});

/**
 * d/dθ of P(θ) = Σ‖∇ₓ f(x; θ)‖² by autodiff (a gradient of a gradient) against central finite differences,
 * at a few entries of θ. Float32, so differences use a step of 1e-2 and 1 % of the largest entry as tolerance.
 */
function checkSecondOrder(name: string, f: (x: tf.Tensor, theta: tf.Tensor) => tf.Tensor, x: tf.Tensor, theta: tf.Tensor) {
  const penalty = (th: tf.Tensor) => {
    const g = tf.grad((xx: tf.Tensor) => tf.sum(f(xx, th)))(x);
    return tf.sum(tf.square(g)) as tf.Scalar;
  };
  const auto = tf.tidy(() => tf.grad(penalty)(theta).dataSync());
  const base = theta.dataSync();
  // Float32 differences of a sum of many terms carry absolute noise, so the tolerance scales with the
  // gradient's largest entry (an unregistered second-order path is off by far more: −71 vs 0.28 for tanh).
  const scale = Math.max(1, ...Array.from(auto, Math.abs));
  for (const i of [0, 3, 7]) {
    const h = 1e-2;
    const at = (delta: number) => tf.tidy(() => {
      const v = Float32Array.from(base);
      v[i] += delta;
      return penalty(tf.tensor(v, theta.shape)).dataSync()[0];
    });
    const fd = (at(h) - at(-h)) / (2 * h);
    assert.ok(Math.abs(auto[i] - fd) <= 0.01 * scale, `${name} [${i}]: autodiff ${auto[i]}, finite differences ${fd} (scale ${scale})`);
  }
}

for (const backend of ['cpu', 'aten'] as const) {
  test(`second-order gradients through conv2d, conv2dTranspose and activations match finite differences (${backend})`, async (t) => {
    try {
      await initBackend({ prefer: backend, quiet: true });
    } catch (e) {
      t.skip(`${backend} backend unavailable: ${(e as Error).message}`);
      return;
    }
    const x = tf.randomNormal([2, 6, 6, 2], 0, 1, 'float32', 3); // [B, H, W, C]
    const k = tf.randomNormal([3, 3, 2, 3], 0, 0.5, 'float32', 4); // [kh, kw, in, out]
    const kt = tf.randomNormal([4, 4, 3, 2], 0, 0.5, 'float32', 5); // [kh, kw, out, in] for the transpose
    checkSecondOrder('conv2d, stride 2', (xx, th) => tf.square(tf.conv2d(xx as tf.Tensor4D, th as tf.Tensor4D, 2, 'same')), x, k);
    checkSecondOrder('fused conv2d + bias', (xx, th) => tf.square(tf.fused.conv2d({ x: xx as tf.Tensor4D, filter: th as tf.Tensor4D, strides: 2, pad: 'same', bias: tf.ones([3]) })), x, k);
    checkSecondOrder('conv2d + leakyRelu', (xx, th) => tf.square(tf.leakyRelu(tf.conv2d(xx as tf.Tensor4D, th as tf.Tensor4D, 1, 'same'), 0.2)), x, k);
    checkSecondOrder('conv2dTranspose', (xx, th) => tf.square(tf.conv2dTranspose(xx as tf.Tensor4D, th as tf.Tensor4D, [2, 12, 12, 3], 2, 'same')), x, kt);
    checkSecondOrder('conv2d + tanh', (xx, th) => tf.tanh(tf.conv2d(xx as tf.Tensor4D, th as tf.Tensor4D, 1, 'same')), x, k);
    checkSecondOrder('conv2d + sigmoid', (xx, th) => tf.sigmoid(tf.conv2d(xx as tf.Tensor4D, th as tf.Tensor4D, 1, 'same')), x, k);
    // The finite differences differentiate once (the saved-output path), autodiff twice (the recomputed-input path).
    checkSecondOrder('conv2d + elu', (xx, th) => tf.square(tf.elu(tf.conv2d(xx as tf.Tensor4D, th as tf.Tensor4D, 1, 'same'))), x, k);
    checkSecondOrder('conv2d + exp', (xx, th) => tf.exp(tf.mul(0.5, tf.conv2d(xx as tf.Tensor4D, th as tf.Tensor4D, 1, 'same'))), x, k);
    // Conv2DBackpropFilter's own gradient: differentiate a weight gradient w.r.t. the input.
    const f = tf.randomNormal([3, 3, 2, 2], 0, 1, 'float32', 6);
    checkSecondOrder('conv2DBackpropFilter', (th, xx) => tf.mul(tf.conv2d(xx as tf.Tensor4D, th as tf.Tensor4D, 2, 'same'), tf.conv2d(xx as tf.Tensor4D, th as tf.Tensor4D, 2, 'same')), f, tf.randomNormal([1, 5, 5, 2], 0, 1, 'float32', 1));
    // Tile, at any rank: on aten the gradient of a mean is a Tile, so R1 through MinibatchStddev's rank-5 group
    // mean differentiates a rank-5 Tile; tf.tile's own gradient stops at rank 4.
    checkSecondOrder('rank-5 mean and tile', (xx, th) => tf.square(tf.mul(tf.tile(tf.reshape(tf.mean(tf.square(tf.reshape(tf.conv2d(xx as tf.Tensor4D, th as tf.Tensor4D, 1, 'same'), [2, 1, 6, 6, 3])), 0, true), [1, 1, 6, 6, 3]), [2, 1, 1, 2, 1]), 0.5)), x, k);
    tf.dispose([x, k, kt, f]);
    await initBackend({ prefer: 'cpu', quiet: true });
  });
}
