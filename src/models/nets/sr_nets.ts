// The super-resolution networks: SRResNet's generator (Ledig et al. 2017, Fig. 4), ESRGAN's RRDB generator
// (Wang et al. 2018, Fig. 3–4) and the VGG-style discriminator both papers train against.
import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { SeededInit } from '../../nn/init.js';
import { NearestUpsample2D } from '../../nn/upsample.js';
import { PixelShuffle2x, ScaledResidual, ChannelPReLU } from '../../nn/sr_layers.js';
import { chain } from './layers.js';
import { batchNormalization } from '../../nn/batch_norm.js';

export interface SrGeneratorSpec {
  /** The input's [h, w, C_in] and the output's channel count. */
  inputShape: [number, number, number];
  outChannels: number;
  /** Upscaling factor: 2, 4 or 8 (log2(scale) ×2 upsamplers). */
  scale: number;
  /** Residual blocks (SRResNet: 16) or RRDBs (ESRGAN: 23). */
  blocks: number;
  /** Feature channels (both papers: 64). */
  width: number;
}

function conv2d(name: string, filters: number, kernelSize: number, init: SeededInit, opts: { strides?: number; useBias?: boolean; gain?: number } = {}): tfl.layers.Layer {
  const { strides = 1, useBias = true, gain } = opts;
  return tfl.layers.conv2d({ name, filters, kernelSize, strides, padding: 'same', useBias, kernelInitializer: gain === undefined ? init.heNormal() : init.normal(gain) });
}

/** PReLU with one slope per channel (He et al. 2015), shared over H and W, starting at 0.25 as in PyTorch. */
function prelu(name: string): tfl.layers.Layer {
  return new ChannelPReLU({ name, init: 0.25 });
}

function batchNorm(name: string): tfl.layers.Layer {
  return batchNormalization({ name, momentum: 0.9, epsilon: 1e-5 });
}

function upscaleSteps(scale: number): number {
  const n = Math.log2(scale);
  if (!Number.isInteger(n) || n < 1) throw new Error(`super-resolution scale must be 2, 4 or 8, got ${scale}`);
  return n;
}

/**
 * SRResNet (Ledig et al. 2017, Fig. 4): conv 9×9 + PReLU; B residual blocks (conv 3×3 − BN − PReLU − conv 3×3 − BN,
 * plus the block's input); conv 3×3 − BN plus the first conv's output (the long skip); log2(s) sub-pixel
 * upsamplers (conv 3×3 to 4·width, ×2 pixel shuffle, PReLU); conv 9×9 to the output channels, then tanh, the
 * range of ganforge images. [B, h, w, C_in] → [B, s·h, s·w, C_out].
 */
export function srResNetGenerator(spec: SrGeneratorSpec, init: SeededInit): tfl.LayersModel {
  const { width: n } = spec;
  const input = tfl.input({ shape: spec.inputShape, name: 'lowres' });
  const head = chain(input, conv2d('head_conv', n, 9, init), prelu('head_prelu'));
  let x = head;
  for (let i = 0; i < spec.blocks; i++) {
    const h = chain(x, conv2d(`res${i}_conv1`, n, 3, init, { useBias: false }), batchNorm(`res${i}_bn1`), prelu(`res${i}_prelu`), conv2d(`res${i}_conv2`, n, 3, init, { useBias: false }), batchNorm(`res${i}_bn2`));
    x = tfl.layers.add({ name: `res${i}_add` }).apply([x, h]) as SymbolicTensor;
  }
  const trunk = chain(x, conv2d('trunk_conv', n, 3, init, { useBias: false }), batchNorm('trunk_bn'));
  x = tfl.layers.add({ name: 'long_skip' }).apply([head, trunk]) as SymbolicTensor;
  for (let i = 0; i < upscaleSteps(spec.scale); i++) {
    x = chain(x, conv2d(`up${i}_conv`, 4 * n, 3, init), new PixelShuffle2x({ name: `up${i}_shuffle` }), prelu(`up${i}_prelu`)); // [B, 2h, 2w, n]
  }
  const out = chain(x, conv2d('tail_conv', spec.outChannels, 9, init), tfl.layers.activation({ activation: 'tanh', name: 'tanh' }));
  return tfl.model({ inputs: input, outputs: out, name: 'generator' });
}

export interface RrdbSpec extends SrGeneratorSpec {
  /** Growth channels of each dense block's convs (ESRGAN: 32). */
  growth: number;
}

/**
 * A residual dense block (ESRGAN Fig. 4): five 3×3 convs, each taking the block's input and every earlier
 * conv's output concatenated; LeakyReLU 0.2 after the first four, none after the fifth (back to `width`
 * channels); the block returns x + 0.2·conv5. Kernels start at He init ×0.1, as in the paper's code, so each
 * block starts near the identity.
 */
function denseBlock(x: SymbolicTensor, spec: RrdbSpec, prefix: string, init: SeededInit): SymbolicTensor {
  const features: SymbolicTensor[] = [x];
  let h = x;
  for (let k = 1; k <= 5; k++) {
    const cat = features.length === 1 ? x : (tfl.layers.concatenate({ axis: -1, name: `${prefix}_cat${k}` }).apply([...features]) as SymbolicTensor);
    const fanIn = 9 * (spec.width + (k - 1) * spec.growth);
    h = conv2d(`${prefix}_conv${k}`, k < 5 ? spec.growth : spec.width, 3, init, { gain: 0.1 * Math.sqrt(2 / fanIn) }).apply(cat) as SymbolicTensor;
    if (k < 5) {
      h = tfl.layers.leakyReLU({ alpha: 0.2, name: `${prefix}_lrelu${k}` }).apply(h) as SymbolicTensor;
      features.push(h);
    }
  }
  return new ScaledResidual({ beta: 0.2, name: `${prefix}_scale` }).apply([x, h]) as SymbolicTensor;
}

/**
 * ESRGAN's generator (Wang et al. 2018, Fig. 3–4): conv 3×3; B residual-in-residual dense blocks (three dense
 * blocks, then x + 0.2·that), no batch norm anywhere; conv 3×3 plus the first conv's output; log2(s) times
 * nearest ×2 then conv 3×3 + LeakyReLU 0.2 (the paper's code, rather than sub-pixel); conv 3×3 + LeakyReLU, conv
 * 3×3 to the output channels, linear as in the paper (images are read clipped to [−1, 1]).
 */
export function rrdbGenerator(spec: RrdbSpec, init: SeededInit): tfl.LayersModel {
  const input = tfl.input({ shape: spec.inputShape, name: 'lowres' });
  const head = conv2d('head_conv', spec.width, 3, init).apply(input) as SymbolicTensor;
  let x = head;
  for (let i = 0; i < spec.blocks; i++) {
    let h = x;
    for (let j = 0; j < 3; j++) h = denseBlock(h, spec, `rrdb${i}_rdb${j}`, init);
    x = new ScaledResidual({ beta: 0.2, name: `rrdb${i}_scale` }).apply([x, h]) as SymbolicTensor;
  }
  const trunk = conv2d('trunk_conv', spec.width, 3, init).apply(x) as SymbolicTensor;
  x = tfl.layers.add({ name: 'long_skip' }).apply([head, trunk]) as SymbolicTensor;
  for (let i = 0; i < upscaleSteps(spec.scale); i++) {
    x = chain(x, new NearestUpsample2D({ name: `up${i}_nearest` }), conv2d(`up${i}_conv`, spec.width, 3, init), tfl.layers.leakyReLU({ alpha: 0.2, name: `up${i}_lrelu` }));
  }
  const out = chain(x, conv2d('hr_conv', spec.width, 3, init), tfl.layers.leakyReLU({ alpha: 0.2, name: 'hr_lrelu' }), conv2d('tail_conv', spec.outChannels, 3, init));
  return tfl.model({ inputs: input, outputs: out, name: 'generator' });
}

export interface VggDiscriminatorSpec {
  /** The high-resolution image's [H, W, C]. */
  shape: [number, number, number];
  /** Channels of the first stage, doubled at each later one (the papers: 64 → 512). */
  width: number;
  /** Stages of two convs (the second strided); the papers: 4. Fewer when the image is too small to halve. */
  stages: number;
  /** Units of the hidden dense layer (the papers: 1024). */
  dense: number;
}

/**
 * The discriminator of SRGAN (Ledig et al. 2017, Fig. 4) and ESRGAN's code: per stage a 3×3 conv and a 3×3
 * stride-2 conv, each with batch norm (except the very first conv) and LeakyReLU 0.2, channels width·2^k;
 * then dense `dense` + LeakyReLU 0.2 and dense 1 (a logit; the sigmoid is in the loss).
 */
export function vggDiscriminator(spec: VggDiscriminatorSpec, init: SeededInit): tfl.LayersModel {
  const input = tfl.input({ shape: spec.shape, name: 'image' });
  let x: SymbolicTensor = input;
  for (let k = 0; k < spec.stages; k++) {
    const filters = spec.width * 2 ** k;
    for (const strides of [1, 2]) {
      const first = k === 0 && strides === 1;
      x = conv2d(`d${k}_conv_s${strides}`, filters, 3, init, { strides, useBias: first }).apply(x) as SymbolicTensor;
      if (!first) x = batchNorm(`d${k}_bn_s${strides}`).apply(x) as SymbolicTensor;
      x = tfl.layers.leakyReLU({ alpha: 0.2, name: `d${k}_lrelu_s${strides}` }).apply(x) as SymbolicTensor;
    }
  }
  const out = chain(
    x,
    tfl.layers.flatten({ name: 'flatten' }),
    tfl.layers.dense({ name: 'dense_hidden', units: spec.dense, kernelInitializer: init.heNormal() }),
    tfl.layers.leakyReLU({ alpha: 0.2, name: 'dense_lrelu' }),
    tfl.layers.dense({ name: 'logit', units: 1, kernelInitializer: init.glorotUniform() }),
  );
  return tfl.model({ inputs: input, outputs: out, name: 'discriminator' });
}
