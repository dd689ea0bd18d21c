// The time-series metrics against what they must give: MMD² against its closed form for Gaussians, the
// discriminative score near 0 for two draws of one distribution and large for sines vs noise, the predictive score
// lower when the predictor learnt from real data than from noise; no tensors left behind and, on aten, no CPU
// fallback kernels while the post-hoc GRUs train.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.js';
import { sinesSource } from '../../src/data/sequences.js';
import { evaluateSets, formatResult, fromSamples, type SampleSet } from '../../src/metrics/evaluate.js';
import { parseMetrics, SEQUENCE_METRIC_NAMES } from '../../src/metrics/registry.js';
import {
  discriminativeScore, fusedGru, gaussianMmd2, medianSquaredDistance, predictiveScore, predictiveTensors, posthocUnits, tfjsGru, type Sequences,
} from '../../src/metrics/timeseries/index.js';
import { sequenceReference } from '../../src/metrics/timeseries/reference.js';
import { resolveConfig } from '../../src/gan/config.js';
import { makeEvaluator } from '../../src/training_eval.js';
import { UserError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';

await initBackend({ quiet: true });
const ATEN = tf.getBackend() === 'aten';
const { atenFallbackKernels } = ATEN
  ? (await import('tfjs-backend-aten' as string)) as { atenFallbackKernels(): string[] }
  : { atenFallbackKernels: () => [] as string[] };

function gaussians(n: number, d: number, mean: number, sd: number, rng: Rng): Float32Array {
  return Float32Array.from({ length: n * d }, () => mean + sd * rng.normal());
}

function sines(count: number, split: 'train' | 'test'): Sequences {
  const s = sinesSource({ count, split });
  return { values: s.values as Float32Array, n: count, t: 24, f: 5 };
}

function noise(count: number, seed: number): Sequences {
  const rng = new Rng(seed);
  return { values: Float32Array.from({ length: count * 24 * 5 }, () => rng.uniform()), n: count, t: 24, f: 5 };
}

test('MMD²: two draws of one Gaussian ≈ 0, shifted Gaussians match the closed form 2c(1 − exp(−‖μ‖²/(2(σ² + 2s²))))', () => {
  const rng = new Rng(1);
  const n = 600, d = 4, s = 1, sigma2 = 4;
  const x = gaussians(n, d, 0, s, rng);
  const same = gaussians(n, d, 0, s, rng);
  assert.ok(Math.abs(gaussianMmd2(x, n, same, n, d, sigma2).mmd2) < 0.005, 'same distribution');
  // x − x' ~ N(0, 2s²I): E k = c = (σ²/(σ² + 2s²))^{d/2}; x − y ~ N(−μ, 2s²I): E k = c·exp(−‖μ‖²/(2(σ² + 2s²))).
  for (const shift of [0.5, 1]) {
    const y = gaussians(n, d, shift, s, rng);
    const mu2 = d * shift * shift;
    const c = (sigma2 / (sigma2 + 2 * s * s)) ** (d / 2);
    const expected = 2 * c * (1 - Math.exp(-mu2 / (2 * (sigma2 + 2 * s * s))));
    const { mmd2 } = gaussianMmd2(x, n, y, n, d, sigma2);
    assert.ok(Math.abs(mmd2 - expected) < 0.1 * expected + 0.005, `shift ${shift}: MMD² ${mmd2} vs closed form ${expected}`);
  }
});

test('MMD² median heuristic: σ² = median squared pair distance, 2s²·median(χ²_d) for one Gaussian; identical sets give ≈ 0', () => {
  const rng = new Rng(2);
  const n = 300, d = 6, s = 0.5;
  const x = gaussians(n, d, 0, s, rng), y = gaussians(n, d, 0, s, rng);
  // Wilson–Hilferty: median of χ²_d ≈ d(1 − 2/(9d))³.
  const expected = 2 * s * s * d * (1 - 2 / (9 * d)) ** 3;
  const m = medianSquaredDistance(x, n, y, n, d);
  assert.ok(Math.abs(m - expected) < 0.05 * expected, `median ${m} vs ${expected}`);
  const self = gaussianMmd2(x, n, x, n, d);
  assert.equal(self.sigma2, medianSquaredDistance(x, n, x, n, d));
  assert.ok(Math.abs(self.mmd2) < 0.01, `x vs itself ${self.mmd2}`);
  // A tiny odd set: the median is the middle pair distance. Rows 0, 1, 3 on a line: distances² 1, 9, 4 → 4.
  assert.equal(medianSquaredDistance(Float32Array.of(0, 1), 2, Float32Array.of(3), 1, 1), 4);
});

test('discriminative score: ≈ 0 for two draws of the sines, ≥ 0.3 for sines vs uniform noise (short training)', () => {
  const real = sines(500, 'train');
  // A larger step than the protocol's 0.001 so that 100 iterations suffice to tell sines from noise.
  const opts = { seed: 3, iterations: 100, batchSize: 64, learningRate: 0.02 };
  const same = discriminativeScore(real, sines(500, 'test'), opts);
  assert.ok(same.score <= 0.1, `sines vs sines: ${JSON.stringify(same)}`);
  assert.equal(same.trainReal, 400);
  assert.equal(same.testReal + same.testFake, 200);
  const other = discriminativeScore(real, noise(500, 4), opts);
  assert.ok(other.score >= 0.3, `sines vs noise: ${JSON.stringify(other)}`);
});

test('predictive score: a predictor trained on real sines predicts held-out sines better than one trained on noise', () => {
  const real = sines(300, 'train'), held = sines(300, 'test');
  const opts = { seed: 5, iterations: 100, batchSize: 64, sigmoid: true, learningRate: 0.01 };
  const fromReal = predictiveScore(real, held, opts).mae;
  const fromNoise = predictiveScore(noise(400, 6), held, opts).mae;
  assert.ok(fromReal < fromNoise, `real-trained ${fromReal} vs noise-trained ${fromNoise}`);
  assert.equal(posthocUnits(5), 2);
  assert.equal(posthocUnits(1), 1);
});

test('predictive inputs and targets: features 1…F−1 at steps 1…T−1 → feature F at steps 2…T; a univariate series predicts itself', () => {
  // values[n, t, f] = 100n + 10t + f
  const make = (f: number): Sequences => ({ values: Float32Array.from({ length: 2 * 3 * f }, (_, i) => 100 * Math.floor(i / (3 * f)) + 10 * Math.floor((i % (3 * f)) / f) + (i % f)), n: 2, t: 3, f });
  const multi = predictiveTensors(make(3));
  assert.deepEqual(multi.x.arraySync(), [[[0, 1], [10, 11]], [[100, 101], [110, 111]]]);
  assert.deepEqual(multi.y.arraySync(), [[[12], [22]], [[112], [122]]]);
  const uni = predictiveTensors(make(1));
  assert.deepEqual(uni.x.arraySync(), [[[0], [10]], [[100], [110]]]);
  assert.deepEqual(uni.y.arraySync(), [[[10], [20]], [[110], [120]]]);
  tf.dispose([multi.x, multi.y, uni.x, uni.y]);
});

test('post-hoc training leaves no tensors behind and, on aten, runs without CPU fallback kernels', () => {
  const real = sines(200, 'train'), fake = noise(200, 7);
  discriminativeScore(real, fake, { seed: 8, iterations: 2, batchSize: 32 }); // warm-up: layer construction caches
  const before = tf.memory().numTensors;
  const fallbacksBefore = atenFallbackKernels().length;
  discriminativeScore(real, fake, { seed: 9, iterations: 5, batchSize: 32 });
  predictiveScore(fake, real, { seed: 9, iterations: 5, batchSize: 32, sigmoid: true });
  predictiveScore(fake, real, { seed: 9, iterations: 5, batchSize: 32, sigmoid: false });
  assert.equal(tf.memory().numTensors, before);
  if (ATEN) assert.deepEqual(atenFallbackKernels().slice(fallbacksBefore), [], `fallbacks: ${atenFallbackKernels().join(', ')}`);
});

test('the post-hoc GRU factories agree: FusedGRU (one aten kernel per sequence) trains to what tfjs-layers\' GRU does', () => {
  const real = sines(128, 'train'), fake = noise(128, 12);
  const opts = { seed: 13, iterations: 15, batchSize: 32, sigmoid: true, learningRate: 0.01 };
  const fused = predictiveScore(fake, real, { ...opts, factory: fusedGru }).mae;
  const chain = predictiveScore(fake, real, { ...opts, factory: tfjsGru }).mae;
  assert.ok(Math.abs(fused - chain) < 1e-4 * Math.max(1, chain), `MAE fused ${fused} vs tfjs-layers ${chain}`);
  const d = (factory: typeof tfjsGru) => discriminativeScore(real, fake, { seed: 14, iterations: 15, batchSize: 32, learningRate: 0.01, factory }).accuracy;
  assert.equal(d(fusedGru), d(tfjsGru));
});

test('sequence metrics through evaluateSets: mean ± std over repeats, each printed with its protocol', () => {
  const real = sines(200, 'train');
  const set = (s: Sequences, source: string): SampleSet => ({ kind: 'sequence', source, ...s, unitRange: true });
  const results = evaluateSets(set(noise(200, 10), 'noise'), set(real, 'sines'), undefined, { name: 'sines', selection: 'all 200' }, {
    metrics: 'all', seed: 0, repeats: 2, discriminativeIterations: 20, predictiveIterations: 20, mmdSubset: 100,
  });
  assert.deepEqual(results.map((r) => r.metric), ['discriminative', 'predictive', 'mmd']);
  const [disc, pred, mmd] = results;
  assert.equal((disc.values.runs as number[]).length, 2);
  assert.ok(Math.abs((disc.values.runs as number[]).reduce((a, b) => a + b) / 2 - (disc.values.discriminative as number)) < 1e-12);
  assert.ok((pred.values.realPredictive as number) < (pred.values.predictive as number), 'real-trained baseline beats noise-trained');
  assert.ok((mmd.values.mmd as number) > 0.1, `MMD² sines vs noise ${mmd.values.mmd}`);
  assert.ok((mmd.values.mmdStd as number) > 0, 'fresh subsets of 100 out of 200 differ');
  const text = results.map(formatResult).join('\n');
  assert.match(text, /^discriminative score [\d.]+ ± [\d.]+ \(accuracy [\d.]+\)$/m);
  assert.match(text, /protocol +\|accuracy − 0\.5\| of a post-hoc 1-layer GRU \(2 units = ⌊F\/2⌋\).*160 real, 160 synthetic.*20 iterations of 128 real \+ 128 synthetic/);
  assert.match(text, /^predictive score [\d.]+ ± [\d.]+ \(trained on real data: [\d.]+ ± [\d.]+\)$/m);
  assert.match(text, /predict feature 5 \(the last\) at steps 2…T from features 1…4 at steps 1…T−1/);
  assert.match(text, /^MMD² [\d.]+ ± [\d.]+ \(σ² [\d.]+\)$/m);
  assert.match(text, /repeats +2, mean ± std/);
  assert.match(text, /TimeGAN's protocol with 20 iterations instead of 2000$/m);
  assert.match(text, /^ {2}values +each sequence's 24 steps × 5 features in the run's \[0, 1\] scaled units$/m);
  assert.match(text, /^ {2}reference +sines, 200 \(all 200\)$/m);
});

test('sequence metric names: all means the three time-series metrics; image metrics refused for sequences and vice versa', () => {
  assert.deepEqual(parseMetrics('all', 'sequence').map((m) => m.name), SEQUENCE_METRIC_NAMES);
  assert.deepEqual(SEQUENCE_METRIC_NAMES, ['discriminative', 'predictive', 'mmd']);
  assert.ok(!parseMetrics('all', 'image').some((m) => m.needs === 'sequences'));
  assert.throws(() => parseMetrics('fid', 'sequence'), (e: unknown) => e instanceof UserError && /sequence runs are scored by discriminative, predictive, mmd/.test(e.message));
  assert.throws(() => parseMetrics('mmd', 'points'), (e: unknown) => e instanceof UserError && /scores sequences/.test(e.message));
  assert.throws(() => parseMetrics('discriminitive', 'sequence'), (e: unknown) => e instanceof UserError && /discriminative/.test(e.message));
  const scaling = { kind: 'standard' as const, offset: [0], scale: [1] };
  const set = fromSamples({ values: new Float32Array(12), count: 2, shape: [6, 1] }, 'sequence', 'x', { features: ['a'], window: 6, stride: 1, scaling, series: 1 });
  assert.deepEqual({ ...set, values: undefined }, { kind: 'sequence', source: 'x', values: undefined, n: 2, t: 6, f: 1, unitRange: false });
});

test('sequence reference: the test split of sines in the run\'s units, a random --count of it, --ref train, and errors that name the flag', async () => {
  const config = resolveConfig({ data: 'sines' });
  const data = sinesSource({ count: 10 }).info;
  const ref = await sequenceReference(config, data, { count: 50, seed: 0 });
  assert.equal(ref.name, 'sines test split');
  assert.match(ref.selection, /^50 of 10000 at random/);
  assert.deepEqual([ref.n, ref.t, ref.f, ref.values.length], [50, 24, 5, 50 * 24 * 5]);
  const test = sinesSource({ split: 'test' }).values as Float32Array;
  // Every chosen window is one of the test split's (the first value identifies it), in the split's own units.
  const firsts = new Set(Array.from({ length: 10000 }, (_, i) => test[i * 120]));
  for (let i = 0; i < 50; i++) assert.ok(firsts.has(ref.values[i * 120]), `window ${i} is from the test split`);
  const train = await sequenceReference(config, data, { split: 'train', seed: 0, most: 100 });
  assert.equal(train.name, 'sines training data');
  assert.equal(train.n, 100);
  await assert.rejects(sequenceReference(config, data, { count: 20000, seed: 0 }), (e: unknown) => e instanceof UserError && /--count 20000.*at most 10000/.test(e.message));
});

test('training-time evaluation of a sequence run: eval/NAME per metric, the first one decides best (lower is better)', async () => {
  const data = sinesSource({ count: 10 }).info;
  const asked = makeEvaluator(resolveConfig({ data: 'sines', evalEvery: 1, evalMetrics: 'mmd', evalCount: 60 }), data)!;
  assert.deepEqual([asked.primary, asked.lowerIsBetter], ['eval/mmd', true]);
  const requests: number[] = [];
  const scores = await asked.evaluate((r) => {
    requests.push(r.count);
    return { values: noise(r.count, 11).values, count: r.count, shape: [24, 5] };
  });
  assert.deepEqual(requests, [60]);
  assert.deepEqual(Object.keys(scores).sort(), ['eval/mmd', 'eval/mmd/mmdStd', 'eval/mmd/sigma2']);
  assert.ok(scores['eval/mmd'] > 0.1, `noise vs sines ${scores['eval/mmd']}`);
  // The flag's default ('fid') means every time-series metric, discriminative first.
  assert.equal(makeEvaluator(resolveConfig({ data: 'sines', evalEvery: 1 }), data)!.primary, 'eval/discriminative');
  assert.throws(() => makeEvaluator(resolveConfig({ data: 'sines', evalEvery: 1, evalMetrics: 'fid,kid' }), data), (e: unknown) => e instanceof UserError && /sequence runs are scored by/.test(e.message));
  assert.throws(() => makeEvaluator(resolveConfig({ data: 'sines', evalEvery: 1, evalRef: 'mnist:test' }), data), (e: unknown) => e instanceof UserError && /--eval-ref mnist:test/.test(e.message));
});
