import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { ClassConditionalBatchNorm } from './conditional_batch_norm.js';
import { NearestUpsample2D } from './upsample.js';
import { spectralConv2d } from './spectral_norm.js';

/** What both residual blocks take. */
export interface ResidualBlockArgs {
  /** Output channels. */
  filters: number;
  /** Prefix of the block's layer names (unique in the model). */
  name: string;
  /** A fresh seed per layer (e.g. from the run's Rng), so the same run seed gives the same weights. */
  nextSeed: () => number;
  /** Spectral norm on every convolution and projection; BigGAN uses it in G and D. Default true. */
  spectralNorm?: boolean;
}

/** A 'same' convolution with bias, spectrally normalised or plain, Glorot-initialised from a seed. */
function conv(a: ResidualBlockArgs, kernelSize: number, filters: number, tag: string): tfl.layers.Layer {
  const name = `${a.name}_${tag}`;
  return (a.spectralNorm ?? true)
    ? spectralConv2d({ name, filters, kernelSize, padding: 'same', init: 'glorot', seed: a.nextSeed() })
    : tfl.layers.conv2d({ name, filters, kernelSize, padding: 'same', kernelInitializer: tfl.initializers.glorotUniform({ seed: a.nextSeed() }) });
}

const relu = (name: string) => tfl.layers.reLU({ name });
const apply = (layer: tfl.layers.Layer, x: SymbolicTensor | SymbolicTensor[]) => layer.apply(x) as SymbolicTensor;

/**
 * BigGAN's generator residual block, "ResBlock up" (Brock et al. 2019, Appendix B, Fig. 15(b)):
 *
 *   main: CBN(c) → ReLU → upsample 2× → conv 3×3 → CBN(c) → ReLU → conv 3×3
 *   skip: upsample 2× → conv 1×1
 *
 * with c the block's condition (its z chunk ⊕ E(y), see hierarchicalLatent). The skip convolves before
 * upsampling: a 1×1 convolution and nearest upsampling commute exactly, and this order is 4× cheaper.
 * x [B, H, W, cIn] → [B, 2H, 2W, filters].
 *
 * @example
 * h = generatorBlock(h, conditions[0], { filters: 64, name: 'g_block1', nextSeed });
 */
export function generatorBlock(x: SymbolicTensor, condition: SymbolicTensor, a: ResidualBlockArgs): SymbolicTensor {
  const cbn = (tag: string) => new ClassConditionalBatchNorm({ name: `${a.name}_${tag}`, spectralNorm: a.spectralNorm ?? true, seed: a.nextSeed() });
  let h = apply(relu(`${a.name}_relu1`), apply(cbn('cbn1'), [x, condition]));
  h = apply(conv(a, 3, a.filters, 'conv1'), apply(new NearestUpsample2D({ name: `${a.name}_up` }), h)); // [B, 2H, 2W, filters]
  h = apply(relu(`${a.name}_relu2`), apply(cbn('cbn2'), [h, condition]));
  h = apply(conv(a, 3, a.filters, 'conv2'), h);
  const skip = apply(new NearestUpsample2D({ name: `${a.name}_skip_up` }), apply(conv(a, 1, a.filters, 'skip'), x));
  return apply(tfl.layers.add({ name: `${a.name}_out` }), [h, skip]);
}

export interface DiscriminatorBlockArgs extends ResidualBlockArgs {
  /** Average-pool 2× at the end (BigGAN's "ResBlock down"); false for its last blocks at the lowest resolution. */
  downsample?: boolean;
  /** Start with a ReLU. false for the first block, which sees the image itself (nothing to rectify). */
  preactivation?: boolean;
}

/**
 * BigGAN's discriminator residual block, "ResBlock down" (Brock et al. 2019, Appendix B, Fig. 15(c)):
 *
 *   main: ReLU → conv 3×3 → ReLU → conv 3×3 → average-pool 2×
 *   skip: conv 1×1 → average-pool 2×     (the identity when neither channels nor size change)
 *
 * The skip pools before its convolution: both are linear and per-pixel/per-channel, so they commute exactly,
 * and pooling first is 4× cheaper. x [B, H, W, cIn] → [B, H/2, W/2, filters] (or [B, H, W, filters]).
 *
 * @example
 * h = discriminatorBlock(image, { filters: 64, name: 'd_block1', nextSeed, preactivation: false });
 */
export function discriminatorBlock(x: SymbolicTensor, a: DiscriminatorBlockArgs): SymbolicTensor {
  const downsample = a.downsample ?? true;
  const pool = (tag: string) => tfl.layers.averagePooling2d({ name: `${a.name}_${tag}`, poolSize: 2, strides: 2 });
  let h = (a.preactivation ?? true) ? apply(relu(`${a.name}_relu1`), x) : x;
  h = apply(relu(`${a.name}_relu2`), apply(conv(a, 3, a.filters, 'conv1'), h));
  h = apply(conv(a, 3, a.filters, 'conv2'), h);
  if (downsample) h = apply(pool('pool'), h);
  let skip = x;
  if (downsample) skip = apply(pool('skip_pool'), skip);
  if (downsample || x.shape[3] !== a.filters) skip = apply(conv(a, 1, a.filters, 'skip'), skip);
  return apply(tfl.layers.add({ name: `${a.name}_out` }), [h, skip]);
}
