/**
 * npm run bench:stylegan2 — StyleGAN2's training step on the aten backend against its PyTorch twin
 * (bench/reference/stylegan2_torch.py: the same networks, parameter for parameter, the same phases in the same order
 * — G main with style mixing, path length every 4 steps, D main, R1 every 16 steps, the mean-w tracker and G's
 * EMA — the same Adam with the lazy correction, the same intra-op thread count and GOMP_SPINCOUNT). Runs alternate
 * aten and PyTorch so that load from other processes hits both alike; a timed window of 16 steps (the default)
 * holds one R1 step and four path-length steps on both sides.
 *
 *   node dist/bench/stylegan2_speed.js [--size 32] [--batch 32] [--steps 16] [--warmup 2] [--runs 3] [--profile]
 *
 * The aten side is ganforge's real training step: stylegan2Step run the way `ganforge train` runs it (freshState
 * + runStep, the family's defaults) on random images. Prints per run aten and PyTorch images per second (wall
 * clock, and per CPU-second of each process, steadier when other jobs share the cores), then mean ± std and the
 * ratio, and the kernels that fell back from aten to the CPU backend (there should be none). --profile prints
 * instead the per-kernel time of an aten step with both regularisers and of one without.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/backend/index.js';
import { stylegan2, type StyleGan2Settings } from '../src/models/stylegan2.js';
import { resolveFamilyConfig, type RunConfig } from '../src/gan/config.js';
import { disposeState, freshState, runStep, type StepState } from '../src/gan/training_step.js';
import type { ArraySource } from '../src/data/types.js';
import { Rng } from '../src/util/rng.js';
import type { Rate } from './translate_speed.js';
import { benchThreads, meanStd, profileKernels, runTorchTwin, stepRate } from './step_bench.js';

export interface StyleSpeedOptions {
  size: number;
  batch: number;
  steps: number;
  warmup: number;
}

const here = path.dirname(new URL(import.meta.url).pathname);
const twin = path.resolve(here, '../../bench/reference/stylegan2_torch.py'); // dist/bench/ → the sources' bench/reference/



/** `count` random RGB images of the bench's size. */
function randomImages(o: StyleSpeedOptions, count: number): ArraySource {
  const rng = new Rng(7);
  return {
    kind: 'array', count, values: Uint8Array.from({ length: count * o.size * o.size * 3 }, () => rng.int(256)),
    info: { name: 'random-images', kind: 'image', shape: [o.size, o.size, 3], count },
  };
}

/** stylegan2's config for the bench: the family's defaults at this size, with the bench's batch. */
function styleConfig(o: StyleSpeedOptions, source: ArraySource): RunConfig & StyleGan2Settings {
  const config = resolveFamilyConfig(stylegan2.settings!, stylegan2.defaults(source.info), { model: 'stylegan2', seed: 0, batchSize: o.batch });
  const problem = stylegan2.check(source.info, config);
  if (problem) throw new Error(problem);
  return config as RunConfig & StyleGan2Settings;
}

/** A run's state as `ganforge train` builds it on random images, with stylegan2's defaults. */
export function styleState(o: StyleSpeedOptions): StepState {
  const source = randomImages(o, 2 * o.batch);
  return freshState(stylegan2, source, styleConfig(o, source));
}

/** Images per second of the real step on aten (after `warmup` untimed steps). */
export function atenRate(o: StyleSpeedOptions): Rate {
  return stepRate(styleState(o), o);
}

/** The PyTorch twin's images per second with the sizes of stylegan2's defaults, or null without python3-torch. */
export function torchRate(o: StyleSpeedOptions): Rate | null {
  const c = styleConfig(o, randomImages(o, 1));
  const args = [twin, '--size', o.size, '--batch', o.batch, '--steps', o.steps, '--warmup', o.warmup, '--threads', benchThreads(),
    '--width', c.width, '--max-width', c.maxWidth, '--z-dim', c.latentDim, '--w-dim', c.wDim, '--mapping', c.mappingLayers,
    '--gamma', c.r1Gamma, '--mbstd', c.minibatchStddev].map(String);
  return runTorchTwin(args);
}

/** Per-kernel time (tf.profile) of step 0 (path length and R1) and step 1 (neither), the top kernels of each. */
async function profile(o: StyleSpeedOptions, top = 15): Promise<void> {
  const state = styleState(o);
  for (let i = 0; i < 16; i++) runStep(state); // optimizer slots made; the next step (16) has both regularisers
  for (const label of ['step with path length and R1', 'plain step']) {
    const p = await profileKernels(state);
    console.log(`${label}: ${p.count} kernels, ${p.total.toFixed(0)} ms in kernels of ${p.wall.toFixed(0)} ms (profiled)`);
    for (const [name, e] of [...p.byName].sort((a, b) => b[1].ms - a[1].ms).slice(0, top)) console.log(`  ${e.ms.toFixed(0).padStart(7)} ms x${e.count} ${name}`);
  }
  disposeState(state);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      size: { type: 'string', default: '32' }, batch: { type: 'string', default: '32' }, steps: { type: 'string', default: '16' },
      warmup: { type: 'string', default: '2' }, runs: { type: 'string', default: '3' }, profile: { type: 'boolean', default: false },
    },
  });
  const o: StyleSpeedOptions = { size: Number(values.size), batch: Number(values.batch), steps: Number(values.steps), warmup: Number(values.warmup) };
  const info = await initBackend({ prefer: 'aten', quiet: true });
  console.log(`backend ${info.detail}; threads ${benchThreads()}; GOMP_SPINCOUNT=${process.env.GOMP_SPINCOUNT}`);
  if (values.profile) return profile(o);
  const aten = tf.getBackend() === 'aten' ? (await import('tfjs-backend-aten' as string)) as { atenFallbackKernels(): string[] } : null;
  const before = aten?.atenFallbackKernels() ?? [];
  const f = (x: number) => x.toFixed(3);
  const runs: { aten: Rate; torch: Rate | null }[] = [];
  for (let r = 0; r < Number(values.runs); r++) {
    const a = atenRate(o);
    const t = torchRate(o);
    if (r === 0) console.log(`stylegan2 ${o.size}px batch ${o.batch}, ${o.steps} timed steps after ${o.warmup}: params aten ${a.params}, torch ${t?.params ?? 'n/a'}`);
    runs.push({ aten: a, torch: t });
    console.log(`run=${r + 1} aten img/s=${f(a.imgPerSec)} torch img/s=${t ? f(t.imgPerSec) : 'n/a'}` +
      (t ? ` ratio=${(a.imgPerSec / t.imgPerSec).toFixed(2)} | per CPU-second aten ${f(a.cpuImgPerSec)} torch ${f(t.cpuImgPerSec)} ratio=${(a.cpuImgPerSec / t.cpuImgPerSec).toFixed(2)}` : ''));
  }
  const paired = runs.filter((r) => r.torch) as { aten: Rate; torch: Rate }[];
  console.log(`mean aten img/s=${meanStd(runs.map((r) => r.aten.imgPerSec), 3)}` + (paired.length
    ? ` torch img/s=${meanStd(paired.map((r) => r.torch.imgPerSec), 3)} ratio=${meanStd(paired.map((r) => r.aten.imgPerSec / r.torch.imgPerSec), 3)}` +
      ` | per CPU-second ratio=${meanStd(paired.map((r) => r.aten.cpuImgPerSec / r.torch.cpuImgPerSec), 3)}`
    : ' (PyTorch unavailable: apt-get install python3-torch)'));
  const fellBack = (aten?.atenFallbackKernels() ?? []).filter((k) => !before.includes(k));
  console.log(`aten fallback kernels in the step: ${fellBack.length ? fellBack.join(', ') : 'none'}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname) await main();
