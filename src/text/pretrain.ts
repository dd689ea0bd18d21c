import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Batch } from '../data/types.js';
import { DAMSM_GAMMAS, damsmLoss, type DamsmGammas } from './damsm.js';
import { encodeImages, encodeText } from './encoders.js';

/** The text and image encoders that DAMSM trains together. */
export interface TextImageEncoders {
  text: tfl.LayersModel;
  image: tfl.LayersModel;
}

/** How the encoders are pretrained. */
export interface PretrainSettings {
  steps: number;
  /** Adam's rate and moments: AttnGAN's released DAMSM training uses 0.002 with β = (0.5, 0.999). */
  lr: number;
  beta1: number;
  beta2: number;
  /** The text encoder's gradient is clipped to this global norm (the released code's RNN_GRAD_CLIP, 0.25); 0 = off. */
  textGradClip: number;
  gammas: DamsmGammas;
}

export const DAMSM_PRETRAIN: Readonly<Omit<PretrainSettings, 'steps'>> = { lr: 2e-3, beta1: 0.5, beta2: 0.999, textGradClip: 0.25, gammas: DAMSM_GAMMAS };

/** One step's DAMSM loss terms (numbers read back from the device). */
export interface DamsmStats {
  step: number;
  words: number;
  sentence: number;
  total: number;
}

/**
 * Train both encoders on the DAMSM loss (Xu et al. 2018, §3.3) for `settings.steps` batches from `next()`, which
 * must carry captions (Batch.text). Each step runs under the optimizer's tidy; the batch is freed after it.
 * `onStep` sees every step's losses (for progress lines). Returns the last step's losses.
 */
export function pretrainEncoders(
  encoders: TextImageEncoders, next: () => Batch, settings: PretrainSettings, onStep?: (s: DamsmStats) => void,
): DamsmStats {
  const textVars = encoders.text.trainableWeights.map((w) => w.read() as tf.Variable);
  const imageVars = encoders.image.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = tf.train.adam(settings.lr, settings.beta1, settings.beta2);
  let last: DamsmStats = { step: 0, words: NaN, sentence: NaN, total: NaN };
  try {
    for (let step = 1; step <= settings.steps; step++) {
      const batch = next();
      try {
        if (!batch.text) throw new Error('DAMSM pretraining needs captioned batches (Batch.text)');
        const parts = damsmStep(encoders, batch, textVars, imageVars, optimizer, settings);
        last = { step, ...parts };
        if (!Number.isFinite(last.total)) throw new Error(`DAMSM pretraining diverged at step ${step} (loss ${last.total}); lower the learning rate`);
        onStep?.(last);
      } finally {
        tf.dispose([batch.x, batch.labels, batch.input, batch.text?.tokens, batch.text?.lengths].filter((t) => t !== undefined));
      }
    }
  } finally {
    optimizer.dispose();
  }
  return last;
}

/** One Adam update of both encoders on one batch, the text encoder's gradient clipped; returns the loss terms. */
function damsmStep(
  encoders: TextImageEncoders, batch: Batch, textVars: tf.Variable[], imageVars: tf.Variable[], optimizer: tf.Optimizer, settings: PretrainSettings,
): Omit<DamsmStats, 'step'> {
  let kept: tf.Scalar[] = [];
  const { value, grads } = optimizer.computeGradients(() => {
    const text = encodeText(encoders.text, batch.text!, true);
    const image = encodeImages(encoders.image, batch.x as tf.Tensor4D, true);
    const loss = damsmLoss({ ...text, ...image }, settings.gammas);
    kept = [tf.keep(loss.words), tf.keep(loss.sentence)];
    return loss.total;
  }, [...textVars, ...imageVars]);
  const textNames = new Set(textVars.map((v) => v.name));
  const clipped = tf.tidy(() => {
    if (settings.textGradClip <= 0) return grads;
    const textGrads = Object.keys(grads).filter((n) => textNames.has(n));
    const norm = tf.sqrt(tf.addN(textGrads.map((n) => tf.sum(tf.square(grads[n])))));
    const scale = tf.minimum(1, tf.div(settings.textGradClip, tf.maximum(norm, 1e-12)));
    return Object.fromEntries(Object.keys(grads).map((n) => [n, textNames.has(n) ? tf.mul(grads[n], scale) : tf.clone(grads[n])]));
  });
  optimizer.applyGradients(clipped);
  const [words, sentence, total] = [kept[0].dataSync()[0], kept[1].dataSync()[0], value.dataSync()[0]];
  tf.dispose([value, ...kept, ...Object.values(grads), ...(clipped === grads ? [] : Object.values(clipped))]);
  return { words, sentence, total };
}
