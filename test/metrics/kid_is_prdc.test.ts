import { test } from 'node:test';
import assert from 'node:assert/strict';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { kernelInceptionDistance, unbiasedMmd2 } from '../../src/metrics/kid.js';
import { inceptionScore, softmaxRows } from '../../src/metrics/inception_score.js';
import { knnRadii, precisionRecallDensityCoverage } from '../../src/metrics/prdc.js';
import { classHistogram, labelAgreement } from '../../src/metrics/class_histogram.js';
import { mixtureModeCoverage } from '../../src/metrics/mode_coverage.js';
import { RING8, mixtureSource } from '../../src/data/toy2d.js';
import { Rng } from '../../src/util/rng.js';

await tf.setBackend('cpu');

test('KID: near 0 for two halves of one set, clearly positive for shifted data', () => {
  const rng = new Rng(1);
  const n = 1000, d = 16;
  const x = Float32Array.from({ length: 2 * n * d }, () => rng.normal());
  const a = x.subarray(0, n * d), b = x.subarray(n * d);
  const same = kernelInceptionDistance(a, n, b, n, d, { subsets: 10, subsetSize: 200, seed: 0 });
  assert.ok(Math.abs(same.kid) < 3 * same.std + 0.01, `KID of two halves ${same.kid} ± ${same.std}`);
  const shifted = Float32Array.from(b, (v) => v + 0.5);
  const diff = kernelInceptionDistance(a, n, shifted, n, d, { subsets: 10, subsetSize: 200, seed: 0 });
  assert.ok(diff.kid > 10 * Math.max(same.std, 0.01), `KID shifted ${diff.kid}`);
  // Seeded: the same call gives the same number.
  assert.equal(kernelInceptionDistance(a, n, b, n, d, { subsets: 3, subsetSize: 50, seed: 4 }).kid, kernelInceptionDistance(a, n, b, n, d, { subsets: 3, subsetSize: 50, seed: 4 }).kid);
});

test('unbiased MMD² on hand-made Gram matrices leaves the diagonals out', () => {
  // m = 2: kxx off-diagonal 1, kyy off-diagonal 3, kxy all 2 → (1+1 + 3+3)/2 − 2·8/4 = 0
  assert.equal(unbiasedMmd2([9, 1, 1, 9], [9, 3, 3, 9], [2, 2, 2, 2], 2), 0);
});

test('Inception Score: 1 for identical predictions, C for confident predictions spread evenly', () => {
  const c = 10, n = 200;
  const same = new Float64Array(n * c);
  for (let i = 0; i < n; i++) same.set([0.5, 0.2, 0.3], i * c);
  assert.ok(Math.abs(inceptionScore(same, n, c, 4).score - 1) < 1e-12);
  const onehot = new Float64Array(n * c);
  for (let i = 0; i < n; i++) onehot[i * c + (i % c)] = 1;
  const r = inceptionScore(onehot, n, c, 4); // each split of 50 holds every class 5 times
  assert.ok(Math.abs(r.score - c) < 1e-9, `IS ${r.score}`);
  assert.ok(r.std < 1e-9);
  const p = softmaxRows(Float32Array.of(1000, 0, 0, 0), 2, 2);
  assert.deepEqual([...p], [1, 0, 0.5, 0.5]);
});

test('precision, recall, density, coverage on small point sets with known answers', () => {
  // Real: 4 points on a line at 0, 1, 2, 3; k = 1 → every real ball has radius 1 (squared 1).
  const real = Float32Array.of(0, 0, 1, 0, 2, 0, 3, 0);
  assert.deepEqual([...knnRadii(real, 4, 2, 1)], [1, 1, 1, 1]);
  // Fake: one near the real points, one far away; k = 1 → fake radius = their squared distance.
  const fake = Float32Array.of(0.5, 0, 10, 0);
  const r = precisionRecallDensityCoverage(real, 4, fake, 2, 2, 1);
  // Precision: (0.5, 0) is within 1 of reals 0 and 1 → 1 of 2 fakes.
  assert.equal(r.precision, 0.5);
  // Recall: fake balls have squared radius 9.5² = 90.25, so the ball at 0.5 holds every real point.
  assert.equal(r.recall, 1);
  // Density: (0.5, 0) lies in 2 real balls, (10, 0) in none → 2 / (k·m) = 1.
  assert.equal(r.density, 1);
  // Coverage: reals 0 and 1 have a fake within 1; 2 and 3 do not.
  assert.equal(r.coverage, 0.5);
  // Identical sets: everything is 1.
  const same = precisionRecallDensityCoverage(real, 4, real, 4, 2, 1);
  assert.deepEqual([same.precision, same.recall, same.coverage], [1, 1, 1]);
});

test('class histogram and KL to uniform', () => {
  const logits = Float32Array.of(5, 0, 0, 0, 5, 0, 0, 0, 5, 5, 0, 0);
  const h = classHistogram(logits, 4, 3);
  assert.deepEqual(h.counts, [2, 1, 1]);
  const expected = 0.5 * Math.log(1.5) + 2 * 0.25 * Math.log(0.75);
  assert.ok(Math.abs(h.klToUniform - expected) < 1e-12);
  assert.ok(Math.abs(classHistogram(Float32Array.of(1, 0, 1, 0), 2, 2).klToUniform - Math.log(2)) < 1e-12);
});

test('label agreement: the share of samples predicted as the class they were drawn for, blind to a balanced histogram', () => {
  // Predicted 0, 1, 2, 0 (rows of 3 logits) against the labels 0, 1, 2, 0 → all agree; shifted by one → none do,
  // though both histograms are the same.
  const logits = Float32Array.of(5, 0, 0, 0, 5, 0, 0, 0, 5, 5, 0, 0);
  assert.equal(labelAgreement(logits, [0, 1, 2, 0], 3), 1);
  assert.equal(labelAgreement(logits, [1, 2, 0, 1], 3), 0);
  assert.equal(labelAgreement(logits, [0, 2, 2, 1], 3), 0.5);
  assert.ok(Number.isNaN(labelAgreement(logits, [], 3)));
});

test('mode coverage wraps the toy-mixture convention', () => {
  const pts = mixtureSource(RING8).sample(800, new Rng(0)).values;
  const r = mixtureModeCoverage(pts, 'toy:ring8');
  assert.equal(r.modesCovered, 8);
  assert.ok(r.highQualityShare > 0.95);
  assert.throws(() => mixtureModeCoverage(pts, 'toy:ring9'), /did you mean 'toy:ring8'/);
});
