import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../util/rng.js';
import { definedOnly } from './discriminative.js';
import { batchIndices, posthocNetwork, posthocUnits, predictAll, trainPosthoc, type RecurrentFactory, type Sequences } from './posthoc.js';

/** TimeGAN's predictive protocol (the authors' metrics/predictive_metrics.py): its numbers, overridable. */
export const PREDICTIVE_DEFAULTS = { iterations: 5000, batchSize: 128 } as const;

export interface PredictiveOptions {
  /** Seeds the predictor's weights and its batches. */
  seed: number;
  iterations?: number;
  batchSize?: number;
  /** GRU units (default ⌊F/2⌋, at least 1). */
  units?: number;
  /** Adam's step size (default 0.001, as the authors' code). */
  learningRate?: number;
  /** Predictions through a sigmoid (TimeGAN's, for data scaled to [0, 1]); false: linear, for standardised data. */
  sigmoid: boolean;
  factory?: RecurrentFactory;
}

/** What is predicted from what, in words, for the protocol line. */
export function predictiveTask(f: number): string {
  return f > 1
    ? `feature ${f} (the last) at steps 2…T from features 1…${f - 1} at steps 1…T−1`
    : 'the feature at steps 2…T from itself at steps 1…T−1';
}

/**
 * The predictor's inputs and targets for sequences [n, T, F]: TimeGAN predicts the last feature one step ahead from
 * the other F − 1 features (x[:, :T−1, :F−1] → x[:, 1:, F−1]); a univariate series predicts itself one step ahead.
 */
export function predictiveTensors(s: Sequences): { x: tf.Tensor3D; y: tf.Tensor3D } {
  return tf.tidy(() => {
    const all = tf.tensor3d(s.values, [s.n, s.t, s.f]);
    const inputs = s.f > 1 ? s.f - 1 : 1;
    return {
      x: tf.slice(all, [0, 0, 0], [s.n, s.t - 1, inputs]),
      y: tf.slice(all, [0, 1, s.f - 1], [s.n, s.t - 1, 1]),
    };
  });
}

/**
 * Predictive score, "train on synthetic, test on real" (Yoon et al. 2019, §5; Esteban et al. 2017's TSTR): a
 * post-hoc GRU of ⌊F/2⌋ units with a dense read-out at every step is trained on `train` (Adam, L1 loss,
 * `iterations` batches of `batchSize`) to predict one step ahead (predictiveTensors), and its mean absolute error
 * over every step of every sequence of `test` is the score. With train = synthetic and test = real it is TimeGAN's
 * score; with both real, the baseline the paper's "original data" row reports.
 */
export function predictiveScore(train: Sequences, test: Sequences, opts: PredictiveOptions): { mae: number } {
  const { iterations, batchSize } = { ...PREDICTIVE_DEFAULTS, ...definedOnly(opts) };
  if (train.t !== test.t || train.f !== test.f) throw new Error(`predictiveScore: training sequences are [${train.t}, ${train.f}] and test [${test.t}, ${test.f}]`);
  if (train.t < 2) throw new Error('predictiveScore: sequences need at least 2 steps');
  const rng = new Rng(opts.seed);
  const tr = predictiveTensors(train);
  const te = predictiveTensors(test);
  const inputs = tr.x.shape[2];
  const model = posthocNetwork({ steps: train.t - 1, features: inputs, units: opts.units ?? posthocUnits(train.f), returnSequences: true, sigmoid: opts.sigmoid, seed: opts.seed, factory: opts.factory });
  try {
    trainPosthoc(model, iterations, () => {
      const idx = tf.tensor1d(batchIndices(train.n, batchSize, rng), 'int32');
      const pred = model.apply(tf.gather(tr.x, idx)) as tf.Tensor;
      return tf.mean(tf.abs(tf.sub(pred, tf.gather(tr.y, idx)))) as tf.Scalar;
    }, opts.learningRate);
    const pred = predictAll(model, te.x);
    const target = te.y.dataSync();
    let sum = 0;
    for (let i = 0; i < pred.length; i++) sum += Math.abs(pred[i] - target[i]);
    return { mae: sum / pred.length };
  } finally {
    model.dispose();
    tf.dispose([tr.x, tr.y, te.x, te.y]);
  }
}
