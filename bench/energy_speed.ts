/**
 * Training speed of the energy-based families, ebgan and began, on the aten backend against their PyTorch twins
 * (bench/reference/ebgan_torch.py, began_torch.py: the same networks, batch, losses, update order and Adam), with the
 * same intra-op thread count and GOMP_SPINCOUNT on both sides; runs alternate aten and PyTorch.
 *
 *   npm run bench:energy-speed -- [--family ebgan,began] [--size 28] [--steps 10] [--warmup 2] [--runs 3]
 *        [--ebgan-batch 64] [--ebgan-width 64] [--began-batch 16] [--began-width 64] [--profile]
 *
 * The defaults are each family's defaults on Fashion-MNIST's 28×28×1 (ebgan: batch 64, width 64, z 100; began: the
 * paper's batch 16 and N_z = N_h = 64, width 64). The aten side is the family's real step (freshState + runStep) on
 * random images. Prints per run `aten ms/step=… torch ms/step=… ratio=…` (ratio = aten speed / PyTorch speed), the
 * kernels that fell back from aten to the CPU backend, and a table row per family.
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { RunConfig } from '../src/gan/config.js';
import type { ArraySource } from '../src/data/types.js';
import { Rng } from '../src/util/rng.js';
import { benchThreads, familyState, imageTable, referenceDir, runTorchTwin, runTwinComparison } from './step_bench.js';

interface EnergySpeedOptions { family: 'ebgan' | 'began'; size: number; batch: number; width: number; latent: number; steps: number; warmup: number }

/** Random uint8 grey images of side `size`. */
function randomImages(size: number, count = 64): ArraySource {
  const rng = new Rng(7);
  const values = Uint8Array.from({ length: count * size * size }, () => rng.int(256));
  return { kind: 'array', count, values, info: { name: 'random-grey', kind: 'image', shape: [size, size, 1], count } };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      family: { type: 'string', default: 'ebgan,began' }, size: { type: 'string', default: '28' }, steps: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' }, runs: { type: 'string', default: '3' }, profile: { type: 'boolean', default: false },
      'ebgan-batch': { type: 'string', default: '64' }, 'ebgan-width': { type: 'string', default: '64' },
      'began-batch': { type: 'string', default: '16' }, 'began-width': { type: 'string', default: '64' },
    },
  });
  for (const family of values.family.split(',') as EnergySpeedOptions['family'][]) {
    if (family !== 'ebgan' && family !== 'began') throw new Error(`--family: ebgan or began, got '${family}'`);
    const o: EnergySpeedOptions = {
      family, size: Number(values.size), batch: Number(values[`${family}-batch`]), width: Number(values[`${family}-width`]),
      latent: family === 'ebgan' ? 100 : 64, steps: Number(values.steps), warmup: Number(values.warmup),
    };
    await runTwinComparison({
      ...o, runs: Number(values.runs), profile: values.profile, label: family,
      atenState: () => familyState(family, randomImages(o.size), { batchSize: o.batch, width: o.width, latentDim: o.latent } as Partial<RunConfig>),
      torch: () => runTorchTwin([path.join(referenceDir, `${family}_torch.py`), '--size', String(o.size), '--batch', String(o.batch), '--width', String(o.width),
        '--latent', String(o.latent), '--steps', String(o.steps), '--warmup', String(o.warmup), '--threads', String(benchThreads())]),
      headline: (aten, torch) => `${family} ${o.size}px batch ${o.batch} width ${o.width}: params aten ${aten}, torch ${torch}`,
      tableColumns: imageTable(family, o),
    });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname) await main();
