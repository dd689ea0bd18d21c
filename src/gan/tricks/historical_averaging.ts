import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { pairedWeights } from './copies.js';

/**
 * Historical averaging (Salimans et al. 2016, "Improved Techniques for Training GANs", §3.3): each player's
 * cost gets w·‖θ − θ̄‖², θ̄ = (1/t)·Σ_{i<t} θ[i] the mean of its parameters over past steps, a pull towards the
 * time average that damps the orbits gradient descent can follow around an equilibrium. θ̄ lives in a
 * non-trainable copy of the network (GanNetworks.extra), so checkpoints save it and a resume continues it.
 * Trainable weights only; the penalty is 0 while θ = θ̄ (the first step).
 *
 * @example
 * const p = historicalPenalty(nets.discriminator, nets.extra['discriminator-average'], 1e-3); // inside D's loss
 */
export function historicalPenalty(model: tfl.LayersModel, average: tfl.LayersModel, weight: number): tf.Scalar {
  return tf.tidy(() => {
    const terms = pairedWeights(model, average)
      .filter((p) => p.trainable)
      .map((p) => tf.sum(tf.square(tf.sub(p.source.read(), p.target.read()))));
    return tf.mul(weight, tf.addN(terms)) as tf.Scalar;
  });
}

/**
 * Fold the weights after step `count` into the running mean over the count + 1 weight sets seen so far
 * (initial weights included): θ̄ ← θ̄ + (θ − θ̄)/(count + 1).
 */
export function updateHistoricalAverage(average: tfl.LayersModel, model: tfl.LayersModel, count: number): void {
  tf.tidy(() => {
    for (const { source, target, trainable } of pairedWeights(model, average)) {
      if (!trainable) continue;
      const mean = target.read();
      (mean as tf.Variable).assign(tf.add(mean, tf.div(tf.sub(source.read(), mean), count + 1)));
    }
  });
}
