// BigGAN's generator and discriminator (Brock, Donahue & Simonyan 2019, Appendix B, Fig. 15 and Tables 4–5), at the
// widths of the authors' BigGAN-PyTorch architectures for 32, 64 and 128 px, built from src/nn's blocks.
import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { discriminatorBlock, generatorBlock } from '../../nn/biggan_blocks.js';
import { hierarchicalLatent, latentChunkSize, sharedClassEmbedding } from '../../nn/hierarchical_latent.js';
import { GlobalSumPooling2D, ProjectionOutput } from '../../nn/projection_discriminator.js';
import { SelfAttention } from '../../nn/self_attention.js';
import { spectralConv2d, spectralDense } from '../../nn/spectral_norm.js';
import { batchNormalization } from '../../nn/batch_norm.js';

/**
 * One architecture: channel multipliers of ch per residual block (G: 4×4 → side, each block doubling the size;
 * D: side → 4×4 or 8×8), as in BigGAN-PyTorch's G_arch/D_arch. 32 px is the CIFAR model (every G block 4ch, D
 * 4ch with the last two blocks not downsampling); 128 px is the paper's ImageNet model (G 16ch → ch, D ch → 16ch).
 */
interface Arch {
  /** G: channels (× ch) of the 4×4 map the linear layer makes, then each block's output. */
  g: number[];
  /** D: each block's output channels (× ch) and whether it halves the size. */
  d: { out: number; down: boolean }[];
}

const ARCHS: Readonly<Record<number, Arch>> = {
  32: { g: [4, 4, 4, 4], d: [{ out: 4, down: true }, { out: 4, down: true }, { out: 4, down: false }, { out: 4, down: false }] },
  64: { g: [16, 16, 8, 4, 2], d: [1, 2, 4, 8].map((out) => ({ out, down: true })).concat([{ out: 16, down: false }]) },
  128: { g: [16, 16, 8, 4, 2, 1], d: [1, 2, 4, 8, 16].map((out) => ({ out, down: true })).concat([{ out: 16, down: false }]) },
};

/** Image sides with an architecture. */
export const BIGGAN_SIDES = Object.keys(ARCHS).map(Number);

/** Dimension of the shared class embedding E(y) (the paper's 128 px model: 128). */
export const SHARED_EMBEDDING = 128;

export interface BigGanSize {
  /** Image side (one of BIGGAN_SIDES) and channels. */
  side: number;
  channels: number;
  /** Channel multiplier ch (the paper and the CIFAR script: 64 for G and D). */
  ch: number;
  /** z's dimension: a multiple of G's blocks + 1 (hierarchical z). */
  zDim: number;
  /** Classes K of a class-conditional pair; 0: unconditional (no embedding in G, no projection in D). */
  classes: number;
  /** The resolution of the one self-attention block in G and in D; 0: none. */
  attention: number;
  /** A fresh initialiser seed per layer, drawn from the run's RNG. */
  nextSeed: () => number;
}

/** How many residual blocks G has at this side (4×4 doubled to the side). */
export function generatorBlocks(side: number): number {
  return archOf(side).g.length - 1;
}

/** The output resolutions of G's and D's blocks where both can hold the self-attention block (--attention). */
export function attentionResolutions(side: number): number[] {
  const arch = archOf(side);
  const g = arch.g.slice(1).map((_, i) => 8 * 2 ** i);
  const d = dResolutions(side, arch);
  return g.filter((r) => d.includes(r));
}

/** Why these sizes cannot be built, or null (each reason names the flag to change). */
export function sizeProblem(s: { side: number; zDim: number; attention: number; ch: number }): string | null {
  if (!ARCHS[s.side]) return `biggan has architectures for ${BIGGAN_SIDES.join(', ')} px square images; pass --image-size ${BIGGAN_SIDES.join(', ')}`;
  try {
    latentChunkSize(s.zDim, generatorBlocks(s.side));
  } catch (e) {
    return `--latent-dim: ${(e as Error).message}`;
  }
  const allowed = attentionResolutions(s.side);
  if (s.attention !== 0 && !allowed.includes(s.attention)) {
    return `--attention ${s.attention}: at ${s.side} px self-attention fits at ${allowed.join(', ')} (a resolution both G and D have), or 0 for none`;
  }
  if (s.attention !== 0) {
    const arch = archOf(s.side);
    const gChannels = arch.g[1 + Math.log2(s.attention / 8)] * s.ch;
    const dChannels = arch.d[dResolutions(s.side, arch).indexOf(s.attention)].out * s.ch;
    if (gChannels % 8 !== 0 || dChannels % 8 !== 0) {
      return `--width ${s.ch}: self-attention at ${s.attention} px needs channel counts divisible by 8 (G has ${gChannels} there, D ${dChannels}); use a --width that makes them so, or --attention 0`;
    }
  }
  return null;
}

function archOf(side: number): Arch {
  const arch = ARCHS[side];
  if (!arch) throw new Error(`biggan: no architecture for ${side} px (${BIGGAN_SIDES.join(', ')})`);
  return arch;
}

function dResolutions(side: number, arch: Arch): number[] {
  let r = side;
  return arch.d.map((b) => (r = b.down ? r / 2 : r));
}

const apply = (layer: tfl.layers.Layer, x: SymbolicTensor | SymbolicTensor[]) => layer.apply(x) as SymbolicTensor;

/**
 * BigGAN's G (Appendix B, Fig. 15(a)): z split into one chunk per block plus one (hierarchical latent); the first
 * chunk → SN linear → 4×4×(g₀·ch); each "ResBlock up" is conditioned by its chunk ⊕ E(y) through conditional batch
 * norm; self-attention after the block that reaches `attention` px; then BN, ReLU, SN conv 3×3 to the image's
 * channels, tanh. Inputs [z [B, zDim], y [B, K] one-hot] (z alone when unconditional); output [B, side, side, C].
 */
export function bigganGenerator(s: BigGanSize): tfl.LayersModel {
  const arch = archOf(s.side);
  const blocks = arch.g.length - 1;
  const z = tfl.input({ shape: [s.zDim], name: 'z' });
  const label = s.classes > 0 ? tfl.input({ shape: [s.classes], name: 'label' }) : null;
  const embedding = label ? sharedClassEmbedding(label, SHARED_EMBEDDING, s.nextSeed()) : null; // E(y) [B, 128]
  const { first, conditions } = hierarchicalLatent(z, embedding, blocks);
  const bottom = arch.g[0] * s.ch;
  let h = apply(spectralDense({ units: 4 * 4 * bottom, seed: s.nextSeed(), name: 'g_linear' }), first);
  h = apply(tfl.layers.reshape({ targetShape: [4, 4, bottom], name: 'g_4x4' }), h); // [B, 4, 4, g₀·ch]
  for (let i = 0; i < blocks; i++) {
    h = generatorBlock(h, conditions[i], { filters: arch.g[i + 1] * s.ch, name: `g_block${i + 1}`, nextSeed: s.nextSeed }); // [B, 2ʳ, 2ʳ, gᵢ·ch]
    if (h.shape[1] === s.attention) h = apply(new SelfAttention({ seed: s.nextSeed(), name: 'g_attention' }), h);
  }
  h = apply(batchNormalization({ momentum: 0.9, epsilon: 1e-5, name: 'g_out_bn' }), h);
  h = apply(tfl.layers.reLU({ name: 'g_out_relu' }), h);
  h = apply(spectralConv2d({ filters: s.channels, kernelSize: 3, seed: s.nextSeed(), name: 'g_out_conv' }), h);
  const image = apply(tfl.layers.activation({ activation: 'tanh', name: 'g_tanh' }), h); // [B, side, side, C]
  return tfl.model({ inputs: label ? [z, label] : z, outputs: image, name: 'generator' });
}

/**
 * BigGAN's D (Appendix B, Fig. 15(c)): "ResBlock down" blocks (the first without its leading ReLU), self-attention
 * after the block that reaches `attention` px, ReLU, a sum over positions, then the projection output
 * ψ(h) + ⟨E(y), h⟩ (Miyato & Koyama 2018), or ψ(h) alone when unconditional. Every weight spectrally normalised.
 * Inputs [x [B, side, side, C], y [B, K]] (x alone when unconditional); output logits [B, 1].
 */
export function bigganDiscriminator(s: BigGanSize): tfl.LayersModel {
  const arch = archOf(s.side);
  const x = tfl.input({ shape: [s.side, s.side, s.channels], name: 'x' });
  let h = x;
  let attended = false;
  arch.d.forEach((b, i) => {
    h = discriminatorBlock(h, { filters: b.out * s.ch, name: `d_block${i + 1}`, nextSeed: s.nextSeed, downsample: b.down, preactivation: i > 0 });
    if (!attended && h.shape[1] === s.attention) {
      h = apply(new SelfAttention({ seed: s.nextSeed(), name: 'd_attention' }), h);
      attended = true;
    }
  });
  h = apply(new GlobalSumPooling2D({ name: 'd_sum' }), apply(tfl.layers.reLU({ name: 'd_out_relu' }), h)); // [B, C]
  if (s.classes === 0) {
    const logit = apply(spectralDense({ units: 1, seed: s.nextSeed(), name: 'd_linear' }), h); // [B, 1]
    return tfl.model({ inputs: x, outputs: logit, name: 'discriminator' });
  }
  const label = tfl.input({ shape: [s.classes], name: 'label' });
  const logit = apply(new ProjectionOutput({ classes: s.classes, seed: s.nextSeed(), name: 'd_projection' }), [h, label]); // [B, 1]
  return tfl.model({ inputs: [x, label], outputs: logit, name: 'discriminator' });
}
