/**
 * What V8's garbage collector costs a training step: a family's real step (freshState + runStep) on random captioned
 * images, the collections during `--steps` steps after `--warmup` read from perf_hooks, per step. tfjs allocates
 * a few kilobytes of short-lived JS objects per kernel (tensors, tape nodes, closures) and a step's tape keeps them
 * alive until its backward pass ends, so the young generation's size decides how much each scavenge copies:
 *
 *   node --single-threaded dist/bench/gc_step.js [--model dfgan] [--size 32] [--batch 8] [--width 16] [--steps 20]
 *   node --single-threaded --max-semi-space-size=32 dist/bench/gc_step.js …     # what `ganforge` runs with
 *
 * Prints `minor GCs n/step, ms/step; major …` and the step's wall time (which moves with the machine's load; the
 * GC figures much less).
 */
import { parseArgs } from 'node:util';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { initBackend } from '../src/backend/index.js';
import { disposeState, runStep } from '../src/gan/training_step.js';
import type { RunConfig } from '../src/gan/config.js';
import { familyState, randomCaptioned } from './step_bench.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'dfgan' }, size: { type: 'string', default: '32' }, batch: { type: 'string', default: '8' },
    width: { type: 'string', default: '16' }, steps: { type: 'string', default: '20' }, warmup: { type: 'string', default: '5' },
  },
});
const steps = Number(values.steps), warmup = Number(values.warmup);

await initBackend({ prefer: 'aten', quiet: true });
const state = familyState(values.model!, randomCaptioned({ size: Number(values.size), maxLen: 12 }),
  { batchSize: Number(values.batch), width: Number(values.width) } as Partial<RunConfig>);
for (let i = 0; i < warmup; i++) runStep(state);

const collections: PerformanceEntry[] = [];
const observer = new PerformanceObserver((list) => collections.push(...list.getEntries()));
observer.observe({ entryTypes: ['gc'] });
const t0 = performance.now();
for (let i = 0; i < steps; i++) runStep(state);
const wall = (performance.now() - t0) / steps;
await new Promise((resolve) => setTimeout(resolve, 20)); // gc entries arrive on the event loop
observer.disconnect();
disposeState(state);

const minor = collections.filter((e) => (e as PerformanceEntry & { detail?: { kind: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR);
const major = collections.filter((e) => !minor.includes(e));
const perStep = (list: PerformanceEntry[]) => `${(list.length / steps).toFixed(2)}/step, ${(list.reduce((s, e) => s + e.duration, 0) / steps).toFixed(2)} ms/step`;
console.log(`${values.model} ${values.size}px batch ${values.batch} [${process.execArgv.join(' ')}]: step ${wall.toFixed(1)} ms; ` +
  `minor GCs ${perStep(minor)}; major GCs ${perStep(major)}`);
