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
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { RunConfig } from '../src/gan/config.js';
import type { StepState } from '../src/gan/training_step.js';
import { sinesSource } from '../src/data/sequences.js';
import { LATENT_PER_STEP } from '../src/models/rgan.js';
import { benchThreads, familyState, meanStd, meanStdOrNa, referenceDir, runTorchTwin, runTwinComparison, type TwinRate } from './step_bench.js';

interface RganSpeedOptions {
  batch: number;
  window: number;
  features: number;
  hidden: number;
  nCritic: number;
  steps: number;
  warmup: number;
}

function realState(o: RganSpeedOptions): StepState {
  return familyState('rgan', sinesSource({ count: 512, window: o.window, features: o.features }),
    { batchSize: o.batch, hidden: o.hidden, nCritic: o.nCritic } as Partial<RunConfig>);
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
  await runTwinComparison({
    ...o, runs: Number(values.runs), profile: values.profile, label: 'rgan',
    atenState: () => realState(o), torch: () => torchRate(o),
    headline: (aten, torch) => `rgan T ${o.window} F ${o.features} batch ${o.batch} hidden ${o.hidden} n_critic ${o.nCritic}: params aten ${aten}, torch ${torch}`,
    tableColumns: [
      ['family', () => 'rgan'], ['T × F', () => `${o.window} × ${o.features}`], ['batch', () => String(o.batch)], ['hidden', () => String(o.hidden)],
      ['n_critic', () => String(o.nCritic)], ['aten ms/step', (s) => meanStd(s.atenMs, 1)], ['torch ms/step', (s) => meanStdOrNa(s.torchMs, 1)],
      ['aten/torch speed (wall)', (s) => meanStdOrNa(s.ratios, 2)],
    ],
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname) await main();
