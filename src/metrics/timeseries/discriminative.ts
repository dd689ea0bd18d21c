import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../util/rng.js';
import { batchIndices, posthocNetwork, posthocUnits, predictAll, trainPosthoc, type RecurrentFactory, type Sequences } from './posthoc.js';

/** TimeGAN's discriminative protocol (the authors' metrics/discriminative_metrics.py): its numbers, overridable. */
export const DISCRIMINATIVE_DEFAULTS = { iterations: 2000, batchSize: 128, trainFraction: 0.8 } as const;

export interface DiscriminativeOptions {
  /** Seeds the classifier's weights, the train/test split and the batches. */
  seed: number;
  iterations?: number;
  /** Sequences drawn from each set per step (TimeGAN: 128 real and 128 synthetic). */
  batchSize?: number;
  trainFraction?: number;
  /** GRU units (default ⌊F/2⌋, at least 1). */
  units?: number;
  /** Adam's step size (default 0.001, TensorFlow's default that the authors' code keeps). */
  learningRate?: number;
  factory?: RecurrentFactory;
}

export interface DiscriminativeResult {
  /** |accuracy − 0.5|: 0 when the classifier cannot tell the sets apart, 0.5 when it always can. */
  score: number;
  accuracy: number;
  trainReal: number;
  trainFake: number;
  testReal: number;
  testFake: number;
}

/** Softplus form of the sigmoid cross-entropy, real labelled 1 and synthetic 0, averaged per set and summed. */
export function realFakeLoss(realLogits: tf.Tensor, fakeLogits: tf.Tensor): tf.Scalar {
  return tf.add(tf.mean(tf.softplus(tf.neg(realLogits))), tf.mean(tf.softplus(fakeLogits)));
}

/** Rows `idx` of a [n, T, F] tensor. */
function rows(x: tf.Tensor3D, idx: Int32Array): tf.Tensor3D {
  return tf.gather(x, tf.tensor1d(idx, 'int32'));
}

/**
 * Discriminative score (Yoon et al. 2019, §5, "diversity/fidelity"): a post-hoc GRU classifier — one GRU layer of
 * ⌊F/2⌋ units on the sequence, its last state through dense(1) — is trained to tell real from synthetic on a random
 * 80 % of each set (Adam, `iterations` steps of `batchSize` real + `batchSize` synthetic), then its accuracy on the
 * other 20 % of both sets (logit > 0 ⇒ real) gives |accuracy − 0.5|.
 */
export function discriminativeScore(real: Sequences, fake: Sequences, opts: DiscriminativeOptions): DiscriminativeResult {
  const { iterations, batchSize, trainFraction } = { ...DISCRIMINATIVE_DEFAULTS, ...definedOnly(opts) };
  if (real.t !== fake.t || real.f !== fake.f) throw new Error(`discriminativeScore: real sequences are [${real.t}, ${real.f}] and synthetic [${fake.t}, ${fake.f}]`);
  const rng = new Rng(opts.seed);
  const split = (s: Sequences) => {
    const order = rng.shuffle(Int32Array.from({ length: s.n }, (_, i) => i));
    const nTrain = Math.max(1, Math.min(s.n - 1, Math.floor(s.n * trainFraction)));
    const all = tf.tensor3d(s.values, [s.n, s.t, s.f]);
    const train = rows(all, order.slice(0, nTrain));
    const test = rows(all, order.slice(nTrain));
    all.dispose();
    return { train, test, nTrain, nTest: s.n - nTrain };
  };
  const r = tf.tidy(() => split(real));
  const g = tf.tidy(() => split(fake));
  const model = posthocNetwork({ steps: real.t, features: real.f, units: opts.units ?? posthocUnits(real.f), returnSequences: false, sigmoid: false, seed: opts.seed, factory: opts.factory });
  try {
    trainPosthoc(model, iterations, () => {
      const xr = rows(r.train, batchIndices(r.nTrain, batchSize, rng));
      const xg = rows(g.train, batchIndices(g.nTrain, batchSize, rng));
      // One pass over both halves: the recurrent layer's per-step kernels are dispatched once, not twice.
      const logits = model.apply(tf.concat([xr, xg], 0)) as tf.Tensor; // [Br + Bg, 1]
      const nr = xr.shape[0];
      return realFakeLoss(tf.slice(logits, [0, 0], [nr, 1]), tf.slice(logits, [nr, 0], [-1, 1]));
    }, opts.learningRate);
    const realLogits = predictAll(model, r.test);
    const fakeLogits = predictAll(model, g.test);
    let correct = 0;
    for (const l of realLogits) if (l > 0) correct++;
    for (const l of fakeLogits) if (!(l > 0)) correct++;
    const accuracy = correct / (r.nTest + g.nTest);
    return { score: Math.abs(accuracy - 0.5), accuracy, trainReal: r.nTrain, trainFake: g.nTrain, testReal: r.nTest, testFake: g.nTest };
  } finally {
    model.dispose();
    tf.dispose([r.train, r.test, g.train, g.test]);
  }
}

/** The fields of `o` that are set (so `{ ...DEFAULTS, ...definedOnly(o) }` keeps defaults for undefined ones). */
export function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
