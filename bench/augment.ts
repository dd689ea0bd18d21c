/**
 * npm run bench:augment — does a class-conditional GAN's synthetic data help a classifier when labels are few?
 *
 * Fashion-MNIST with `--sizes` labelled examples per class (a random class-balanced subset of the train split per
 * seed). For each size and seed:
 *   - real only: CAS's fixed classifier (src/metrics/cas.ts: a small CNN, Adam 1e-3, batch 64, `--classifier-steps`
 *     minibatches whatever the set's size) trained on the subset, tested on the real test split;
 *   - for each of `--families` (cgan, acgan): the family trained `--steps` steps on that same subset alone, then
 *     `--ratio` × n synthetic images per class drawn from it (class-balanced, augment's sampling), and the same
 *     classifier (same seed: same initial weights and batch order) trained on real + synthetic — batches drawn
 *     uniformly from the union, so a batch holds real and synthetic in the ratio 1 : ratio — and on synthetic
 *     alone: the CAS of that generator. With ratio 1 the synthetic set is the size of the real one, so "real only"
 *     is CAS's real-data baseline.
 * Figures are mean ± std of test accuracy over `--seeds`; the last lines give the time each part took, from which
 * the cost of a larger run follows.
 *
 *   npm run bench:augment                                      # the full protocol: sizes 10,100,1000, 3 seeds
 *   node dist/bench/augment.js --sizes 10,100 --seeds 1,2 --steps 300 --classifier-steps 400 --test-count 2000
 */
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/backend/index.js';
import { loadData } from '../src/data/registry.js';
import type { ArraySource, DatasetInfo } from '../src/data/types.js';
import { resolveFamilyConfig, type RunConfig } from '../src/gan/config.js';
import { sampleLabelled } from '../src/gan/labelled.js';
import { disposeState, freshState, runStep } from '../src/gan/training_step.js';
import { getModel } from '../src/models/registry.js';
import { CAS_CLASSIFIER, balancedSubset, concatLabelled, testAccuracy } from '../src/metrics/cas.js';
import { toUnitRange, type LabelledImages } from '../src/metrics/tstr.js';
import { Rng } from '../src/util/rng.js';
import { meanStd } from './step_bench.js';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    sizes: { type: 'string', default: '10,100,1000' },
    seeds: { type: 'string', default: '1,2,3' },
    families: { type: 'string', default: 'cgan,acgan' },
    // GAN steps on the labelled subset (each family's own defaults otherwise: lr, batch 64, architecture).
    steps: { type: 'string', default: '3000' },
    'classifier-steps': { type: 'string', default: String(CAS_CLASSIFIER.steps) },
    ratio: { type: 'string', default: '1' },
    'test-count': { type: 'string', default: '10000' },
  },
  strict: true,
});
const list = (s: string) => s.split(',').map((x) => x.trim()).filter((x) => x !== '');
const sizes = list(values.sizes!).map(Number);
const seeds = list(values.seeds!).map(Number);
const families = list(values.families!);
const steps = Number(values.steps);
const classifierSteps = Number(values['classifier-steps']);
const ratio = Number(values.ratio);
for (const [flag, xs] of [['--sizes', sizes], ['--seeds', seeds], ['--steps', [steps]], ['--classifier-steps', [classifierSteps]], ['--test-count', [Number(values['test-count'])]]] as const) {
  if (xs.length === 0 || !xs.every((x) => Number.isInteger(x) && x >= (flag === '--seeds' ? 0 : 1))) throw new Error(`${flag} takes positive integers, got '${xs.join(',')}'`);
}
if (!(ratio > 0) || !Number.isInteger(ratio * Math.min(...sizes))) throw new Error(`--ratio × each size must be a whole number of images per class, got ${ratio}`);
for (const f of families) if (getModel(f).condition !== 'class') throw new Error(`--families: ${f} is not class-conditional`);

await initBackend({ quiet: true });
const train = (await loadData('fashion-mnist', { split: 'train' })) as ArraySource;
const test = (await loadData('fashion-mnist', { split: 'test', limit: Number(values['test-count']) })) as ArraySource;
const info = train.info;
const classes = info.numClasses!;
const shape = info.shape;
const testSet: LabelledImages = { values: toUnitRange(test.values as Uint8Array), labels: test.labels!, count: test.count, shape };
const opts = (seed: number) => ({ seed, steps: classifierSteps, classes });

console.log(`bench:augment  backend=${tf.getBackend()}  Fashion-MNIST: sizes ${sizes.join(', ')} per class, test ${test.count}, seeds ${seeds.join(',')}`);
console.log(`  classifier: ${CAS_CLASSIFIER.architecture}; ${CAS_CLASSIFIER.optimizer}; ${classifierSteps} steps of ${CAS_CLASSIFIER.batchSize}`);
console.log(`  generators: ${families.join(', ')}, ${steps} steps each on the labelled subset (family defaults); synthetic ${ratio} × n per class (real : synthetic = 1 : ${ratio})`);

type Row = { real: number[]; aug: Record<string, number[]>; cas: Record<string, number[]> };
const rows = new Map<number, Row>();
const seconds = { gan: {} as Record<string, number[]>, classifier: [] as number[] };
const time = <T>(f: () => T): [T, number] => { const t0 = performance.now(); const r = f(); return [r, (performance.now() - t0) / 1000]; };

for (const n of sizes) {
  const row: Row = { real: [], aug: {}, cas: {} };
  rows.set(n, row);
  for (const seed of seeds) {
    // The labelled subset: n of each class, chosen by the seed; the GANs see exactly these images.
    const rng = new Rng(seed * 7919 + n);
    const subset = balancedSubset(train.values as Uint8Array, train.labels!, shape, n, classes, rng, 'fashion-mnist:train');
    const [real, tReal] = time(() => testAccuracy(subset, testSet, opts(seed)).accuracy);
    seconds.classifier.push(tReal);
    row.real.push(real);
    const line = [`n=${n} seed ${seed}: real ${pct(real)}`];
    for (const name of families) {
      const family = getModel(name);
      const source = subsetSource(subset, info);
      const config = resolveFamilyConfig(family.settings ?? {}, family.defaults(source.info), { model: name, data: 'fashion-mnist', seed, steps, batchSize: Math.min(64, subset.count) } as Partial<RunConfig>);
      const state = freshState(family, source, config);
      const [, tGan] = time(() => { for (let i = 0; i < steps; i++) runStep(state); });
      (seconds.gan[name] ??= []).push(tGan);
      const synthetic = sampleLabelled(family, state.nets, { config, data: source.info }, info.classNames!, { perClass: ratio * n, seed });
      disposeState(state);
      const [aug, tAug] = time(() => testAccuracy(concatLabelled(subset, synthetic), testSet, opts(seed)).accuracy);
      const cas = testAccuracy(synthetic, testSet, opts(seed)).accuracy;
      seconds.classifier.push(tAug);
      (row.aug[name] ??= []).push(aug);
      (row.cas[name] ??= []).push(cas);
      line.push(`${name}: real+syn ${pct(aug)} CAS ${pct(cas)} (GAN ${tGan.toFixed(0)} s)`);
    }
    console.log('  ' + line.join('  '));
  }
}

const fmt = (xs: number[]) => meanStd(xs.map((x) => 100 * x), 1);
console.log(`\ntest accuracy (%), mean ± std over ${seeds.length} seed(s); real : synthetic = 1 : ${ratio}`);
const head = ['labels/class', 'real only', ...families.map((f) => `real + ${f}`), ...families.map((f) => `CAS ${f}`)];
console.log(`| ${head.join(' | ')} |\n|${head.map(() => ' --- ').join('|')}|`);
for (const [n, row] of rows) {
  console.log(`| ${n} | ${fmt(row.real)} | ${families.map((f) => fmt(row.aug[f])).join(' | ')} | ${families.map((f) => fmt(row.cas[f])).join(' | ')} |`);
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
for (const [n, row] of rows) {
  for (const f of families) {
    const d = mean(row.aug[f]) - mean(row.real);
    if (d < 0) console.log(`  synthetic data from ${f} HURT at ${n}/class: ${(100 * d).toFixed(1)} points`);
  }
}
console.log(`time: classifier ${meanStd(seconds.classifier, 1)} s per training (${classifierSteps} steps); ${families.map((f) => `${f} ${meanStd(seconds.gan[f], 0)} s per ${steps} steps`).join('; ')}`);

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/** The labelled subset as the in-memory data a family trains on: uint8 images and labels, Fashion-MNIST's classes. */
function subsetSource(subset: LabelledImages, full: DatasetInfo): ArraySource {
  const bytes = Uint8Array.from(subset.values, (v) => Math.round((v + 1) * 127.5));
  return { kind: 'array', info: { ...full, name: `fashion-mnist (${subset.count / classes} per class)`, count: subset.count }, count: subset.count, values: bytes, labels: subset.labels };
}
