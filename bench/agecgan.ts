/**
 * npm run bench:agecgan — Age-cGAN's evaluation (Antipov et al. 2017, §4) on mnist-thickness, where the
 * attribute is stroke thickness (5 bins) and the identity a digit and its style.
 *
 * Per seed, agecgan trains `--steps` steps the way `ganforge train` does (freshState/runStep); then the first
 * `--count` test digits are reconstructed at their own (measured) bin by the paper's three methods — initial
 * (z = E(x)), pixel-wise and identity-preserving (Adam on z, `--edit-steps`, FR = ganforge's shipped MNIST
 * classifier's features) — and edited to every bin. Scored by a judge that played no part in the optimisation:
 * a second MNIST classifier of the same architecture, trained here on other data with another seed (as the
 * paper verifies with OpenFace, not with its own FR network):
 *  - identity of reconstructions: the judge's digit agrees with the label; verification (feature distance to the
 *    original below the 10th percentile of its distances to the other test digits of its class: closer than 90 %
 *    of other writers' same digit), src/metrics/attribute_edit.ts;
 *  - identity of edits: the judge's digit of G(z*, y) for every target bin y;
 *  - target accuracy: the edits' measured thickness bin equals the target bin;
 *  - seconds of training and of each reconstruction method.
 * Figures are mean ± std over `--seeds`.
 *
 *   npm run bench:agecgan
 *   node dist/bench/agecgan.js --steps 2000 --width 64 --count 500 --seeds 1,2,3
 */
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/backend/index.js';
import { getModel } from '../src/models/registry.js';
import { resolveFamilyConfig, type RunConfig } from '../src/gan/config.js';
import { disposeState, freshState, runStep } from '../src/gan/training_step.js';
import { IDENTITY_MODES, type IdentityMode } from '../src/gan/family.js';
import { loadData } from '../src/data/registry.js';
import type { ArraySource } from '../src/data/types.js';
import { binOf, mnistThicknessEdges, thicknesses } from '../src/data/thickness.js';
import { loadClassifierNet, wrapModel, type ImageSet } from '../src/metrics/features.js';
import { FEATURE_LAYER, LOGITS_LAYER } from '../src/metrics/classifier.js';
import { identityScores, targetAccuracy, verificationThresholds } from '../src/metrics/attribute_edit.js';
import { toUnitRange, trainClassifier } from '../src/metrics/tstr.js';
import { toUint8Images } from '../src/io/png.js';
import { meanStd } from './step_bench.js';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    // A budget for two busy CPU cores; pass more for a model that draws digits well.
    steps: { type: 'string', default: '300' },
    seeds: { type: 'string', default: '1,2' },
    count: { type: 'string', default: '100' },
    'edit-steps': { type: 'string', default: '200' },
    'edit-lr': { type: 'string', default: '0.03' },
    'batch-size': { type: 'string', default: '64' },
    width: { type: 'string', default: '32' },
    'judge-count': { type: 'string', default: '20000' },
  },
  strict: true,
});
const num = (k: keyof typeof values) => Number(values[k]);
const seeds = values.seeds!.split(',').map(Number);
const count = num('count');
const editSteps = num('edit-steps');
const editLr = num('edit-lr');

await initBackend({ quiet: true });
const data = 'mnist-thickness';
const source = (await loadData(data)) as ArraySource;
const test = (await loadData(data, { split: 'test', limit: count })) as ArraySource;
const [h, w, c] = test.info.shape;
const bins = test.info.classNames!;
const k = bins.length;
const edges = await mnistThicknessEdges();
const digits = Int32Array.from(test.names!, Number);
const sourceBins = Array.from(test.labels!);
const originals: ImageSet = { values: test.values as Uint8Array, n: test.count, h, w, c };

// The judge: the shipped classifier's architecture, trained on MNIST digits the edits never see, another seed.
const judgeData = (await loadData('mnist', { limit: num('judge-count') })) as ArraySource;
const judgeModel = trainClassifier({ values: toUnitRange(judgeData.values as Uint8Array), labels: judgeData.labels!, count: judgeData.count, shape: [28, 28, 1] }, { seed: 7331, epochs: 1 });
const judge = wrapModel(judgeModel, FEATURE_LAYER, LOGITS_LAYER, { name: 'bench judge (MNIST CNN, seed 7331)', weightsFile: '-', weightsSha256: '-' });
const judgeFeatures = judge.embed(originals).features;
const thresholds = verificationThresholds(judgeFeatures, digits, test.count, judge.info.featureDim);
const fr = await loadClassifierNet('mnist');

const own = { steps: num('steps'), batchSize: num('batch-size'), width: num('width') };
console.log(`bench:agecgan  backend=${tf.getBackend()}  data=${data} (${source.count} train; bins ${bins.join(' < ')}, edges ${edges.map((e) => e.toFixed(2)).join(', ')})`);
console.log(`  agecgan: ${Object.entries(own).map(([key, v]) => `${key}=${v}`).join(' ')}; edits: ${test.count} test digits → ${k} bins, Adam ${editSteps} steps at ${editLr}, FR ${fr.info.name}; judge ${judge.info.name}; seeds ${seeds.join(',')}`);

interface ModeFigures { reconDigit: number[]; reconVerified: number[]; editDigit: number[]; target: number[]; seconds: number[] }
const figures = Object.fromEntries(IDENTITY_MODES.map((m) => [m, { reconDigit: [], reconVerified: [], editDigit: [], target: [], seconds: [] }])) as unknown as Record<IdentityMode, ModeFigures>;
const trainSeconds: number[] = [];
const x = tf.tensor4d(toUnitRange(test.values as Uint8Array), [test.count, h, w, c]);
const asSet = (v: Float32Array): ImageSet => ({ values: v, n: test.count, h, w, c });

for (const seed of seeds) {
  const family = getModel('agecgan');
  const config = resolveFamilyConfig(family.settings ?? {}, family.defaults(source.info), { model: 'agecgan', data, seed, ...own } as Partial<RunConfig>);
  const t0 = performance.now();
  const state = freshState(family, source, config);
  let last: Record<string, number> = {};
  for (let i = 0; i < config.steps; i++) {
    const s = runStep(state);
    last = { lossD: s.lossD ?? NaN, lossG: s.lossG, ...s.extra };
  }
  trainSeconds.push((performance.now() - t0) / 1000);
  console.log(`  seed ${seed}: trained ${config.steps} steps in ${trainSeconds.at(-1)!.toFixed(0)} s; last ${Object.entries(last).map(([key, v]) => `${key} ${v.toFixed(3)}`).join(', ')}`);
  for (const mode of IDENTITY_MODES) {
    const t1 = performance.now();
    const result = family.attributeEdit!.edit(state.nets, { config, data: source.info }, {
      images: x, from: sourceBins, to: bins.map((_, b) => b), identity: mode, identityNet: (t) => fr.apply(t), steps: editSteps, lr: editLr,
    });
    const f = figures[mode];
    f.seconds.push((performance.now() - t1) / 1000);
    const recon = identityScores(judge, originals, asSet(result.reconstructions), digits, thresholds);
    f.reconDigit.push(recon.classAgreement);
    f.reconVerified.push(recon.verified);
    f.editDigit.push(result.edits.reduce((s, e) => s + identityScores(judge, originals, asSet(e), digits, thresholds).classAgreement, 0) / k);
    const measured = result.edits.flatMap((e) => Array.from(thicknesses(toUint8Images(e), test.count, h, w), (m) => binOf(m, edges)));
    f.target.push(targetAccuracy(measured, result.edits.flatMap((_, b) => new Array<number>(test.count).fill(b))));
    console.log(`    ${mode.padEnd(7)} loss ${result.loss.initial.toFixed(4)} → ${result.loss.final.toFixed(4)}; recon digit ${recon.classAgreement.toFixed(3)} verified ${recon.verified.toFixed(3)}; edit digit ${f.editDigit.at(-1)!.toFixed(3)}; target ${f.target.at(-1)!.toFixed(3)}; ${f.seconds.at(-1)!.toFixed(1)} s`);
  }
  disposeState(state);
}

const fmt = (xs: number[], digitsAfter = 3) => meanStd(xs, digitsAfter);
const names: Record<IdentityMode, string> = { none: 'initial (E(x))', pixel: 'pixel-wise', feature: 'identity-preserving' };
console.log(`\nagecgan on ${data}: ${seeds.length} seed(s), ${config()} — mean ± std`);
console.log('  reconstruction        | recon digit kept | recon verified | edit digit kept | target bin acc | seconds');
for (const mode of IDENTITY_MODES) {
  const f = figures[mode];
  console.log(`  ${names[mode].padEnd(21)} | ${fmt(f.reconDigit)}    | ${fmt(f.reconVerified)}  | ${fmt(f.editDigit)}   | ${fmt(f.target)}  | ${fmt(f.seconds, 1)}`);
}
console.log(`  training: ${fmt(trainSeconds, 0)} s for ${own.steps} steps; chance: target 1/${k} = ${(1 / k).toFixed(3)}, digit 0.1`);
tf.dispose(x);
fr.dispose();
judge.dispose();

function config(): string {
  return `${own.steps} steps, batch ${own.batchSize}, width ${own.width}, ${test.count} test digits`;
}
