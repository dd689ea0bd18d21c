/**
 * Training speed of attngan on the aten backend against its PyTorch twin (bench/reference/attngan_torch.py: the
 * same staged generator with Conditioning Augmentation and word attention, per-stage discriminators with
 * unconditional and conditional heads, frozen text and image encoders, batch, losses with KL and λ·DAMSM, update
 * order and Adam), with the same intra-op thread count and GOMP_SPINCOUNT on both sides; runs alternate aten and
 * PyTorch.
 *
 *   node dist/bench/attngan_speed.js [--size 32] [--batch 16] [--width 32] [--d-width 64] [--steps 5] [--warmup 2]
 *        [--runs 2] [--word-dim 300] [--text-dim 256] [--max-len 12] [--profile]
 *
 * The timed step is attngan's only one (attnGanStep: G forward once through every stage, one update of the
 * stage discriminators, one G update with the DAMSM term); the text encoder's pretraining is a separate command.
 * Stages as the family picks them (2 below 64 px). The aten side is the family's real step (freshState +
 * runStep) on random images with random captions of max-len words (no padding, as the twin's), text encoder
 * included. Prints per run `aten ms/step=… torch ms/step=… ratio=…` (ratio = aten speed / PyTorch speed), the
 * mean, and the kernels that fell back from aten to the CPU backend during the real steps.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/backend/index.js';
import { getModel } from '../src/models/registry.js';
import { resolveFamilyConfig, type RunConfig } from '../src/gan/config.js';
import { freshState, type StepState } from '../src/gan/training_step.js';
import { captionSet } from '../src/data/tokenizer.js';
import type { ArraySource } from '../src/data/types.js';
import { Rng } from '../src/util/rng.js';
import { meanStd, profileStep, runTorchTwin, stepRate, type TwinRate } from './step_bench.js';
import { benchThreads } from './translate_speed.js';

interface AttnganSpeedOptions {
  size: number;
  batch: number;
  steps: number;
  warmup: number;
  width: number;
  wordDim: number;
  textDim: number;
  maxLen: number;
  dWidth: number;
}

/** Words of the random captions: with PAD and UNK, a vocabulary of 40 (the twin's --vocab). */
const WORDS = 38;
const referenceDir = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../bench/reference');

/** Random uint8 RGB images, each with one caption of maxLen random words. */
function randomCaptioned(o: AttnganSpeedOptions, count = 32): ArraySource {
  const rng = new Rng(7);
  const values = Uint8Array.from({ length: count * o.size * o.size * 3 }, () => rng.int(256));
  const vocab = Array.from({ length: WORDS }, (_, i) => `w${i}`);
  const texts = Array.from({ length: count }, (_, i) => Array.from({ length: o.maxLen }, (_, j) => vocab[(i * 7 + j * 3 + rng.int(WORDS)) % WORDS]).join(' '));
  const { captions, info } = captionSet(texts, Int32Array.from({ length: count }, (_, i) => i), o.maxLen);
  return { kind: 'array', count, values, captions, info: { name: 'random-captioned', kind: 'image', shape: [o.size, o.size, 3], count, text: info } };
}

function realState(o: AttnganSpeedOptions): StepState {
  const family = getModel('attngan');
  const source = randomCaptioned(o);
  const config = resolveFamilyConfig(family.settings ?? {}, family.defaults(source.info), {
    model: 'attngan', seed: 0, batchSize: o.batch, width: o.width, dWidth: o.dWidth, wordDim: o.wordDim, textDim: o.textDim, steps: 1_000_000,
  } as Partial<RunConfig>);
  const problem = family.check(source.info, config);
  if (problem) throw new Error(problem);
  return freshState(family, source, config);
}

function torchRate(o: AttnganSpeedOptions): TwinRate | null {
  return runTorchTwin([path.join(referenceDir, 'attngan_torch.py'), '--size', String(o.size), '--batch', String(o.batch), '--steps', String(o.steps),
    '--warmup', String(o.warmup), '--threads', String(benchThreads()), '--width', String(o.width), '--d-width', String(o.dWidth),
    '--word-dim', String(o.wordDim), '--text-dim', String(o.textDim), '--max-len', String(o.maxLen), '--vocab', String(WORDS + 2)]);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      size: { type: 'string', default: '32' }, batch: { type: 'string', default: '16' }, steps: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '2' }, runs: { type: 'string', default: '2' }, width: { type: 'string', default: '32' },
      'd-width': { type: 'string', default: '64' },
      'word-dim': { type: 'string', default: '300' }, 'text-dim': { type: 'string', default: '256' }, 'max-len': { type: 'string', default: '12' },
      profile: { type: 'boolean', default: false },
    },
  });
  const o: AttnganSpeedOptions = {
    size: Number(values.size), batch: Number(values.batch), steps: Number(values.steps), warmup: Number(values.warmup), width: Number(values.width),
    wordDim: Number(values['word-dim']), textDim: Number(values['text-dim']), maxLen: Number(values['max-len']), dWidth: Number(values['d-width']),
  };
  const info = await initBackend({ prefer: 'aten', quiet: true });
  console.log(`backend ${info.detail}; threads ${benchThreads()}; GOMP_SPINCOUNT=${process.env.GOMP_SPINCOUNT}`);
  if (values.profile) return profileStep(realState(o), 'attngan', o.warmup);
  const aten = tf.getBackend() === 'aten' ? ((await import('tfjs-backend-aten' as string)) as { atenFallbackKernels(): string[] }) : null;
  const before = aten?.atenFallbackKernels() ?? [];
  const ms = (r: TwinRate) => (1000 * o.batch) / r.imgPerSec;
  const ratios: number[] = [];
  for (let r = 0; r < Number(values.runs); r++) {
    const a = stepRate(realState(o), o);
    const t = torchRate(o);
    if (r === 0) console.log(`attngan ${o.size}px batch ${o.batch} width ${o.width} d-width ${o.dWidth}: params aten ${a.params}, torch ${t?.params ?? 'n/a'}`);
    if (t) ratios.push(a.imgPerSec / t.imgPerSec);
    console.log(`run=${r + 1} aten ms/step=${ms(a).toFixed(1)} torch ms/step=${t ? ms(t).toFixed(1) : 'n/a'}` +
      (t ? ` ratio=${(a.imgPerSec / t.imgPerSec).toFixed(2)} | per CPU-second ratio=${(a.cpuImgPerSec / t.cpuImgPerSec).toFixed(2)}` : ''));
  }
  const fallbacks = (aten?.atenFallbackKernels() ?? []).filter((k) => !before.includes(k));
  console.log(`aten fallback kernels in the real step: ${fallbacks.length ? fallbacks.join(', ') : 'none'}`);
  console.log(`\n| family | px | batch | width | aten/torch speed (wall) | aten fallbacks |\n|---|---|---|---|---|---|`);
  console.log(`| attngan | ${o.size} | ${o.batch} | ${o.width} | ${ratios.length ? meanStd(ratios, 2) : 'n/a'} | ${fallbacks.length ? fallbacks.join(', ') : 'none'} |`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname) await main();
