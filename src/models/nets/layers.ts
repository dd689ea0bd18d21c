// Layer helpers shared by the image-to-image networks (U-Net, ResNet generator, PatchGAN): the norm choice and
// the convolutions with the papers' N(0, 0.02) weights.
import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { SeededInit } from '../../nn/init.js';
import { InstanceNormalization } from '../../nn/instance_norm.js';
import { batchNormalization } from '../../nn/batch_norm.js';

/** Batch norm (pix2pix) or instance norm without affine parameters (CycleGAN, PyTorch's InstanceNorm2d default). */
export type NormKind = 'batch' | 'instance';
export const NORM_KINDS: readonly NormKind[] = ['batch', 'instance'];

/**
 * The norm layer after a convolution. Batch norm: momentum 0.9 (PyTorch's 0.1), ε 1e-5, γ from N(1, 0.02²) as in
 * pix2pix's initialisation. Instance norm: ε 1e-5, no γ/β.
 */
export function normLayer(kind: NormKind, name: string, init: SeededInit): tfl.layers.Layer {
  if (kind === 'instance') return new InstanceNormalization({ name });
  return batchNormalization({ name, momentum: 0.9, epsilon: 1e-5, gammaInitializer: init.normal(0.02, 1) });
}

export interface ConvSpec {
  name: string;
  filters: number;
  kernelSize: number;
  strides: number;
  padding: 'same' | 'valid';
  /** false where a norm follows: its mean subtraction cancels any bias. */
  useBias: boolean;
}

export function conv(spec: ConvSpec, init: SeededInit): tfl.layers.Layer {
  return tfl.layers.conv2d({ ...spec, kernelInitializer: init.normal(0.02) });
}

export function convTranspose(spec: ConvSpec, init: SeededInit): tfl.layers.Layer {
  return tfl.layers.conv2dTranspose({ ...spec, kernelInitializer: init.normal(0.02) });
}

/** Applies layers in order (functional API). */
export function chain(x: SymbolicTensor, ...layers: tfl.layers.Layer[]): SymbolicTensor {
  return layers.reduce((h, layer) => layer.apply(h) as SymbolicTensor, x);
}

/** The largest d ≤ maxD with side divisible by 2^d. */
export function halvings(side: number, maxD: number): number {
  let d = 0;
  while (d < maxD && side % 2 ** (d + 1) === 0) d++;
  return d;
}
