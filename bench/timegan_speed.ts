/**
 * Speed of timegan's joint step (phase 3) on the aten backend against its PyTorch twin
 * (bench/reference/timegan_torch.py: the same GRU sizes, batch, window and features, the same update order, Adam,
 * and D's update when its loss is above 0.15), with the same intra-op thread count and GOMP_SPINCOUNT on both
 * sides; runs alternate aten and PyTorch.
 *
 *   node dist/bench/timegan_speed.js [--batch 128] [--window 24] [--features 5] [--hidden 24] [--layers 3]
 *        [--steps 5] [--warmup 2] [--runs 3] [--profile]
 *
 * The aten side is the family's real step (freshState + runStep) on TimeGAN's sines, after one step of each of
 * phases 1 and 2, so every timed step is a joint one. Prints per run `aten ms/step=… torch ms/step=… ratio=…`
 * (ratio = aten speed / PyTorch speed), the mean ± std of the ratio, and the kernels that fell back from aten to
 * the CPU backend during the steps. --profile prints one joint step's time by kernel; with tfjs-layers' GRU (a
 * chain of small kernels per time step) a step runs so many kernels that tf.profile's own bookkeeping overflows the
 * stack (RangeError in its peak-bytes pass), so profile with a fused GRU or fewer --layers and --window.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/backend/index.js';
import { resolveFamilyConfig, type RunConfig } from '../src/gan/config.js';
import { freshState, runStep, type StepState } from '../src/gan/training_step.js';
import { sinesSource } from '../src/data/sequences.js';
import { timegan, type TimeganSettings } from '../src/models/timegan.js';
import { meanStd, profileStep, runTorchTwin, stepRate, type TwinRate } from './step_bench.js';
import { benchThreads } from './translate_speed.js';

interface TimeganSpeedOptions { batch: number; window: number; features: number; hidden: number; layers: number; steps: number; warmup: number }

const referenceDir = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../bench/reference');

/** A fresh timegan state with phases 1 and 2 behind it: the next steps are joint ones. */
function jointState(o: TimeganSpeedOptions): StepState {
  const source = sinesSource({ count: 1024, window: o.window, features: o.features });
  const own: Partial<RunConfig & TimeganSettings> = {
    model: 'timegan', seed: 0, batchSize: o.batch, hidden: o.hidden, gruLayers: o.layers, steps: 1_000_000, embeddingSteps: 1, supervisedSteps: 1,
  };
  const config = resolveFamilyConfig(timegan.settings!, timegan.defaults(source.info), own);
  const problem = timegan.check(source.info, config);
  if (problem) throw new Error(problem);
  const state = freshState(timegan, source, config);
  runStep(state);
  runStep(state);
  return state;
}

function torchRate(o: TimeganSpeedOptions): TwinRate | null {
  return runTorchTwin([path.join(referenceDir, 'timegan_torch.py'), '--batch', String(o.batch), '--window', String(o.window), '--features', String(o.features),
    '--hidden', String(o.hidden), '--layers', String(o.layers), '--steps', String(o.steps), '--warmup', String(o.warmup), '--threads', String(benchThreads())]);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      batch: { type: 'string', default: '128' }, window: { type: 'string', default: '24' }, features: { type: 'string', default: '5' },
      hidden: { type: 'string', default: '24' }, layers: { type: 'string', default: '3' }, steps: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '2' }, runs: { type: 'string', default: '3' }, profile: { type: 'boolean', default: false },
    },
  });
  const o: TimeganSpeedOptions = {
    batch: Number(values.batch), window: Number(values.window), features: Number(values.features), hidden: Number(values.hidden),
    layers: Number(values.layers), steps: Number(values.steps), warmup: Number(values.warmup),
  };
  const info = await initBackend({ prefer: 'aten', quiet: true });
  console.log(`backend ${info.detail}; threads ${benchThreads()}; GOMP_SPINCOUNT=${process.env.GOMP_SPINCOUNT}`);
  if (values.profile) return profileStep(jointState(o), 'timegan joint step', o.warmup);
  const aten = tf.getBackend() === 'aten' ? ((await import('tfjs-backend-aten' as string)) as { atenFallbackKernels(): string[] }) : null;
  const before = aten?.atenFallbackKernels() ?? [];
  const ms = (r: TwinRate) => (1000 * o.batch) / r.imgPerSec;
  const ratios: number[] = [], cpuRatios: number[] = [], atenMs: number[] = [], torchMs: number[] = [];
  for (let r = 0; r < Number(values.runs); r++) {
    const a = stepRate(jointState(o), o);
    const t = torchRate(o);
    if (r === 0) console.log(`timegan joint step, batch ${o.batch}, T ${o.window}, F ${o.features}, GRU ${o.layers}×${o.hidden}: params aten ${a.params}, torch ${t?.params ?? 'n/a'}`);
    atenMs.push(ms(a));
    if (t) {
      ratios.push(a.imgPerSec / t.imgPerSec);
      cpuRatios.push(a.cpuImgPerSec / t.cpuImgPerSec);
      torchMs.push(ms(t));
    }
    console.log(`run=${r + 1} aten ms/step=${ms(a).toFixed(1)} torch ms/step=${t ? ms(t).toFixed(1) : 'n/a'}` +
      (t ? ` ratio=${(a.imgPerSec / t.imgPerSec).toFixed(2)} | per CPU-second ratio=${(a.cpuImgPerSec / t.cpuImgPerSec).toFixed(2)}` : ''));
  }
  const fallbacks = (aten?.atenFallbackKernels() ?? []).filter((k) => !before.includes(k));
  console.log(`aten fallback kernels in the joint steps: ${fallbacks.length ? fallbacks.join(', ') : 'none'}`);
  console.log(`\n| family | batch | T | F | GRU | aten ms/step | torch ms/step | aten/torch speed (wall) | per CPU-second | aten fallbacks |\n|---|---|---|---|---|---|---|---|---|---|`);
  console.log(`| timegan (joint) | ${o.batch} | ${o.window} | ${o.features} | ${o.layers}×${o.hidden} | ${meanStd(atenMs, 1)} | ${torchMs.length ? meanStd(torchMs, 1) : 'n/a'} | ` +
    `${ratios.length ? meanStd(ratios, 2) : 'n/a'} | ${cpuRatios.length ? meanStd(cpuRatios, 2) : 'n/a'} | ${fallbacks.length ? fallbacks.join(', ') : 'none'} |`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname) await main();
