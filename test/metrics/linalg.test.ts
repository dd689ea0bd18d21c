import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fidFromFeatures } from '../../src/metrics/fid.js';
import { gaussianStats, matmulSquare, sqrtmPsd, symmetricEigen } from '../../src/metrics/linalg.js';
import { Rng } from '../../src/util/rng.js';

function randomSpd(n: number, rng: Rng, rank = n): Float64Array {
  const b = Float64Array.from({ length: n * rank }, () => rng.normal());
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let k = 0; k < rank; k++) s += b[i * rank + k] * b[j * rank + k];
    a[i * n + j] = s;
  }
  return a;
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

test('symmetricEigen reconstructs A = V Λ Vᵀ with orthonormal V (incl. repeated and zero eigenvalues)', () => {
  const rng = new Rng(3);
  const cases: [Float64Array, number][] = [
    [randomSpd(40, rng), 40],
    [randomSpd(30, rng, 5), 30], // rank 5: 25 zero eigenvalues
    [Float64Array.from({ length: 16 }, (_, i) => (i % 5 === 0 ? 2 : 0)), 4], // 2·I: all equal
    [new Float64Array(9), 3],
    [Float64Array.of(7), 1],
    [Float64Array.of(2, 1, 1, 2), 2],
  ];
  for (const [a, n] of cases) {
    const { values, vectors } = symmetricEigen(a, n);
    const v = vectors!;
    const rec = new Float64Array(n * n);
    for (let k = 0; k < n; k++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) rec[i * n + j] += values[k] * v[k * n + i] * v[k * n + j];
    const scale = Math.max(1, ...Array.from(a, Math.abs));
    assert.ok(maxAbsDiff(rec, a) < 1e-10 * scale, `reconstruction n=${n}: ${maxAbsDiff(rec, a)}`);
    for (let p = 0; p < n; p++) for (let q = 0; q < n; q++) {
      let dot = 0;
      for (let j = 0; j < n; j++) dot += v[p * n + j] * v[q * n + j];
      assert.ok(Math.abs(dot - (p === q ? 1 : 0)) < 1e-10, `orthonormality n=${n}`);
    }
  }
  assert.deepEqual([...symmetricEigen(Float64Array.of(2, 1, 1, 2), 2).values].map((x) => Math.round(x * 1e12) / 1e12).sort(), [1, 3]);
});

test('sqrtmPsd: S·S ≈ A and S symmetric, for full-rank and singular matrices', () => {
  const rng = new Rng(5);
  for (const [n, rank] of [[64, 64], [50, 10], [3, 3]]) {
    const a = randomSpd(n, rng, rank);
    const s = sqrtmPsd(a, n);
    const ss = matmulSquare(s, s, n);
    const scale = Math.max(...Array.from(a, Math.abs));
    assert.ok(maxAbsDiff(ss, a) < 1e-9 * scale, `S·S vs A, n=${n} rank=${rank}: ${maxAbsDiff(ss, a)}`);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) assert.ok(Math.abs(s[i * n + j] - s[j * n + i]) < 1e-9 * Math.sqrt(scale));
  }
  // A diagonal matrix has the obvious root.
  assert.ok(maxAbsDiff(sqrtmPsd(Float64Array.of(4, 0, 0, 9), 2), [2, 0, 0, 3]) < 1e-12);
});

test('gaussianStats: mean and unbiased covariance match a direct computation', () => {
  const x = Float32Array.of(1, 2, 3, 5, 5, 1, 7, 0);
  const { mean, cov } = gaussianStats(x, 4, 2);
  assert.deepEqual([...mean], [4, 2]);
  // x: 1,3,5,7 (var 20/3); y: 2,5,1,0 (mean 2; dev 0,3,-1,-2 → var 14/3); cov: (-3·0 + -1·3 + 1·-1 + 3·-2)/3 = -10/3
  assert.ok(maxAbsDiff(cov, [20 / 3, -10 / 3, -10 / 3, 14 / 3]) < 1e-12);
});

test('dead features: a covariance with most rows exactly zero (ReLU units never active) still decomposes', () => {
  // 105 of 128 features always 0, as a trained dense+ReLU layer had: Householder steps on the zero block
  // once met column tails of ~1e-318, whose reflection overflowed to NaN ("QR iteration did not converge").
  const rng = new Rng(1);
  const n = 500, d = 128;
  const live = new Set<number>();
  while (live.size < 23) live.add(rng.int(d));
  const f = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (const j of live) f[i * d + j] = Math.max(0, 1 + rng.normal()) * (1 + (j % 7));
  const cov = gaussianStats(f, n, d).cov;
  const { values } = symmetricEigen(cov, d, false);
  assert.ok(values.every(Number.isFinite));
  assert.equal(values.filter((v) => Math.abs(v) > 1e-9).length, 23);
  assert.ok(fidFromFeatures(f, n, f, n, d).fid < 1e-6);
  const shifted = Float32Array.from(f, (v) => (v === 0 ? 0 : v + 0.1));
  assert.ok(fidFromFeatures(f, n, shifted, n, d).fid > 0.1);
});
