/**
 * One rank of bench:ddp's speed figure (bench/ddp.ts starts 1 or N of these): the DCGAN of bench:backend
 * (28×28×1, batch `--batch` global) trained through runStep exactly as `ganforge train` does, with the
 * gradients averaged over the group when RANK/WORLD_SIZE are set. Rank 0 prints `img/s N` (global images per
 * second) after a warm-up, timed between two barriers; with a group, each rank says on stderr how much of a step
 * its gradient all-reduces took.
 */
import '@tensorflow/tfjs-layers';
import { initBackend } from '../src/backend/index.js';
import { joinGroup, rankEnv } from '../src/distributed/group.js';
import { dcgan } from '../src/models/dcgan.js';
import { resolveFamilyConfig } from '../src/gan/config.js';
import { disposeState, freshState, runStep } from '../src/gan/training_step.js';
import type { ArraySource } from '../src/data/types.js';
import { Rng } from '../src/util/rng.js';

const arg = (flag: string, fallback: number) => (process.argv.includes(flag) ? Number(process.argv[process.argv.indexOf(flag) + 1]) : fallback);
const steps = arg('--steps', 30);
const warmup = arg('--warmup', 5);
const batch = arg('--batch', 64);

await initBackend({ prefer: 'aten', quiet: true });
const env = rankEnv();
const group = env && env.worldSize > 1 ? await joinGroup(env) : undefined;
// Time spent in the gradient all-reduces (the transfer plus waiting for the other ranks), reported on stderr.
let averaging = 0;
if (group) {
  const average = group.average;
  group.average = (tensors) => {
    const t0 = performance.now();
    const out = average(tensors);
    averaging += performance.now() - t0;
    return out;
  };
}

// Uniform noise images as in the PyTorch twin: only compute and communication are measured.
const n = 1024;
const values = new Uint8Array(n * 28 * 28);
const fill = new Rng(7);
for (let i = 0; i < values.length; i++) values[i] = Math.floor(fill.uniform() * 256);
const source: ArraySource = { kind: 'array', info: { name: 'noise', kind: 'image', shape: [28, 28, 1], count: n }, count: n, values };
const config = resolveFamilyConfig(dcgan.settings ?? {}, dcgan.defaults(source.info), { model: 'dcgan', batchSize: batch, seed: 0 });
const state = freshState(dcgan, source, config, group);
for (let i = 0; i < warmup; i++) runStep(state);
averaging = 0;
await group?.barrier();
const t0 = performance.now();
for (let i = 0; i < steps; i++) runStep(state);
await group?.barrier();
const seconds = (performance.now() - t0) / 1000;
if ((group?.rank ?? 0) === 0) console.log(`img/s ${((steps * batch) / seconds).toFixed(1)}`);
if (group) process.stderr.write(`rank ${group.rank}: step ${((seconds * 1000) / steps).toFixed(1)} ms, all-reduce ${(averaging / steps).toFixed(1)} ms/step\n`);
disposeState(state);
group?.leave();
