// Networks of the text-to-image families: DF-GAN's one-stage generator with deep fusion blocks and its
// discriminator (image features, then the sentence joined before the last convolutions), and StackGAN's two
// stages with Conditioning Augmentation. A discriminator is a model [x, condition] → logit [B, 1] made of two
// nested models, 'features' (x → h) and 'head' ([h, condition] → logit), so a matching-aware step encodes a real
// batch once and scores it with the matching and the mismatched texts (discriminatorParts).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { SeededInit } from '../../nn/init.js';
import { NearestUpsample2D } from '../../nn/upsample.js';
import { ChannelAffine, LatentSlice, LearnedScale, Reparameterize, replicateSpatially } from '../../nn/text_fusion.js';
import { chain } from './layers.js';
import { batchNormalization } from '../../nn/batch_norm.js';

/**
 * How a side grows from a small base grid by doubling: side = base·2^n with n as large as keeps base ≥ 4 (64 →
 * 4·2⁴, 48 → 6·2³, 28 → 7·2²). n = 0 when the side cannot be halved down to a grid of 4 or more.
 */
export function baseGrid(side: number): { base: number; n: number } {
  let n = 0;
  while (side % 2 ** (n + 1) === 0 && side / 2 ** (n + 1) >= 4) n++;
  return { base: side / 2 ** n, n };
}

const lrelu = (name: string) => tfl.layers.leakyReLU({ alpha: 0.2, name });

function conv(name: string, filters: number, kernelSize: number, strides: number, init: SeededInit, useBias = true, padding: 'same' | 'valid' = 'same'): tfl.layers.Layer {
  return tfl.layers.conv2d({ name, filters, kernelSize, strides, padding, useBias, kernelInitializer: init.glorotUniform() });
}

function dense(name: string, units: number, init: SeededInit, extra: { useBias?: boolean; activation?: 'relu' } = {}): tfl.layers.Layer {
  return tfl.layers.dense({ name, units, kernelInitializer: init.glorotUniform(), ...extra });
}

const batchNorm = (name: string) => batchNormalization({ name, momentum: 0.9, epsilon: 1e-5 });
const add = (name: string, a: SymbolicTensor, b: SymbolicTensor) => tfl.layers.add({ name }).apply([a, b]) as SymbolicTensor;
const concat = (name: string, a: SymbolicTensor, b: SymbolicTensor) => tfl.layers.concatenate({ axis: -1, name }).apply([a, b]) as SymbolicTensor;

export interface DfGanSize {
  /** Image side and channels. */
  side: number;
  channels: number;
  zDim: number;
  /** Sentence feature size D. */
  textDim: number;
  /** Channels at the output resolution (DF-GAN's nf: 32 for 256 px); ×2 per halving, at most ×8. */
  width: number;
}

/** DF-GAN's channel count at a level `fromTop` halvings below the full resolution: nf·min(2^k, 8). */
const dfChannels = (width: number, fromTop: number) => width * Math.min(2 ** fromTop, 8);

/**
 * DF-GAN's affine transformation (Tao et al. 2022, §3.3, Fig. 4): γ and β [B, C], each from a two-layer MLP
 * (Linear, ReLU, Linear) of the condition, then γ·x + β per channel. The last layers start at γ = 1, β = 0
 * (zero weights), so a fresh block passes x through, as in the authors' code.
 */
function affine(x: SymbolicTensor, cond: SymbolicTensor, c: number, name: string, init: SeededInit): SymbolicTensor {
  const mlp = (which: string, bias: 'ones' | 'zeros') => chain(cond,
    dense(`${name}_${which}1`, c, init, { activation: 'relu' }),
    tfl.layers.dense({ name: `${name}_${which}2`, units: c, kernelInitializer: 'zeros', biasInitializer: bias }));
  return new ChannelAffine({ name }).apply([x, mlp('gamma', 'ones'), mlp('beta', 'zeros')]) as SymbolicTensor;
}

/** DFBlock (§3.3): affine, LeakyReLU, affine, LeakyReLU: two fusions stacked, deepening the text-image fusion. */
function dfBlock(x: SymbolicTensor, cond: SymbolicTensor, c: number, name: string, init: SeededInit): SymbolicTensor {
  const h = lrelu(`${name}_act0`).apply(affine(x, cond, c, `${name}_affine0`, init)) as SymbolicTensor;
  return lrelu(`${name}_act1`).apply(affine(h, cond, c, `${name}_affine1`, init)) as SymbolicTensor;
}

/**
 * DF-GAN's generator: [z [B, zDim], s [B, D]] → image [B, side, side, C] in [−1, 1]. z → a dense layer → a
 * base×base map of nf·8 channels; n UPBlocks, each upsampling 2× (nearest) then shortcut + residual, the residual
 * DFBlock, conv3×3, DFBlock, conv3×3 with every affine conditioned on [z, s] (the authors' code feeds the noise
 * beside the sentence); LeakyReLU, conv3×3 to C, tanh.
 */
export function dfganGenerator(size: DfGanSize, init: SeededInit): tfl.LayersModel {
  const { base, n } = baseGrid(size.side);
  const z = tfl.input({ shape: [size.zDim], name: 'z' });
  const s = tfl.input({ shape: [size.textDim], name: 'sentence' });
  const cond = concat('cond', z, s); // [B, zDim + D]
  const top = dfChannels(size.width, n);
  let h = chain(z, dense('fc', base * base * top, init), tfl.layers.reshape({ targetShape: [base, base, top], name: 'fc_grid' })); // [B, base, base, nf·8]
  for (let i = 0; i < n; i++) {
    const [cin, cout] = [dfChannels(size.width, n - i), dfChannels(size.width, n - i - 1)];
    const up = new NearestUpsample2D({ name: `up${i}` }).apply(h) as SymbolicTensor; // [B, 2h, 2w, cin]
    const shortcut = cin === cout ? up : (conv(`up${i}_sc`, cout, 1, 1, init).apply(up) as SymbolicTensor);
    let r = conv(`up${i}_c1`, cout, 3, 1, init).apply(dfBlock(up, cond, cin, `up${i}_fuse1`, init)) as SymbolicTensor;
    r = conv(`up${i}_c2`, cout, 3, 1, init).apply(dfBlock(r, cond, cout, `up${i}_fuse2`, init)) as SymbolicTensor;
    h = add(`up${i}_out`, shortcut, r);
  }
  const image = chain(h, lrelu('rgb_act'), conv('rgb', size.channels, 3, 1, init), tfl.layers.activation({ activation: 'tanh', name: 'tanh' }));
  return tfl.model({ inputs: [z, s], outputs: image, name: 'generator' });
}

/**
 * DF-GAN's discriminator: 'features' = conv3×3 to nf, then n downsampling residual blocks (conv4×4 stride 2,
 * LeakyReLU, conv3×3, LeakyReLU; shortcut conv1×1 when the width changes, then 2× average pooling; out = x_sc +
 * γ·res with γ from 0); 'head' = the sentence replicated over the base grid and concatenated, conv3×3 to nf·2,
 * LeakyReLU, a base×base convolution to one logit.
 */
export function dfganDiscriminator(size: DfGanSize, init: SeededInit): tfl.LayersModel {
  const { base, n } = baseGrid(size.side);
  const x = tfl.input({ shape: [size.side, size.side, size.channels], name: 'x' });
  let h = conv('img', size.width, 3, 1, init).apply(x) as SymbolicTensor;
  for (let i = 0; i < n; i++) {
    const [cin, cout] = [dfChannels(size.width, i), dfChannels(size.width, i + 1)];
    const res = chain(h, conv(`down${i}_r1`, cout, 4, 2, init, false), lrelu(`down${i}_act1`), conv(`down${i}_r2`, cout, 3, 1, init, false), lrelu(`down${i}_act2`));
    const sc = chain(cin === cout ? h : (conv(`down${i}_sc`, cout, 1, 1, init).apply(h) as SymbolicTensor), tfl.layers.averagePooling2d({ poolSize: 2, strides: 2, name: `down${i}_pool` }));
    h = add(`down${i}_out`, sc, new LearnedScale({ name: `down${i}_gamma` }).apply(res) as SymbolicTensor);
  }
  const features = tfl.model({ inputs: x, outputs: h, name: 'features' }); // [B, base, base, nf·min(2ⁿ, 8)]
  const hIn = tfl.input({ shape: h.shape.slice(1) as number[], name: 'h' });
  const sIn = tfl.input({ shape: [size.textDim], name: 'sentence' });
  const logit = chain(concat('joint', hIn, replicateSpatially(sIn, base, 'sentence_grid')),
    conv('joint_c1', size.width * 2, 3, 1, init, false), lrelu('joint_act'), conv('logit', 1, base, 1, init, false, 'valid'), tfl.layers.flatten({ name: 'flat' })); // [B, 1]
  const head = tfl.model({ inputs: [hIn, sIn], outputs: logit, name: 'head' });
  return conditionalDiscriminator(features, head, size.side, size.channels, size.textDim);
}

/** D = head(features(x), c) as one model of two inputs [x, c], keeping the two parts as nested layers. */
function conditionalDiscriminator(features: tfl.LayersModel, head: tfl.LayersModel, side: number, channels: number, condDim: number, name = 'discriminator'): tfl.LayersModel {
  const x = tfl.input({ shape: [side, side, channels], name: 'x' });
  const c = tfl.input({ shape: [condDim], name: 'c' });
  const logit = head.apply([features.apply(x) as SymbolicTensor, c]) as SymbolicTensor;
  return tfl.model({ inputs: [x, c], outputs: logit, name });
}

/** The two parts of a text-conditional discriminator: images → features, [features, condition] → logits. */
export function discriminatorParts(d: tfl.LayersModel): { features: tfl.LayersModel; head: tfl.LayersModel } {
  return { features: d.getLayer('features') as tfl.LayersModel, head: d.getLayer('head') as tfl.LayersModel };
}

export interface StackGanSize {
  side: number;
  channels: number;
  /** The whole latent: G's noise, then ε₁ and ε₂ (cDim each). */
  zDim: number;
  textDim: number;
  /** Size of the compressed text c (Conditioning Augmentation; the paper's N_c = 128). */
  cDim: number;
  /** Stage-I generator width at its output (×8 at the base grid); discriminators' first width. */
  width: number;
  /** Residual blocks of stage II (the paper: 4). */
  resBlocks: number;
}

/** Stage I's side: half the data's, a quarter from 64 px up (StackGAN: 64 → 256). */
export function stageOneSide(side: number): number {
  return side >= 64 ? side / 4 : side / 2;
}

/** Conditioning Augmentation (§3.1): one FC layer of the sentence to μ and log σ² [B, cDim]; c = μ + σ·ε. */
function conditioningAugmentation(s: SymbolicTensor, eps: SymbolicTensor, cDim: number, name: string, init: SeededInit): SymbolicTensor[] {
  const mu = dense(`${name}_mu`, cDim, init).apply(s) as SymbolicTensor;
  const logVar = dense(`${name}_logvar`, cDim, init).apply(s) as SymbolicTensor;
  return [new Reparameterize({ name: `${name}_c` }).apply([mu, logVar, eps]) as SymbolicTensor, mu, logVar];
}

/** StackGAN's upsampling block: nearest 2×, conv3×3 (no bias), batch norm, ReLU. */
function upBlock(h: SymbolicTensor, filters: number, name: string, init: SeededInit): SymbolicTensor {
  return chain(h, new NearestUpsample2D({ name: `${name}_up` }), conv(`${name}_conv`, filters, 3, 1, init, false), batchNorm(`${name}_bn`), tfl.layers.reLU({ name: `${name}_relu` }));
}

const toImage = (h: SymbolicTensor, channels: number, name: string, init: SeededInit) =>
  chain(h, conv(`${name}_rgb`, channels, 3, 1, init), tfl.layers.activation({ activation: 'tanh', name: `${name}_tanh` }));

/**
 * StackGAN's generator, two nested stages (stackganStages):
 *   stage1: [z_G, s, ε₁] → [image at stageOneSide, μ₁, log σ₁²]: CA, [z_G, c₁] → FC → base×base×8w (BN, ReLU),
 *           up-blocks halving the channels, conv3×3, tanh
 *   stage2: [image₁, s, ε₂] → [image at the data's side, μ₂, log σ₂²]: its own CA; image₁ → conv3×3, ReLU, stride-2
 *           convs to a grid of a quarter of stage I's side (at least the base grid); c₂ replicated and joined, conv3×3,
 *           residual blocks; up-blocks to the data's side, conv3×3, tanh
 * The model itself maps [z [B, zDim], s] → the stage-II image, where z = [z_G, ε₁, ε₂] (stackganLatents): every
 * noise it uses comes from z, so one z draws one image.
 */
export function stackganGenerator(size: StackGanSize, init: SeededInit): tfl.LayersModel {
  const stage1 = stageOneGenerator(size, init);
  const stage2 = stageTwoGenerator(size, init);
  const z = tfl.input({ shape: [size.zDim], name: 'z' });
  const s = tfl.input({ shape: [size.textDim], name: 'sentence' });
  const [zG, e1, e2] = latentParts(size.zDim, size.cDim).map(([begin, n], i) => new LatentSlice({ begin, size: n, name: ['z_g', 'eps1', 'eps2'][i] }).apply(z) as SymbolicTensor);
  const [image1] = stage1.apply([zG, s, e1]) as SymbolicTensor[];
  const [image2] = stage2.apply([image1, s, e2]) as SymbolicTensor[];
  return tfl.model({ inputs: [z, s], outputs: image2, name: 'generator' });
}

/** [begin, size] of z_G, ε₁ and ε₂ in StackGAN's latent of zDim: G's noise first, then each stage's CA noise (cDim each). */
function latentParts(zDim: number, cDim: number): [number, number][] {
  return [[0, zDim - 2 * cDim], [zDim - 2 * cDim, cDim], [zDim - cDim, cDim]];
}

/** StackGAN's latent z [B, zDim] as its three noises: z_G [B, zDim − 2·cDim], ε₁ and ε₂ [B, cDim]. The caller disposes them. */
export function stackganLatents(z: tf.Tensor2D, cDim: number): [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D] {
  return latentParts(z.shape[1], cDim).map(([begin, n]) => tf.slice(z, [0, begin], [-1, n])) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
}

function stageOneGenerator(size: StackGanSize, init: SeededInit): tfl.LayersModel {
  const side1 = stageOneSide(size.side);
  const { base, n } = baseGrid(side1);
  const z = tfl.input({ shape: [size.zDim - 2 * size.cDim], name: 'z' });
  const s = tfl.input({ shape: [size.textDim], name: 'sentence' });
  const eps = tfl.input({ shape: [size.cDim], name: 'eps' });
  const [c, mu, logVar] = conditioningAugmentation(s, eps, size.cDim, 's1_ca', init);
  const top = size.width * 8;
  let h = chain(concat('s1_zc', z, c), dense('s1_fc', base * base * top, init, { useBias: false }), batchNorm('s1_fc_bn'), tfl.layers.reLU({ name: 's1_fc_relu' }),
    tfl.layers.reshape({ targetShape: [base, base, top], name: 's1_grid' })); // [B, base, base, 8w]
  for (let i = 0; i < n; i++) h = upBlock(h, Math.max(1, top / 2 ** (i + 1)), `s1_up${i}`, init);
  return tfl.model({ inputs: [z, s, eps], outputs: [toImage(h, size.channels, 's1', init), mu, logVar], name: 'stage1' });
}

function stageTwoGenerator(size: StackGanSize, init: SeededInit): tfl.LayersModel {
  const side1 = stageOneSide(size.side);
  const downs = side1 / 4 >= baseGrid(side1).base ? 2 : 1;
  const grid = side1 / 2 ** downs;
  const ups = Math.round(Math.log2(size.side / grid));
  const w = size.width * 2; // the paper's stage-II ngf is twice stage I's output width
  const image1 = tfl.input({ shape: [side1, side1, size.channels], name: 'image1' });
  const s = tfl.input({ shape: [size.textDim], name: 'sentence' });
  const eps = tfl.input({ shape: [size.cDim], name: 'eps' });
  const [c, mu, logVar] = conditioningAugmentation(s, eps, size.cDim, 's2_ca', init);
  let h = chain(image1, conv('s2_in', w, 3, 1, init), tfl.layers.reLU({ name: 's2_in_relu' }));
  for (let i = 0; i < downs; i++) h = chain(h, conv(`s2_down${i}`, w * 2 ** (i + 1), 4, 2, init, false), batchNorm(`s2_down${i}_bn`), tfl.layers.reLU({ name: `s2_down${i}_relu` }));
  const joint = w * 2 ** downs;
  h = chain(concat('s2_joint', h, replicateSpatially(c, grid, 's2_c_grid')), conv('s2_joint_conv', joint, 3, 1, init, false), batchNorm('s2_joint_bn'), tfl.layers.reLU({ name: 's2_joint_relu' }));
  for (let i = 0; i < size.resBlocks; i++) {
    const r = chain(h, conv(`s2_res${i}_c1`, joint, 3, 1, init, false), batchNorm(`s2_res${i}_bn1`), tfl.layers.reLU({ name: `s2_res${i}_relu1` }),
      conv(`s2_res${i}_c2`, joint, 3, 1, init, false), batchNorm(`s2_res${i}_bn2`));
    h = tfl.layers.reLU({ name: `s2_res${i}_out` }).apply(add(`s2_res${i}_add`, h, r)) as SymbolicTensor;
  }
  for (let i = 0; i < ups; i++) h = upBlock(h, Math.max(1, joint / 2 ** (i + 1)), `s2_up${i}`, init);
  return tfl.model({ inputs: [image1, s, eps], outputs: [toImage(h, size.channels, 's2', init), mu, logVar], name: 'stage2' });
}

/** The two stages of a StackGAN generator. */
export function stackganStages(generator: tfl.LayersModel): { stage1: tfl.LayersModel; stage2: tfl.LayersModel } {
  return { stage1: generator.getLayer('stage1') as tfl.LayersModel, stage2: generator.getLayer('stage2') as tfl.LayersModel };
}

/**
 * StackGAN's matching-aware discriminator for one stage (§3.2, §3.3): 'features' = conv4×4 stride 2 (no norm),
 * LeakyReLU, then conv4×4 stride 2, batch norm, LeakyReLU down to the base grid, widths w·2^k up to 8w; 'head' =
 * the compressed text (μ) replicated over the grid and concatenated, conv3×3, batch norm, LeakyReLU, a base×base
 * convolution to one logit.
 */
export function stackganDiscriminator(side: number, channels: number, cDim: number, width: number, init: SeededInit, name: string): tfl.LayersModel {
  const { base, n } = baseGrid(side);
  const ch = (k: number) => width * Math.min(2 ** k, 8);
  const x = tfl.input({ shape: [side, side, channels], name: 'x' });
  let h = x;
  for (let i = 0; i < n; i++) {
    const layers = [conv(`down${i}`, ch(i), 4, 2, init, i === 0), ...(i === 0 ? [] : [batchNorm(`down${i}_bn`)]), lrelu(`down${i}_act`)];
    h = chain(h, ...layers);
  }
  const features = tfl.model({ inputs: x, outputs: h, name: 'features' }); // [B, base, base, w·min(2ⁿ⁻¹, 8)]
  const hIn = tfl.input({ shape: h.shape.slice(1) as number[], name: 'h' });
  const cIn = tfl.input({ shape: [cDim], name: 'c' });
  const logit = chain(concat('joint', hIn, replicateSpatially(cIn, base, 'c_grid')), conv('joint_conv', ch(Math.max(0, n - 1)), 3, 1, init, false), batchNorm('joint_bn'), lrelu('joint_act'),
    conv('logit', 1, base, 1, init, true, 'valid'), tfl.layers.flatten({ name: 'flat' })); // [B, 1]
  const head = tfl.model({ inputs: [hIn, cIn], outputs: logit, name: 'head' });
  return conditionalDiscriminator(features, head, side, channels, cDim, name);
}
