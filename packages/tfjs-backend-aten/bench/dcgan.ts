// The reference DCGAN (same networks, loss, optimizer and batch as
// /work/shared/reference/dcgan_torch.py) built with tfjs-layers, shared by the tests and the bench.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

export interface Dcgan {
  generator: tfl.Sequential;
  discriminator: tfl.Sequential;
  optG: tf.Optimizer;
  optD: tf.Optimizer;
}

export function buildDcgan(): Dcgan {
  const generator = tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [100], units: 7 * 7 * 128 }),
      tfl.layers.batchNormalization(),
      tfl.layers.reLU(),
      tfl.layers.reshape({ targetShape: [7, 7, 128] }),
      tfl.layers.conv2dTranspose({ filters: 64, kernelSize: 4, strides: 2, padding: 'same' }),
      tfl.layers.batchNormalization(),
      tfl.layers.reLU(),
      tfl.layers.conv2dTranspose({ filters: 1, kernelSize: 4, strides: 2, padding: 'same', activation: 'tanh' }),
    ],
  });
  const discriminator = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 64, kernelSize: 4, strides: 2, padding: 'same' }),
      tfl.layers.leakyReLU({ alpha: 0.2 }),
      tfl.layers.conv2d({ filters: 128, kernelSize: 4, strides: 2, padding: 'same' }),
      tfl.layers.batchNormalization(),
      tfl.layers.leakyReLU({ alpha: 0.2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 1 }),
    ],
  });
  return { generator, discriminator, optG: tf.train.adam(2e-4, 0.5), optD: tf.train.adam(2e-4, 0.5) };
}

const trainable = (m: tfl.Sequential) => m.trainableWeights.map((w) => w.read() as tf.Variable);

/** One D step then one G step with the non-saturating loss on logits; returns [lossD, lossG]. */
export function trainStep(gan: Dcgan, real: tf.Tensor4D, z: tf.Tensor2D): [number, number] {
  const { generator: G, discriminator: D } = gan;
  const lossD = tf.tidy(() => gan.optD.minimize(() => {
    const fake = G.apply(z, { training: true }) as tf.Tensor;
    const logitsReal = D.apply(real, { training: true }) as tf.Tensor;
    const logitsFake = D.apply(fake, { training: true }) as tf.Tensor;
    // -log(sigmoid(r)) - log(1 - sigmoid(f)) = softplus(-r) + softplus(f)
    return tf.add(tf.mean(tf.softplus(tf.neg(logitsReal))), tf.mean(tf.softplus(logitsFake))) as tf.Scalar;
  }, true, trainable(D))!);
  const lossG = tf.tidy(() => gan.optG.minimize(() => {
    const fake = G.apply(z, { training: true }) as tf.Tensor;
    return tf.mean(tf.softplus(tf.neg(D.apply(fake, { training: true }) as tf.Tensor))) as tf.Scalar;
  }, true, trainable(G))!);
  const values: [number, number] = [lossD.dataSync()[0], lossG.dataSync()[0]];
  lossD.dispose();
  lossG.dispose();
  return values;
}

/** Deterministic pseudo-random floats in [-1, 1) (tests need identical inputs on every backend). */
export function seededValues(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

export function disposeDcgan(gan: Dcgan): void {
  gan.generator.dispose();
  gan.discriminator.dispose();
  gan.optG.dispose();
  gan.optD.dispose();
}
