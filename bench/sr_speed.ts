/**
 * Training speed of srgan and esrgan on the aten backend against their PyTorch twin (bench/reference/sr_torch.py:
 * the same networks, batch, losses, update order and Adam), with the same intra-op thread count and
 * GOMP_SPINCOUNT on both sides; runs alternate aten and PyTorch.
 *
 *   node dist/bench/sr_speed.js [--family srgan|esrgan|both] [--size 32] [--scale 4] [--batch 4] [--steps 5]
 *        [--warmup 2] [--runs 2] [--width 32] [--blocks 0] [--growth 16] [--d-width 16] [--d-dense 128] [--profile]
 *
 * The aten side is the family's real step (freshState + runStep) on random images, content network included.
 * Prints per run `family=… aten img/s=… torch img/s=… ratio=…`, the mean, and the kernels that fell back from
 * aten to the CPU backend during the real steps.
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
import { benchThreads, meanStd, profileStep, runTorchTwin, stepRate, type TwinRate } from './step_bench.js';

type SrFamily = 'srgan' | 'esrgan';

interface SrSpeedOptions {
  family: SrFamily;
  size: number;
  scale: number;
  batch: number;
  steps: number;
  warmup: number;
  width: number;
  blocks: number;
  growth: number;
  dWidth: number;
  dDense: number;
}

const referenceDir = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../bench/reference');

/** Random uint8 RGB pairs: targets size², inputs (size/scale)²; random pixels cost what photographs cost. */
function randomPairs(o: SrSpeedOptions, count = 16): ArraySource {
  const rng = new Rng(7);
  const small = o.size / o.scale;
  const pixels = (side: number) => Uint8Array.from({ length: count * side * side * 3 }, () => rng.int(256));
  return {
    kind: 'array', count, values: pixels(o.size),
    info: { name: 'random-sr', kind: 'image', shape: [o.size, o.size, 3], count, input: { shape: [small, small, 3], pairing: 'paired', domains: ['lowres', 'highres'] } },
    inputs: { values: pixels(small), count },
  };
}

function realState(o: SrSpeedOptions): StepState {
  const family = getModel(o.family);
  const source = randomPairs(o);
  const own = { blocks: o.blocks, dWidth: o.dWidth, dDense: o.dDense, ...(o.family === 'esrgan' ? { growth: o.growth } : {}) };
  const config = resolveFamilyConfig(family.settings ?? {}, family.defaults(source.info), { model: o.family, seed: 0, batchSize: o.batch, width: o.width, steps: 1_000_000, ...own } as Partial<RunConfig>);
  const problem = family.check(source.info, config);
  if (problem) throw new Error(problem);
  return freshState(family, source, config);
}

function torchRate(o: SrSpeedOptions): TwinRate | null {
  return runTorchTwin([path.join(referenceDir, 'sr_torch.py'), '--family', o.family, '--size', String(o.size), '--scale', String(o.scale),
    '--batch', String(o.batch), '--steps', String(o.steps), '--warmup', String(o.warmup), '--threads', String(benchThreads()),
    '--width', String(o.width), '--blocks', String(o.blocks), '--growth', String(o.growth), '--d-width', String(o.dWidth), '--d-dense', String(o.dDense)]);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      family: { type: 'string', default: 'both' }, size: { type: 'string', default: '32' }, scale: { type: 'string', default: '4' },
      batch: { type: 'string', default: '4' }, steps: { type: 'string', default: '5' }, warmup: { type: 'string', default: '2' },
      runs: { type: 'string', default: '2' }, width: { type: 'string', default: '32' }, blocks: { type: 'string', default: '0' },
      growth: { type: 'string', default: '16' }, 'd-width': { type: 'string', default: '16' }, 'd-dense': { type: 'string', default: '128' },
      profile: { type: 'boolean', default: false },
    },
  });
  const families: SrFamily[] = values.family === 'both' ? ['srgan', 'esrgan'] : [values.family as SrFamily];
  if (!families.every((f) => f === 'srgan' || f === 'esrgan')) throw new Error(`--family must be srgan, esrgan or both, got ${values.family}`);
  const info = await initBackend({ prefer: 'aten', quiet: true });
  console.log(`backend ${info.detail}; threads ${benchThreads()}; GOMP_SPINCOUNT=${process.env.GOMP_SPINCOUNT}`);
  const aten = tf.getBackend() === 'aten' ? ((await import('tfjs-backend-aten' as string)) as { atenFallbackKernels(): string[] }) : null;
  const f3 = (x: number) => x.toFixed(3);
  const summary: string[] = [];
  for (const family of families) {
    const o: SrSpeedOptions = {
      family, size: Number(values.size), scale: Number(values.scale), batch: Number(values.batch), steps: Number(values.steps),
      warmup: Number(values.warmup), width: Number(values.width), blocks: Number(values.blocks), growth: Number(values.growth),
      dWidth: Number(values['d-width']), dDense: Number(values['d-dense']),
    };
    if (values.profile) {
      await profileStep(realState(o), family, o.warmup);
      continue;
    }
    const before = aten?.atenFallbackKernels() ?? [];
    const ratios: number[] = [];
    for (let r = 0; r < Number(values.runs); r++) {
      const a = stepRate(realState(o), o);
      const t = torchRate(o);
      if (r === 0) console.log(`${family} ${o.size}px ×${o.scale} batch ${o.batch}: params aten ${a.params}, torch ${t?.params ?? 'n/a'}`);
      if (t) ratios.push(a.imgPerSec / t.imgPerSec);
      console.log(`family=${family} run=${r + 1} aten img/s=${f3(a.imgPerSec)} torch img/s=${t ? f3(t.imgPerSec) : 'n/a'}${t ? ` ratio=${(a.imgPerSec / t.imgPerSec).toFixed(2)} | per CPU-second ratio=${(a.cpuImgPerSec / t.cpuImgPerSec).toFixed(2)}` : ''}`);
    }
    const fallbacks = (aten?.atenFallbackKernels() ?? []).filter((k) => !before.includes(k));
    console.log(`family=${family} aten fallback kernels in the real step: ${fallbacks.length ? fallbacks.join(', ') : 'none'}`);
    summary.push(`| ${family} | ${o.size}/${o.size / o.scale} | ${o.batch} | ${ratios.length ? meanStd(ratios, 2) : 'n/a'} | ${fallbacks.length ? fallbacks.join(', ') : 'none'} |`);
  }
  if (summary.length) {
    console.log('\n| family | target/input px | batch | aten/torch img/s (wall) | aten fallbacks |\n|---|---|---|---|---|');
    for (const line of summary) console.log(line);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname) await main();
