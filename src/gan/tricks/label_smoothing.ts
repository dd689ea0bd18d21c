import * as tf from '@tensorflow/tfjs-core';
import type { AdversarialLoss } from '../losses.js';
import { UserError } from '../../util/errors.js';

/**
 * One-sided label smoothing (Salimans et al. 2016, "Improved Techniques for Training GANs", §3.4): D's target
 * on real data becomes 1 − α instead of 1, fake targets stay 0, and G's loss is unchanged. A D that cannot
 * push its real outputs to certainty gives G less extreme gradients. For a sigmoid cross-entropy with target t
 * and logit l the loss is t·softplus(−l) + (1 − t)·softplus(l); as softplus(l) − softplus(−l) = l, smoothing
 * adds exactly α·mean(l_real) to D's loss. Least squares regresses real outputs to 1 − α instead of 1.
 * Wasserstein, hinge and relativistic losses have no target to move: they are refused.
 *
 * @example
 * const loss = smoothLabels(nonSaturating, 0.1); // real target 0.9 in loss.d
 */
export function smoothLabels(loss: AdversarialLoss, alpha: number): AdversarialLoss {
  if (alpha === 0) return loss;
  const target = 1 - alpha;
  switch (loss.name) {
    case 'minimax':
    case 'non-saturating':
      return {
        ...loss,
        d: (real, fake) =>
          tf.add(tf.mean(tf.add(tf.mul(target, tf.softplus(tf.neg(real))), tf.mul(alpha, tf.softplus(real)))), tf.mean(tf.softplus(fake))) as tf.Scalar,
      };
    case 'least-squares':
      return { ...loss, d: (real, fake) => tf.mul(0.5, tf.add(tf.mean(tf.square(tf.sub(real, target))), tf.mean(tf.square(fake)))) as tf.Scalar };
    default:
      throw new UserError(`--label-smoothing needs a loss with a real target (minimax, non-saturating, least-squares); '${loss.name}' has none`);
  }
}
