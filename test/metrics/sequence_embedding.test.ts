import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import {
  chooseIndices, conditionalProbabilities, embed2d, embeddingPng, featureMeans, jointProbabilities, klGradient, pca2d, sequenceBatch, squaredDistances, tsne, writeSequenceFigures,
} from '../../src/metrics/sequence_embedding.js';
import type { DatasetInfo } from '../../src/data/types.js';
import { sinesSource } from '../../src/data/sequences.js';
import { Rng } from '../../src/util/rng.js';

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

test('featureMeans averages each chosen sequence over its features, as the authors\' visualization does', () => {
  // two sequences [T=3, F=2]: sequence s, step t, feature j = 100s + 10t + j
  const values = Float32Array.from({ length: 12 }, (_, k) => 100 * Math.floor(k / 6) + 10 * Math.floor((k % 6) / 2) + (k % 2));
  const means = featureMeans({ values, count: 2, window: 3, features: 2 }, Int32Array.from([1, 0]));
  assert.deepEqual(Array.from(means), [100.5, 110.5, 120.5, 0.5, 10.5, 20.5]);
});

test('chooseIndices: k distinct indices of 0..n−1, the same for a seed', () => {
  const a = chooseIndices(50, 20, new Rng(3));
  assert.equal(new Set(a).size, 20);
  assert.ok(a.every((i) => i >= 0 && i < 50));
  assert.deepEqual(a, chooseIndices(50, 20, new Rng(3)));
  assert.notDeepEqual(a, chooseIndices(50, 20, new Rng(4)));
});

test('pca2d recovers the coordinates along two known orthogonal directions (closed form), fitted on real, applied to fake', () => {
  // x_i = μ + a_i u + b_i v with orthonormal u, v in R^5, Σa = Σb = Σab = 0 and var a > var b: PCA's axes are ±u, ±v
  // and the coordinates ±(a_i, b_i); fake rows y_k = μ + c_k u + e_k v land at ±(c_k, e_k) with the same signs.
  const d = 5;
  const u = [0.5, 0.5, 0.5, 0.5, 0];
  const v = [0.3, -0.3, 0.3, -0.3, 0.8]; // ⟂ u, unit
  const mu = [1, -2, 3, 0.5, 7];
  const a = [3, -3, 3, -3, 0, 0];
  const b = [1, 1, -1, -1, 0.5, -0.5];
  const rows = (cs: number[], es: number[]) => Float64Array.from(cs.flatMap((c, i) => mu.map((m, j) => m + c * u[j] + es[i] * v[j])));
  const c = [2, -1.5], e = [0.25, 4];
  const [px, py] = pca2d(rows(a, b), rows(c, e), a.length, c.length, d);
  const s0 = Math.sign(px[0] / a[0]), s1 = Math.sign(px[1] / b[0]);
  assert.ok(maxAbsDiff(px, a.flatMap((ai, i) => [s0 * ai, s1 * b[i]])) < 1e-9, `real: ${Array.from(px)}`);
  assert.ok(maxAbsDiff(py, c.flatMap((ci, i) => [s0 * ci, s1 * e[i]])) < 1e-9, `fake: ${Array.from(py)}`);
  // The sign rule: each axis' largest loading is positive (u's first of its tied 0.5s, v's 0.8).
  assert.deepEqual([s0, s1], [1, 1]);
});

test('conditional affinities have entropy log(perplexity) in every row; joint ones are symmetric and sum to 1', () => {
  const rng = new Rng(1);
  const n = 30, d = 4;
  const x = Float64Array.from({ length: n * d }, () => rng.normal() * (1 + rng.uniform() * 5));
  const d2 = squaredDistances(x, n, d);
  const cond = conditionalProbabilities(d2, n, 7);
  for (let i = 0; i < n; i++) {
    let h = 0, sum = 0;
    for (let j = 0; j < n; j++) {
      const p = cond[i * n + j];
      sum += p;
      if (p > 0) h -= p * Math.log(p);
    }
    assert.ok(Math.abs(h - Math.log(7)) < 1e-4, `row ${i}: entropy ${h} vs ${Math.log(7)}`);
    assert.ok(Math.abs(sum - 1) < 1e-12);
    assert.equal(cond[i * n + i], 0);
  }
  const p = jointProbabilities(d2, n, 7);
  let total = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    total += p[i * n + j];
    assert.equal(p[i * n + j], p[j * n + i]);
    if (i !== j) assert.ok(Math.abs(p[i * n + j] - (cond[i * n + j] + cond[j * n + i]) / (2 * n)) < 1e-15);
  }
  assert.ok(Math.abs(total - 1) < 1e-9);
});

test('the KL gradient equals central finite differences of the KL divergence', () => {
  const rng = new Rng(2);
  const n = 7;
  const x = Float64Array.from({ length: n * 3 }, () => rng.normal());
  const p = jointProbabilities(squaredDistances(x, n, 3), n, 3);
  const y = Float64Array.from({ length: n * 2 }, () => rng.normal());
  const { grad } = klGradient(p, y, n);
  const h = 1e-6;
  for (let k = 0; k < y.length; k++) {
    const up = Float64Array.from(y), down = Float64Array.from(y);
    up[k] += h;
    down[k] -= h;
    const numeric = (klGradient(p, up, n, { withKl: true }).kl - klGradient(p, down, n, { withKl: true }).kl) / (2 * h);
    assert.ok(Math.abs(numeric - grad[k]) < 1e-6 * Math.max(1, Math.abs(numeric)), `coordinate ${k}: ${grad[k]} vs ${numeric}`);
  }
});

test('t-SNE keeps well-separated clusters apart: every point\'s nearest neighbour in 2-D is of its own cluster', () => {
  const rng = new Rng(5);
  const k = 3, per = 40, d = 10, n = k * per;
  const centres = Array.from({ length: k }, () => Array.from({ length: d }, () => rng.normal() * 8));
  const x = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) x[i * d + j] = centres[Math.floor(i / per)][j] + 0.5 * rng.normal();
  const y = tsne(x, n, d, { perplexity: 10, iterations: 300, rng: new Rng(0) });
  const cluster = (i: number) => Math.floor(i / per);
  const dist = (i: number, j: number) => Math.hypot(y[i * 2] - y[j * 2], y[i * 2 + 1] - y[j * 2 + 1]);
  for (let i = 0; i < n; i++) {
    let best = -1;
    for (let j = 0; j < n; j++) if (j !== i && (best < 0 || dist(i, j) < dist(i, best))) best = j;
    assert.equal(cluster(best), cluster(i), `point ${i}'s nearest neighbour ${best} is in another cluster`);
  }
  // Between clusters, centroids lie far beyond each cluster's spread.
  const centroid = (c: number) => [0, 1].map((a) => Array.from({ length: per }, (_, i) => y[(c * per + i) * 2 + a]).reduce((s, v) => s + v, 0) / per);
  const cs = Array.from({ length: k }, (_, c) => centroid(c));
  const spread = Math.max(...cs.map((m, c) => Math.max(...Array.from({ length: per }, (_, i) => Math.hypot(y[(c * per + i) * 2] - m[0], y[(c * per + i) * 2 + 1] - m[1])))));
  for (let a = 0; a < k; a++) for (let b = a + 1; b < k; b++) {
    const gap = Math.hypot(cs[a][0] - cs[b][0], cs[a][1] - cs[b][1]);
    assert.ok(gap > 2 * spread, `clusters ${a}, ${b}: centroids ${gap.toFixed(2)} apart, spread ${spread.toFixed(2)}`);
  }
});

test('embed2d: n sequences of each set; identical sets coincide in PCA, a shifted set moves by the shift\'s projection', () => {
  const rng = new Rng(9);
  const t = 6, f = 3, count = 40;
  const real = Float32Array.from({ length: count * t * f }, () => rng.uniform());
  const batch = (values: Float32Array) => ({ values, count, window: t, features: f });
  const same = embed2d(batch(real), batch(Float32Array.from(real)), { method: 'pca', seed: 1, count: 25 });
  assert.equal(same.count, 25);
  assert.equal(new Set(same.realIndices).size, 25);
  assert.equal(new Set(same.fakeIndices).size, 25);
  // Direct: the chosen sequences' feature means through pca2d; identical sets give one picture of the chosen rows.
  const [pr, pf] = pca2d(featureMeans(batch(real), same.realIndices), featureMeans(batch(real), same.fakeIndices), 25, 25, t);
  assert.deepEqual([same.real, same.fake], [pr, pf]);
  const at = (e: Float64Array, indices: Int32Array, row: number) => Array.from(e.slice(indices.indexOf(row) * 2, indices.indexOf(row) * 2 + 2));
  for (const row of same.realIndices) if (same.fakeIndices.includes(row)) assert.deepEqual(at(same.fake, same.fakeIndices, row), at(same.real, same.realIndices, row));
  // All 40 of each set: the shifted copy of row r sits at row r's point plus one constant offset.
  const shifted = embed2d(batch(real), batch(real.map((v) => v + 0.5)), { method: 'pca', seed: 1 });
  assert.equal(shifted.count, count);
  const delta = [0, 1].map((a) => at(shifted.fake, shifted.fakeIndices, 0)[a] - at(shifted.real, shifted.realIndices, 0)[a]);
  for (let r = 0; r < count; r++) {
    const [f0, r0] = [at(shifted.fake, shifted.fakeIndices, r), at(shifted.real, shifted.realIndices, r)];
    for (const a of [0, 1]) assert.ok(Math.abs(f0[a] - r0[a] - delta[a]) < 1e-6); // the shift is rounded to float32
  }
  assert.ok(Math.hypot(delta[0], delta[1]) > 0.1);
  const ts = embed2d(batch(real), batch(real.map((v) => v + 0.5)), { method: 'tsne', seed: 1, count: 25, perplexity: 5 });
  assert.equal(ts.real.length, 50);
  assert.ok(ts.real.every(Number.isFinite) && ts.fake.every(Number.isFinite));
  assert.match(ts.protocol, /perplexity 5, 300 iterations/);
  // Ten of each set: 20 points allow perplexity (2·10 − 1)/3 at most; the protocol says the default was lowered.
  const few = embed2d(batch(real), batch(real.map((v) => v + 0.5)), { method: 'tsne', seed: 1, count: 10 });
  assert.ok(few.real.every(Number.isFinite) && few.fake.every(Number.isFinite));
  assert.match(few.protocol, /perplexity 6\.33 \(40 lowered to \(2n − 1\)\/3 for 20 points\), 300 iterations/);
  assert.throws(() => embed2d(batch(real), { values: real, count: 20, window: 12, features: 3 }, { method: 'pca', seed: 0 }), /\[6, 3\] but synthetic ones \[12, 3\]/);
});

test('the figure tells a good generator from a bad one: two draws of sines mix in t-SNE, a distorted copy stands apart', () => {
  const real = sinesSource({ count: 300 }) as { values: Float32Array; info: DatasetInfo };
  const same = sinesSource({ count: 300, split: 'test' }) as { values: Float32Array }; // another draw from the same distribution
  const bad = same.values.map((v) => 0.5 + 0.6 * (v - 0.5)); // range shrunk toward the middle
  const batch = (values: Float32Array) => sequenceBatch(values, real.info);
  /** The share of each point's 10 nearest neighbours in 2-D that belong to the other set (0.5: mixed; measured 0.51 and 0.10). */
  const mixing = (e: { real: Float64Array; fake: Float64Array; count: number }) => {
    const pts = [...Array.from({ length: e.count }, (_, i) => [e.real[i * 2], e.real[i * 2 + 1], 0]), ...Array.from({ length: e.count }, (_, i) => [e.fake[i * 2], e.fake[i * 2 + 1], 1])];
    let other = 0;
    for (const p of pts) {
      const near = pts.filter((q) => q !== p).sort((a, b) => Math.hypot(a[0] - p[0], a[1] - p[1]) - Math.hypot(b[0] - p[0], b[1] - p[1])).slice(0, 10);
      other += near.filter((q) => q[2] !== p[2]).length / 10;
    }
    return other / pts.length;
  };
  const good = mixing(embed2d(batch(real.values), batch(same.values), { method: 'tsne', seed: 0 }));
  const poor = mixing(embed2d(batch(real.values), batch(bad), { method: 'tsne', seed: 0 }));
  assert.ok(good > 0.35 && poor < 0.2, `other-set share of 10 nearest neighbours: same distribution ${good.toFixed(3)}, distorted ${poor.toFixed(3)}`);
});

test('embeddingPng draws real in red and synthetic in blue; writeSequenceFigures writes pca.png and tsne.png', async () => {
  const rng = new Rng(4);
  const t = 8, f = 2, count = 60;
  const data: DatasetInfo = { name: 'test', kind: 'sequence', shape: [t, f] };
  const real = Float32Array.from({ length: count * t * f }, () => rng.uniform());
  const fake = Float32Array.from({ length: count * t * f }, () => 0.5 + rng.uniform());
  const png = await embeddingPng(embed2d({ values: real, count, window: t, features: f }, { values: fake, count, window: t, features: f }, { method: 'pca', seed: 0 }));
  const { data: px, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  let reddish = 0, bluish = 0;
  for (let i = 0; i < px.length; i += 3) {
    if (px[i] > 200 && px[i + 2] < 180 && px[i + 1] < 180) reddish++;
    if (px[i + 2] > 200 && px[i] < 180 && px[i + 1] < 200) bluish++;
  }
  assert.ok(info.width > 600 && reddish > 50 && bluish > 50, `${info.width} px wide, ${reddish} red, ${bluish} blue pixels`);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-embedding-'));
  try {
    const files = await writeSequenceFigures(dir, real, fake, data, { count: 50 });
    assert.deepEqual(files.map((p) => path.basename(p)), ['pca.png', 'tsne.png']);
    for (const file of files) assert.ok((await sharp(file).metadata()).width! > 600);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
