/**
 * Training speed of dfgan on the aten backend against its PyTorch twin (bench/reference/dfgan_torch.py: the same
 * networks, frozen bidirectional-LSTM text encoder, batch, hinge loss with mismatched texts, MA-GP, update order
 * and Adam), with the same intra-op thread count and GOMP_SPINCOUNT on both sides; runs alternate aten and PyTorch.
 *
 *   node dist/bench/dfgan_speed.js [--size 32] [--batch 8] [--steps 5] [--warmup 2] [--runs 2] [--width 16]
 *        [--word-dim 300] [--text-dim 256] [--max-len 12] [--profile]
 *
 * The aten side is the family's real step (freshState + runStep) on random images with random captions of
 * max-len words (no padding, as the twin's), text encoder included. Prints per run `aten ms/step=… torch
 * ms/step=… ratio=…` (ratio = aten speed / PyTorch speed), the mean, and the kernels that fell back from aten to
 * the CPU backend during the real steps.
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { RunConfig } from '../src/gan/config.js';
import type { StepState } from '../src/gan/training_step.js';
import {
  benchThreads, CAPTION_WORDS, captionedFlags, captionedOptions, familyState, imageTable, randomCaptioned, referenceDir, runTorchTwin, runTwinComparison,
  type CaptionedSpeedOptions, type TwinRate,
} from './step_bench.js';

function realState(o: CaptionedSpeedOptions): StepState {
  return familyState('dfgan', randomCaptioned(o), { batchSize: o.batch, width: o.width, wordDim: o.wordDim, textDim: o.textDim } as Partial<RunConfig>);
}

function torchRate(o: CaptionedSpeedOptions): TwinRate | null {
  return runTorchTwin([path.join(referenceDir, 'dfgan_torch.py'), '--size', String(o.size), '--batch', String(o.batch), '--steps', String(o.steps),
    '--warmup', String(o.warmup), '--threads', String(benchThreads()), '--width', String(o.width), '--word-dim', String(o.wordDim),
    '--text-dim', String(o.textDim), '--max-len', String(o.maxLen), '--vocab', String(CAPTION_WORDS + 2)]);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: captionedFlags({ batch: '8', width: '16' }) });
  const o = captionedOptions(values);
  await runTwinComparison({
    ...o, runs: Number(values.runs), profile: values.profile, label: 'dfgan',
    atenState: () => realState(o), torch: () => torchRate(o),
    headline: (aten, torch) => `dfgan ${o.size}px batch ${o.batch} width ${o.width}: params aten ${aten}, torch ${torch}`,
    tableColumns: imageTable('dfgan', o),
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname) await main();
