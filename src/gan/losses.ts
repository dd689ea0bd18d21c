import * as tf from '@tensorflow/tfjs-core';

/**
 * An adversarial loss: pure functions of the discriminator's logits. `d` is what D minimises, `g` what G
 * minimises. `real` and `fake` are D's raw outputs (logits) on real and generated batches, any shape.
 * Losses that compare real and fake logits (relativistic) read `real` in `g` too.
 */
export interface AdversarialLoss {
  name: string;
  d(real: tf.Tensor, fake: tf.Tensor): tf.Scalar;
  g(fake: tf.Tensor, real: tf.Tensor): tf.Scalar;
}

// With logit l and D = sigmoid(l):  -log D = softplus(-l)  and  -log(1 - D) = softplus(l).
// softplus is evaluated stably for any l, where log(sigmoid(l)) underflows to -Inf near l = -100.

/** D's side of the original GAN game (Goodfellow et al. 2014, eq. 1): maximise log D(x) + log(1 − D(G(z))). */
function discriminatorBce(real: tf.Tensor, fake: tf.Tensor): tf.Scalar {
  return tf.add(tf.mean(tf.softplus(tf.neg(real))), tf.mean(tf.softplus(fake))) as tf.Scalar;
}

/** The minimax game as written in the paper: G minimises log(1 − D(G(z))) = −softplus(l). Saturates early. */
export const minimax: AdversarialLoss = {
  name: 'minimax',
  d: discriminatorBce,
  g: (fake) => tf.neg(tf.mean(tf.softplus(fake))) as tf.Scalar,
};

/** The paper's practical variant (§3): G maximises log D(G(z)), i.e. minimises softplus(−l). */
export const nonSaturating: AdversarialLoss = {
  name: 'non-saturating',
  d: discriminatorBce,
  g: (fake) => tf.mean(tf.softplus(tf.neg(fake))),
};

export const LOSSES = {
  minimax,
  'non-saturating': nonSaturating,
} as const satisfies Record<string, AdversarialLoss>;

export type LossName = keyof typeof LOSSES;
export const LOSS_NAMES = Object.keys(LOSSES) as LossName[];
