import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { GanFamily, GanNetworks } from '../gan/family.js';
import type { RunConfig } from '../gan/config.js';
import type { DatasetInfo } from '../data/types.js';
import { sampleFamily } from '../gan/sampling.js';
import { Rng } from '../util/rng.js';
import { readTidy } from '../util/tensors.js';
import { buildClassifier } from './classifier.js';

/** Labelled images as floats in [-1, 1]: [count, H, W, C] values with a class per example. */
export interface LabelledImages {
  values: Float32Array;
  labels: Int32Array;
  count: number;
  /** [H, W, C] */
  shape: number[];
}

/** uint8 images (0–255) as floats in [-1, 1], the convention of every ganforge network. */
export function toUnitRange(values: Uint8Array): Float32Array {
  return Float32Array.from(values, (v) => v / 127.5 - 1);
}

/**
 * A translator's images for `inputs` [count, ...shape] in [-1, 1], through the family's own sampling (its A → B
 * generator), `chunk` images per call so memory stays bounded.
 */
export function refineImages(family: GanFamily, nets: GanNetworks, run: { config: RunConfig; data: DatasetInfo }, inputs: Float32Array, shape: number[], chunk = 256): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const count = inputs.length / size;
  const out = new Float32Array(count * size);
  for (let lo = 0; lo < count; lo += chunk) {
    const n = Math.min(chunk, count - lo);
    const input = tf.tensor(inputs.subarray(lo * size, (lo + n) * size), [n, ...shape]);
    try {
      const r = sampleFamily(family, nets, { count: n, seed: 0, input }, run);
      if (r.values.length !== n * size) throw new Error(`${family.name}: refinement changed the image shape [${shape}] → [${r.shape}]`);
      out.set(r.values, lo * size);
    } finally {
      input.dispose();
    }
  }
  return out;
}

export interface TstrOptions {
  /** Seeds the classifier's weights and the order of its batches. */
  seed: number;
  /** Passes over `train` (default 2); ignored when `steps` is given. */
  epochs?: number;
  /**
   * Train for exactly this many minibatches, reshuffling after each pass, instead of `epochs` passes: the budget
   * then does not grow with the training set, so sets of different sizes (CAS against its real baseline, real
   * against real + synthetic) are trained alike. A set smaller than a batch is one batch.
   */
  steps?: number;
  batchSize?: number;
  learningRate?: number;
  /** Classes the labels index (the classifier's logits); default 10. */
  classes?: number;
}

/**
 * "Train on synthetic, test on real" (how Shrivastava et al. 2017 judge refinement; the name is Esteban et al.'s,
 * 2017): ganforge's small 28×28 classifier (buildClassifier) trained with Adam and softmax
 * cross-entropy on `train` only, then its accuracy on `test`. The same seed gives the same initial weights and
 * batch order, so raw and refined synthetic sets of one size are compared on equal terms.
 */
export function tstrAccuracy(train: LabelledImages, test: LabelledImages, opts: TstrOptions): number {
  const model = trainClassifier(train, opts);
  try {
    return classifierAccuracy(model, test);
  } finally {
    model.dispose();
  }
}

/** The classifier trained on `train` (caller disposes it). */
export function trainClassifier(train: LabelledImages, opts: TstrOptions): tfl.LayersModel {
  const { seed, epochs = 2, learningRate = 1e-3, classes = 10 } = opts;
  if (train.shape.join('×') !== '28×28×1') throw new Error(`TSTR's classifier takes 28×28×1 images, got ${train.shape.join('×')}`);
  if (train.count < 1) throw new Error('the classifier has no examples to train on');
  const batchSize = opts.steps === undefined ? (opts.batchSize ?? 64) : Math.min(opts.batchSize ?? 64, train.count);
  for (const y of train.labels) if (!(y >= 0 && y < classes)) throw new Error(`classifier labels must lie in 0..${classes - 1}, got ${y}`);
  const model = buildClassifier(seed, classes);
  const optimizer = tf.train.adam(learningRate);
  const size = 28 * 28;
  try {
    for (const idx of minibatches(train.count, batchSize, new Rng(seed + 1), opts.steps === undefined ? { epochs } : { steps: opts.steps })) {
      const x = new Float32Array(batchSize * size);
      idx.forEach((i, b) => x.set(train.values.subarray(i * size, (i + 1) * size), b * size));
      tf.tidy(() => {
        const y = tf.oneHot(tf.tensor1d(Array.from(idx, (i) => train.labels[i]), 'int32'), classes);
        const xs = tf.tensor4d(x, [batchSize, 28, 28, 1]);
        optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(xs, { training: true }) as tf.Tensor) as tf.Scalar);
      });
    }
  } finally {
    optimizer.dispose();
  }
  return model;
}

/**
 * The example indices of each minibatch: passes over a fresh shuffle of 0..count−1, `batchSize` at a time (a
 * pass's remainder is dropped), for `epochs` passes or until `steps` batches.
 */
function* minibatches(count: number, batchSize: number, rng: Rng, budget: { epochs: number } | { steps: number }): Generator<Int32Array> {
  const order = Int32Array.from({ length: count }, (_, i) => i);
  let done = 0;
  for (let epoch = 0; 'epochs' in budget ? epoch < budget.epochs : done < budget.steps; epoch++) {
    rng.shuffle(order);
    for (let lo = 0; lo + batchSize <= count && !('steps' in budget && done >= budget.steps); lo += batchSize, done++) yield order.subarray(lo, lo + batchSize);
  }
}

/** Fraction of `test` whose argmax logit is its label. */
export function classifierAccuracy(model: tfl.LayersModel, test: LabelledImages, batch = 500): number {
  const pred = predictLabels(model, test, batch);
  let correct = 0;
  for (let i = 0; i < test.count; i++) if (pred[i] === test.labels[i]) correct++;
  return correct / test.count;
}

/** The class of `test`'s every image: the argmax of the model's logits, `batch` images at a time. */
export function predictLabels(model: tfl.LayersModel, test: Omit<LabelledImages, 'labels'>, batch = 500): Int32Array {
  const size = test.shape.reduce((a, b) => a * b, 1);
  const out = new Int32Array(test.count);
  for (let lo = 0; lo < test.count; lo += batch) {
    const n = Math.min(batch, test.count - lo);
    out.set(readTidy(() => tf.argMax(model.predict(tf.tensor(test.values.subarray(lo * size, (lo + n) * size), [n, ...test.shape])) as tf.Tensor, 1)), lo);
  }
  return out;
}
