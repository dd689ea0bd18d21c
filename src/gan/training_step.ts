import * as tf from '@tensorflow/tfjs-core';
import type { DataSource } from '../data/types.js';
import type { GanFamily, GanNetworks, Optimizers } from './family.js';
import { allNetworks } from './family.js';
import type { RunConfig } from './config.js';
import { LOSSES } from './losses.js';
import { standardStep, type StepStats } from './step.js';
import { latents } from './sampling.js';
import { disposeOptimizers, makeOptimizers } from './optimizers.js';
import { BatchStream } from '../data/batches.js';
import { Rng } from '../util/rng.js';
import { UserError } from '../util/errors.js';
import { attachTrickNetworks, bindStepTricks, releaseStepTricks, trickProblem, updateAverages } from './tricks/index.js';

/** What one training step reads and moves: the trainer's state minus its files. */
export interface StepState {
  config: RunConfig;
  family: GanFamily;
  nets: GanNetworks;
  optimizers: Optimizers;
  stream: BatchStream;
  latentRng: Rng;
  /** Steps completed so far; runStep advances it. */
  step: number;
}

/**
 * One training step exactly as `ganforge train` runs it: draw a real batch and latents from the run's
 * checkpointed stream and RNG, the family's step (or the standard one) with the run's tricks bound, then
 * the post-step weight averages (EMA, historical averaging).
 * Every caller (the trainer, tests, benchmarks) goes through here, so they train the same thing.
 */
export function runStep(state: StepState): StepStats {
  const { config } = state;
  const batch = state.stream.next(); // x: [B, ...shape]
  const z = latents(state.latentRng, config.batchSize, config.latentDim); // [B, latentDim]
  const familyStep = state.family.step ?? standardStep;
  // The run's stabilising tricks act inside the shared D and G phases for this step (none unless configured).
  bindStepTricks(state.nets, config, state.step, state.latentRng);
  let stats: StepStats;
  try {
    stats = familyStep({
      nets: state.nets, opt: state.optimizers, loss: LOSSES[config.loss], config, step: state.step,
      real: batch.x, labels: batch.labels, z,
      nextBatch: () => state.stream.next(),
      latents: () => latents(state.latentRng, config.batchSize, config.latentDim),
      rng: state.latentRng,
    });
  } catch (e) {
    releaseStepTricks(state.nets); // frees what the tricks kept (a diverging step may throw)
    throw e;
  }
  const trickStats = releaseStepTricks(state.nets); // e.g. 'trick/noise-sigma'
  if (Object.keys(trickStats).length > 0) stats = { ...stats, extra: { ...stats.extra, ...trickStats } };
  tf.dispose([batch.x, batch.labels, z].filter((t) => t !== undefined));
  state.step++;
  // EMA of G (--ema-decay) and historical averages of the weights (--historical-averaging): after the updates.
  updateAverages(state.nets, config, state.step);
  return stats;
}

/**
 * A run's starting state (startRun wraps it in a Trainer; tests and benchmarks use it bare): the family's
 * networks and the tricks' copies, its optimizers, a batch stream and the latent RNG. One seed is split per
 * concern, so changing e.g. the data order leaves the initial weights alone.
 */
export function freshState(family: GanFamily, source: DataSource, config: RunConfig): StepState {
  const root = new Rng(config.seed);
  const problem = trickProblem(source.info, config);
  if (problem) throw new UserError(problem);
  const nets = family.build(source.info, config, root.fork());
  attachTrickNetworks(nets, config); // EMA of G, historical averages
  const stream = new BatchStream(source, { batchSize: config.batchSize, rng: root.fork() });
  const latentRng = root.fork();
  return { config, family, nets, optimizers: makeOptimizers(config, family.extraOptimizers), stream, latentRng, step: 0 };
}

/** Free every network and optimizer of a state. */
export function disposeState(state: StepState): void {
  for (const [, model] of allNetworks(state.nets)) model.dispose();
  disposeOptimizers(state.optimizers);
}
