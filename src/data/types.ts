import type * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../util/rng.js';

/** What a model needs to know about its data before it is built. */
export interface DatasetInfo {
  /** e.g. 'fashion-mnist', 'mnist', 'folder:/path', 'toy:ring8' */
  name: string;
  kind: 'image' | 'points';
  /** Shape of one example: [H, W, C] for images, [D] for points. */
  shape: number[];
  /** Number of classes when examples carry labels. */
  numClasses?: number;
  classNames?: string[];
  /** Number of stored examples; undefined for sampled (infinite) sources. */
  count?: number;
}

/**
 * Data held in memory. Images are uint8 NHWC (0–255) and become floats in [-1, 1] when batched;
 * points are float32 [N, D] used as they are.
 */
export interface ArraySource {
  kind: 'array';
  info: DatasetInfo;
  count: number;
  /** uint8 [N, H, W, C] for images, float32 [N, D] for points. */
  values: Uint8Array | Float32Array;
  /** int32 [N] class labels, when the data has them. */
  labels?: Int32Array;
  /** How many input files were skipped as unreadable (image folders loaded with `skipBad`). */
  skipped?: number;
}

/** Data drawn afresh on every batch from a known distribution (the 2-D toy mixtures). */
export interface SamplerSource {
  kind: 'sampler';
  info: DatasetInfo;
  /** Draw n examples: values float32 [n, ...shape], labels int32 [n] (e.g. the mixture component). */
  sample(n: number, rng: Rng): { values: Float32Array; labels?: Int32Array };
}

export type DataSource = ArraySource | SamplerSource;

/** One training batch. x: [B, ...shape] float32 (images in [-1, 1]); labels: [B] int32. */
export interface Batch {
  x: tf.Tensor;
  labels?: tf.Tensor1D;
}
