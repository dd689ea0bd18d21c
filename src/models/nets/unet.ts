import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { SeededInit } from '../../nn/init.js';
import { SeededDropout } from '../../nn/seeded_dropout.js';
import { chain, conv, convTranspose, halvings, type NormKind, normLayer } from './layers.js';

export interface UnetOptions {
  /** Image side (square images); sets the depth, see unetDepth. */
  size: number;
  /** Channels of the input image A (3). */
  inChannels?: number;
  /** Channels of the output image B (3). */
  outChannels?: number;
  /** Width of the first encoder block; deeper blocks double it up to 8× (64). */
  ngf?: number;
  /** Norm after every conv but the first encoder one, the innermost one and the output ('batch'). */
  norm?: NormKind;
  /** Dropout rate in the first three decoder blocks, pix2pix's only noise (0.5). */
  dropout?: number;
  /** Seeds the dropout masks (SeededDropout), so that a resumed run draws the same ones; default 0. */
  dropoutSeed?: number;
}

/** Fewest encoder levels accepted: below 3 the three dropout blocks and the output block would overlap. */
const MIN_DEPTH = 3;

/**
 * Encoder levels of the U-Net for an image side: log2(side) for a power of two (the innermost feature map is
 * 1×1: 8 levels at 256, 6 at 64, 5 at 32); otherwise the most halvings the side allows (96 = 3·2⁵ → 5 levels,
 * a 3×3 innermost map). Throws, naming the side, when it allows fewer than 3.
 */
export function unetDepth(size: number): number {
  const d = halvings(size, 30);
  if (d < MIN_DEPTH) {
    throw new Error(`a U-Net needs an image side divisible by ${2 ** MIN_DEPTH} (it halves it at every level), got ${size}; use e.g. 32, 64, 128 or 256`);
  }
  return d;
}

/**
 * pix2pix's U-Net generator (Isola, Zhu, Zhou & Efros 2017, "Image-to-Image Translation with Conditional Adversarial
 * Networks", §3.2.1 and appendix 6.1.1). Encoder C64-C128-C256-C512-C512-C512-C512-C512: 4×4 convolutions of
 * stride 2, each preceded (except the first) by LeakyReLU(0.2) and followed by the norm (except the first and the
 * innermost). Decoder, mirrored: ReLU, 4×4 transposed convolution of stride 2, norm, dropout 0.5 in the first three
 * blocks (the paper's CD512-CD1024-CD1024; the authors' code puts it one block further out), and a skip connection
 * concatenating encoder level i onto decoder level i along channels. The last block maps to `outChannels` with a
 * tanh. The skips carry the encoder activations after the LeakyReLU, as in the authors' code.
 * Padding: 'same' = PyTorch's padding 1 for 4×4/stride 2 on even sides, so each level halves/doubles exactly.
 *
 * @example
 * const g = unetGenerator({ size: 256 }, new SeededInit(new Rng(1)));   // [B, 256, 256, 3] → [B, 256, 256, 3]
 */
export function unetGenerator(opts: UnetOptions, init: SeededInit): tfl.LayersModel {
  const { size, inChannels = 3, outChannels = 3, ngf = 64, norm = 'batch', dropout = 0.5, dropoutSeed = 0 } = opts;
  const depth = unetDepth(size);
  const width = (level: number) => ngf * Math.min(2 ** level, 8);
  const input = tfl.input({ shape: [size, size, inChannels], name: 'A' });

  // Encoder (a conv has a bias only where no norm follows, whose mean subtraction would cancel it).
  // skips[i] = LeakyReLU(level i's output), the input of level i + 1 and of decoder level i's concat.
  const skips: SymbolicTensor[] = [];
  let h = conv({ name: 'enc1_conv', filters: width(0), kernelSize: 4, strides: 2, padding: 'same', useBias: true }, init).apply(input) as SymbolicTensor;
  for (let level = 1; level < depth; level++) {
    const act = tfl.layers.leakyReLU({ alpha: 0.2, name: `enc${level + 1}_lrelu` }).apply(h) as SymbolicTensor;
    skips.push(act);
    const innermost = level === depth - 1;
    h = conv({ name: `enc${level + 1}_conv`, filters: width(level), kernelSize: 4, strides: 2, padding: 'same', useBias: innermost }, init).apply(act) as SymbolicTensor;
    if (!innermost) h = normLayer(norm, `enc${level + 1}_norm`, init).apply(h) as SymbolicTensor; // [B, size/2^(level+1), ., width]
  }

  // Decoder: level i (from the innermost, depth − 1, out to 1) upsamples to level i − 1's size and width.
  for (let level = depth - 1; level >= 1; level--) {
    const block = depth - level; // 1 for the innermost decoder block
    const name = `dec${block}`;
    h = chain(h,
      tfl.layers.reLU({ name: `${name}_relu` }),
      convTranspose({ name: `${name}_convT`, filters: width(level - 1), kernelSize: 4, strides: 2, padding: 'same', useBias: false }, init), // the norm cancels a bias
      normLayer(norm, `${name}_norm`, init));
    if (block <= 3 && dropout > 0) h = new SeededDropout({ rate: dropout, seed: (dropoutSeed + block) >>> 0, name: `${name}_dropout` }).apply(h) as SymbolicTensor;
    h = tfl.layers.concatenate({ axis: -1, name: `${name}_skip` }).apply([skips[level - 1], h]) as SymbolicTensor; // [B, s, s, 2·width]
  }
  const output = chain(h,
    tfl.layers.reLU({ name: `dec${depth}_relu` }),
    convTranspose({ name: `dec${depth}_convT`, filters: outChannels, kernelSize: 4, strides: 2, padding: 'same', useBias: true }, init),
    tfl.layers.activation({ activation: 'tanh', name: 'B' })); // [B, size, size, outChannels] in [-1, 1]
  return tfl.model({ inputs: input, outputs: output, name: 'unet_generator' });
}
