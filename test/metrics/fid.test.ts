import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fidFromFeatures, frechetDistance } from '../../src/metrics/fid.js';
import type { GaussianStats } from '../../src/metrics/linalg.js';
import { Rng } from '../../src/util/rng.js';

/** n draws of N(mean, diag(variances)). */
function gaussian(n: number, mean: number[], variances: number[], rng: Rng): Float32Array {
  const d = mean.length;
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) out[i * d + j] = mean[j] + Math.sqrt(variances[j]) * rng.normal();
  return out;
}

test('FID of two Gaussian sample sets matches the closed form ‖μ₁−μ₂‖² + Σ(√a − √b)²', () => {
  const rng = new Rng(11);
  const n = 40_000;
  const m1 = [0, 1, -1, 2], v1 = [1, 4, 0.25, 2];
  const m2 = [0.5, 1, 0, 2], v2 = [2, 1, 0.25, 0.5];
  const closed = m1.reduce((s, _, j) => s + (m1[j] - m2[j]) ** 2 + (Math.sqrt(v1[j]) - Math.sqrt(v2[j])) ** 2, 0);
  const got = fidFromFeatures(gaussian(n, m1, v1, rng), n, gaussian(n, m2, v2, rng), n, 4).fid;
  assert.ok(Math.abs(got - closed) < 0.05 * closed, `FID ${got} vs closed form ${closed}`);
});

test('FID with non-commuting covariances matches the 2×2 closed form tr √M = √(tr M + 2√det M)', () => {
  const stats = (mean: number[], cov: number[]): GaussianStats => ({ dim: 2, count: 0, mean: Float64Array.from(mean), cov: Float64Array.from(cov) });
  const a = stats([1, 2], [2, 0.9, 0.9, 1]);
  const b = stats([0, 0], [1, -0.7, -0.7, 3]);
  // Σ₁Σ₂ has eigenvalues with product det Σ₁ det Σ₂ and sum tr(Σ₁Σ₂); √ of a 2×2 with those eigenvalues:
  const trProd = 2 * 1 + 0.9 * -0.7 + 0.9 * -0.7 + 1 * 3;
  const det = (2 * 1 - 0.81) * (3 - 0.49);
  const trSqrt = Math.sqrt(trProd + 2 * Math.sqrt(det));
  const closed = 1 + 4 + 3 + 4 - 2 * trSqrt;
  const got = frechetDistance(a, b);
  assert.ok(Math.abs(got.fid - closed) < 1e-10, `${got.fid} vs ${closed}`);
  assert.ok(Math.abs(got.meanTerm - 5) < 1e-12);
  // Symmetric in its arguments.
  assert.ok(Math.abs(frechetDistance(b, a).fid - closed) < 1e-10);
});

test('FID(x, x) = 0, also for 128-d features with a singular covariance', () => {
  const rng = new Rng(2);
  const n = 100, d = 128; // n < d: the covariance has rank ≤ 99
  const x = Float32Array.from({ length: n * d }, () => rng.normal());
  const r = fidFromFeatures(x, n, x, n, d);
  assert.ok(Math.abs(r.fid) < 1e-6, `FID(x, x) = ${r.fid}`);
  assert.ok(r.fid >= 0);
});
