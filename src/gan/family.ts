import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { DatasetInfo } from '../data/types.js';
import type { RunConfig } from './config.js';
import type { Rng } from '../util/rng.js';
import type { FamilyStep } from './step.js';

/** The two players. G: z [B, latentDim] → x [B, ...data shape]. D: x → logits [B, 1]. */
export interface GanNetworks {
  generator: tfl.LayersModel;
  discriminator: tfl.LayersModel;
  /**
   * Further networks, by name, each saved in checkpoints as a folder of that name: an encoder (bigan, aae), an
   * auxiliary head, or `EMA_GENERATOR`, the moving average of G's weights that sampling prefers.
   */
  extra?: Record<string, tfl.LayersModel>;
}

/** Name of the exponential moving average of G's weights (--ema-decay) among GanNetworks.extra. */
export const EMA_GENERATOR = 'generator-ema';

/** The generator to sample from: the EMA copy when the run keeps one (it is the better one), else G. */
export function samplingGenerator(nets: { generator: tfl.LayersModel; extra?: Record<string, tfl.LayersModel> }): tfl.LayersModel {
  return nets.extra?.[EMA_GENERATOR] ?? nets.generator;
}

/** Every network of a run, G and D first, with the name each is saved under. */
export function allNetworks(nets: GanNetworks): [string, tfl.LayersModel][] {
  return [['generator', nets.generator], ['discriminator', nets.discriminator], ...Object.entries(nets.extra ?? {})];
}

/** Optimizers of a run: G's, D's, and any further ones a family names (see GanFamily.extraOptimizers). */
export interface Optimizers {
  g: tf.Optimizer;
  d: tf.Optimizer;
  extra?: Record<string, tf.Optimizer>;
}

/**
 * A GAN family: one file in src/models that reads like its paper — network builders, the paper's
 * hyper-parameters as defaults — plus a registry line.
 */
export interface GanFamily {
  name: string;
  /** One line for `--help`. */
  summary: string;
  /** The paper it implements. */
  paper: string;
  /** What this family changes from DEFAULT_CONFIG, given the data (e.g. toy data wants smaller nets). */
  defaults(data: DatasetInfo): Partial<RunConfig>;
  /** null when the family can train on this data, else a sentence saying why not and what to do. */
  check(data: DatasetInfo, config: RunConfig): string | null;
  /** Build fresh networks; `rng` seeds every initializer so a seed reproduces the run. */
  build(data: DatasetInfo, config: RunConfig, rng: Rng): GanNetworks;
  /**
   * The family's own training step — its algorithm box: an n_critic loop, penalties, clipping, labels for a
   * conditional pair — composed from step.ts's phases (discriminatorPhase, generatorPhase, clipWeights).
   * Absent: the trainer uses `standardStep`, which is `adversarialStep` under the default config.
   *
   * Checkpoints hold every network in GanNetworks (extra ones included), every optimizer and the RNG/stream
   * state, so a family's further state (an encoder, a Q head) resumes exactly when it lives there.
   */
  step?: FamilyStep;
  /**
   * Names of further optimizers the step uses (built with G's learning rate and betas), e.g. aae's
   * reconstruction phase. An Adam keeps its moments by position in the variable list, so one optimizer must
   * always see the same list: a phase that updates another set of variables needs an optimizer of its own.
   */
  extraOptimizers?: readonly string[];
  /**
   * For a family whose latent carries codes at fixed places (infogan): `ganforge sample`'s latents, drawn from
   * `seed`, with the codes `--code NAME=VALUE` fixes and a `--vary NAME` sweep along `cols` grid columns (which
   * may set the count). Absent: z ~ N(0, I), and --code/--vary are refused.
   */
  sampleLatents?(config: RunConfig, seed: number, count: number, request: { code?: string[]; vary?: string }): { z: tf.Tensor2D; cols?: number };
}
