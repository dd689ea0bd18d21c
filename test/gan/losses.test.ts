import { test } from 'node:test';
import assert from 'node:assert/strict';
import '@tensorflow/tfjs-layers'; // registers the gradients tf.grad needs in Node
import * as tf from '@tensorflow/tfjs-core';
import { LOSSES, minimax, nonSaturating } from '../../src/gan/losses.js';
import { initBackend } from '../../src/backend/index.js';

await initBackend({ quiet: true });

const LOG2 = Math.LN2; // softplus(0) = log 2

function value(t: tf.Scalar): number {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
}

function close(actual: number, expected: number, tol = 1e-5, what = '') {
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what}: got ${actual}, want ${expected}`);
}

test('registry names the original GAN losses (among others)', () => {
  for (const name of ['minimax', 'non-saturating']) assert.ok(name in LOSSES, name);
  assert.equal(LOSSES['non-saturating'], nonSaturating);
  assert.equal(LOSSES.minimax, minimax);
});

test('logits 0 (D = 1/2 everywhere): D loss 2·log 2, non-saturating G log 2, minimax G −log 2', () => {
  const zeros = tf.zeros([4, 1]);
  close(value(nonSaturating.d(zeros, zeros)), 2 * LOG2, 1e-6, 'd');
  close(value(minimax.d(zeros, zeros)), 2 * LOG2, 1e-6, 'minimax d');
  close(value(nonSaturating.g(zeros, zeros)), LOG2, 1e-6, 'ns g');
  close(value(minimax.g(zeros, zeros)), -LOG2, 1e-6, 'minimax g');
  zeros.dispose();
});

test('mixed logits match values worked out by hand', () => {
  // real = [2, −1], fake = [0.5, −3]; softplus(x) = log(1 + e^x):
  //   softplus(−2) = 0.126928, softplus(1) = 1.313262   → mean over real = 0.720095
  //   softplus(0.5) = 0.974077, softplus(−3) = 0.048587 → mean over fake = 0.511332
  //   softplus(−0.5) = 0.474077, softplus(3) = 3.048587 → non-saturating G = 1.761332
  const real = tf.tensor2d([[2], [-1]]);
  const fake = tf.tensor2d([[0.5], [-3]]);
  close(value(nonSaturating.d(real, fake)), 0.720095 + 0.511332, 1e-5, 'd');
  close(value(nonSaturating.g(fake, real)), 1.761332, 1e-5, 'ns g');
  close(value(minimax.g(fake, real)), -0.511332, 1e-5, 'minimax g');
  tf.dispose([real, fake]);
});

test('extreme logits ±100 stay finite and reach the right limits', () => {
  const pos = tf.fill([3, 1], 100);
  const neg = tf.fill([3, 1], -100);
  // G fools D completely (fake logit +100): non-saturating G loss −log D → 0; minimax log(1 − D) → −100.
  const nsFooled = value(nonSaturating.g(pos, neg));
  const nsCaught = value(nonSaturating.g(neg, pos));
  const mmFooled = value(minimax.g(pos, neg));
  const mmCaught = value(minimax.g(neg, pos));
  const dPerfect = value(nonSaturating.d(pos, neg));
  const dWrong = value(nonSaturating.d(neg, pos));
  for (const [name, v] of Object.entries({ nsFooled, nsCaught, mmFooled, mmCaught, dPerfect, dWrong })) {
    assert.ok(Number.isFinite(v), `${name} = ${v}`);
  }
  close(nsFooled, 0, 1e-6, 'ns g at +100');
  close(nsCaught, 100, 1e-5, 'ns g at −100');
  close(mmFooled, -100, 1e-5, 'minimax g at +100');
  close(mmCaught, 0, 1e-6, 'minimax g at −100');
  close(dPerfect, 0, 1e-6, 'd when right');
  close(dWrong, 200, 1e-5, 'd when wrong');

  // Gradients at the extremes: the non-saturating loss still pushes a caught fake (slope −1/B, not 0)
  // and the minimax loss saturates there (slope ≈ 0) — the reason the paper prefers the former.
  const nsGrad = tf.grad((x: tf.Tensor) => nonSaturating.g(x, x))(neg);
  const mmGrad = tf.grad((x: tf.Tensor) => minimax.g(x, x))(neg);
  const dGrad = tf.grad((x: tf.Tensor) => nonSaturating.d(x, pos))(neg);
  for (const g of [nsGrad, mmGrad, dGrad]) assert.ok(Array.from(g.dataSync()).every(Number.isFinite));
  for (const v of nsGrad.dataSync()) close(v, -1 / 3, 1e-5, 'ns grad');
  for (const v of mmGrad.dataSync()) assert.ok(Math.abs(v) < 1e-20, `minimax grad ${v}`);
  tf.dispose([pos, neg, nsGrad, mmGrad, dGrad]);
});
