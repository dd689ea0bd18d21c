import type * as tfl from '@tensorflow/tfjs-layers';
import type { DatasetInfo } from '../data/types.js';
import type { RunConfig } from './config.js';
import type { Rng } from '../util/rng.js';

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
}
