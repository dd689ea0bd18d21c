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
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { RunConfig } from '../src/gan/config.js';
import { runStep, type StepState } from '../src/gan/training_step.js';
import { sinesSource } from '../src/data/sequences.js';
import type { TimeganSettings } from '../src/models/timegan.js';
import { benchThreads, fallbackList, familyState, meanStd, meanStdOrNa, referenceDir, runTorchTwin, runTwinComparison, type TwinRate } from './step_bench.js';

interface TimeganSpeedOptions { batch: number; window: number; features: number; hidden: number; layers: number; steps: number; warmup: number }

/** A fresh timegan state with phases 1 and 2 behind it: the next steps are joint ones. */
function jointState(o: TimeganSpeedOptions): StepState {
  const own: Partial<RunConfig & TimeganSettings> = { batchSize: o.batch, hidden: o.hidden, gruLayers: o.layers, embeddingSteps: 1, supervisedSteps: 1 };
  const state = familyState('timegan', sinesSource({ count: 1024, window: o.window, features: o.features }), own);
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
  await runTwinComparison({
    ...o, runs: Number(values.runs), profile: values.profile, label: 'timegan joint step', stepsName: 'joint steps',
    atenState: () => jointState(o), torch: () => torchRate(o),
    headline: (aten, torch) => `timegan joint step, batch ${o.batch}, T ${o.window}, F ${o.features}, GRU ${o.layers}×${o.hidden}: params aten ${aten}, torch ${torch}`,
    tableColumns: [
      ['family', () => 'timegan (joint)'], ['batch', () => String(o.batch)], ['T', () => String(o.window)], ['F', () => String(o.features)],
      ['GRU', () => `${o.layers}×${o.hidden}`], ['aten ms/step', (s) => meanStd(s.atenMs, 1)], ['torch ms/step', (s) => meanStdOrNa(s.torchMs, 1)],
      ['aten/torch speed (wall)', (s) => meanStdOrNa(s.ratios, 2)], ['per CPU-second', (s) => meanStdOrNa(s.cpuRatios, 2)], ['aten fallbacks', fallbackList],
    ],
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname) await main();
