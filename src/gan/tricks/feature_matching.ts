import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

const featureModels = new WeakMap<tfl.LayersModel, tfl.LayersModel>();

/**
 * D's intermediate features f(x): the input of D's last dense layer, found by walking its layers, as a model
 * sharing D's layers and weights (cached per D). Works for any D whose logit comes from a dense layer,
 * conditional ones included (the feature model takes D's inputs).
 */
export function featureModel(discriminator: tfl.LayersModel): tfl.LayersModel {
  const cached = featureModels.get(discriminator);
  if (cached) return cached;
  const last = [...discriminator.layers].reverse().find((l) => l.getClassName() === 'Dense');
  if (!last) throw new Error(`--feature-matching: discriminator '${discriminator.name}' has no dense layer whose input could serve as features`);
  const model = tfl.model({ inputs: discriminator.inputs, outputs: last.input as tfl.SymbolicTensor, name: `${discriminator.name}-features` });
  featureModels.set(discriminator, model);
  return model;
}

/**
 * Feature matching (Salimans et al. 2016, "Improved Techniques for Training GANs", §3.1): G matches the
 * statistics of real data in an intermediate layer of D instead of (here: besides) maximising D's output,
 * ‖E f(x) − E f(G(z))‖²₂ — a target that does not move as fast as D's decision. Features [B, F] → scalar;
 * 0 when the batch means agree.
 *
 * @example
 * const fm = featureMatchingLoss(f(real), f(fake)); // real side as constants
 */
export function featureMatchingLoss(realFeatures: tf.Tensor, fakeFeatures: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const flat = (t: tf.Tensor) => tf.reshape(t, [t.shape[0], -1]); // [B, F]
    return tf.sum(tf.square(tf.sub(tf.mean(flat(realFeatures), 0), tf.mean(flat(fakeFeatures), 0)))) as tf.Scalar;
  });
}
