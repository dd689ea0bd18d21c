import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { TextBatch, TextConditionInfo } from '../data/types.js';
import { SeededInit } from '../nn/init.js';
import { bidirectionalLastStates } from '../nn/last_states.js';
import type { Rng } from '../util/rng.js';

/** Names of the text-image encoders among GanNetworks.extra (saved in checkpoints under these folders). */
export const TEXT_ENCODER = 'text-encoder';
export const IMAGE_ENCODER = 'image-encoder';

/** Sizes of AttnGAN's DAMSM text encoder (Xu et al. 2018, §3.3): word embeddings, then a bidirectional LSTM. */
export interface TextEncoderSpec {
  /** Word embedding size (300 in the paper). */
  embedDim: number;
  /** Feature size D of a word and of the sentence: each direction's hidden state is D/2 (256 in the paper). */
  featureDim: number;
}

export const DEFAULT_TEXT_ENCODER: TextEncoderSpec = { embedDim: 300, featureDim: 256 };

/**
 * The text encoder: token ids [B, T] (as float32, PAD = 0) → word features [B, T, D], the two directions'
 * hidden states side by side. Padding is masked, so a direction's state does not move over it: the forward
 * half at t = T−1 and the backward half at t = 0 are the last hidden states of the two directions, which
 * together are the sentence feature (encodeText).
 */
export function buildTextEncoder(text: TextConditionInfo, spec: TextEncoderSpec, rng: Rng): tfl.LayersModel {
  if (spec.featureDim % 2 !== 0) throw new Error(`text encoder feature size must be even (two directions), got ${spec.featureDim}`);
  const init = new SeededInit(rng);
  const tokens = tfl.input({ shape: [text.maxLen], name: 'tokens' });
  const embedded = tfl.layers.embedding({ inputDim: text.vocab.length, outputDim: spec.embedDim, maskZero: true, embeddingsInitializer: init.normal(0.1), name: 'embed' }).apply(tokens) as tfl.SymbolicTensor;
  const lstm = tfl.layers.lstm({
    units: spec.featureDim / 2, returnSequences: true,
    kernelInitializer: init.glorotUniform(), recurrentInitializer: init.glorotUniform(), name: 'lstm',
  }) as tfl.RNN;
  const words = tfl.layers.bidirectional({ layer: lstm, mergeMode: 'concat', name: 'words' }).apply(embedded) as tfl.SymbolicTensor;
  return tfl.model({ inputs: tokens, outputs: words, name: TEXT_ENCODER });
}

/** What the text encoder makes of a batch of captions: word features, the sentence feature, and which words are real (1) or padding (0). */
export interface TextFeatures {
  words: tf.Tensor3D;
  sentence: tf.Tensor2D;
  mask: tf.Tensor2D;
}

/** Run the text encoder on captions (the encoder is frozen in GAN training: call this inside the step's tidy). */
export function encodeText(encoder: tfl.LayersModel, text: TextBatch, training = false): TextFeatures {
  const ids = tf.cast(text.tokens, 'float32');
  const words = encoder.apply(ids, { training }) as tf.Tensor3D;
  return { words, sentence: sentenceOf(words), mask: tf.cast(tf.notEqual(text.tokens, 0), 'float32') as tf.Tensor2D };
}

/** The sentence feature [B, D] from word features [B, T, D]: the forward half's last step and the backward half's first. */
export const sentenceOf = bidirectionalLastStates;

/** Side of the image encoder's region grid: the map is halved until its side is at most this (64 px → 8×8 regions, 28 px → 7×7). */
export const REGION_GRID = 8;

/**
 * The image encoder of DAMSM: images [B, H, W, C] in [-1, 1] → [regions [B, R, D], global [B, D]]. AttnGAN takes
 * Inception-v3's mixed_6e map (17×17×768) as the regions and its pooled 2048-d output as the global feature, each
 * projected to D. No Inception weights ship here, so this is a small CNN trained from scratch by the DAMSM loss:
 * stride-2 4×4 convs with leaky ReLU (32, 64, 128, … channels) until the map's side is ≤ REGION_GRID, whose
 * 1×1 projection to D gives the R = h·w regions; one more stride-2 conv (256 channels), a global mean and a
 * dense projection give the global feature. No batch norm, so the frozen encoder is the same function in and
 * out of training mode.
 */
export function buildImageEncoder(shape: number[], featureDim: number, rng: Rng): tfl.LayersModel {
  if (shape.length !== 3) throw new Error(`the image encoder takes images [H, W, C], got a shape of [${shape.join(', ')}]`);
  const init = new SeededInit(rng);
  const image = tfl.input({ shape, name: 'image' });
  let x: tfl.SymbolicTensor = image;
  let side = Math.max(shape[0], shape[1]);
  for (let i = 0; side > REGION_GRID || i === 0; i++) {
    x = tfl.layers.conv2d({ filters: 32 << i, kernelSize: 4, strides: 2, padding: 'same', kernelInitializer: init.heNormal(), name: `conv${i + 1}` }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.leakyReLU({ alpha: 0.2, name: `act${i + 1}` }).apply(x) as tfl.SymbolicTensor;
    side = Math.ceil(side / 2);
  }
  const [, h, w] = x.shape as number[];
  const local = tfl.layers.conv2d({ filters: featureDim, kernelSize: 1, kernelInitializer: init.glorotUniform(), name: 'region_proj' }).apply(x) as tfl.SymbolicTensor;
  const regions = tfl.layers.reshape({ targetShape: [h * w, featureDim], name: 'regions' }).apply(local) as tfl.SymbolicTensor; // [B, R = h·w, D]
  let g = tfl.layers.conv2d({ filters: 256, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: init.heNormal(), name: 'conv_global' }).apply(x) as tfl.SymbolicTensor;
  g = tfl.layers.leakyReLU({ alpha: 0.2, name: 'act_global' }).apply(g) as tfl.SymbolicTensor;
  g = tfl.layers.globalAveragePooling2d({ name: 'pool' }).apply(g) as tfl.SymbolicTensor;
  const global = tfl.layers.dense({ units: featureDim, kernelInitializer: init.glorotUniform(), name: 'global' }).apply(g) as tfl.SymbolicTensor; // [B, D]
  return tfl.model({ inputs: image, outputs: [regions, global], name: IMAGE_ENCODER });
}

/** What the image encoder makes of images: region features [B, R, D] and the global feature [B, D]. */
export interface ImageFeatures {
  regions: tf.Tensor3D;
  global: tf.Tensor2D;
}

/** Run the image encoder on images [B, H, W, C] in [-1, 1]. */
export function encodeImages(encoder: tfl.LayersModel, images: tf.Tensor4D, training = false): ImageFeatures {
  const [regions, global] = encoder.apply(images, { training }) as [tf.Tensor3D, tf.Tensor2D];
  return { regions, global };
}
