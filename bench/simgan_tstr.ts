/**
 * npm run bench:simgan — does SimGAN's refiner make synthetic digits more useful for learning real ones?
 *
 * "Train on synthetic, test on real" (TSTR, src/metrics/tstr.ts): ganforge's small 28×28 classifier is trained on
 * font-digits (digits set in Debian fonts under random affine transforms, labelled by construction) either as
 * rendered (raw) or after a simgan refiner trained toward MNIST (refined), and tested on MNIST's test set. Per
 * seed, simgan trains `--steps` steps on unpaired:font-digits,mnist the way `ganforge train` does
 * (freshState/runStep), then refines the `--count` first synthetic images; raw and refined sets train the same
 * classifier (same seed: same initial weights and batch order). Figures are mean ± std over `--seeds`.
 *
 *   npm run bench:simgan
 *   node dist/bench/simgan_tstr.js --steps 3000 --pretrain-r 200 --pretrain-d 50 --width 64 --refiner-blocks 4 --batch-size 64 --count 20000 --test-count 10000
 */
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/backend/index.js';
import { getModel } from '../src/models/registry.js';
import { resolveFamilyConfig, type RunConfig } from '../src/gan/config.js';
import { disposeState, freshState, runStep } from '../src/gan/training_step.js';
import { loadData } from '../src/data/registry.js';
import type { ArraySource } from '../src/data/types.js';
import { refineImages, toUnitRange, tstrAccuracy, type LabelledImages } from '../src/metrics/tstr.js';
import { meanStd } from './step_bench.js';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    // A budget that runs in about ten minutes on two busy CPU cores; pass more for a real comparison.
    steps: { type: 'string', default: '200' },
    'pretrain-r': { type: 'string', default: '50' },
    'pretrain-d': { type: 'string', default: '20' },
    seeds: { type: 'string', default: '1,2,3' },
    count: { type: 'string', default: '3000' },
    'test-count': { type: 'string', default: '5000' },
    'batch-size': { type: 'string', default: '16' },
    width: { type: 'string', default: '16' },
    'refiner-blocks': { type: 'string', default: '2' },
    epochs: { type: 'string', default: '2' },
    'lambda-reg': { type: 'string', default: '0.5' },
  },
  strict: true,
});
const num = (k: keyof typeof values) => Number(values[k]);
const seeds = values.seeds!.split(',').map(Number);
const count = num('count');
const epochs = num('epochs');

await initBackend({ quiet: true });
const data = 'unpaired:font-digits,mnist';
const source = await loadData(data, { limit: count }) as ArraySource;
const test = await loadData('mnist', { split: 'test', limit: num('test-count') }) as ArraySource;
const synthetic = source.inputs!;
const shape = source.info.input!.shape;
const testSet: LabelledImages = { values: toUnitRange(test.values as Uint8Array), labels: test.labels!, count: test.count, shape: test.info.shape };
const rawSet: LabelledImages = { values: toUnitRange(synthetic.values), labels: synthetic.labels!, count: synthetic.count, shape };

const own = {
  steps: num('steps'), pretrainR: num('pretrain-r'), pretrainD: num('pretrain-d'), batchSize: num('batch-size'), width: num('width'), refinerBlocks: num('refiner-blocks'), lambdaReg: num('lambda-reg'),
};
console.log(`bench:simgan  backend=${tf.getBackend()}  data=${data}  synthetic ${synthetic.count} train, MNIST test ${test.count}`);
console.log(`  simgan: ${Object.entries(own).map(([k, v]) => `${k}=${v}`).join(' ')}; classifier: ${epochs} epochs, Adam 1e-3, batch 64; seeds ${seeds.join(',')}`);

const raw: number[] = [];
const refined: number[] = [];
const seconds: number[] = [];
for (const seed of seeds) {
  const family = getModel('simgan');
  const config = resolveFamilyConfig(family.settings ?? {}, family.defaults(source.info), { model: 'simgan', data, seed, ...own } as Partial<RunConfig>);
  const t0 = performance.now();
  const state = freshState(family, source, config);
  let last: Record<string, number> = {};
  for (let i = 0; i < config.steps; i++) {
    const s = runStep(state);
    last = { lossD: s.lossD ?? NaN, lossG: s.lossG, dReal: s.dReal ?? NaN, dFake: s.dFake ?? NaN, ...s.extra };
  }
  seconds.push((performance.now() - t0) / 1000);
  const refinedSet: LabelledImages = { ...rawSet, values: refineImages(family, state.nets, { config, data: source.info }, rawSet.values, shape) };
  disposeState(state);
  const meanAbs = rawSet.values.reduce((a, v, i) => a + Math.abs(v - refinedSet.values[i]), 0) / rawSet.values.length;
  raw.push(tstrAccuracy(rawSet, testSet, { seed, epochs }));
  refined.push(tstrAccuracy(refinedSet, testSet, { seed, epochs }));
  const fmt = (o: Record<string, number>) => Object.entries(o).map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(3)}`).join(' ');
  console.log(`  seed ${seed}: TSTR raw ${(100 * raw.at(-1)!).toFixed(2)}%  refined ${(100 * refined.at(-1)!).toFixed(2)}%  mean|R(x)−x| ${meanAbs.toFixed(4)}  train ${seconds.at(-1)!.toFixed(0)} s  last step: ${fmt(last)}`);
}
const pct = (xs: number[]) => xs.map((x) => 100 * x);
console.log(`TSTR accuracy on MNIST test (%), mean ± std over ${seeds.length} seeds:  raw ${meanStd(pct(raw), 2)}   refined ${meanStd(pct(refined), 2)}   (simgan training ${meanStd(seconds, 0)} s)`);
