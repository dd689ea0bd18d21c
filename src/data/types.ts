import type * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../util/rng.js';

/**
 * What an example can carry besides its target x, and what a family can consume: nothing, a class id, a
 * vector, an image (image-to-image translation), a text or a sequence. A family declares the one it
 * consumes (GanFamily.condition), a dataset what it provides (providedConditions); a mismatch is a clear
 * error before anything is built.
 */
export const CONDITION_KINDS = ['none', 'class', 'vector', 'image', 'text', 'sequence'] as const;
export type ConditionKind = (typeof CONDITION_KINDS)[number];

/** An image condition: the input domain A of a translation task (the target x is domain B). */
export interface ImageConditionInfo {
  /** Shape of one input image [H, W, C]. */
  shape: number[];
  /** paired: input i belongs to target i (pix2pix); unpaired: the two domains are drawn independently (CycleGAN). */
  pairing: 'paired' | 'unpaired';
  /** Names of the two domains, for messages and pictures: [A, B]. */
  domains: [string, string];
}

/**
 * A text condition: every example has one or more captions, tokenized with a vocabulary built from the
 * training captions (or taken from a pretrained text encoder's run, whose ids must be the ones it learnt).
 * Saved with the run (checkpoints keep DatasetInfo), so sampling encodes a new sentence exactly as training did.
 */
export interface TextConditionInfo {
  /** Words by token id: 0 is PAD_TOKEN, 1 UNK_TOKEN (tokenizer.ts), then the training captions' words. */
  vocab: string[];
  /** Tokens per caption: longer captions are cut (with a notice), shorter ones padded with PAD (id 0). */
  maxLen: number;
  /** Captions in the split, and the most any one example has. */
  captions: number;
  maxPerExample: number;
}


/** What a model needs to know about its data before it is built. */
export interface DatasetInfo {
  /** e.g. 'fashion-mnist', 'mnist', 'folder:/path', 'toy:ring8' */
  name: string;
  kind: 'image' | 'points' | 'sequence';
  /** Shape of one example: [H, W, C] for images, [D] for points, [T, F] for sequences (T time steps of F features). */
  shape: number[];
  /** Number of classes when examples carry labels. */
  numClasses?: number;
  classNames?: string[];
  /**
   * The classes are ordered bins of one attribute (ages, stroke thickness), `classNames` in that order: what an
   * attribute edit moves along (Age-cGAN). Absent: the classes are unordered categories.
   */
  ordinal?: true;
  /** Number of stored examples; undefined for sampled (infinite) sources. */
  count?: number;
  /** Present when every batch also carries an input image (translation data: paired:, aligned:, unpaired:, edges:, …). */
  input?: ImageConditionInfo;
  /** Present when every example carries captions (captions:… data): the text condition. */
  text?: TextConditionInfo;
  /** Sequence data (kind 'sequence'): its features, windows and the scaling that maps values back to original units. */
  sequence?: SequenceInfo;
}

/**
 * How a feature was scaled for training: scaled = (x − offset) / scale. 'minmax' maps the training data's range
 * to [0, 1] (TimeGAN's, so generators end in a sigmoid); 'standard' to zero mean and unit variance (linear output);
 * 'fixed' is a dataset's own known range (sines: [−1, 1] → [0, 1]).
 */
export interface FeatureScaling {
  kind: 'minmax' | 'standard' | 'fixed';
  offset: number[];
  scale: number[];
}

/**
 * Sequence data: training examples are windows of T consecutive rows of F numeric features, cut from one or more
 * series with a stride, and scaled per feature. Saved with the run (checkpoints keep DatasetInfo), so samples
 * are written back in the original units (`ganforge sample --out x.csv`).
 */
export interface SequenceInfo {
  /** Feature (column) names, F of them, in the order of the last axis. */
  features: string[];
  /** Window length T and stride S in rows. */
  window: number;
  stride: number;
  scaling: FeatureScaling;
  /** How many series the windows were cut from (one per --id-column value; 1 for a single series). */
  series: number;
  /** The CSV column each window's class came from (rcgan's condition; the class names are its values). */
  conditionColumn?: string;
  /** The column the rows were ordered by, when one was named (the time axis of charts). */
  timeColumn?: string;
  /** Where the data came from and under what terms, for `info` and the studio. */
  origin?: string;
}

/** The conditions a dataset's batches provide: always 'none', 'class' with labels, 'image' with an input domain, 'text' with captions. */
export function providedConditions(info: DatasetInfo): ConditionKind[] {
  const kinds: ConditionKind[] = ['none'];
  if (info.numClasses !== undefined && info.numClasses > 0) kinds.push('class');
  if (info.input) kinds.push('image');
  if (info.text) kinds.push('text');
  return kinds;
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
  /**
   * Translation data (info.input set): the input domain's images, uint8 [M, ...info.input.shape]. Paired data
   * has M = count and input i belongs to example i; unpaired data draws inputs independently of targets.
   * `labels`: the input domain's classes, when it has them (SimGAN's labelled synthetic domain).
   */
  inputs?: { values: Uint8Array; count: number; names?: string[]; labels?: Int32Array };
  /** Messages for the person running the program (e.g. "A was grey, repeated to 3 channels"); the CLI prints them. */
  notices?: string[];
  /** A name per example, index-aligned with `values` (file stem, emoji code point), to match examples across datasets. */
  names?: string[];
  /** Per-batch augmentation that BatchStream applies (pix2pix's resize → random crop → random flip). */
  augment?: AugmentOptions;
  /** Dataset x-flips: every example also appears mirrored left–right, doubling an epoch (images only). */
  xflip?: boolean;
  /** Text data (info.text set): the captions, each a row of token ids; a batch draws one of its example's captions at random. */
  captions?: CaptionSet;
}

/**
 * Captions of a stored dataset. Caption j belongs to example `owner[j]`; its ids are `tokens[j·maxLen …]`
 * (PAD after `lengths[j]` tokens). `texts` keeps the sentences as written, so that the captions can be
 * tokenized again with another vocabulary (a pretrained encoder's) and shown in pictures and the studio.
 */
export interface CaptionSet {
  tokens: Int32Array;
  lengths: Int32Array;
  owner: Int32Array;
  texts: string[];
}

/**
 * pix2pix's augmentation (Isola et al. 2017, §6.2): upscale to `loadSize`, crop back to the stored size at a
 * random offset, mirror left–right with probability ½. Paired data gets the same draw for target and input.
 */
export interface AugmentOptions {
  /** Size of the shorter side after upscaling (≥ the stored size); unset: no resize and no crop. */
  loadSize?: number;
  /** Random horizontal flip. */
  flip?: boolean;
}

/** Data drawn afresh on every batch from a known distribution (the 2-D toy mixtures). */
export interface SamplerSource {
  kind: 'sampler';
  info: DatasetInfo;
  /**
   * Draw n examples: values float32 [n, ...shape], labels int32 [n] (e.g. the mixture component), and for
   * translation data (info.input) the paired inputs float32 [n, ...info.input.shape] in [-1, 1].
   */
  sample(n: number, rng: Rng): { values: Float32Array; labels?: Int32Array; input?: Float32Array };
  /** Messages for the person running the program (licences, degradations); the CLI prints them. */
  notices?: string[];
  /** Release files and threads the sampler holds (BatchStream.close calls it). */
  close?: () => void;
}

/**
 * Image files decoded as batches are drawn, for folders too large to hold decoded: only the file list (and
 * labels) lives in memory. BatchStream decodes each batch in worker threads a few batches ahead, with the
 * same order, draws and pixels an ArraySource of the same folder would give.
 */
export interface StreamSource {
  kind: 'stream';
  info: DatasetInfo;
  count: number;
  /** Path of each example, index-aligned with `labels`. */
  files: string[];
  labels?: Int32Array;
  /** Transparent pixels are composited on this colour, [r, g, b] 0–255. */
  background: [number, number, number];
  /** How many input files were skipped as unreadable (their headers, read when the folder was opened). */
  skipped?: number;
  notices?: string[];
  augment?: AugmentOptions;
  xflip?: boolean;
}

/** Sources that hold a fixed list of examples, visited in a shuffled order each epoch. */
export type StoredSource = ArraySource | StreamSource;

export type DataSource = ArraySource | SamplerSource | StreamSource;

export function isStored(src: DataSource): src is StoredSource {
  return src.kind !== 'sampler';
}

/**
 * One training batch. x: [B, ...shape] float32 (images in [-1, 1]); labels: [B] int32 (class condition);
 * input: [B, ...info.input.shape] float32 in [-1, 1] (image condition: the translation's source image);
 * text: captions (text condition).
 */
export interface Batch {
  x: tf.Tensor;
  labels?: tf.Tensor1D;
  input?: tf.Tensor;
  /** Text data: one caption per example, drawn at random among its captions. */
  text?: TextBatch;
}

/** Captions as tensors: token ids int32 [B, maxLen] (PAD = 0 after each caption's length) and the lengths int32 [B]. */
export interface TextBatch {
  tokens: tf.Tensor2D;
  lengths: tf.Tensor1D;
}
