/**
 * npm run bench:translate — image-to-image translation quality, each task against two baselines:
 *
 *   identity   the input itself as the output (grey inputs repeated to colour): what doing nothing scores
 *   l1-only    pix2pix's U-Net trained on the L1 term alone (--gan-weight 0), the paper's ablation
 *   pix2pix    L1 + cGAN (λ 100), the paper's method;   cyclegan for the unpaired task
 *
 * Tasks (--tasks, comma-separated):
 *   edges      pix2pix on edges:fashion-mnist at 32 px (sketch → clothing)
 *   openmoji   pix2pix on OpenMoji line art → colour at 64 px (npm openmoji, CC-BY-SA-4.0)
 *   emoji      CycleGAN between OpenMoji colour and Twemoji (npm @discordapp/twemoji, CC-BY-4.0): trained
 *              unpaired; the shared code point pairs the test images for L1/PSNR/SSIM only
 *
 * Each (task, method) trains `--steps` steps per seed (the way `ganforge train` does: freshState/runStep), then
 * scores the test split with the evaluation code: L1, PSNR, SSIM on [-1, 1] and FID of outputs vs targets (the
 * shipped Fashion-MNIST net for grey 28–32 px, ganforge's CIFAR-10 net for colour). Figures are mean ± std over
 * `--seeds`. The paper's ordering is that L1 + cGAN is sharper (lower FID) than L1 alone at a slightly worse L1;
 * the last lines say whether this run reproduces it.
 *
 *   npm run bench:translate
 *   node dist/bench/translate.js --tasks edges --steps 2000 --seeds 0,1,2
 */
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/backend/index.js';
import { getModel } from '../src/models/registry.js';
import { resolveFamilyConfig, type RunConfig } from '../src/gan/config.js';
import { sampleFamily } from '../src/gan/sampling.js';
import type { SampleRequest, SampleResult } from '../src/gan/family.js';
import { disposeState, freshState, runStep } from '../src/gan/training_step.js';
import { loadData } from '../src/data/registry.js';
import { scoreTranslator, testSetFrom, type TranslatorTestSet } from '../src/metrics/translator_eval.js';
import { UserError } from '../src/util/errors.js';

interface Task {
  name: string;
  data: string;
  imageSize: number;
  /** The method trained on it: pix2pix (then l1-only is trained too) or cyclegan. */
  model: 'pix2pix' | 'cyclegan';
  batchSize: number;
  overrides?: Partial<RunConfig>;
}

const TASKS: Record<string, Task> = {
  edges: { name: 'edges:fashion-mnist 32 px', data: 'edges:fashion-mnist', imageSize: 32, model: 'pix2pix', batchSize: 16 },
  openmoji: { name: 'openmoji line art → colour 64 px', data: 'openmoji', imageSize: 64, model: 'pix2pix', batchSize: 8 },
  emoji: { name: 'openmoji colour ↔ twemoji 64 px', data: 'unpaired:openmoji-color,twemoji', imageSize: 64, model: 'cyclegan', batchSize: 1, overrides: { poolSize: 50 } as Partial<RunConfig> },
};

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    tasks: { type: 'string', default: 'edges,openmoji,emoji' },
    steps: { type: 'string', default: '1000' },
    seeds: { type: 'string', default: '0,1' },
    count: { type: 'string', default: '500' },
    width: { type: 'string', default: '32' },
  },
  strict: true,
});
const steps = Number(values.steps);
const count = Number(values.count);
const width = Number(values.width);
const seeds = values.seeds!.split(',').map(Number);
const tasks = values.tasks!.split(',').map((t) => {
  const task = TASKS[t.trim()];
  if (!task) throw new UserError(`unknown task '${t}'; valid: ${Object.keys(TASKS).join(', ')}`);
  return task;
});

await initBackend({ quiet: true });
console.log(`bench:translate  backend=${tf.getBackend()}  steps=${steps}  seeds=${seeds.join(',')}  test pairs ≤ ${count}  width ${width}`);
console.log('task                               method     L1              PSNR (dB)       SSIM            FID             seconds');

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs: number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));
const cell = (xs: number[], digits: number) => `${mean(xs).toFixed(digits)} ± ${std(xs).toFixed(digits)}`.padEnd(16);

for (const task of tasks) {
  const source = await loadData(task.data, { imageSize: task.imageSize, log: () => {} });
  const test = await loadData(task.data, { imageSize: task.imageSize, split: 'test', log: () => {} });
  if (source.kind !== 'array' || test.kind !== 'array') throw new Error('translation data is held in memory');
  const set = testSetFrom(test, count);
  const metrics = ['l1', 'psnr', 'ssim', 'fid'];
  const rows: Record<string, Record<string, number[]>> = {};
  const add = (method: string, scores: Record<string, number>, seconds: number) => {
    rows[method] ??= {};
    for (const [k, v] of Object.entries({ ...scores, seconds })) (rows[method][k] ??= []).push(v);
  };

  // identity: the input as the output (channels repeated or averaged to the target's).
  add('identity', await scoreTranslator((r) => identity(r, set), set, metrics), 0);

  const methods = task.model === 'pix2pix' ? [['l1-only', { ganWeight: 0 }], ['pix2pix', {}]] as const : [['cyclegan', {}]] as const;
  for (const [method, extra] of methods) {
    for (const seed of seeds) {
      const family = getModel(task.model);
      const config = resolveFamilyConfig(family.settings ?? {}, family.defaults(source.info), {
        model: task.model, data: task.data, seed, steps, batchSize: task.batchSize, width, imageSize: task.imageSize, ...task.overrides, ...extra,
      } as Partial<RunConfig>);
      if (config.augment !== 'none') source.augment = { loadSize: Math.round((task.imageSize * 286) / 256), flip: config.augment.includes('flip') };
      const t0 = performance.now();
      const state = freshState(family, source, config);
      for (let i = 0; i < steps; i++) runStep(state);
      const seconds = (performance.now() - t0) / 1000;
      const scores = await scoreTranslator((r) => sampleFamily(family, state.nets, r, { config, data: source.info }), set, metrics, { seed });
      add(method, scores, seconds);
      disposeState(state);
    }
  }
  for (const [method, r] of Object.entries(rows)) {
    console.log(`${task.name.padEnd(34)} ${method.padEnd(10)} ${cell(r.l1, 4)}${cell(r.psnr, 2)}${cell(r.ssim, 4)}${cell(r.fid, 2)}${cell(r.seconds, 0)}`);
  }
  if (rows['l1-only'] && rows.pix2pix) {
    const sharper = mean(rows.pix2pix.fid) < mean(rows['l1-only'].fid);
    const l1Worse = mean(rows.pix2pix.l1) > mean(rows['l1-only'].l1);
    console.log(`  paper's ordering (L1+cGAN: lower FID, slightly higher L1 than L1 alone): FID ${sharper ? 'reproduced' : 'NOT reproduced'}, L1 ${l1Worse ? 'reproduced' : 'NOT reproduced'}`);
  }
  set.inputs.dispose();
  set.targets.dispose();
}

/** The input as the output: grey repeated to colour, colour averaged to grey when the target is grey. */
function identity(request: SampleRequest, set: TranslatorTestSet): SampleResult {
  const [n, h, w] = set.inputs.shape;
  const c = set.targets.shape[3];
  const values = tf.tidy(() => {
    const x = set.inputs;
    const y = x.shape[3] === c ? x : c === 3 ? tf.tile(x, [1, 1, 1, 3]) : tf.mean(x, 3, true);
    return y.dataSync() as Float32Array;
  });
  void request;
  return { values: Float32Array.from(values), count: n, shape: [h, w, c] };
}
