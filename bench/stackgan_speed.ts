/**
 * Training speed of stackgan on the aten backend against its PyTorch twin (bench/reference/stackgan_torch.py: the
 * same two stages with Conditioning Augmentation, per-stage matching-aware discriminators, frozen
 * bidirectional-LSTM text encoder, batch, losses with KL, update order and Adam), with the same intra-op thread
 * count and GOMP_SPINCOUNT on both sides; runs alternate aten and PyTorch.
 *
 *   node dist/bench/stackgan_speed.js [--size 32] [--batch 16] [--width 32] [--steps 5] [--warmup 2] [--runs 2]
 *        [--c-dim 128] [--res-blocks 4] [--word-dim 300] [--text-dim 256] [--max-len 12] [--profile]
 *
 * The timed step is the family's default, `--stage both`: stage I and stage II trained jointly (G forward once
 * through both stages, one D update of both discriminators, one G update); `--stage 1` and `--stage 2` run a
 * subset of it. The aten side is the family's real step (freshState + runStep) on random images with random
 * captions of max-len words (no padding, as the twin's), text encoder included. D's parameter count is both
 * stages' discriminators. Prints per run `aten ms/step=… torch ms/step=… ratio=…` (ratio = aten speed / PyTorch
 * speed), the mean, and the kernels that fell back from aten to the CPU backend during the real steps.
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { RunConfig } from '../src/gan/config.js';
import type { StepState } from '../src/gan/training_step.js';
import { discriminatorOf, extraNetwork } from '../src/gan/family.js';
import { STAGE1_DISCRIMINATOR } from '../src/models/stackgan.js';
import {
  benchThreads, CAPTION_WORDS, captionedFlags, captionedOptions, familyState, imageTable, paramCount, randomCaptioned, referenceDir, runTorchTwin, runTwinComparison,
  type CaptionedSpeedOptions, type TwinRate,
} from './step_bench.js';

interface StackganSpeedOptions extends CaptionedSpeedOptions { cDim: number; resBlocks: number }

/** G's own noise in StackGAN's latent (the paper's 100), beside the two stages' ε of c-dim each. */
const G_NOISE = 100;

function realState(o: StackganSpeedOptions): StepState {
  return familyState('stackgan', randomCaptioned(o), {
    batchSize: o.batch, width: o.width, latentDim: G_NOISE + 2 * o.cDim, cDim: o.cDim, resBlocks: o.resBlocks,
    wordDim: o.wordDim, textDim: o.textDim, stage: 'both',
  } as Partial<RunConfig>);
}

function torchRate(o: StackganSpeedOptions): TwinRate | null {
  return runTorchTwin([path.join(referenceDir, 'stackgan_torch.py'), '--size', String(o.size), '--batch', String(o.batch), '--steps', String(o.steps),
    '--warmup', String(o.warmup), '--threads', String(benchThreads()), '--width', String(o.width), '--nz', String(G_NOISE), '--c-dim', String(o.cDim),
    '--res-blocks', String(o.resBlocks), '--word-dim', String(o.wordDim), '--text-dim', String(o.textDim), '--max-len', String(o.maxLen),
    '--vocab', String(CAPTION_WORDS + 2)]);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { ...captionedFlags({ batch: '16', width: '32' }), 'c-dim': { type: 'string', default: '128' }, 'res-blocks': { type: 'string', default: '4' } },
  });
  const o: StackganSpeedOptions = { ...captionedOptions(values), cDim: Number(values['c-dim']), resBlocks: Number(values['res-blocks']) };
  await runTwinComparison({
    ...o, runs: Number(values.runs), profile: values.profile, label: 'stackgan',
    atenState: () => realState(o), torch: () => torchRate(o),
    atenParams: (state) =>
      `G=${paramCount(state.nets.generator)} D=${paramCount(discriminatorOf(state.nets)) + paramCount(extraNetwork(state.nets, STAGE1_DISCRIMINATOR, 'stackgan'))}`,
    headline: (aten, torch) => `stackgan (both stages) ${o.size}px batch ${o.batch} width ${o.width}: params aten ${aten}, torch ${torch}`,
    tableColumns: imageTable('stackgan', o),
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname) await main();
