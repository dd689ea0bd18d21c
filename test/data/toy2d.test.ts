import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GRID25, RING8, mixtureSource, modeCoverage } from '../../src/data/toy2d.js';
import { Rng } from '../../src/util/rng.js';

test('mixture geometry follows the Unrolled-GAN / VEEGAN conventions', () => {
  assert.equal(RING8.centres.length, 8);
  for (const [x, y] of RING8.centres) assert.ok(Math.abs(Math.hypot(x, y) - 2) < 1e-12);
  assert.equal(RING8.sigma, 0.02);
  assert.equal(GRID25.centres.length, 25);
  assert.deepEqual([...new Set(GRID25.centres.map((c) => c[0]))].sort((a, b) => a - b), [-4, -2, 0, 2, 4]);
  assert.equal(GRID25.sigma, 0.05);
});

test('samples: per-component means near centres, std near sigma, labels balanced', () => {
  for (const m of [RING8, GRID25]) {
    const src = mixtureSource(m);
    const n = 100_000;
    const { values, labels } = src.sample(n, new Rng(1));
    const k = m.centres.length;
    const sum = new Float64Array(2 * k);
    const sq = new Float64Array(2 * k);
    const cnt = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      const c = labels![i];
      cnt[c]++;
      for (let d = 0; d < 2; d++) {
        const v = values[2 * i + d] - m.centres[c][d];
        sum[2 * c + d] += v;
        sq[2 * c + d] += v * v;
      }
    }
    for (let c = 0; c < k; c++) {
      assert.ok(Math.abs(cnt[c] - n / k) < 6 * Math.sqrt(n / k), `${m.name} component ${c} count ${cnt[c]}`);
      for (let d = 0; d < 2; d++) {
        const mean = sum[2 * c + d] / cnt[c];
        const std = Math.sqrt(sq[2 * c + d] / cnt[c] - mean * mean);
        assert.ok(Math.abs(mean) < 5 * m.sigma / Math.sqrt(cnt[c]), `${m.name} ${c} mean offset ${mean}`);
        assert.ok(Math.abs(std / m.sigma - 1) < 0.05, `${m.name} ${c} std ${std}`);
      }
    }
    // Real data covers every mode with ~99% high quality (3σ in 2-D holds 1 − e^{−4.5} ≈ 98.9%).
    const cov = modeCoverage(values, m);
    assert.equal(cov.modesCovered, k);
    assert.ok(Math.abs(cov.highQualityShare - 0.989) < 0.005, `hq ${cov.highQualityShare}`);
  }
});

test('modeCoverage on hand-made points', () => {
  const pts: number[] = [];
  const [c0, c1] = RING8.centres;
  for (let i = 0; i < 30; i++) pts.push(c0[0] + 0.05, c0[1]); // 2.5σ away: high quality, mode 0
  for (let i = 0; i < 5; i++) pts.push(c1[0], c1[1] - 0.01); // mode 1, only 5 samples
  for (let i = 0; i < 5; i++) pts.push(0, 0); // far from every mode
  pts.push(c0[0] + 0.061, c0[1]); // just beyond 3σ
  pts.push(NaN, NaN);
  const cov = modeCoverage(Float32Array.from(pts), RING8, { minCount: 10 });
  assert.deepEqual(cov.perMode, [30, 5, 0, 0, 0, 0, 0, 0]);
  assert.equal(cov.modesCovered, 1);
  assert.equal(cov.highQualityShare, 35 / 42);
  // Default threshold: 20% of the uniform per-mode count = ceil(0.2 · 42 / 8) = 2, so mode 1 counts too.
  const def = modeCoverage(Float32Array.from(pts), RING8);
  assert.equal(def.minCount, 2);
  assert.equal(def.modesCovered, 2);
  // PacGAN's numbers: 2,500 samples on grid25 → 20 per mode needed.
  assert.equal(modeCoverage(new Float32Array(5000), GRID25).minCount, 20);
});
