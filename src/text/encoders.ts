import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { TextBatch, TextConditionInfo } from '../data/types.js';
import { FusedLSTM } from '../nn/fused_lstm.js';
import { SeededInit } from '../nn/init.js';
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
  // FusedLSTM is tfjs-layers' LSTM run as one native kernel per direction where the backend has it. Sigmoid gates
  // as PyTorch's (and AttnGAN's) LSTM: tfjs-layers' default is hardSigmoid.
  const lstm = new FusedLSTM({
    units: spec.featureDim / 2, returnSequences: true, recurrentActivation: 'sigmoid',
    kernelInitializer: init.glorotUniform(), recurrentInitializer: init.glorotUniform(), name: 'lstm',
  }) as unknown as tfl.RNN;
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
export function sentenceOf(words: tf.Tensor3D): tf.Tensor2D {
  return tf.tidy(() => {
    const [b, t, d] = words.shape;
    const forward = tf.slice(words, [0, t - 1, 0], [b, 1, d / 2]);
    const backward = tf.slice(words, [0, 0, d / 2], [b, 1, d / 2]);
    return tf.reshape(tf.concat([forward, backward], 2), [b, d]) as tf.Tensor2D;
  });
}
