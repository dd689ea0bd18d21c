import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { pairedWeights } from './copies.js';

/**
 * Exponential moving average of G's weights (Yazıcı et al. 2019, "The Unusual Effectiveness of Averaging in
 * GAN Training"; Karras et al. 2018, "Progressive Growing of GANs"): after every step θ_ema ← β·θ_ema + (1 − β)·θ.
 * The average sits between the oscillations of the adversarial game and usually samples better than G itself,
 * so sampling, the trainer's grids and evaluation prefer it (samplingGenerator). Batch-norm moving statistics
 * are copied, not averaged: they must describe the activations the averaged weights produce, and G's latest
 * statistics are the closest estimate (StyleGAN2 copies its buffers the same way).
 *
 * @example
 * updateEma(nets.extra[EMA_GENERATOR], nets.generator, 0.999);
 */
export function updateEma(ema: tfl.LayersModel, model: tfl.LayersModel, decay: number): void {
  tf.tidy(() => {
    for (const { source, target, trainable } of pairedWeights(model, ema)) {
      const v = source.read();
      (target.read() as tf.Variable).assign(trainable ? tf.add(tf.mul(decay, target.read()), tf.mul(1 - decay, v)) : v);
    }
  });
}
