/**
 * Training speed of pix2pix and CycleGAN on the aten backend against their PyTorch twins
 * (bench/reference/pix2pix_torch.py, cyclegan_torch.py: the same networks, batch, losses, pools, update order and
 * Adam, and CycleGAN's stacked cycle + identity generator calls, which PyTorch runs as fast as four separate ones), with
 * the same intra-op thread count and GOMP_SPINCOUNT on both sides. Runs alternate aten and PyTorch so that load
 * from other processes hits both alike.
 *
 *   node dist/bench/translate_speed.js [--family pix2pix|cyclegan|both] [--size 64] [--batch 1,4] [--steps 10]
 *        [--warmup 3] [--runs 3] [--ngf 64] [--ndf 64] [--blocks n] [--plain] [--profile]
 *
 * The aten side is ganforge's real training step: the family's own step (pix2pixStep, cycleganStep) run the
 * way `ganforge train` runs it (freshState + runStep) on an in-memory dataset of random images, so what is
 * measured is what training costs. --plain adds a line for the bare steps of bench/translate_step.ts (the
 * networks alone, no stats, pools or identity loss), which show the backend's share apart from the step's.
 *
 * Prints per run `family=… aten img/s=… torch img/s=… ratio=…` (wall clock) and the same per CPU-second of each
 * process (steadier when other jobs share the cores), then mean ± std over the runs, and the kernels that fell
 * back from aten to the CPU backend during the real steps (there should be none). --profile prints instead the
 * per-kernel time of one real aten step.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/backend/index.js';
import { getModel } from '../src/models/registry.js';
import { resolveFamilyConfig, type RunConfig } from '../src/gan/config.js';
import { freshState, type StepState } from '../src/gan/training_step.js';
import type { ArraySource } from '../src/data/types.js';
import { Rng } from '../src/util/rng.js';
import { benchThreads, cpuSeconds, meanStd, profileStep, runTorchTwin, stepRate, type TwinRate } from './step_bench.js';
import {
  buildCyclegan, buildPix2pix, cycleganStep, disposeNets, imagePair, pix2pixStep, type TranslateNets, type TranslateSize,
} from './translate_step.js';

export type TranslateFamily = 'pix2pix' | 'cyclegan';

export interface TranslateSpeedOptions extends TranslateSize {
  family: TranslateFamily;
  batch: number;
  steps: number;
  warmup: number;
  /** 'real': the family's own step through runStep (default); 'plain': bench/translate_step.ts's bare step. */
  step?: 'real' | 'plain';
}

const FAMILIES = {
  pix2pix: { build: buildPix2pix, step: pix2pixStep, script: 'pix2pix_torch.py' },
  cyclegan: { build: buildCyclegan, step: cycleganStep, script: 'cyclegan_torch.py' },
} as const;

const here = path.dirname(new URL(import.meta.url).pathname);
// dist/bench/ → the sources' bench/reference/
const referenceDir = path.resolve(here, '../../bench/reference');


const trainableCount = (nets: TranslateNets, which: 'generators' | 'discriminators') =>
  nets[which][0].trainableWeights.reduce((n, w) => n + w.shape.reduce((a, b) => a! * b!, 1)!, 0);

/** A rate measured two ways: image pairs per wall-clock second, and per CPU-second of the process. */
export type Rate = TwinRate;


/**
 * A dataset of `count` random uint8 RGB images per domain: paired for pix2pix, two independent domains for
 * CycleGAN. Random pixels cost the same as photographs; no augmentation is attached (loaders attach pix2pix's
 * resize-crop-flip to photo folders, which the PyTorch twins do not do either).
 */
function randomImages(o: TranslateSpeedOptions, count = 16): ArraySource {
  const rng = new Rng(7);
  const pixels = () => Uint8Array.from({ length: count * o.size * o.size * 3 }, () => rng.int(256));
  const pairing = o.family === 'pix2pix' ? 'paired' : 'unpaired';
  return {
    kind: 'array', count, values: pixels(),
    info: { name: `random-${pairing}`, kind: 'image', shape: [o.size, o.size, 3], count, input: { shape: [o.size, o.size, 3], pairing, domains: ['A', 'B'] } },
    inputs: { values: pixels(), count },
  };
}

/** The family's run state as `ganforge train` builds it, with the family's own defaults (pool 50, λs, norms). */
export function realState(o: TranslateSpeedOptions): StepState {
  const family = getModel(o.family);
  const source = randomImages(o);
  if ((o.ndf ?? 64) !== (o.ngf ?? 64)) throw new Error('the families take one --width for G and D: give --ngf and --ndf equal');
  const overrides: Partial<RunConfig> = {
    model: o.family, seed: 0, batchSize: o.batch, width: o.ngf ?? 64, steps: 1_000_000, // a long run: the rate stays at 2e-4
    ...(o.nBlocks && o.family === 'cyclegan' ? { resBlocks: o.nBlocks } as Partial<RunConfig> : {}),
  };
  const config = resolveFamilyConfig(family.settings ?? {}, family.defaults(source.info), overrides);
  const problem = family.check(source.info, config);
  if (problem) throw new Error(problem);
  return freshState(family, source, config);
}

/** Image pairs per second of the family's step on the active backend (after `warmup` untimed steps). */
export function atenImagesPerSecond(o: TranslateSpeedOptions): Rate {
  if ((o.step ?? 'real') === 'real') return stepRate(realState(o), o); // the family's real training step (runStep)
  const family = FAMILIES[o.family];
  const nets = family.build(o);
  const params = `G=${trainableCount(nets, 'generators')} D=${trainableCount(nets, 'discriminators')}`;
  const [a, b] = imagePair(o.batch, o.size, 1);
  for (let i = 0; i < o.warmup; i++) family.step(nets, a, b);
  const t0 = performance.now(), cpu0 = cpuSeconds();
  for (let i = 0; i < o.steps; i++) family.step(nets, a, b); // reads both losses: a full sync per step
  const seconds = (performance.now() - t0) / 1000, cpu = cpuSeconds() - cpu0;
  tf.dispose([a, b]);
  disposeNets(nets);
  return { imgPerSec: (o.steps * o.batch) / seconds, cpuImgPerSec: (o.steps * o.batch) / cpu, params };
}

/** The PyTorch twin's image pairs per second, or null when python3-torch is missing. */
export function torchImagesPerSecond(o: TranslateSpeedOptions): Rate | null {
  const args = [path.join(referenceDir, FAMILIES[o.family].script), '--size', String(o.size), '--batch', String(o.batch),
    '--steps', String(o.steps), '--warmup', String(o.warmup), '--threads', String(benchThreads()),
    '--ngf', String(o.ngf ?? 64), '--ndf', String(o.ndf ?? 64), ...(o.nBlocks ? ['--blocks', String(o.nBlocks)] : []),
    // The plain steps' twins: pix2pix with G's update first, CycleGAN without identity loss and pools.
    ...(o.step === 'plain' ? (o.family === 'pix2pix' ? ['--order', 'g-first'] : ['--plain']) : [])];
  return runTorchTwin(args);
}

export interface SpeedRun { aten: Rate; torch: Rate | null }

const meanStd3 = (xs: number[]) => meanStd(xs, 3);

/** `runs` alternating aten / PyTorch measurements of one configuration, printed as they come. */
export function translateSpeed(o: TranslateSpeedOptions, runs: number, log = console.log): SpeedRun[] {
  const results: SpeedRun[] = [];
  const f = (x: number) => x.toFixed(3);
  const label = `family=${o.family} batch=${o.batch}${o.step === 'plain' ? ' step=plain' : ''}`;
  for (let r = 0; r < runs; r++) {
    const aten = atenImagesPerSecond(o);
    const torch = torchImagesPerSecond(o);
    if (r === 0) log(`${o.family} ${o.size}px batch ${o.batch} (${o.step ?? 'real'} step): params aten ${aten.params}, torch ${torch?.params ?? 'n/a'}`);
    results.push({ aten, torch });
    log(`${label} run=${r + 1} aten img/s=${f(aten.imgPerSec)} torch img/s=${torch ? f(torch.imgPerSec) : 'n/a'}` +
      (torch ? ` ratio=${(aten.imgPerSec / torch.imgPerSec).toFixed(2)} | per CPU-second aten ${f(aten.cpuImgPerSec)} torch ${f(torch.cpuImgPerSec)} ratio=${(aten.cpuImgPerSec / torch.cpuImgPerSec).toFixed(2)}` : ''));
  }
  const paired = results.filter((r) => r.torch !== null) as { aten: Rate; torch: Rate }[];
  log(`${label} mean aten img/s=${meanStd3(results.map((r) => r.aten.imgPerSec))}` + (paired.length
    ? ` torch img/s=${meanStd3(paired.map((r) => r.torch.imgPerSec))} ratio=${meanStd3(paired.map((r) => r.aten.imgPerSec / r.torch.imgPerSec))}` +
      ` | per CPU-second ratio=${meanStd3(paired.map((r) => r.aten.cpuImgPerSec / r.torch.cpuImgPerSec))}`
    : ''));
  return results;
}

/** The aten module's list of kernels that ran through its CPU fallback (empty when another backend runs). */
async function fallbackLister(): Promise<() => string[]> {
  if (tf.getBackend() !== 'aten') return () => [];
  const aten = (await import('tfjs-backend-aten' as string)) as { atenFallbackKernels(): string[] };
  return () => aten.atenFallbackKernels();
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      family: { type: 'string', default: 'both' }, size: { type: 'string', default: '64' }, batch: { type: 'string', default: '1,4' },
      steps: { type: 'string', default: '10' }, warmup: { type: 'string', default: '3' }, runs: { type: 'string', default: '3' },
      ngf: { type: 'string', default: '64' }, ndf: { type: 'string', default: '64' }, blocks: { type: 'string' },
      plain: { type: 'boolean', default: false }, profile: { type: 'boolean', default: false },
    },
  });
  const families: TranslateFamily[] = values.family === 'both' ? ['pix2pix', 'cyclegan'] : [values.family as TranslateFamily];
  if (!families.every((f) => f in FAMILIES)) throw new Error(`--family must be pix2pix, cyclegan or both, got ${values.family}`);
  const batches = values.batch.split(',').map(Number);
  if (!batches.every((b) => Number.isInteger(b) && b > 0)) throw new Error(`--batch takes positive integers, comma-separated, got ${values.batch}`);
  const info = await initBackend({ prefer: 'aten', quiet: true });
  console.log(`backend ${info.detail}; threads ${benchThreads()}; GOMP_SPINCOUNT=${process.env.GOMP_SPINCOUNT}`);
  const fellBack = await fallbackLister();
  const summary: string[] = [];
  for (const family of families) {
    for (const batch of batches) {
      const o: TranslateSpeedOptions = {
        family, size: Number(values.size), batch, steps: Number(values.steps), warmup: Number(values.warmup),
        ngf: Number(values.ngf), ndf: Number(values.ndf), nBlocks: values.blocks ? Number(values.blocks) : undefined,
      };
      if (values.profile) {
        await profileStep(realState(o), o.family, o.warmup);
        continue;
      }
      const before = fellBack();
      const runs = translateSpeed(o, Number(values.runs));
      const fallbacks = fellBack().filter((k) => !before.includes(k));
      console.log(`family=${family} batch=${batch} aten fallback kernels in the real step: ${fallbacks.length ? fallbacks.join(', ') : 'none'}`);
      const paired = runs.filter((r) => r.torch) as { aten: Rate; torch: Rate }[];
      if (paired.length) {
        summary.push(`| ${family} | ${batch} | ${meanStd3(paired.map((r) => r.aten.imgPerSec))} | ${meanStd3(paired.map((r) => r.torch.imgPerSec))} | ` +
          `${meanStd3(paired.map((r) => r.aten.imgPerSec / r.torch.imgPerSec))} | ${meanStd3(paired.map((r) => r.aten.cpuImgPerSec / r.torch.cpuImgPerSec))} | ${fallbacks.length ? fallbacks.join(', ') : 'none'} |`);
      }
      if (values.plain) translateSpeed({ ...o, step: 'plain' }, Number(values.runs));
    }
  }
  if (summary.length) {
    console.log(`\n${values.size} px, ${values.runs} alternating runs of ${values.steps} steps, mean ± std (real family steps)`);
    console.log('| family | batch | aten img/s | torch img/s | ratio (wall) | ratio (CPU-s) | aten fallbacks |\n|---|---|---|---|---|---|---|');
    for (const line of summary) console.log(line);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname) await main();
