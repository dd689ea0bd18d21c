/**
 * Training speed of vaegan on the aten backend against its PyTorch twin (bench/reference/vaegan_step.py: the same
 * encoder, decoder and D, batch, latent, feature layer, the three updates in the same order with the same losses,
 * RMSProp), with the same intra-op thread count and GOMP_SPINCOUNT on both sides; runs alternate aten and PyTorch.
 *
 *   npm run bench:vaegan-speed -- [--size 28] [--batch 32] [--width 32] [--latent 128] [--layer 3]
 *        [--steps 5] [--warmup 2] [--runs 3] [--profile]
 *
 * The aten side is the family's real step (freshState + runStep) on random images of the size. Prints per run
 * `aten ms/step=… torch ms/step=… ratio=…` (ratio = aten speed / PyTorch speed), the mean ± std, and the kernels
 * that fell back from aten to the CPU backend during the real steps.
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { RunConfig } from '../src/gan/config.js';
import type { StepState } from '../src/gan/training_step.js';
import type { ArraySource } from '../src/data/types.js';
import { discriminatorOf } from '../src/gan/family.js';
import { vaeganEncoder } from '../src/models/vaegan.js';
import { Rng } from '../src/util/rng.js';
import { benchThreads, familyState, imageTable, paramCount, referenceDir, runTorchTwin, runTwinComparison, type TwinRate } from './step_bench.js';

interface VaeGanSpeedOptions {
  size: number;
  batch: number;
  width: number;
  latent: number;
  layer: number;
  steps: number;
  warmup: number;
}

/** 256 random grey images of the size, uint8 as the loaders give them. */
function randomImages(size: number): ArraySource {
  const rng = new Rng(1);
  const count = 256;
  const values = Uint8Array.from({ length: count * size * size }, () => Math.floor(rng.uniform() * 256));
  return { kind: 'array', count, values, info: { name: 'random', kind: 'image', shape: [size, size, 1], count } };
}

/** The balance rule off (margin 0): every step updates all three players, as the twin does. */
function realState(o: VaeGanSpeedOptions): StepState {
  return familyState('vaegan', randomImages(o.size), { batchSize: o.batch, width: o.width, latentDim: o.latent, featureLayer: o.layer, equilibriumMargin: 0 } as Partial<RunConfig>);
}

function torchRate(o: VaeGanSpeedOptions): TwinRate | null {
  return runTorchTwin([path.join(referenceDir, 'vaegan_step.py'), '--size', String(o.size), '--batch', String(o.batch), '--width', String(o.width),
    '--latent', String(o.latent), '--layer', String(o.layer), '--steps', String(o.steps), '--warmup', String(o.warmup), '--threads', String(benchThreads())]);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      size: { type: 'string', default: '28' }, batch: { type: 'string', default: '32' }, width: { type: 'string', default: '32' },
      latent: { type: 'string', default: '128' }, layer: { type: 'string', default: '3' }, steps: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '2' }, runs: { type: 'string', default: '3' }, profile: { type: 'boolean', default: false },
    },
  });
  const o: VaeGanSpeedOptions = {
    size: Number(values.size), batch: Number(values.batch), width: Number(values.width), latent: Number(values.latent), layer: Number(values.layer),
    steps: Number(values.steps), warmup: Number(values.warmup),
  };
  await runTwinComparison({
    ...o, runs: Number(values.runs), profile: values.profile, label: 'vaegan',
    atenState: () => realState(o), torch: () => torchRate(o),
    atenParams: (s) => `G=${paramCount(s.nets.generator)} D=${paramCount(discriminatorOf(s.nets))} E=${paramCount(vaeganEncoder(s.nets))}`,
    headline: (aten, torch) => `vaegan ${o.size}px batch ${o.batch} width ${o.width} latent ${o.latent} Dis_${o.layer}: params aten ${aten}, torch ${torch}`,
    tableColumns: imageTable('vaegan', o),
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname) await main();
