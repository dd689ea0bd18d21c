import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { z } from 'zod';
import type { DatasetInfo, TextBatch } from '../data/types.js';
import { extraNetwork, type GanNetworks, type Probe, type SampleResult } from '../gan/family.js';
import { imageRows } from '../gan/sampling.js';
import { settingsOf, type RunConfig, type SettingsTable } from '../gan/config.js';
import { BidirectionalLastStates } from '../nn/last_states.js';
import { caKlDivergence } from '../nn/conditioning_augmentation.js';
import { TEXT_ENCODER, encodeText, type TextEncoderSpec } from './encoders.js';

/** Sizes of a text family's text encoder (flags --word-dim, --text-dim). */
export interface TextEncoderSettings {
  wordDim: number;
  textDim: number;
}

/** The text encoder's settings, for the settings table of every family that builds one. */
export const TEXT_ENCODER_SETTINGS: SettingsTable = {
  wordDim: { default: 300, schema: z.number().int().positive(), help: "size of the text encoder's word embeddings (AttnGAN's DAMSM: 300)" },
  textDim: { default: 256, schema: z.number().int().positive().multipleOf(2), help: 'size D of the word and sentence features, half per LSTM direction (DAMSM: 256)' },
};

/** The text encoder a run's settings describe. */
export function textEncoderSpecOf(config: RunConfig): TextEncoderSpec {
  const s = settingsOf<TextEncoderSettings>(config);
  return { embedDim: s.wordDim, featureDim: s.textDim };
}

/** Why a text-to-image family cannot train on `data`, or null. */
export function textDataProblem(family: string, data: DatasetInfo): string | null {
  if (data.kind !== 'image') return `${family} draws images from sentences, and ${data.name} is 2-D points; train it on captioned images (--data captions:DIR)`;
  if (!data.text) return `${family} draws images from sentences, and ${data.name} has no captions; train it on captioned images (--data captions:DIR, a folder of NAME.png beside NAME.txt, or captions:fashion-mnist)`;
  return null;
}

/**
 * The sentence features [B, D] of a batch's captions from the run's frozen text encoder (GanNetworks.extra's
 * TEXT_ENCODER, in no player): constants to both players. The caller disposes them.
 */
export function sentenceFeatures(nets: GanNetworks, text: TextBatch | undefined, family: string): tf.Tensor2D {
  if (!text) throw new Error(`${family}: the batch carries no captions`);
  const encoder = extraNetwork(nets, TEXT_ENCODER, family);
  return tf.tidy(() => encodeText(encoder, text).sentence);
}

/**
 * A batch rolled by one along its first axis: row i of the result is row (i + 1) mod B. Applied to a batch's
 * text features it gives each image another example's caption: the mismatched pairs of a matching-aware
 * discriminator (Reed et al. 2016's "real image, wrong text"; StackGAN, DF-GAN).
 */
export function rollBatch<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => {
    const b = x.shape[0];
    if (b < 2) return tf.clone(x);
    return tf.concat([tf.slice(x, 1, b - 1), tf.slice(x, 0, 1)], 0) as T;
  });
}

/** KL(N(μ, diag σ²) ‖ N(0, I)) of Conditioning Augmentation (Zhang et al. 2017, eq. 3), averaged over batch and dimensions. */
export const caKl = caKlDivergence;

/** The first n captions of a batch (the progress grid draws from the probe's). */
export function firstCaptions(text: TextBatch, n: number): TextBatch {
  return { tokens: tf.slice(text.tokens, 0, n), lengths: tf.slice(text.lengths, 0, n) };
}

/** Draws of a text family per probe caption. */
const PICTURE_DRAWS = 4;

/**
 * The progress grid of a text family: one row per probe caption, its real image then PICTURE_DRAWS images drawn
 * from that caption with the probe's fixed latents (`generate` maps latents and captions to images).
 */
export function textPicture(probe: Probe, generate: (z: tf.Tensor2D, text: TextBatch) => SampleResult): SampleResult {
  const batch = probe.batch;
  if (!batch?.text) throw new Error('the progress grid of a text family needs the probe batch of captions');
  const n = batch.x.shape[0];
  const columns: tf.Tensor[] = [];
  try {
    for (let k = 0; k < PICTURE_DRAWS; k++) {
      const z = tf.tidy(() => tf.slice(probe.z, (k * n) % Math.max(1, probe.z.shape[0] - n + 1), n) as tf.Tensor2D);
      const text = firstCaptions(batch.text, n);
      const out = generate(z, text);
      tf.dispose([z, text.tokens, text.lengths]);
      columns.push(tf.tensor(out.values, [n, ...out.shape]));
    }
    return imageRows([batch.x, ...columns]);
  } finally {
    tf.dispose(columns);
  }
}

/**
 * A text family's composed model (GanFamily.textGenerator): [z [B, latentDim], token ids [B, maxLen] as float32]
 * → images, the run's text encoder and its generator in one model over their own layers (weights shared), so
 * `ganforge export` and the studio's text page draw in the browser what `sample --text` draws for the same z.
 * `generate` gets z, the sentence [B, D], the word features [B, T, D] and the token ids (for a padding mask).
 */
export function textGeneratorModel(
  encoder: tfl.LayersModel, latentDim: number, maxLen: number,
  generate: (z: tfl.SymbolicTensor, sentence: tfl.SymbolicTensor, words: tfl.SymbolicTensor, tokens: tfl.SymbolicTensor) => tfl.SymbolicTensor,
): tfl.LayersModel {
  const latent = tfl.input({ shape: [latentDim], name: 'z' });
  const tokens = tfl.input({ shape: [maxLen], name: 'tokens' });
  const words = encoder.apply(tokens) as tfl.SymbolicTensor; // [B, T, D], padding masked
  const sentence = new BidirectionalLastStates({ name: 'sentence_of_words' }).apply(words) as tfl.SymbolicTensor; // [B, D]
  return tfl.model({ inputs: [latent, tokens], outputs: generate(latent, sentence, words, tokens), name: 'text-generator' });
}
