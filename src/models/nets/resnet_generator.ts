import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { SeededInit } from '../../nn/init.js';
import { ReflectionPadding2D } from '../../nn/reflection_padding.js';
import { chain, conv, convTranspose, type NormKind, normLayer } from './layers.js';

export interface ResnetGeneratorOptions {
  /** Image side (square images, divisible by 4: two stride-2 downsamplings). */
  size: number;
  inChannels?: number;
  outChannels?: number;
  /** Width of the first block (64); the downsamplings double it twice. */
  ngf?: number;
  /** Residual blocks at the bottleneck; default resnetBlocks(size). */
  nBlocks?: number;
  norm?: NormKind;
}

/**
 * Residual blocks for an image side: 9 at ≥ 256 px and 6 at 128 px as in CycleGAN (Zhu et al. 2017, appendix 7.2);
 * 6 down to 64 px; 4 below 64 px (a 32-px image has 1/64 of a 256-px one's pixels, and its 8×8 bottleneck is
 * already covered by two blocks' receptive field, so the capacity of six blocks buys little but time).
 */
export function resnetBlocks(size: number): number {
  return size >= 256 ? 9 : size >= 64 ? 6 : 4;
}

/**
 * CycleGAN's generator (Zhu, Park, Isola & Efros 2017, "Unpaired Image-to-Image Translation using Cycle-Consistent
 * Adversarial Networks", appendix 7.2, after Johnson, Alahi & Fei-Fei 2016): c7s1-64, d128, d256, R256 × n, u128,
 * u64, c7s1-outC with a tanh. c7s1-k: reflect-pad 3, 7×7 conv, norm, ReLU. dk: 3×3 conv of stride 2 (zero padding
 * 1), norm, ReLU. Rk: x + [reflect-pad 1, 3×3 conv, norm, ReLU, reflect-pad 1, 3×3 conv, norm](x). uk: 3×3
 * transposed conv of stride 2, norm, ReLU. Norm: instance norm without affine parameters. Convolutions followed by
 * a norm have no bias (the mean subtraction cancels it).
 *
 * Paddings equal PyTorch's: dk pads 1 on every side (tfjs 'same' would pad only bottom/right); uk is PyTorch's
 * ConvTranspose2d(3, stride 2, padding 1, output_padding 1), i.e. the 'valid' transposed conv (2n + 1 rows) with its
 * first row and column cropped.
 *
 * @example
 * const g = resnetGenerator({ size: 128 }, new SeededInit(new Rng(1)));   // 6 blocks; [B, 128, 128, 3] → same
 */
export function resnetGenerator(opts: ResnetGeneratorOptions, init: SeededInit): tfl.LayersModel {
  const { size, inChannels = 3, outChannels = 3, ngf = 64, norm = 'instance' } = opts;
  const nBlocks = opts.nBlocks ?? resnetBlocks(size);
  if (size % 4 !== 0 || size < 16) throw new Error(`the ResNet generator needs an image side divisible by 4 and at least 16 (two stride-2 downsamplings), got ${size}`);
  const relu = (name: string) => tfl.layers.reLU({ name });
  const input = tfl.input({ shape: [size, size, inChannels], name: 'A' });

  let h = chain(input,
    new ReflectionPadding2D({ padding: 3, name: 'c7s1_pad' }),
    conv({ name: 'c7s1_conv', filters: ngf, kernelSize: 7, strides: 1, padding: 'valid', useBias: false }, init),
    normLayer(norm, 'c7s1_norm', init), relu('c7s1_relu')); // [B, size, size, ngf]
  for (const k of [1, 2]) {
    h = chain(h,
      tfl.layers.zeroPadding2d({ padding: 1, name: `d${k}_pad` }),
      conv({ name: `d${k}_conv`, filters: ngf * 2 ** k, kernelSize: 3, strides: 2, padding: 'valid', useBias: false }, init),
      normLayer(norm, `d${k}_norm`, init), relu(`d${k}_relu`)); // [B, size/2^k, size/2^k, ngf·2^k]
  }
  for (let r = 1; r <= nBlocks; r++) {
    const branch = chain(h,
      new ReflectionPadding2D({ padding: 1, name: `r${r}_pad1` }),
      conv({ name: `r${r}_conv1`, filters: ngf * 4, kernelSize: 3, strides: 1, padding: 'valid', useBias: false }, init),
      normLayer(norm, `r${r}_norm1`, init), relu(`r${r}_relu`),
      new ReflectionPadding2D({ padding: 1, name: `r${r}_pad2` }),
      conv({ name: `r${r}_conv2`, filters: ngf * 4, kernelSize: 3, strides: 1, padding: 'valid', useBias: false }, init),
      normLayer(norm, `r${r}_norm2`, init));
    h = tfl.layers.add({ name: `r${r}_add` }).apply([h, branch]) as SymbolicTensor; // [B, size/4, size/4, 4·ngf]
  }
  for (const k of [1, 2]) {
    h = chain(h,
      convTranspose({ name: `u${k}_convT`, filters: ngf * 2 ** (2 - k), kernelSize: 3, strides: 2, padding: 'valid', useBias: false }, init),
      tfl.layers.cropping2D({ cropping: [[1, 0], [1, 0]], name: `u${k}_crop` }), // 2n + 1 → 2n rows, as padding 1 + output_padding 1
      normLayer(norm, `u${k}_norm`, init), relu(`u${k}_relu`)); // [B, size/2^(2−k), ., ngf·2^(2−k)]
  }
  const output = chain(h,
    new ReflectionPadding2D({ padding: 3, name: 'out_pad' }),
    conv({ name: 'out_conv', filters: outChannels, kernelSize: 7, strides: 1, padding: 'valid', useBias: true }, init),
    tfl.layers.activation({ activation: 'tanh', name: 'B' })); // [B, size, size, outChannels] in [-1, 1]
  return tfl.model({ inputs: input, outputs: output, name: 'resnet_generator' });
}
