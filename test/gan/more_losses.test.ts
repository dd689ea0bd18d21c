import { test } from 'node:test';
import assert from 'node:assert/strict';
import '@tensorflow/tfjs-layers'; // registers the gradients tf.grad needs in Node
import * as tf from '@tensorflow/tfjs-core';
import { LOSSES, hinge, leastSquares, relativisticAverage, wasserstein, type AdversarialLoss } from '../../src/gan/losses.js';
import { initBackend } from '../../src/backend/index.js';

await initBackend({ quiet: true });

function value(t: tf.Scalar): number {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
}

function close(actual: number, expected: number, what: string, tol = 1e-5) {
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what}: got ${actual}, want ${expected}`);
}

/** d(real, fake) and g(fake, real) of `loss` on plain arrays of logits. */
function both(loss: AdversarialLoss, real: number[], fake: number[]): { d: number; g: number } {
  const r = tf.tensor2d(real, [real.length, 1]);
  const f = tf.tensor2d(fake, [fake.length, 1]);
  const out = { d: value(loss.d(r, f)), g: value(loss.g(f, r)) };
  tf.dispose([r, f]);
  return out;
}

const REAL = [2, -1]; // mean 0.5
const FAKE = [0.5, -3]; // mean −1.25

test('every loss is selectable by name', () => {
  for (const name of ['wasserstein', 'hinge', 'least-squares', 'relativistic-average'] as const) assert.equal(LOSSES[name].name, name);
});

test('wasserstein: D = mean(fake) − mean(real), G = −mean(fake)', () => {
  const s = both(wasserstein, REAL, FAKE);
  close(s.d, -1.25 - 0.5, 'd');
  close(s.g, 1.25, 'g');
  const big = both(wasserstein, [100, 100], [-100, -100]);
  close(big.d, -200, 'd ±100');
  close(big.g, 100, 'g ±100');
});

test('hinge: D = mean relu(1 − r) + mean relu(1 + f), G = −mean(f)', () => {
  // relu(1 − [2, −1]) = [0, 2] → 1; relu(1 + [0.5, −3]) = [1.5, 0] → 0.75
  const s = both(hinge, REAL, FAKE);
  close(s.d, 1.75, 'd');
  close(s.g, 1.25, 'g');
  // relu(1 − [100, −100]) = [0, 101] → 50.5; relu(1 + [100, −100]) = [101, 0] → 50.5
  const big = both(hinge, [100, -100], [100, -100]);
  close(big.d, 101, 'd ±100');
  close(big.g, 0, 'g ±100');
});

test('least-squares (0-1-1): D = ½E(r − 1)² + ½E f², G = ½E(f − 1)²', () => {
  // (r − 1)² = [1, 4] → 2.5; f² = [0.25, 9] → 4.625; (f − 1)² = [0.25, 16] → 8.125
  const s = both(leastSquares, REAL, FAKE);
  close(s.d, 0.5 * (2.5 + 4.625), 'd');
  close(s.g, 0.5 * 8.125, 'g');
  const big = both(leastSquares, [100], [-100]);
  close(big.d, 0.5 * (99 * 99 + 100 * 100), 'd ±100');
  close(big.g, 0.5 * 101 * 101, 'g ±100');
});

test('relativistic average: hand-computed BCE of logit differences, finite at ±100', () => {
  // r − f̄ = [3.25, 0.25], f − r̄ = [0, −3.5]:
  //   d = mean(softplus(−3.25), softplus(−0.25)) + mean(softplus(0), softplus(−3.5)) = 0.668439
  //   g − d = 2(r̄ − f̄) = 3.5, since softplus(x) − softplus(−x) = x
  const s = both(relativisticAverage, REAL, FAKE);
  close(s.d, 0.6684392, 'd');
  close(s.g, 4.1684392, 'g');
  // r − f̄ = 200, f − r̄ = −200: d = 2·softplus(−200) ≈ 0; g = 2·softplus(200) = 400 (no overflow to Inf)
  const big = both(relativisticAverage, [100, 100], [-100, -100]);
  close(big.d, 0, 'd ±100');
  close(big.g, 400, 'g ±100');
});

test('G gradients at ±100 logits are finite and point the right way', () => {
  for (const loss of [wasserstein, hinge, leastSquares, relativisticAverage]) {
    const real = tf.tensor2d([100, -100], [2, 1]);
    const grad = tf.grad((f: tf.Tensor) => loss.g(f, real))(tf.tensor2d([-100, 100], [2, 1])).dataSync();
    assert.ok(grad.every(Number.isFinite), `${loss.name}: ${grad}`);
    // Lowering G's loss raises a low fake logit: the gradient at the −100 fake is negative.
    assert.ok(grad[0] < 0, `${loss.name}: dG/df at −100 = ${grad[0]}`);
    real.dispose();
  }
});
