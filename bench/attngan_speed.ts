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
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { RunConfig } from '../src/gan/config.js';
import type { StepState } from '../src/gan/training_step.js';
import {
  benchThreads, CAPTION_WORDS, captionedFlags, captionedOptions, familyState, imageTable, randomCaptioned, referenceDir, runTorchTwin, runTwinComparison,
  type CaptionedSpeedOptions, type TwinRate,
} from './step_bench.js';

interface AttnganSpeedOptions extends CaptionedSpeedOptions { dWidth: number }

function realState(o: AttnganSpeedOptions): StepState {
  return familyState('attngan', randomCaptioned(o),
    { batchSize: o.batch, width: o.width, dWidth: o.dWidth, wordDim: o.wordDim, textDim: o.textDim } as Partial<RunConfig>);
}

function torchRate(o: AttnganSpeedOptions): TwinRate | null {
  return runTorchTwin([path.join(referenceDir, 'attngan_torch.py'), '--size', String(o.size), '--batch', String(o.batch), '--steps', String(o.steps),
    '--warmup', String(o.warmup), '--threads', String(benchThreads()), '--width', String(o.width), '--d-width', String(o.dWidth),
    '--word-dim', String(o.wordDim), '--text-dim', String(o.textDim), '--max-len', String(o.maxLen), '--vocab', String(CAPTION_WORDS + 2)]);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { ...captionedFlags({ batch: '16', width: '32' }), 'd-width': { type: 'string', default: '64' } } });
  const o: AttnganSpeedOptions = { ...captionedOptions(values), dWidth: Number(values['d-width']) };
  await runTwinComparison({
    ...o, runs: Number(values.runs), profile: values.profile, label: 'attngan',
    atenState: () => realState(o), torch: () => torchRate(o),
    headline: (aten, torch) => `attngan ${o.size}px batch ${o.batch} width ${o.width} d-width ${o.dWidth}: params aten ${aten}, torch ${torch}`,
    tableColumns: imageTable('attngan', o),
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname) await main();
