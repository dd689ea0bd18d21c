import * as tf from '@tensorflow/tfjs-core';
import '../nn/second_order_grads.js'; // every penalty here is differentiated again, w.r.t. D's weights

/** A critic as a function: x [B, ...shape] → logits [B, 1] (D applied in training mode, labels bound). */
export type Critic = (x: tf.Tensor) => tf.Tensor;

/** ∇ₓ Σᵢ D(xᵢ) per example: D's output for example i depends only on xᵢ, so this is each ∇ₓᵢD(xᵢ). */
function inputGradient(critic: Critic, x: tf.Tensor): tf.Tensor {
  return tf.grad((xx: tf.Tensor) => tf.sum(critic(xx)))(x); // [B, ...shape]
}

/** ‖g_i‖² per example: [B, ...shape] → [B]. */
function squaredNormPerExample(g: tf.Tensor): tf.Tensor1D {
  return tf.sum(tf.square(tf.reshape(g, [g.shape[0], -1])), 1) as tf.Tensor1D;
}

/**
 * WGAN-GP's gradient penalty (Gulrajani et al. 2017, "Improved Training of Wasserstein GANs", Algorithm 1):
 * λ · E[(‖∇D(x̂)‖₂ − 1)²] at x̂ = ε·x + (1 − ε)·x̃ with ε ~ U[0, 1] per example. The optimal critic has unit
 * gradient norm almost everywhere on lines between real and generated points (their Proposition 1), so the
 * penalty is a soft version of the 1-Lipschitz constraint, enforced only where it matters.
 *
 * `eps` [B] is passed in (drawn from the run's RNG) so that a seeded run is reproducible. A tiny constant
 * under the square root keeps its gradient finite if a gradient vanishes exactly.
 *
 * @example
 * const gp = gradientPenalty((x) => D.apply(x, { training: true }) as tf.Tensor, real, fake, tf.randomUniform([B]), 10);
 */
export function gradientPenalty(critic: Critic, real: tf.Tensor, fake: tf.Tensor, eps: tf.Tensor1D, weight = 10): tf.Scalar {
  return tf.tidy(() => {
    const e = tf.reshape(eps, [eps.shape[0], ...real.shape.slice(1).map(() => 1)]); // [B, 1, …, 1]
    const xHat = tf.add(tf.mul(e, real), tf.mul(tf.sub(1, e), fake)); // [B, ...shape]
    const norm = tf.sqrt(tf.add(squaredNormPerExample(inputGradient(critic, xHat)), 1e-12)); // [B]
    return tf.mul(weight, tf.mean(tf.square(tf.sub(norm, 1)))) as tf.Scalar;
  });
}

/**
 * R1 (Mescheder, Geiger & Nowozin 2018, "Which Training Methods for GANs do actually Converge?", eq. 9):
 * γ/2 · E_x[‖∇ₓD(x)‖²] on *real* data. It pulls D's gradient on the data manifold to zero, which makes the
 * Dirac-GAN equilibrium locally convergent. Zero for a constant critic.
 */
export function r1Penalty(critic: Critic, real: tf.Tensor, gamma: number): tf.Scalar {
  return tf.tidy(() => tf.mul(gamma / 2, tf.mean(squaredNormPerExample(inputGradient(critic, real)))) as tf.Scalar);
}

/** R2 (same paper, eq. 10): γ/2 · E[‖∇D(x̃)‖²] on *generated* samples x̃ (treated as constants). */
export function r2Penalty(critic: Critic, fake: tf.Tensor, gamma: number): tf.Scalar {
  return r1Penalty(critic, fake, gamma);
}

/**
 * Lazy regularization (Karras et al. 2020, StyleGAN2 §4): apply a penalty only every `interval` steps, scaled
 * by `interval` so its average strength is unchanged. Returns the weight to use at `step` (0-based), or 0 to
 * skip the penalty this step. interval ≤ 1 applies it every step.
 */
export function lazyWeight(step: number, interval: number, weight: number): number {
  if (weight === 0) return 0;
  if (interval <= 1) return weight;
  return step % interval === 0 ? weight * interval : 0;
}

/**
 * DF-GAN's Matching-Aware zero-centred Gradient Penalty (Tao et al. 2022, §3.2, eq. 1): k · E[‖(∇ₓD(x, e),
 * ∇ₑD(x, e))‖₂^p] on real images x with their matching sentences e, the gradient taken with respect to both, so
 * the real-and-matching points sit at a flat minimum of D's loss surface (k = 2, p = 6 in the paper).
 * ‖·‖^p = (‖·‖²)^(p/2), so no square root (whose gradient is infinite at 0) is needed. `critic` maps a batch of
 * images and sentence features to logits [B, 1]; its logits on (x, e) come back too, so the caller's D loss can
 * use them without a second forward pass.
 */
export function matchingAwareGradientPenalty(critic: (x: tf.Tensor, e: tf.Tensor) => tf.Tensor, real: tf.Tensor, sentence: tf.Tensor, k = 2, p = 6): { penalty: tf.Scalar; logits: tf.Tensor } {
  let logits!: tf.Tensor;
  const [gx, ge] = tf.grads((x: tf.Tensor, e: tf.Tensor) => {
    logits = tf.keep(critic(x, e)); // on the caller's tape as well: its loss differentiates through them
    return tf.sum(logits);
  })([real, sentence]);
  const penalty = tf.tidy(() => {
    const sq = tf.add(squaredNormPerExample(gx), squaredNormPerExample(ge)); // [B]
    return tf.mul(k, tf.mean(tf.pow(sq, p / 2))) as tf.Scalar;
  });
  tf.dispose([gx, ge]);
  return { penalty, logits };
}
