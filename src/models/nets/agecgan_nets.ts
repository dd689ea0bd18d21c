// Age-cGAN's discriminator and encoder (Antipov, Baccouche & Dugelay 2017, §3.1 and §3.2), DCGAN-shaped.
import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { SeededInit } from '../../nn/init.js';
import { batchNormalization } from '../../nn/batch_norm.js';

/** Strided halvings of a DCGAN net for this side (28 → 14 → 7: 2; 64 → … → 4: 4), or 0 when the side does not fit. */
export function levelsOf(side: number): number {
  let base = side;
  let n = 0;
  while (base > 8 && base % 2 === 0) {
    base /= 2;
    n++;
  }
  return base <= 8 && n >= 1 ? n : 0;
}

/** y [B, K] → [B, h, w, K]: the one-hot condition repeated at every position of a feature map. */
function spatial(y: SymbolicTensor, h: number, w: number, k: number): SymbolicTensor {
  const rows = tfl.layers.repeatVector({ n: h * w }).apply(y) as SymbolicTensor; // [B, h·w, K]
  return tfl.layers.reshape({ targetShape: [h, w, k] }).apply(rows) as SymbolicTensor;
}

/**
 * D(x, y): DCGAN's D (strided 4×4 convs doubling the width, batch norm after the first, LeakyReLU 0.2), with the
 * one-hot bin y joined to the first convolution's output as K constant feature maps, where Age-cGAN's D takes
 * its condition. x [B, H, W, C], y [B, K] → logit [B, 1].
 */
export function conditionalDiscriminator(shape: number[], k: number, width: number, init: SeededInit): tfl.LayersModel {
  const [side, , channels] = shape;
  const n = levelsOf(side);
  const x = tfl.input({ shape: [side, side, channels], name: 'x' });
  const y = tfl.input({ shape: [k], name: 'label' });
  const conv = (filters: number, name: string) => tfl.layers.conv2d({ filters, kernelSize: 4, strides: 2, padding: 'same', kernelInitializer: init.normal(0.02), name });
  let h = tfl.layers.leakyReLU({ alpha: 0.2 }).apply(conv(width, 'conv0').apply(x)) as SymbolicTensor; // [B, H/2, W/2, w]
  h = tfl.layers.concatenate().apply([h, spatial(y, side / 2, side / 2, k)]) as SymbolicTensor; // [B, H/2, W/2, w + K]
  for (let level = 1; level < n; level++) {
    h = conv(width * 2 ** level, `conv${level}`).apply(h) as SymbolicTensor;
    h = batchNormalization({ momentum: 0.9, epsilon: 1e-5, name: `bn${level}` }).apply(h) as SymbolicTensor;
    h = tfl.layers.leakyReLU({ alpha: 0.2 }).apply(h) as SymbolicTensor;
  }
  const flat = tfl.layers.flatten().apply(h) as SymbolicTensor; // [B, base·base·w·2^(n−1)]
  const logit = tfl.layers.dense({ units: 1, kernelInitializer: init.normal(0.02), name: 'logit' }).apply(flat) as SymbolicTensor;
  return tfl.model({ inputs: [x, y], outputs: logit, name: 'discriminator' });
}

/**
 * E: x → z, the paper's encoder shape (strided convolutions, then two fully connected layers, the last one z
 * itself, linear like N(0, I)). No batch norm, so E(x) of one image does not depend on what it is batched with.
 */
export function latentEncoder(shape: number[], latentDim: number, width: number, init: SeededInit): tfl.LayersModel {
  const [side] = shape;
  const e = tfl.sequential({ name: 'encoder' });
  for (let level = 0; level < levelsOf(side); level++) {
    e.add(tfl.layers.conv2d({ ...(level === 0 ? { inputShape: shape } : {}), filters: width * 2 ** level, kernelSize: 4, strides: 2, padding: 'same', kernelInitializer: init.normal(0.02) }));
    e.add(tfl.layers.leakyReLU({ alpha: 0.2 }));
  }
  e.add(tfl.layers.flatten()); // [B, base·base·w·2^(n−1)]
  e.add(tfl.layers.dense({ units: width * 8, kernelInitializer: init.glorotUniform() }));
  e.add(tfl.layers.leakyReLU({ alpha: 0.2 }));
  e.add(tfl.layers.dense({ units: latentDim, kernelInitializer: init.glorotUniform() })); // z
  return e;
}
