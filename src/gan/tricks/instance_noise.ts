import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../../util/rng.js';

/**
 * σ of instance noise at `step` (steps completed): σ₀ annealed to 0 at `total` steps, linearly or
 * exponentially (σ₀·(e^{−5t} − e^{−5})/(1 − e^{−5}) with t = step/total, which also ends at exactly 0).
 * Instance noise (Sønderby et al. 2017, "Amortised MAP Inference for Image Super-resolution"; Arjovsky &
 * Bottou 2017, "Towards Principled Methods for Training GANs"): Gaussian noise on every input of D makes
 * the real and generated distributions overlap, so D's gradient stays informative early in training.
 *
 * @example
 * instanceNoiseSigma(500, 0.1, 1000, 'linear'); // 0.05
 */
export function instanceNoiseSigma(step: number, sigma0: number, total: number, anneal: 'linear' | 'exponential'): number {
  if (sigma0 === 0 || total <= 0 || step >= total) return 0;
  const t = Math.max(0, step) / total;
  if (anneal === 'linear') return sigma0 * (1 - t);
  const floor = Math.exp(-5);
  return (sigma0 * (Math.exp(-5 * t) - floor)) / (1 - floor);
}

/** x + N(0, σ²) elementwise, seeded from `rng` (σ = 0: x itself). */
export function addInstanceNoise(x: tf.Tensor, sigma: number, rng: Rng): tf.Tensor {
  if (sigma === 0) return x;
  return tf.tidy(() => tf.add(x, tf.randomNormal(x.shape, 0, sigma, 'float32', rng.nextUint32() % 2147483647)));
}
