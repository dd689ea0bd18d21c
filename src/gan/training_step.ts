import * as tf from '@tensorflow/tfjs-core';
import { providedConditions, type DataSource, type DatasetInfo } from '../data/types.js';
import type { FamilyState, GanFamily, GanNetworks, Optimizers, StepStats } from './family.js';
import { DATA_KIND_WORDS, DEFAULT_DATA_KINDS, allNetworks, conditionOf, playersOf } from './family.js';
import type { RunConfig } from './config.js';
import { LOSSES } from './losses.js';
import { standardStep } from './step.js';
import { latents } from './sampling.js';
import { applySchedule, disposeOptimizers, makeOptimizers } from './optimizers.js';
import { BatchStream, shardRange, type Shard } from '../data/batches.js';
import { averageGradientsOver, meanOverRanks, rankRng, rowsOf, shardOf, weightsFromRoot, type Collectives } from './replicas.js';
import { Rng } from '../util/rng.js';
import { UserError } from '../util/errors.js';
import { abandonStepTricks, attachTrickNetworks, bindStepTricks, createTrickState, releaseStepTricks, trickProblem, updateAverages, type TrickState } from './tricks/index.js';

/** What one training step reads and moves: the trainer's state minus its files. */
export interface StepState {
  config: RunConfig;
  family: GanFamily;
  /** What the data is (shape, classes, input domain). */
  data: DatasetInfo;
  nets: GanNetworks;
  optimizers: Optimizers;
  stream: BatchStream;
  latentRng: Rng;
  /** Steps completed so far; runStep advances it. */
  step: number;
  /** The family's own state (GanFamily.createState), when it keeps one. */
  familyState?: FamilyState;
  /** The tricks' own state (ADA's p), when a configured trick keeps one (createTrickState). */
  tricks?: TrickState;
  /** The ranks of a data-parallel run (absent when training alone): the stream then yields this rank's share. */
  group?: Collectives;
}

/**
 * One training step exactly as `ganforge train` runs it: draw a real batch and latents from the run's
 * checkpointed stream and RNG, the family's step (or the standard one) with the run's tricks bound, then
 * the post-step weight averages (EMA, historical averaging).
 * Every caller (the trainer, tests, benchmarks) goes through here, so they train the same thing.
 */
export function runStep(state: StepState): StepStats {
  const { config } = state;
  const batch = state.stream.next(); // x: [B, ...shape] (this rank's share of the global batch when sharded)
  const shard = shardOf(state.group);
  // The step's latents: the global batch's, of which each rank takes its rows, so N ranks see exactly the
  // examples and latents one process would; other noise comes from a generator of the rank's own.
  const z = shard ? rankLatents(state.latentRng, config, shard) : latents(state.latentRng, config.batchSize, config.latentDim); // [B, latentDim]
  const rng = shard ? rankRng(state.latentRng, shard) : state.latentRng;
  const local = batch.x.shape[0];
  const familyStep = state.family.step ?? standardStep;
  // Every player's learning rate at this step (--lr-schedule); a no-op for constant rates.
  applySchedule(state.optimizers, playersOf(state.family), config, state.step);
  // The run's stabilising tricks act inside the shared D and G phases for this step (none unless configured).
  bindStepTricks(state.nets, config, state.step, rng, { tricks: state.tricks, group: state.group });
  let stats: StepStats;
  try {
    stats = familyStep({
      nets: state.nets, opt: state.optimizers, loss: LOSSES[config.loss], config, step: state.step,
      data: state.data, condition: conditionOf(state.family, state.data),
      real: batch.x, labels: batch.labels, input: batch.input, text: batch.text, z,
      nextBatch: () => state.stream.next(),
      latents: () => latents(rng, local, config.latentDim),
      rng,
      state: state.familyState,
      ...(state.group && state.group.worldSize > 1 ? { groupMean: (values: number[]) => meanOverRanks(state.group!, values) } : {}),
    });
  } catch (e) {
    abandonStepTricks(state.nets); // frees what the tricks kept (a diverging step may throw)
    throw e;
  }
  const trickStats = releaseStepTricks(state.nets); // e.g. 'trick/noise-sigma', 'aug/p' (ADA moves p here)
  if (Object.keys(trickStats).length > 0) stats = { ...stats, extra: { ...stats.extra, ...trickStats } };
  tf.dispose([batch.x, batch.labels, batch.input, batch.text?.tokens, batch.text?.lengths, z].filter((t) => t !== undefined));
  state.step++;
  // EMA of G (--ema-decay) and historical averages of the weights (--historical-averaging): after the updates.
  updateAverages(state.nets, config, state.step);
  return stats;
}

/** Rank `shard.rank`'s rows of the global batch's latents (drawn whole from the shared RNG on every rank). */
function rankLatents(shared: Rng, config: RunConfig, shard: Shard): tf.Tensor2D {
  const rows = shardRange(config.batchSize, shard);
  return tf.tensor2d(rowsOf(shared.normals(config.batchSize * config.latentDim), config.latentDim, rows), [rows[1] - rows[0], config.latentDim]);
}

/**
 * A run's starting state (startRun wraps it in a Trainer; tests and benchmarks use it bare): the family's
 * networks and the tricks' copies, its optimizers, a batch stream and the latent RNG. One seed is split per
 * concern, so changing e.g. the data order leaves the initial weights alone.
 */
export function freshState(family: GanFamily, source: DataSource, config: RunConfig, group?: Collectives): StepState {
  const root = new Rng(config.seed);
  const problem = conditionProblem(family, source.info) ?? trickProblem(source.info, config);
  if (problem) throw new UserError(problem);
  const nets = family.build(source.info, config, root.fork());
  attachTrickNetworks(nets, config); // EMA of G, historical averages
  const stream = new BatchStream(source, { batchSize: config.batchSize, rng: root.fork(), shard: shardOf(group) });
  const latentRng = root.fork();
  let optimizers = makeOptimizers(config, playersOf(family));
  if (group) {
    weightsFromRoot(nets, group);
    optimizers = averageGradientsOver(optimizers, group);
  }
  return {
    config, family, data: source.info, nets, optimizers, stream, latentRng, step: 0,
    familyState: family.createState?.(source.info, config), tricks: createTrickState(config), group,
  };
}

/** null when the data provides the condition the family consumes, else a sentence saying what data it needs. */
export function conditionProblem(family: GanFamily, data: DatasetInfo): string | null {
  const kinds = family.dataKinds ?? DEFAULT_DATA_KINDS;
  if (!kinds.includes(data.kind)) {
    return `${family.name} trains on ${kinds.map((k) => DATA_KIND_WORDS[k]).join(' or ')}, and ${data.name} is ${DATA_KIND_WORDS[data.kind]}; ` +
      `'ganforge models' lists the families, each with the data it takes`;
  }
  const wanted = conditionOf(family, data);
  const provided = providedConditions(data);
  if (provided.includes(wanted)) return null;
  const needs: Record<string, string> = {
    class: data.kind === 'sequence' ? "series with classes: csv:FILE with --condition-column COLUMN (each series' class; --id-column splits the file into series), or sensors --condition-column indoor" : 'labelled data (mnist, fashion-mnist, toy:ring8, or folder:PATH with one sub-folder per class)',
    image: 'pairs or two domains of images (paired:DIR, aligned:DIR, unpaired:DIR, edges:SPEC, gray:SPEC, masked:SPEC, lowres:SPEC, openmoji)',
  };
  return `${family.name} consumes a ${wanted} condition, and ${data.name} provides ${provided.filter((k) => k !== 'none').join(', ') || 'none'}; ` +
    `train it on ${needs[wanted] ?? `data with a ${wanted} condition`}`;
}

/** Free every network, optimizer and family state of a state, and end its stream's decode threads. */
export function disposeState(state: StepState): void {
  for (const [, model] of allNetworks(state.nets)) model.dispose();
  disposeOptimizers(state.optimizers);
  state.familyState?.dispose();
  state.stream.close();
}
