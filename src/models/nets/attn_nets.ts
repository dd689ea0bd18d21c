// AttnGAN's networks (Xu et al. 2018, §2 and the supplementary architecture): the multi-stage attentional
// generator and one matching-aware discriminator per stage.
import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { SeededInit } from '../../nn/init.js';
import type { Rng } from '../../util/rng.js';
import { ConditioningAugmentation, LatentSplit } from '../../nn/conditioning_augmentation.js';
import { GatedLinearUnit } from '../../nn/glu.js';
import { NearestUpsample2D } from '../../nn/upsample.js';
import { WordAttention } from '../../nn/word_attention.js';
import { chain, conv, normLayer } from './layers.js';

/** Sizes of an AttnGAN. */
export interface AttnGanSpec {
  /** Side and channels of the data (the last stage's image). */
  size: number;
  channels: number;
  /** Generator stages m; stage i draws size / 2^(m−1−i) pixels. */
  stages: number;
  /** Size of the latent z: the generator's own noise, then Conditioning Augmentation's ε (its last condDim columns). */
  latentDim: number;
  /** Size of Conditioning Augmentation's ĉ (and ε). */
  condDim: number;
  /** Size D of the text encoder's word and sentence features, and the caption length T. */
  textDim: number;
  maxLen: number;
  /** Hidden channels of every stage's h (AttnGAN's GF_DIM) and D's first layer (DF_DIM). */
  ngf: number;
  ndf: number;
  /** Residual blocks per refining stage (AttnGAN: 2). */
  resBlocks: number;
}

/** The side of each stage's image, coarse to fine: 64 px in 3 stages → [16, 32, 64]. */
export function stageSides(size: number, stages: number): number[] {
  return Array.from({ length: stages }, (_, i) => size / 2 ** (stages - 1 - i));
}

/** Why `size` in `stages` stages cannot be built (each side a power of two, the first ≥ 8), or null. */
export function stagesProblem(size: number, stages: number): string | null {
  const first = size / 2 ** (stages - 1);
  if (!Number.isInteger(Math.log2(size)) || first < 8) return `${stages} stage(s) need a power-of-two image side of at least ${8 * 2 ** (stages - 1)} px, got ${size}`;
  return null;
}

/** The generator's outputs in order: the m stage images, then μ and log σ² of ĉ, then the m − 1 attention maps. */
export interface GeneratorOutputs<T> {
  images: T[];
  mu: T;
  logVar: T;
  attention: T[];
}

/** Splits the generator's output list (see attnGenerator). */
export function generatorOutputs<T>(outputs: T[], stages: number): GeneratorOutputs<T> {
  return { images: outputs.slice(0, stages), mu: outputs[stages], logVar: outputs[stages + 1], attention: outputs.slice(stages + 2) };
}

/**
 * The attentional generative network (§2, eq. 1):
 *
 *   ĉ = F^ca(ē)                                  Conditioning Augmentation of the sentence feature ē
 *   h0 = F0(z, ĉ)                                dense → 4×4, then up-blocks to the first stage's side
 *   hi = Fi(h(i−1), F^attn_i(e, h(i−1)))         word attention; [h, context] → residual blocks → up-block
 *   x̂i = Gi(hi)                                  3×3 conv + tanh, at every stage
 *
 * An up-block is nearest ×2 → 3×3 conv → batch norm → GLU; a residual block is 3×3 conv → BN → GLU → 3×3 conv →
 * BN, added to its input (the released code's). Every h has `ngf` channels (F0 starts at ngf·2^k for k up-blocks).
 * Inputs [z [B, latentDim], ē [B, D], e [B, T, D], mask [B, T]], where z = [F0's noise, CA's ε (condDim)], so that
 * z alone fixes a sample's randomness; outputs as generatorOutputs reads.
 */
export function attnGenerator(spec: AttnGanSpec, init: SeededInit, rng: Rng): tfl.LayersModel {
  const seed = () => rng.nextUint32() % 2147483647;
  const sides = stageSides(spec.size, spec.stages);
  const z = tfl.input({ shape: [spec.latentDim], name: 'z' });
  const sentence = tfl.input({ shape: [spec.textDim], name: 'sentence' });
  const words = tfl.input({ shape: [spec.maxLen, spec.textDim], name: 'words' });
  const mask = tfl.input({ shape: [spec.maxLen], name: 'mask' });
  const [noise, eps] = new LatentSplit({ tail: spec.condDim, name: 'z_split' }).apply(z) as SymbolicTensor[]; // [B, latentDim − condDim], [B, condDim]
  const [c, mu, logVar] = new ConditioningAugmentation({ units: spec.condDim, seed: seed(), name: 'ca' }).apply([sentence, eps]) as SymbolicTensor[];

  // F0: [ĉ, z] → 4×4×c0 → up-blocks to sides[0] (channels halve each time, down to ngf)
  const ups = Math.log2(sides[0] / 4);
  const c0 = spec.ngf * 2 ** ups;
  let h = tfl.layers.concatenate({ name: 'f0_cz' }).apply([c, noise]) as SymbolicTensor;
  h = chain(h,
    tfl.layers.dense({ units: 4 * 4 * c0 * 2, useBias: false, kernelInitializer: init.normal(0.02), name: 'f0_fc' }),
    normLayer('batch', 'f0_fc_bn', init),
    new GatedLinearUnit({ name: 'f0_fc_glu' }),
    tfl.layers.reshape({ targetShape: [4, 4, c0], name: 'f0_4x4' }),
  ); // [B, 4, 4, c0]
  for (let i = 0; i < ups; i++) h = upBlock(h, c0 / 2 ** (i + 1), `f0_up${i + 1}`, init); // [B, sides[0], sides[0], ngf]

  const images = [toImage(h, spec.channels, 'g0', init)];
  const attention: SymbolicTensor[] = [];
  for (let stage = 1; stage < spec.stages; stage++) {
    const name = `f${stage}`;
    const [context, beta] = new WordAttention({ seed: seed(), name: `${name}_attn` }).apply([h, words, mask]) as SymbolicTensor[]; // [B, s, s, ngf], [B, s, s, T]
    let x = tfl.layers.concatenate({ name: `${name}_hc` }).apply([h, context]) as SymbolicTensor; // [B, s, s, 2·ngf]
    for (let r = 0; r < spec.resBlocks; r++) x = residualBlock(x, 2 * spec.ngf, `${name}_res${r + 1}`, init);
    h = upBlock(x, spec.ngf, `${name}_up`, init); // [B, 2s, 2s, ngf]
    images.push(toImage(h, spec.channels, `g${stage}`, init));
    attention.push(beta);
  }
  return tfl.model({ inputs: [z, sentence, words, mask], outputs: [...images, mu, logVar, ...attention], name: 'generator' });
}

/** Nearest ×2 → 3×3 conv to 2·out channels → BN → GLU: [B, s, s, ·] → [B, 2s, 2s, out]. */
function upBlock(x: SymbolicTensor, out: number, name: string, init: SeededInit): SymbolicTensor {
  return chain(x,
    new NearestUpsample2D({ name: `${name}_nn` }),
    conv({ name: `${name}_conv`, filters: 2 * out, kernelSize: 3, strides: 1, padding: 'same', useBias: false }, init),
    normLayer('batch', `${name}_bn`, init),
    new GatedLinearUnit({ name: `${name}_glu` }),
  );
}

/** x + BN(conv(GLU(BN(conv(x))))), channels kept. */
function residualBlock(x: SymbolicTensor, channels: number, name: string, init: SeededInit): SymbolicTensor {
  const y = chain(x,
    conv({ name: `${name}_conv1`, filters: 2 * channels, kernelSize: 3, strides: 1, padding: 'same', useBias: false }, init),
    normLayer('batch', `${name}_bn1`, init),
    new GatedLinearUnit({ name: `${name}_glu` }),
    conv({ name: `${name}_conv2`, filters: channels, kernelSize: 3, strides: 1, padding: 'same', useBias: false }, init),
    normLayer('batch', `${name}_bn2`, init),
  );
  return tfl.layers.add({ name: `${name}_add` }).apply([x, y]) as SymbolicTensor;
}

/** G_i: 3×3 conv to the image's channels, tanh. */
function toImage(h: SymbolicTensor, channels: number, name: string, init: SeededInit): SymbolicTensor {
  return chain(h,
    conv({ name: `${name}_conv`, filters: channels, kernelSize: 3, strides: 1, padding: 'same', useBias: false }, init),
    tfl.layers.activation({ activation: 'tanh', name: `${name}_tanh` }),
  );
}

/**
 * The discriminators D0 … D(m−1), one per stage, as one model so that a single optimizer moves them (Adam is
 * per-parameter, and each D's weights see only its own loss, so this is the paper's m separate updates).
 * Inputs [x0 … x(m−1) (each stage's images), ē [B, D]]; outputs, per stage i, two logits [B, 1]:
 *
 *   unconditional  D_i(x_i)          is x_i real?
 *   conditional    D_i(x_i, ē)       is x_i real and does it match ē?
 *
 * Each D_i: 4×4 stride-2 convs (leaky ReLU 0.2, BN after the first) from the stage's side down to 4×4 with ndf,
 * 2·ndf, … ≤ 8·ndf channels; the unconditional head is a 4×4 valid conv; the conditional head joins ē replicated
 * over the 4×4 grid, a 3×3 conv → BN → leaky ReLU, then the 4×4 valid conv (the released D_NET's heads).
 */
export function attnDiscriminators(spec: AttnGanSpec, init: SeededInit): tfl.LayersModel {
  const sides = stageSides(spec.size, spec.stages);
  const xs = sides.map((s, i) => tfl.input({ shape: [s, s, spec.channels], name: `x${i}` }));
  const sentence = tfl.input({ shape: [spec.textDim], name: 'sentence' });
  const outputs: SymbolicTensor[] = [];
  sides.forEach((side, i) => {
    const name = `d${i}`;
    let h: SymbolicTensor = xs[i];
    const downs = Math.log2(side / 4);
    let channels = spec.ndf;
    for (let j = 0; j < downs; j++) {
      channels = spec.ndf * 2 ** Math.min(j, 3);
      h = conv({ name: `${name}_down${j + 1}`, filters: channels, kernelSize: 4, strides: 2, padding: 'same', useBias: j === 0 }, init).apply(h) as SymbolicTensor;
      if (j > 0) h = normLayer('batch', `${name}_down${j + 1}_bn`, init).apply(h) as SymbolicTensor;
      h = tfl.layers.leakyReLU({ alpha: 0.2, name: `${name}_down${j + 1}_lrelu` }).apply(h) as SymbolicTensor;
    } // [B, 4, 4, channels]
    const logit = (n: string) => [
      conv({ name: `${name}_${n}_logit`, filters: 1, kernelSize: 4, strides: 4, padding: 'valid', useBias: true }, init),
      tfl.layers.flatten({ name: `${name}_${n}_flat` }),
    ];
    outputs.push(chain(h, ...logit('uncond'))); // [B, 1]
    const text = chain(sentence, tfl.layers.repeatVector({ n: 16, name: `${name}_rep` }), tfl.layers.reshape({ targetShape: [4, 4, spec.textDim], name: `${name}_rep4x4` }));
    outputs.push(chain(tfl.layers.concatenate({ name: `${name}_join` }).apply([h, text]) as SymbolicTensor,
      conv({ name: `${name}_cond_conv`, filters: channels, kernelSize: 3, strides: 1, padding: 'same', useBias: false }, init),
      normLayer('batch', `${name}_cond_bn`, init),
      tfl.layers.leakyReLU({ alpha: 0.2, name: `${name}_cond_lrelu` }),
      ...logit('cond'),
    )); // [B, 1]
  });
  return tfl.model({ inputs: [...xs, sentence], outputs, name: 'discriminator' });
}

/** D's outputs for stage i: the unconditional and the conditional logits. */
export function stageLogits<T>(outputs: T[], stage: number): { uncond: T; cond: T } {
  return { uncond: outputs[2 * stage], cond: outputs[2 * stage + 1] };
}
