/**
 * One rank of the data-parallel tests (started by data_parallel.test.ts with RANK/WORLD_SIZE/MASTER_* set, or
 * with none of them as the one-process reference). Writes what it trained to the JSON file named last.
 *
 *   equivalence FAMILY CLIP STEPS OUT   the family's step (--grad-clip CLIP) on global batches it builds itself, each rank on its rows
 *   replicas STEPS [ada] OUT       dcgan (batch norm) through runStep, as `ganforge train` runs it (ada: with --ada-target)
 */
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { promises as fs } from 'node:fs';
import { initBackend } from '../../src/backend/index.js';
import { joinGroup, rankEnv } from '../../src/distributed/group.js';
import { getModel } from '../../src/models/registry.js';
import { resolveFamilyConfig } from '../../src/gan/config.js';
import { allNetworks } from '../../src/gan/family.js';
import { standardStep, trainableVariables } from '../../src/gan/step.js';
import { LOSSES } from '../../src/gan/losses.js';
import { freshState, runStep } from '../../src/gan/training_step.js';
import { bindStepTricks, releaseStepTricks } from '../../src/gan/tricks/index.js';
import { shardRange } from '../../src/data/batches.js';
import { RING8, mixtureSource } from '../../src/data/toy2d.js';
import type { Collectives } from '../../src/gan/replicas.js';
import type { ArraySource } from '../../src/data/types.js';
import { Rng } from '../../src/util/rng.js';

await initBackend({ prefer: 'aten', quiet: true });
const [mode, ...args] = process.argv.slice(2);
const env = rankEnv();
const joined = env && env.worldSize > 1 ? await joinGroup(env) : undefined;
const rank = joined?.rank ?? 0;
const world = joined?.worldSize ?? 1;

/** Records what each averaging returned (the gradients an update applied) while `recording` is on. */
let recording = false;
const averaged: number[][] = [];
const alone: Collectives = {
  rank: 0, worldSize: 1, average: (ts) => ts.map((t) => t.clone()), fromRoot: (ts) => ts.map((t) => t.clone()),
  max: async (v) => v, barrier: async () => {},
};
const inner = joined ?? alone;
const group: Collectives = {
  ...inner,
  rank, worldSize: world,
  average(ts) {
    const out = inner.average(ts);
    if (recording) averaged.push(...out.map((t) => Array.from(t.dataSync())));
    return out;
  },
  max: (v) => inner.max(v),
  barrier: () => inner.barrier(),
};

function weights(nets: Parameters<typeof allNetworks>[0]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [name, model] of allNetworks(nets)) {
    trainableVariables(model).forEach((v, i) => (out[`${name}/${i}`] = Array.from(v.dataSync())));
  }
  return out;
}

if (mode === 'equivalence') {
  const [name, clip, stepsArg, out] = args;
  const family = getModel(name);
  const source = mixtureSource(RING8);
  const config = resolveFamilyConfig(family.settings ?? {}, family.defaults(source.info), { model: name, batchSize: 8, hidden: 16, latentDim: 4, nCritic: 1, seed: 3, gradClip: Number(clip) });
  const state = freshState(family, source, config, group);
  const B = config.batchSize;
  const [lo, hi] = shardRange(B, { rank, count: world });
  for (let k = 0; k < Number(stepsArg); k++) {
    // The global batch, latents and per-example noise (GP's ε) of step k, the same on every rank; each rank
    // takes its rows, and its noise generator starts where its rows' numbers start in the global sequence.
    const x = new Rng(100 + k).normals(B * 2);
    const z = new Rng(200 + k).normals(B * config.latentDim);
    const rng = new Rng(300 + k);
    for (let i = 0; i < lo; i++) rng.uniform();
    const real = tf.tensor2d(x.subarray(lo * 2, hi * 2), [hi - lo, 2]);
    const zz = tf.tensor2d(z.subarray(lo * config.latentDim, hi * config.latentDim), [hi - lo, config.latentDim]);
    recording = k === 0;
    const tricks = bindStepTricks(state.nets, config, k, rng); // --grad-clip acts in the phases
    (family.step ?? standardStep)({
      nets: state.nets, opt: state.optimizers, loss: LOSSES[config.loss], config, step: k, data: source.info, condition: 'none',
      real, z: zz, rng, state: state.familyState,
      nextBatch: () => { throw new Error('nCritic 1: no further batch expected'); },
      latents: () => { throw new Error('nCritic 1: no further latents expected'); },
    });
    recording = false;
    if (tricks) releaseStepTricks(state.nets);
    tf.dispose([real, zz]);
  }
  await fs.writeFile(out, JSON.stringify({ rank, world, weights: weights(state.nets), grads: averaged }));
} else if (mode === 'replicas') {
  const [stepsArg] = args;
  const out = args.at(-1)!;
  const ada = args.includes('ada') ? { adaTarget: 0.6, adaInterval: 2, adaKimg: 0.032, adaP: 0.5 } : {};
  // vaegan: three players, and its balance rule decides from D's cross-entropies, which differ between ranks.
  const model = args.includes('vaegan') ? 'vaegan' : 'dcgan';
  const family = getModel(model);
  const n = 32;
  const values = new Uint8Array(n * 16 * 16);
  const fill = new Rng(9);
  for (let i = 0; i < values.length; i++) values[i] = Math.floor(fill.uniform() * 256);
  const source: ArraySource = { kind: 'array', info: { name: 'noise16', kind: 'image', shape: [16, 16, 1], count: n }, count: n, values };
  const config = resolveFamilyConfig(family.settings ?? {}, family.defaults(source.info), { model, batchSize: 8, width: 8, latentDim: 8, seed: 5, ...ada });
  const state = freshState(family, source, config, group);
  const before = weights(state.nets);
  const tensors: number[] = [];
  const augStats: (number | null)[][] = [];
  const balance: (number | null)[][] = [];
  for (let k = 0; k < Number(stepsArg); k++) {
    const s = runStep(state);
    tensors.push(tf.memory().numTensors);
    augStats.push([s.extra?.['aug/p'] ?? null, s.extra?.['aug/rt'] ?? null]);
    balance.push(['balance/bce_real', 'balance/bce_fake', 'balance/d_moved', 'balance/decoder_moved'].map((k) => s.extra?.[k] ?? null));
  }
  await fs.writeFile(out, JSON.stringify({ rank, world, before, weights: weights(state.nets), tensors, augStats, balance }));
} else {
  throw new Error(`unknown mode ${mode}`);
}
joined?.leave();
