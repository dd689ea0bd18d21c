/**
 * Training speed of rgan on the aten backend against its PyTorch twin (bench/reference/rgan_torch.py: the same LSTM
 * G and D, batch, window, latent per step, n_critic D updates per G update, per-step BCE averaged over time, Adam),
 * with the same intra-op thread count and GOMP_SPINCOUNT on both sides; runs alternate aten and PyTorch.
 *
 *   npm run bench:rgan-speed -- [--batch 28] [--window 24] [--features 5] [--hidden 100] [--n-critic 5]
 *        [--steps 20] [--warmup 3] [--runs 3] [--profile]
 *
 * The defaults are the paper's sizes (Esteban et al. 2017: 100 hidden units, 5 latent numbers per step, batch 28,
 * 5 D updates per G update) on TimeGAN's sines shape (24 steps × 5 features). The aten side is the family's real
 * step (freshState + runStep) on sines. Prints per run `aten ms/step=… torch ms/step=… ratio=…` (ratio = aten
 * speed / PyTorch speed), the mean ± std of the ratio, and the kernels that fell back from aten to the CPU backend.
 * PyTorch's LSTM keeps two bias vectors (input and recurrent), tfjs-layers' one: 400 more parameters per network.
 *
 * Measured on the shared 2-core machine under load (≈ 10 on 2 cores), defaults: GANFORGE_THREADS=1, 5 runs of 15
 * steps: aten 427 ± 117 ms/step, PyTorch 477 ± 89, ratio 1.26 ± 0.67 (median 1.06; per CPU-second 0.68–2.22,
 * median 1.00); 2 threads, 4 runs of 10: aten 635 ± 320, PyTorch 1,822 ± 373, ratio 4.0 ± 3.5 (PyTorch's two
 * OpenMP threads contend for the loaded cores; the fused LSTM loop runs on one). A profile (--profile) puts 87 % of
 * the kernel time in LstmSequence and its gradient: 17 sequence passes and 12 gradients per step.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/backend/index.js';
import { getModel } from '../src/models/registry.js';
import { resolveConfig, type RunConfig } from '../src/gan/config.js';
import { freshState, type StepState } from '../src/gan/training_step.js';
import { sinesSource } from '../src/data/sequences.js';
import { LATENT_PER_STEP } from '../src/models/rgan.js';
import { meanStd, profileStep, runTorchTwin, stepRate, type TwinRate } from './step_bench.js';
import { benchThreads } from './translate_speed.js';

interface RganSpeedOptions {
  batch: number;
  window: number;
  features: number;
  hidden: number;
  nCritic: number;
  steps: number;
  warmup: number;
}

const referenceDir = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../bench/reference');

function realState(o: RganSpeedOptions): StepState {
  const family = getModel('rgan');
  const source = sinesSource({ count: 512, window: o.window, features: o.features });
  const config = resolveConfig(family.defaults(source.info),
    { model: 'rgan', seed: 0, batchSize: o.batch, hidden: o.hidden, nCritic: o.nCritic, steps: 1_000_000 } as Partial<RunConfig>);
  const problem = family.check(source.info, config);
  if (problem) throw new Error(problem);
  return freshState(family, source, config);
}

function torchRate(o: RganSpeedOptions): TwinRate | null {
  return runTorchTwin([path.join(referenceDir, 'rgan_torch.py'), '--batch', String(o.batch), '--window', String(o.window),
    '--features', String(o.features), '--latent', String(LATENT_PER_STEP), '--hidden', String(o.hidden), '--n-critic', String(o.nCritic),
    '--steps', String(o.steps), '--warmup', String(o.warmup), '--threads', String(benchThreads())]);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      batch: { type: 'string', default: '28' }, window: { type: 'string', default: '24' }, features: { type: 'string', default: '5' },
      hidden: { type: 'string', default: '100' }, 'n-critic': { type: 'string', default: '5' }, steps: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '3' }, runs: { type: 'string', default: '3' }, profile: { type: 'boolean', default: false },
    },
  });
  const o: RganSpeedOptions = {
    batch: Number(values.batch), window: Number(values.window), features: Number(values.features), hidden: Number(values.hidden),
    nCritic: Number(values['n-critic']), steps: Number(values.steps), warmup: Number(values.warmup),
  };
  const info = await initBackend({ prefer: 'aten', quiet: true });
  console.log(`backend ${info.detail}; threads ${benchThreads()}; GOMP_SPINCOUNT=${process.env.GOMP_SPINCOUNT}`);
  if (values.profile) return profileStep(realState(o), 'rgan', o.warmup);
  const aten = tf.getBackend() === 'aten' ? ((await import('tfjs-backend-aten' as string)) as { atenFallbackKernels(): string[] }) : null;
  const before = aten?.atenFallbackKernels() ?? [];
  const ms = (r: TwinRate) => (1000 * o.batch) / r.imgPerSec;
  const ratios: number[] = [], atenMs: number[] = [], torchMs: number[] = [];
  for (let r = 0; r < Number(values.runs); r++) {
    const a = stepRate(realState(o), o);
    const t = torchRate(o);
    if (r === 0) console.log(`rgan T ${o.window} F ${o.features} batch ${o.batch} hidden ${o.hidden} n_critic ${o.nCritic}: params aten ${a.params}, torch ${t?.params ?? 'n/a'}`);
    atenMs.push(ms(a));
    if (t) {
      ratios.push(a.imgPerSec / t.imgPerSec);
      torchMs.push(ms(t));
    }
    console.log(`run=${r + 1} aten ms/step=${ms(a).toFixed(1)} torch ms/step=${t ? ms(t).toFixed(1) : 'n/a'}` +
      (t ? ` ratio=${(a.imgPerSec / t.imgPerSec).toFixed(2)} | per CPU-second ratio=${(a.cpuImgPerSec / t.cpuImgPerSec).toFixed(2)}` : ''));
  }
  const fallbacks = (aten?.atenFallbackKernels() ?? []).filter((k) => !before.includes(k));
  console.log(`aten fallback kernels in the real step: ${fallbacks.length ? fallbacks.join(', ') : 'none'}`);
  console.log(`\n| family | T × F | batch | hidden | n_critic | aten ms/step | torch ms/step | aten/torch speed (wall) |\n|---|---|---|---|---|---|---|---|`);
  console.log(`| rgan | ${o.window} × ${o.features} | ${o.batch} | ${o.hidden} | ${o.nCritic} | ${meanStd(atenMs, 1)} | ${torchMs.length ? meanStd(torchMs, 1) : 'n/a'} | ${ratios.length ? meanStd(ratios, 2) : 'n/a'} |`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname) await main();
