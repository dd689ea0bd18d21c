import type * as tfl from '@tensorflow/tfjs-layers';
import type { DatasetInfo } from '../data/types.js';
import type { RunConfig } from './config.js';
import type { Rng } from '../util/rng.js';
import type { FamilyStep } from './step.js';

/** The two players. G: z [B, latentDim] → x [B, ...data shape]. D: x → logits [B, 1]. */
export interface GanNetworks {
  generator: tfl.LayersModel;
  discriminator: tfl.LayersModel;
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
   * Checkpoints hold G, D, their two optimizers and the RNG/stream state, nothing else. A family that keeps
   * more state (an extra network such as InfoGAN's Q head or BiGAN's encoder, a third optimizer, an EMA copy
   * of G) must fold it into G or D (e.g. as another output of D) — such state is not yet saved on its own.
   */
  step?: FamilyStep;
}
