/**
 * Training speed of agecgan on the aten backend against its PyTorch twin (bench/reference/agecgan_torch.py: the
 * same G, conditional D and latent encoder E, batch, non-saturating loss with one-hot bins in both players, update
 * order D, G, E and Adam), with the same intra-op thread count and GOMP_SPINCOUNT on both sides; runs alternate
 * aten and PyTorch.
 *
 *   node dist/bench/agecgan_speed.js [--size 28] [--channels 1] [--bins 5] [--batch 64] [--width 32] [--steps 5]
 *        [--warmup 2] [--runs 2] [--profile]
 *
 * The timed step is the one agecgan runs at every training step (agecganStep): the cGAN's D and G updates, then
 * E's update on a fresh generated batch. The edit's latent search runs only in `ganforge edit`, not here. The
 * defaults are `npm run bench:agecgan`'s (mnist-thickness: 28 px grey, 5 bins, batch 64, width 32). The aten side
 * is the family's real step (freshState + runStep) on random images with random bins. Prints per run `aten
 * ms/step=… torch ms/step=… ratio=…` (ratio = aten speed / PyTorch speed), the mean, and the kernels that fell
 * back from aten to the CPU backend during the real steps.
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { AGE_ENCODER } from '../src/models/agecgan.js';
import { discriminatorOf, extraNetwork } from '../src/gan/family.js';
import type { RunConfig } from '../src/gan/config.js';
import type { StepState } from '../src/gan/training_step.js';
import type { ArraySource } from '../src/data/types.js';
import { Rng } from '../src/util/rng.js';
import { benchThreads, familyState, imageTable, paramCount, referenceDir, runTorchTwin, runTwinComparison, type TwinRate } from './step_bench.js';

interface AgecganSpeedOptions {
  size: number;
  channels: number;
  bins: number;
  batch: number;
  width: number;
  steps: number;
  warmup: number;
}

/** Random uint8 images, each with a random one of `bins` ordered bins. */
function randomOrdinal(o: AgecganSpeedOptions, count = 256): ArraySource {
  const rng = new Rng(7);
  const values = Uint8Array.from({ length: count * o.size * o.size * o.channels }, () => rng.int(256));
  const labels = Int32Array.from({ length: count }, () => rng.int(o.bins));
  const classNames = Array.from({ length: o.bins }, (_, i) => `bin${i}`);
  return {
    kind: 'array', count, values, labels,
    info: { name: 'random-ordinal', kind: 'image', shape: [o.size, o.size, o.channels], count, numClasses: o.bins, classNames, ordinal: true },
  };
}

function realState(o: AgecganSpeedOptions): StepState {
  return familyState('agecgan', randomOrdinal(o), { batchSize: o.batch, width: o.width } as Partial<RunConfig>);
}

function torchRate(o: AgecganSpeedOptions): TwinRate | null {
  return runTorchTwin([path.join(referenceDir, 'agecgan_torch.py'), '--size', String(o.size), '--channels', String(o.channels), '--bins', String(o.bins),
    '--batch', String(o.batch), '--steps', String(o.steps), '--warmup', String(o.warmup), '--threads', String(benchThreads()), '--width', String(o.width)]);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      size: { type: 'string', default: '28' }, channels: { type: 'string', default: '1' }, bins: { type: 'string', default: '5' },
      batch: { type: 'string', default: '64' }, width: { type: 'string', default: '32' }, steps: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '2' }, runs: { type: 'string', default: '2' }, profile: { type: 'boolean', default: false },
    },
  });
  const o: AgecganSpeedOptions = {
    size: Number(values.size), channels: Number(values.channels), bins: Number(values.bins), batch: Number(values.batch),
    width: Number(values.width), steps: Number(values.steps), warmup: Number(values.warmup),
  };
  await runTwinComparison({
    ...o, runs: Number(values.runs), profile: values.profile, label: 'agecgan',
    atenState: () => realState(o), torch: () => torchRate(o),
    atenParams: (state) => `G=${paramCount(state.nets.generator)} D=${paramCount(discriminatorOf(state.nets))} E=${paramCount(extraNetwork(state.nets, AGE_ENCODER, 'agecgan'))}`,
    headline: (aten, torch) => `agecgan ${o.size}px×${o.channels} ${o.bins} bins batch ${o.batch} width ${o.width}: params aten ${aten}, torch ${torch}`,
    tableColumns: imageTable('agecgan', o),
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname) await main();
