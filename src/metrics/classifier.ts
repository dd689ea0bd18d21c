import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { fileURLToPath } from 'node:url';
import { SeededInit } from '../nn/init.js';
import { Rng } from '../util/rng.js';

/** The datasets ganforge ships a feature classifier for (weights under assets/feature-nets/<name>/). */
export const CLASSIFIER_DATASETS = ['fashion-mnist', 'mnist', 'cifar10'] as const;
export type ClassifierDataset = (typeof CLASSIFIER_DATASETS)[number];

/** [H, W, C] each classifier takes: the two grey ones share one architecture, CIFAR-10's is RGB. */
export const CLASSIFIER_INPUT: Readonly<Record<ClassifierDataset, [number, number, number]>> = {
  'fashion-mnist': [28, 28, 1], mnist: [28, 28, 1], cifar10: [32, 32, 3],
};

/** Layer names the evaluation reads: the penultimate 128-d features and the 10 logits. */
export const FEATURE_LAYER = 'features';
export const LOGITS_LAYER = 'logits';

/** Folder of the committed classifier for `dataset` (resolved from this module, so it works from dist/). */
export function classifierDir(dataset: ClassifierDataset): string {
  // dist/src/metrics/classifier.js → <repo>/assets/feature-nets/<dataset>
  return fileURLToPath(new URL(`../../../assets/feature-nets/${dataset}/`, import.meta.url));
}

/**
 * A small CNN for 28×28 grey images in [-1, 1]: three 3×3 conv + ReLU + 2×2 max-pool stages (16, 32, 64
 * channels), a 128-unit ReLU layer named 'features' and 10 logits. 98k parameters (≈ 0.4 MB of float32),
 * small enough to commit, and ≈ 2 M multiply-adds per image, so 20,000 images embed in seconds on a CPU.
 * The 128-d layer is the embedding FID/KID/PRDC use — the role TF-GAN's MNIST classifier plays for its
 * "MNIST Fréchet distance". `classes` sizes the logits (10 for the shipped nets; CAS on data with other classes).
 */
export function buildClassifier(seed: number, classes = 10): tfl.LayersModel {
  const init = new SeededInit(new Rng(seed));
  const input = tfl.input({ shape: [28, 28, 1], name: 'image' });
  let x: tfl.SymbolicTensor = input;
  for (const [i, filters] of [16, 32, 64].entries()) {
    x = tfl.layers.conv2d({ name: `conv${i + 1}`, filters, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init.heNormal() }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.maxPooling2d({ name: `pool${i + 1}`, poolSize: 2 }).apply(x) as tfl.SymbolicTensor;
  }
  x = tfl.layers.flatten({ name: 'flatten' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.dense({ name: FEATURE_LAYER, units: 128, activation: 'relu', kernelInitializer: init.heNormal() }).apply(x) as tfl.SymbolicTensor;
  const logits = tfl.layers.dense({ name: LOGITS_LAYER, units: classes, kernelInitializer: init.glorotUniform() }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: logits, name: 'ganforge_classifier' });
}

/** The classifier architecture of `dataset`, freshly initialised from `seed`. */
export function buildClassifierFor(dataset: ClassifierDataset, seed: number): tfl.LayersModel {
  return dataset === 'cifar10' ? buildRgbClassifier(seed) : buildClassifier(seed);
}

/**
 * A small CNN for 32×32 RGB images in [-1, 1] (CIFAR-10): three stages of 3×3 conv (32, 64, 128 channels)
 * + batch norm + ReLU + 2×2 max-pool, a 128-unit dense + batch norm + ReLU layer named 'features' and 10 logits. ≈ 10.6 M
 * multiply-adds per image (about 5× the grey net), sized to train a few epochs in minutes on 2 CPU cores;
 * batch norm is what lets a net this shallow train fast at Adam's default rate. Conv layers have no bias:
 * the batch norm's β that follows takes its place.
 */
export function buildRgbClassifier(seed: number): tfl.LayersModel {
  const init = new SeededInit(new Rng(seed));
  const input = tfl.input({ shape: CLASSIFIER_INPUT.cifar10, name: 'image' });
  let x: tfl.SymbolicTensor = input;
  for (const [i, filters] of [32, 64, 128].entries()) {
    x = tfl.layers.conv2d({ name: `conv${i + 1}`, filters, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: init.heNormal() }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.batchNormalization({ name: `bn${i + 1}`, axis: -1 }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.reLU({ name: `relu${i + 1}` }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.maxPooling2d({ name: `pool${i + 1}`, poolSize: 2 }).apply(x) as tfl.SymbolicTensor; // 16, 8, 4
  }
  x = tfl.layers.flatten({ name: 'flatten' }).apply(x) as tfl.SymbolicTensor; // [B, 4·4·128 = 2048]
  // The 128-d embedding is dense → batch norm → ReLU. Without the batch norm, 105 of 128 units of a trained
  // dense+ReLU layer were dead (0 on every test image), leaving FID a 23-d space; normalising the
  // pre-activations keeps every unit in use.
  x = tfl.layers.dense({ name: 'dense_features', units: 128, useBias: false, kernelInitializer: init.heNormal() }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.batchNormalization({ name: 'bn_features', axis: -1 }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.reLU({ name: FEATURE_LAYER }).apply(x) as tfl.SymbolicTensor;
  const logits = tfl.layers.dense({ name: LOGITS_LAYER, units: 10, kernelInitializer: init.glorotUniform() }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: logits, name: 'ganforge_rgb_classifier' });
}

/** uint8 [n, 28, 28, 1] rows lo..hi → float32 tensor in [-1, 1] (the convention of every ganforge network). */
export function uint8Batch(values: Uint8Array, idx: ArrayLike<number>, shape: readonly number[]): tf.Tensor4D {
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(idx.length * size);
  for (let b = 0; b < idx.length; b++) {
    const src = idx[b] * size;
    for (let j = 0; j < size; j++) out[b * size + j] = values[src + j] / 127.5 - 1;
  }
  return tf.tensor4d(out, [idx.length, shape[0], shape[1], shape[2]]);
}
