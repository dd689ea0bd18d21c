import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { parse } from 'csv-parse/sync';
import { initBackend } from '../../src/backend/index.js';
import { getModel } from '../../src/models/registry.js';
import { resolveConfig, type RunConfig } from '../../src/gan/config.js';
import { allNetworks, discriminatorOf, type GanNetworks } from '../../src/gan/family.js';
import { conditionProblem, disposeState, freshState, runStep } from '../../src/gan/training_step.js';
import { discriminatorPhase } from '../../src/gan/step.js';
import { nonSaturating } from '../../src/gan/losses.js';
import { makeOptimizers, disposeOptimizers } from '../../src/gan/optimizers.js';
import { sampleFamily } from '../../src/gan/sampling.js';
import { loadSamplingNetworks } from '../../src/gan/checkpoint.js';
import { startRun } from '../../src/run.js';
import { checkResumesExactly, movedAfterCut } from './resume_check.js';
import { sampleCommand } from '../../src/cli/commands.js';
import { sequenceSource, sinesSource, type Series } from '../../src/data/sequences.js';
import type { ArraySource, DatasetInfo } from '../../src/data/types.js';
import { Rng } from '../../src/util/rng.js';
import { trainChecked } from './train_checked.js';

const backend = await initBackend({ quiet: true });
// Typed locally (the package may be unbuilt, see src/backend/index.ts).
const aten = backend.name === 'aten' ? (await import('tfjs-backend-aten' as string)) as { atenFallbackKernels(): string[] } : null;
const fallbackBefore = aten?.atenFallbackKernels() ?? [];

const T = 8;
const small = { hidden: 16, batchSize: 8 } as Partial<RunConfig>;
const sines = (count = 32) => sinesSource({ count, window: T, features: 3 });

/** Two classes of 2-feature series: slow sines ('slow') and fast ones ('fast'), each window one series. */
function labelledSines(n = 32): ArraySource {
  const rng = new Rng(5);
  const series: Series[] = Array.from({ length: n }, (_, i) => {
    const label = i % 2, freq = label === 0 ? 0.2 : 0.9, phase = rng.uniform() * 3;
    const values = Float64Array.from({ length: T * 2 }, (_, k) => Math.sin(freq * Math.floor(k / 2) + phase + (k % 2)));
    return { values, rows: T, label };
  });
  return sequenceSource(series, { name: 'two-sines', features: ['a', 'b'], window: T, stride: T, scaling: 'minmax', classNames: ['slow', 'fast'], conditionColumn: 'kind' });
}

function configOf(model: string, info: DatasetInfo, overrides: Partial<RunConfig> = {}): RunConfig {
  return resolveConfig(getModel(model).defaults(info), { model, seed: 1, ...small, ...overrides });
}

function build(model: string, info: DatasetInfo, overrides: Partial<RunConfig> = {}): { nets: GanNetworks; config: RunConfig } {
  const config = configOf(model, info, overrides);
  assert.equal(getModel(model).check(info, config), null);
  return { nets: getModel(model).build(info, config, new Rng(1)), config };
}

const run = (m: { apply(x: tf.Tensor | tf.Tensor[]): unknown }, x: tf.Tensor | tf.Tensor[]) => tf.tidy(() => m.apply(x) as tf.Tensor);
const arrayOf = (t: tf.Tensor) => Array.from(t.dataSync());
const oneHot = (k: number, n: number, classes: number) => tf.tidy(() => tf.cast(tf.oneHot(tf.fill([n], k, 'int32') as tf.Tensor1D, classes), 'float32'));

test('rgan on sines: G maps a latent sequence to [B, T, F] in (0, 1), D gives one logit per step; the paper\'s sizes are the defaults', () => {
  const info = sinesSource({ count: 4 }).info; // TimeGAN's 24 × 5
  const defaults = configOf('rgan', info, { hidden: 100, batchSize: 28 });
  assert.equal(defaults.latentDim, 24 * 5, '5 latent numbers per step');
  assert.deepEqual([defaults.nCritic, defaults.batchSize, defaults.hidden], [5, 28, 100]);
  const { nets, config } = build('rgan', sines(4).info);
  const z = tf.randomNormal([4, config.latentDim]);
  const x = run(nets.generator, z);
  assert.deepEqual(x.shape, [4, T, 3]);
  assert.ok(arrayOf(x).every((v) => v > 0 && v < 1), 'sigmoid outputs for data scaled to [0, 1]');
  const logits = run(discriminatorOf(nets), x);
  assert.deepEqual(logits.shape, [4, T]);
  tf.dispose([z, x, logits]);
  // Standardised data is not bounded: G's output is linear there.
  const standard: DatasetInfo = { ...sines(4).info, sequence: { ...sines(4).info.sequence!, scaling: { kind: 'standard', offset: [0, 0, 0], scale: [1, 1, 1] } } };
  const out = build('rgan', standard).nets.generator.layers.at(-1)!.getConfig().activation;
  assert.equal(out, 'linear');
  // --latent-dim must split into whole per-step latents.
  assert.match(getModel('rgan').check(sines(4).info, configOf('rgan', sines(4).info, { latentDim: 30 }))!, /--latent-dim 30.*multiple of the window \(8 steps\); pass --latent-dim 32/);
});

test('rgan is recurrent in time: changing step s of the input changes G\'s output and D\'s logits at steps ≥ s only', () => {
  const { nets, config } = build('rgan', sines(4).info);
  const per = config.latentDim / T, s = 3;
  const z = tf.randomNormal([2, config.latentDim], 0, 1, 'float32', 4);
  const bump = tf.tensor2d(Float32Array.from({ length: 2 * config.latentDim }, (_, i) => (Math.floor((i % config.latentDim) / per) === s ? 1 : 0)), [2, config.latentDim]);
  const z2 = tf.add(z, bump);
  const [a, b] = [run(nets.generator, z), run(nets.generator, z2)];
  const x = run(nets.generator, z);
  const xb = tf.tidy(() => tf.add(x, tf.mul(tf.reshape(tf.oneHot(tf.tensor1d([s], 'int32'), T), [1, T, 1]), 0.3)));
  const [la, lb] = [run(discriminatorOf(nets), x), run(discriminatorOf(nets), xb)];
  const stepDiff = (p: tf.Tensor, q: tf.Tensor) => tf.tidy(() => {
    const d = tf.abs(tf.sub(p, q));
    return arrayOf(d.rank === 3 ? tf.max(d, [0, 2]) : tf.max(d, 0)); // [T]
  });
  for (const [name, diff] of [['G', stepDiff(a, b)], ['D', stepDiff(la, lb)]] as const) {
    diff.forEach((d, t) => {
      if (t < s) assert.equal(d, 0, `${name} at step ${t} < ${s} moved by ${d}`);
      else assert.ok(d > 1e-6, `${name} at step ${t} ≥ ${s} did not move`);
    });
  }
  tf.dispose([z, bump, z2, a, b, x, xb, la, lb]);
});

test("D's loss in the step is the cross-entropy of every step's logit, averaged over time and batch", () => {
  const { nets, config } = build('rgan', sines(4).info);
  const real = tf.tensor3d(sines(6).values as Float32Array, [6, T, 3]);
  const fake = tf.tidy(() => nets.generator.apply(tf.randomNormal([6, config.latentDim], 0, 1, 'float32', 2)) as tf.Tensor);
  const [lr, lf] = [arrayOf(run(discriminatorOf(nets), real)), arrayOf(run(discriminatorOf(nets), fake))];
  const softplus = (v: number) => Math.log1p(Math.exp(-Math.abs(v))) + Math.max(v, 0);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  // −log σ(l) on real, −log(1 − σ(l)) on generated, each averaged over all B·T logits.
  const direct = mean(lr.map((l) => softplus(-l))) + mean(lf.map((l) => softplus(l)));
  const lastStepOnly = mean(lr.filter((_, i) => i % T === T - 1).map((l) => softplus(-l))) + mean(lf.filter((_, i) => i % T === T - 1).map((l) => softplus(l)));
  const opt = makeOptimizers(config);
  const d = discriminatorPhase(nets, opt, nonSaturating, real, fake);
  assert.ok(Math.abs(d.lossD - direct) < 1e-5, `step's D loss ${d.lossD} vs direct ${direct}`);
  assert.ok(Math.abs(lastStepOnly - direct) > 1e-4, 'the oracle tells a time average from a last-step loss');
  assert.ok(Math.abs(d.dReal - mean(lr.map((l) => 1 / (1 + Math.exp(-l))))) < 1e-5);
  tf.dispose([real, fake, d.realLogits]);
  disposeOptimizers(opt);
});

test('rcgan: the condition enters at every step of G and D; unlabelled data is refused, rgan refuses images', () => {
  const source = labelledSines();
  const { nets, config } = build('rcgan', source.info);
  const z = tf.randomNormal([3, config.latentDim], 0, 1, 'float32', 9);
  const [y0, y1] = [oneHot(0, 3, 2), oneHot(1, 3, 2)];
  const [g0, g1] = [run(nets.generator, [z, y0]), run(nets.generator, [z, y1])];
  const gDiff = arrayOf(tf.tidy(() => tf.max(tf.abs(tf.sub(g0, g1)), [0, 2])));
  gDiff.forEach((d, t) => assert.ok(d > 1e-6, `G's step ${t} ignores the class`));
  const [d0, d1] = [run(discriminatorOf(nets), [g0, y0]), run(discriminatorOf(nets), [g0, y1])];
  assert.deepEqual(d0.shape, [3, T]);
  const dDiff = arrayOf(tf.tidy(() => tf.max(tf.abs(tf.sub(d0, d1)), 0)));
  dDiff.forEach((d, t) => assert.ok(d > 1e-6, `D's step ${t} ignores the class`));
  tf.dispose([z, y0, y1, g0, g1, d0, d1]);
  assert.match(conditionProblem(getModel('rcgan'), sines(4).info)!, /rcgan consumes a class condition, and sines provides none/);
  assert.match(getModel('rcgan').check(sines(4).info, configOf('rcgan', sines(4).info))!, /--condition-column/);
  const image: DatasetInfo = { name: 'squares', kind: 'image', shape: [8, 8, 1], count: 4 };
  assert.match(conditionProblem(getModel('rgan'), image)!, /rgan trains on .*sequence/);
});

test('rgan and rcgan steps: tensor count flat, losses finite, both players move, no CPU fallback on aten', () => {
  for (const [model, source] of [['rgan', sines()], ['rcgan', labelledSines()]] as const) {
    const { state, stats } = trainChecked(model, source, { ...small, nCritic: 2 }, 4);
    try {
      assert.ok(stats.every((s) => s.lossD! > 0 && s.lossG > 0 && s.dReal! > 0 && s.dReal! < 1));
    } finally {
      disposeState(state);
    }
  }
  if (aten) assert.deepEqual(aten.atenFallbackKernels().filter((k) => !fallbackBefore.includes(k)), [], 'kernels that fell back to the CPU in training steps');
});

/** Per (step, feature) mean and std over the examples of [N, T, F] values. */
function moments(values: Float32Array, [n, t, f]: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < t; i++) for (let j = 0; j < f; j++) {
    let s = 0, s2 = 0;
    for (let k = 0; k < n; k++) {
      const v = values[(k * t + i) * f + j];
      s += v;
      s2 += v * v;
    }
    const m = s / n;
    out.push(m, Math.sqrt(Math.max(0, s2 / n - m * m)));
  }
  return out;
}

test("rgan learns sines: after 200 steps at the paper's settings its per-step mean and spread are much nearer the data's than at step 0", () => {
  // 24 steps × 2 features; the paper's schedule (5 D updates per G update, Adam 1e-3) with smaller LSTMs.
  // Measured on aten, seeds 1–3: the gap falls from 0.17 to 0.036, 0.047, 0.071.
  const source = sinesSource({ count: 1024, window: 24, features: 2 });
  const config = configOf('rgan', source.info, { hidden: 32, batchSize: 32 });
  const state = freshState(getModel('rgan'), source, config);
  const n = 256;
  const real = moments(source.values as Float32Array, [source.count, 24, 2]);
  const gap = () => {
    const g = moments(sampleFamily(getModel('rgan'), state.nets, { count: n, seed: 11 }, { config, data: source.info }).values, [n, 24, 2]);
    return g.reduce((a, v, i) => a + Math.abs(v - real[i]), 0) / g.length;
  };
  try {
    const before = gap();
    for (let i = 0; i < 200; i++) runStep(state);
    const after = gap();
    assert.ok(after < 0.5 * before, `mean |Δ| of per-step mean and std: ${before.toFixed(4)} at step 0, ${after.toFixed(4)} after 200 steps`);
  } finally {
    disposeState(state);
  }
});

test('rgan resumes bit-for-bit; sample --out x.csv writes original units; rcgan samples --condition by name', async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-rgan-'));
  const weightsOf = (m: { getWeights(): tf.Tensor[] }) => m.getWeights().map((w) => Array.from(w.dataSync()));
  try {
    const source = sines(24);
    const cfg = (out: string) => ({ model: 'rgan', ...small, nCritic: 2, steps: 6, sampleEvery: 3, checkpointEvery: 3, logEvery: 1, out }) as Partial<RunConfig>;
    const numbers = (nets: GanNetworks) => ({ G: weightsOf(nets.generator), D: weightsOf(discriminatorOf(nets)) });
    const r = await checkResumesExactly({ config: cfg, source, dir: tmp, name: 'rgan', cut: 3, steps: 6, numbers });
    assert.ok(movedAfterCut(r), 'the run moved after the cut (the comparison can fail)');

    // sample --out x.csv: one row per (sample, step), the features back in the sines' own units, x = 2·scaled − 1.
    const csv = path.join(tmp, 'x.csv');
    await sampleCommand(path.join(tmp, 'rgan-full'), { count: 3, seed: 4, out: csv });
    const rows = parse(await fs.readFile(csv, 'utf8'), { columns: true }) as Record<string, string>[];
    assert.deepEqual(Object.keys(rows[0]), ['sample', 'step', 'sine1', 'sine2', 'sine3']);
    assert.equal(rows.length, 3 * T);
    const { nets, state } = await loadSamplingNetworks(path.join(tmp, 'rgan-full'));
    const scaled = sampleFamily(getModel('rgan'), nets, { count: 3, seed: 4 }, state).values;
    rows.forEach((r, k) => ['sine1', 'sine2', 'sine3'].forEach((c, j) => {
      const want1 = 2 * scaled[k * 3 + j] - 1;
      assert.ok(Math.abs(Number(r[c]) - want1) < 1e-5, `row ${k} ${c}: ${r[c]} vs ${want1}`);
    }));
    assert.throws(() => sampleFamily(getModel('rgan'), nets, { count: 2, seed: 1, classes: [0, 1] }, state), /per-sample classes need a class-conditional model/);
    for (const [, m] of allNetworks(nets)) m.dispose();

    // rcgan: --condition fast gives class 1 at every sample, written in the CSV's condition column.
    const labelled = labelledSines(16);
    const cond = await startRun({ model: 'rcgan', ...small, nCritic: 1, steps: 2, sampleEvery: 0, checkpointEvery: 0, out: path.join(tmp, 'rc') } as Partial<RunConfig>, { source: labelled });
    await cond.train();
    cond.dispose();
    const rcCsv = path.join(tmp, 'rc.csv');
    await sampleCommand(path.join(tmp, 'rc'), { count: 2, seed: 1, out: rcCsv, condition: 'fast' });
    const rc = parse(await fs.readFile(rcCsv, 'utf8'), { columns: true }) as Record<string, string>[];
    assert.deepEqual(Object.keys(rc[0]), ['sample', 'step', 'kind', 'a', 'b']);
    assert.ok(rc.every((r) => r.kind === 'fast'));
    const loaded = await loadSamplingNetworks(path.join(tmp, 'rc'));
    const [fast, slow] = [1, 0].map((k) => sampleFamily(getModel('rcgan'), loaded.nets, { count: 2, seed: 1, class: k }, loaded.state).values);
    const sc = loaded.state.data.sequence!.scaling;
    rc.forEach((r, k) => ['a', 'b'].forEach((c, j) => assert.ok(Math.abs(Number(r[c]) - (fast[k * 2 + j] * sc.scale[j] + sc.offset[j])) < 1e-4)));
    assert.ok(fast.some((v, i) => Math.abs(v - slow[i]) > 1e-6), 'the condition changes the samples');
    // A class per sample (eval's reference mix): each row as the single-class draw of the same seed gives it.
    const mixed = sampleFamily(getModel('rcgan'), loaded.nets, { count: 2, seed: 1, classes: [0, 1] }, loaded.state).values;
    const row = mixed.length / 2;
    mixed.forEach((v, i) => assert.ok(Math.abs(v - (i < row ? slow[i] : fast[i])) < 1e-6, `value ${i}: ${v} vs the single-class draw`));
    assert.throws(() => sampleFamily(getModel('rcgan'), loaded.nets, { count: 2, seed: 1, classes: [0, 1], class: 1 }, loaded.state), /one class for every sample .* or a class per sample, not both/);
    for (const [, m] of allNetworks(loaded.nets)) m.dispose();
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});
