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

/**
 * Wasserstein loss (Arjovsky, Chintala & Bottou 2017, "Wasserstein GAN", eq. 3): by Kantorovich–Rubinstein
 * duality W(P_r, P_g) = sup over 1-Lipschitz f of E_r[f] − E_g[f]. The critic maximises E[D(x)] − E[D(G(z))],
 * i.e. minimises mean(fake) − mean(real); G minimises −mean(fake). The outputs are raw scores, not logits of a
 * probability, and the loss is linear in them: it only means something with a Lipschitz constraint on D
 * (weight clipping, a gradient penalty, spectral norm), which the family supplies.
 */
export const wasserstein: AdversarialLoss = {
  name: 'wasserstein',
  d: (real, fake) => tf.sub(tf.mean(fake), tf.mean(real)) as tf.Scalar,
  g: (fake) => tf.neg(tf.mean(fake)) as tf.Scalar,
};

/**
 * Hinge loss (Lim & Ye 2017, "Geometric GAN"; used by Miyato et al. 2018 for SN-GAN, eq. 16–17):
 * D minimises E[max(0, 1 − D(x))] + E[max(0, 1 + D(G(z)))] — a margin: real scores above 1 and fake scores
 * below −1 cost nothing, so D stops pushing once it is confident. G minimises −E[D(G(z))] as in WGAN.
 */
export const hinge: AdversarialLoss = {
  name: 'hinge',
  d: (real, fake) => tf.add(tf.mean(tf.relu(tf.sub(1, real))), tf.mean(tf.relu(tf.add(1, fake)))) as tf.Scalar,
  g: (fake) => tf.neg(tf.mean(fake)) as tf.Scalar,
};

/**
 * Least-squares loss (Mao et al. 2017, "Least Squares Generative Adversarial Networks", eq. 2) with the
 * a-b-c = 0-1-1 coding of their §3.2.2 experiments: D regresses fake to a = 0 and real to b = 1, G pushes its
 * samples to c = 1:  min_D ½E[(D(x) − 1)²] + ½E[D(G(z))²],  min_G ½E[(D(G(z)) − 1)²].
 * (The −1, 1, 0 coding, b − c = 1 and b − a = 2, is the one for which the paper proves G minimises the
 * Pearson χ² divergence; 0-1-1 is what they train with.) D's output is used raw: a squared error instead of
 * a sigmoid cross-entropy still penalises samples that are on the correct side but far from the real data,
 * which is where the non-saturating loss's gradient vanishes.
 */
export const leastSquares: AdversarialLoss = {
  name: 'least-squares',
  d: (real, fake) => tf.mul(0.5, tf.add(tf.mean(tf.square(tf.sub(real, 1))), tf.mean(tf.square(fake)))) as tf.Scalar,
  g: (fake) => tf.mul(0.5, tf.mean(tf.square(tf.sub(fake, 1)))) as tf.Scalar,
};

/**
 * Relativistic average GAN, standard (BCE) form — RaSGAN (Jolicoeur-Martineau 2018, "The relativistic
 * discriminator: a key element missing from standard GAN", eq. 11–12). D estimates the probability that real
 * data is *more realistic than the average fake*: D̃(x_r) = σ(C(x_r) − E C(x_f)), D̃(x_f) = σ(C(x_f) − E C(x_r)).
 *   L_D = −E log D̃(x_r) − E log(1 − D̃(x_f)) = E softplus(−(r − f̄)) + E softplus(f − r̄)
 *   L_G = −E log D̃(x_f) − E log(1 − D̃(x_r)) = E softplus(−(f − r̄)) + E softplus(r − f̄)
 * with r, f the real and fake logits and r̄, f̄ their batch means (softplus as above, stable for any logit).
 * G's loss needs the real logits: the step passes D's real logits from its D phase (constants for G).
 */
export const relativisticAverage: AdversarialLoss = {
  name: 'relativistic-average',
  d: (real, fake) =>
    tf.add(tf.mean(tf.softplus(tf.neg(tf.sub(real, tf.mean(fake))))), tf.mean(tf.softplus(tf.sub(fake, tf.mean(real))))) as tf.Scalar,
  g: (fake, real) =>
    tf.add(tf.mean(tf.softplus(tf.neg(tf.sub(fake, tf.mean(real))))), tf.mean(tf.softplus(tf.sub(real, tf.mean(fake))))) as tf.Scalar,
};

export const LOSSES = {
  minimax,
  'non-saturating': nonSaturating,
  wasserstein,
  hinge,
  'least-squares': leastSquares,
  'relativistic-average': relativisticAverage,
} as const satisfies Record<string, AdversarialLoss>;

export type LossName = keyof typeof LOSSES;
export const LOSS_NAMES = Object.keys(LOSSES) as LossName[];
