/**
 * Training speed of the biggan family on the aten backend against its PyTorch twin (bench/reference/biggan_torch.py:
 * the same networks — BigGAN's 32 px CIFAR architecture at --width ch — batch, n_D, hinge loss, spectral norm with
 * one power iteration per training call, Adam, EMA of G), with the same intra-op thread count and GOMP_SPINCOUNT on
 * both sides. Runs alternate aten and PyTorch so that load from other processes hits both alike.
 *
 *   node dist/bench/biggan_speed.js [--batch 50] [--width 64] [--ndis 4] [--attention 0] [--steps 3] [--warmup 1]
 *        [--runs 3] [--profile]
 *
 * The aten side is ganforge's real training step: biggan's own step run the way `ganforge train` runs it
 * (freshState + runStep) on an in-memory labelled dataset of random 32×32 images (10 classes), so what is measured
 * is what training costs. Prints per run the time of one step (n_D D updates and one G update) on each side and
 * their ratio torch/aten (above 1: aten is faster), wall clock and per CPU-second of each process, then mean ± std
 * over the runs, and the kernels that fell back from aten to the CPU backend (there should be none). --profile
 * prints instead the per-kernel time of one aten step.
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/backend/index.js';
import { biggan } from '../src/models/biggan.js';
import { resolveFamilyConfig, type RunConfig } from '../src/gan/config.js';
import { freshState, type StepState } from '../src/gan/training_step.js';
import type { ArraySource } from '../src/data/types.js';
import { Rng } from '../src/util/rng.js';
import { benchThreads, meanStd, profileStep, runTorchTwin, stepRate, type TwinRate } from './step_bench.js';

interface Options { batch: number; width: number; ndis: number; attention: number; steps: number; warmup: number }

/** One side's measurement: ms per step by the wall clock and per CPU-second of the process, and the parameter counts. */
interface Timing { msPerStep: number; cpuMsPerStep: number; params: string }

const CLASSES = 10;
const here = path.dirname(new URL(import.meta.url).pathname);
const twin = path.resolve(here, '../../bench/reference/biggan_torch.py'); // dist/bench/ → the sources' bench/reference/


/** 4 batches of random 32×32 RGB images with labels (the twin cycles through 4 batches too). */
function randomImages(o: Options): ArraySource {
  const rng = new Rng(7);
  const count = 4 * o.batch;
  return {
    kind: 'array', count, values: Uint8Array.from({ length: count * 32 * 32 * 3 }, () => rng.int(256)),
    labels: Int32Array.from({ length: count }, () => rng.int(CLASSES)),
    info: { name: 'random-cifar', kind: 'image', shape: [32, 32, 3], count, numClasses: CLASSES },
  };
}

/** biggan's run state as `ganforge train` builds it (the CIFAR defaults, with this bench's sizes). */
function realState(o: Options): StepState {
  const source = randomImages(o);
  const overrides = { model: 'biggan', seed: 0, batchSize: o.batch, width: o.width, nCritic: o.ndis, attention: o.attention, steps: 1_000_000 } as Partial<RunConfig>;
  const config = resolveFamilyConfig(biggan.settings ?? {}, biggan.defaults(source.info), overrides);
  const problem = biggan.check(source.info, config);
  if (problem) throw new Error(problem);
  return freshState(biggan, source, config);
}


/** A rate as ms per step, by the wall clock and per CPU-second. */
const timing = (rate: TwinRate, batch: number): Timing => ({ msPerStep: (1000 * batch) / rate.imgPerSec, cpuMsPerStep: (1000 * batch) / rate.cpuImgPerSec, params: rate.params });

function atenTiming(o: Options): Timing {
  return timing(stepRate(realState(o), o), o.batch);
}

/** The twin's timing, or null when python3-torch is missing. */
function torchTiming(o: Options): Timing | null {
  const args = [twin, '--batch', String(o.batch), '--width', String(o.width), '--ndis', String(o.ndis), '--attention', String(o.attention),
    '--classes', String(CLASSES), '--steps', String(o.steps), '--warmup', String(o.warmup), '--threads', String(benchThreads())];
  const rate = runTorchTwin(args);
  return rate && timing(rate, o.batch);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      batch: { type: 'string', default: '50' }, width: { type: 'string', default: '64' }, ndis: { type: 'string', default: '4' },
      attention: { type: 'string', default: '0' }, steps: { type: 'string', default: '3' }, warmup: { type: 'string', default: '1' },
      runs: { type: 'string', default: '3' }, profile: { type: 'boolean', default: false },
    },
  });
  const o: Options = {
    batch: Number(values.batch), width: Number(values.width), ndis: Number(values.ndis), attention: Number(values.attention),
    steps: Number(values.steps), warmup: Number(values.warmup),
  };
  const info = await initBackend({ prefer: 'aten', quiet: true });
  console.log(`backend ${info.detail}; threads ${benchThreads()}; GOMP_SPINCOUNT=${process.env.GOMP_SPINCOUNT}`);
  console.log(`biggan 32 px, batch ${o.batch}, ch ${o.width}, n_D ${o.ndis}, attention ${o.attention || 'none'}; ${values.runs} alternating runs of ${o.steps} steps after ${o.warmup} warm-up`);
  if (values.profile) return profileStep(realState(o), 'biggan', o.warmup);
  const aten = info.name === 'aten' ? (await import('tfjs-backend-aten' as string)) as { atenFallbackKernels(): string[] } : null;
  const before = aten?.atenFallbackKernels() ?? [];
  const runs: { aten: Timing; torch: Timing | null }[] = [];
  for (let r = 0; r < Number(values.runs); r++) {
    const a = atenTiming(o);
    const t = torchTiming(o);
    if (r === 0) console.log(`params aten ${a.params}, torch ${t?.params ?? 'n/a'}`);
    runs.push({ aten: a, torch: t });
    console.log(`run=${r + 1} aten ms/step=${a.msPerStep.toFixed(0)} torch ms/step=${t ? t.msPerStep.toFixed(0) : 'n/a'}` +
      (t ? ` ratio=${(t.msPerStep / a.msPerStep).toFixed(2)} | per CPU-second aten ${a.cpuMsPerStep.toFixed(0)} torch ${t.cpuMsPerStep.toFixed(0)} ratio=${(t.cpuMsPerStep / a.cpuMsPerStep).toFixed(2)}` : ''));
  }
  const fellBack = (aten?.atenFallbackKernels() ?? []).filter((k) => !before.includes(k));
  const paired = runs.filter((r) => r.torch) as { aten: Timing; torch: Timing }[];
  console.log(`mean aten ms/step=${meanStd(runs.map((r) => r.aten.msPerStep), 0)}` + (paired.length
    ? ` torch ms/step=${meanStd(paired.map((r) => r.torch.msPerStep), 0)} ratio torch/aten=${meanStd(paired.map((r) => r.torch.msPerStep / r.aten.msPerStep), 2)}` +
      ` | per CPU-second ratio=${meanStd(paired.map((r) => r.torch.cpuMsPerStep / r.aten.cpuMsPerStep), 2)}`
    : ' (PyTorch not installed: GANFORGE_EXTRA_APT=python3-torch bash scripts/setup.sh)'));
  console.log(`aten fallback kernels in the step: ${fellBack.length ? fellBack.join(', ') : 'none'}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname) await main();
