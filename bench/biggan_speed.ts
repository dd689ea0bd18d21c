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
import * as tf from '@tensorflow/tfjs-core';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/backend/index.js';
import { biggan } from '../src/models/biggan.js';
import { resolveFamilyConfig, type RunConfig } from '../src/gan/config.js';
import { disposeState, freshState, runStep, type StepState } from '../src/gan/training_step.js';
import type { ArraySource } from '../src/data/types.js';
import { Rng } from '../src/util/rng.js';
import { benchThreads } from './translate_speed.js';
import { runTorchTwin } from './torch_twin.js';

interface Options { batch: number; width: number; ndis: number; attention: number; steps: number; warmup: number }

/** One side's measurement: ms per step by the wall clock and per CPU-second of the process, and the parameter counts. */
interface Timing { msPerStep: number; cpuMsPerStep: number; params: string }

const CLASSES = 10;
const here = path.dirname(new URL(import.meta.url).pathname);
const twin = path.resolve(here, '../../bench/reference/biggan_torch.py'); // dist/bench/ → the sources' bench/reference/

const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

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

const paramCount = (m: { trainableWeights: { shape: (number | null)[] }[] }) => m.trainableWeights.reduce((n, w) => n + w.shape.reduce((a, b) => a! * b!, 1)!, 0);

function atenTiming(o: Options): Timing {
  const state = realState(o);
  const params = `G=${paramCount(state.nets.generator)} D=${paramCount(state.nets.discriminator)}`;
  for (let i = 0; i < o.warmup; i++) runStep(state);
  const t0 = performance.now(), cpu0 = cpuSeconds();
  for (let i = 0; i < o.steps; i++) runStep(state); // reads every update's loss, as the trainer's log does
  const ms = performance.now() - t0, cpu = cpuSeconds() - cpu0;
  disposeState(state);
  return { msPerStep: ms / o.steps, cpuMsPerStep: (1000 * cpu) / o.steps, params };
}

/** The twin's timing, or null when python3-torch is missing. */
function torchTiming(o: Options): Timing | null {
  const args = [twin, '--batch', String(o.batch), '--width', String(o.width), '--ndis', String(o.ndis), '--attention', String(o.attention),
    '--classes', String(CLASSES), '--steps', String(o.steps), '--warmup', String(o.warmup), '--threads', String(benchThreads())];
  const rate = runTorchTwin(args);
  return rate && { msPerStep: (1000 * o.batch) / rate.imgPerSec, cpuMsPerStep: (1000 * o.batch) / rate.cpuImgPerSec, params: rate.params };
}

/** Per-kernel time of one aten step (tf.profile): the top kernel/shape pairs and the totals by kernel. */
async function profileStep(o: Options, top = 25): Promise<void> {
  const state = realState(o);
  for (let i = 0; i < Math.max(1, o.warmup); i++) runStep(state);
  const t0 = performance.now();
  const profile = await tf.profile(() => { runStep(state); });
  const wall = performance.now() - t0;
  const rows = new Map<string, { count: number; ms: number }>();
  const byName = new Map<string, number>();
  let total = 0;
  for (const k of profile.kernels) {
    const ms = k.kernelTimeMs as number;
    const key = `${k.name} ${JSON.stringify(k.inputShapes)}`;
    const e = rows.get(key) ?? { count: 0, ms: 0 };
    rows.set(key, { count: e.count + 1, ms: e.ms + ms });
    byName.set(k.name, (byName.get(k.name) ?? 0) + ms);
    total += ms;
  }
  console.log(`biggan: ${profile.kernels.length} kernels, ${total.toFixed(0)} ms in kernels of ${wall.toFixed(0)} ms (profiled)`);
  console.log('by kernel: ' + [...byName].sort((p, q) => q[1] - p[1]).slice(0, 15).map(([n, ms]) => `${n} ${ms.toFixed(0)}`).join(', '));
  for (const [key, e] of [...rows].sort((p, q) => q[1].ms - p[1].ms).slice(0, top)) console.log(`  ${e.ms.toFixed(1).padStart(8)} ms x${e.count} ${key}`);
  disposeState(state);
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const stat = (xs: number[], digits = 2) => {
  const m = mean(xs);
  const std = Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / Math.max(1, xs.length - 1));
  return `${m.toFixed(digits)} ± ${std.toFixed(digits)}`;
};

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
  if (values.profile) return profileStep(o);
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
  console.log(`mean aten ms/step=${stat(runs.map((r) => r.aten.msPerStep), 0)}` + (paired.length
    ? ` torch ms/step=${stat(paired.map((r) => r.torch.msPerStep), 0)} ratio torch/aten=${stat(paired.map((r) => r.torch.msPerStep / r.aten.msPerStep))}` +
      ` | per CPU-second ratio=${stat(paired.map((r) => r.torch.cpuMsPerStep / r.aten.cpuMsPerStep))}`
    : ' (PyTorch not installed: GANFORGE_EXTRA_APT=python3-torch bash scripts/setup.sh)'));
  console.log(`aten fallback kernels in the step: ${fellBack.length ? fellBack.join(', ') : 'none'}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname) await main();
