import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { EqualizedConv2D, EqualizedDense } from '../../nn/equalized.js';
import { mappingNetwork } from '../../nn/mapping.js';
import { MinibatchStddev } from '../../nn/minibatch.js';
import { ProjectionOutput } from '../../nn/projection_discriminator.js';
import { ToRGB, styledConv } from '../../nn/modulated_conv.js';
import { ResidualDBlock } from '../../nn/residual_block.js';
import { ConstantInput, NoiseInjection } from '../../nn/synthesis_inputs.js';
import { BroadcastW, MeanTracker, PickW } from '../../nn/w_plus.js';
import { mixSeed, type Rng } from '../../util/rng.js';

/** The sizes of a StyleGAN2 pair, from the data and the run's settings. */
export interface StyleGan2Size {
  /** Output side R (a power of two ≥ 8); the synthesis network starts at 4×4. */
  resolution: number;
  /** Image channels. */
  channels: number;
  zDim: number;
  wDim: number;
  mappingLayers: number;
  /** Channels at the output resolution; they double at each halving of the resolution up to `maxWidth`. */
  width: number;
  maxWidth: number;
  /** Minibatch-stddev group size in D (0: no such layer). */
  mbstdGroup: number;
  /** Classes of a class-conditional pair (one-hot c [B, K] into the mapping and D); 0: unconditional. */
  classes: number;
}

/** Channels of both networks at resolution r: width·R/r, at most maxWidth (StyleGAN2's channel_base/r, capped). */
export function channelsAt(r: number, size: Pick<StyleGan2Size, 'resolution' | 'width' | 'maxWidth'>): number {
  return Math.min(size.width * (size.resolution / r), size.maxWidth);
}

/**
 * Style inputs of the synthesis network, 2·log2(R) − 2 (18 at 1024 px, 8 at 32 px): the 4×4 block's conv, then
 * per resolution two convs, and the last toRGB. Each toRGB shares the w of the next block's first conv, as in
 * the authors' implementation, so index 2k and 2k + 1 belong to resolution 4·2^k.
 */
export function numWs(resolution: number): number {
  return 2 * Math.log2(resolution) - 2;
}

/** The resolution each w+ index styles (StyleGAN's convention: two per resolution, coarse to fine). */
export function wResolutions(resolution: number): number[] {
  return Array.from({ length: numWs(resolution) }, (_, i) => 4 * 2 ** Math.floor(i / 2));
}

function seeds(rng: Rng): () => number {
  return () => rng.nextUint32() % 2147483647;
}

/** The inputs of a mapping network or G: z [B, zDim], and c [B, K] one-hot when the pair is class-conditional. */
function latentInputs(size: StyleGan2Size): SymbolicTensor[] {
  const z = tfl.input({ shape: [size.zDim], name: 'z' });
  return size.classes > 0 ? [z, tfl.input({ shape: [size.classes], name: 'c' })] : [z];
}

/**
 * The mapping network f: z [B, zDim] (, c [B, K]) → w [B, wDim] (src/nn/mapping.ts: normalised z, and for a
 * conditional pair the normalised class embedding concatenated to it, then `mappingLayers` equalized dense layers
 * at lr multiplier 0.01), followed by the tracker of the mean w̄ (layer 'w_avg', over all classes).
 */
export function stylegan2Mapping(size: StyleGan2Size, rng: Rng): tfl.LayersModel {
  const layers = mappingNetwork({ zDim: size.zDim, wDim: size.wDim, depth: size.mappingLayers, classes: size.classes, seed: seeds(rng)(), name: 'mapping_layers' });
  const inputs = latentInputs(size);
  const w = new MeanTracker({ name: 'w_avg' }).apply(layers.apply(inputs.length > 1 ? inputs : inputs[0]) as SymbolicTensor) as SymbolicTensor; // [B, wDim]
  return tfl.model({ inputs, outputs: w, name: 'mapping' });
}

/**
 * The synthesis network of StyleGAN2 config E/F with skip outputs (Karras et al. 2020, Fig. 7b, Table 1):
 * w+ [B, numWs, wDim] → images [B, R, R, C]. A learned 4×4 constant; at each resolution styled 3×3 convs
 * (modulated, demodulated, noise, bias, leaky ReLU; the first of each block upsamples 2×), and a toRGB whose
 * output is added to the upsampled image so far. Style input i reads ws[:, i] (PickW).
 */
export function stylegan2Synthesis(size: StyleGan2Size, rng: Rng): tfl.LayersModel {
  const seed = seeds(rng);
  const ch = (r: number) => channelsAt(r, size);
  const n = numWs(size.resolution);
  const ws = tfl.input({ shape: [n, size.wDim], name: 'ws' });
  const w = Array.from({ length: n }, (_, i) => new PickW({ index: i, name: `w${i}` }).apply(ws) as SymbolicTensor); // each [B, wDim]
  let x = new ConstantInput({ channels: ch(4), seed: seed(), name: 'const' }).apply(ws) as SymbolicTensor; // [B, 4, 4, C]
  x = styledConv(x, w[0], { filters: ch(4), seed: seed(), namePrefix: 'b4_conv1' });
  let rgb = new ToRGB({ channels: size.channels, seed: seed(), name: 'b4_torgb' }).apply([x, w[1]]) as SymbolicTensor; // [B, 4, 4, C]
  for (let r = 8, i = 1; r <= size.resolution; r *= 2, i += 2) {
    x = styledConv(x, w[i], { filters: ch(r), upsample: true, seed: seed(), namePrefix: `b${r}_conv0` }); // [B, r, r, ch(r)]
    x = styledConv(x, w[i + 1], { filters: ch(r), seed: seed(), namePrefix: `b${r}_conv1` });
    rgb = new ToRGB({ channels: size.channels, seed: seed(), name: `b${r}_torgb` }).apply([x, w[i + 2], rgb]) as SymbolicTensor; // [B, r, r, C]
  }
  return tfl.model({ inputs: ws, outputs: rgb, name: 'synthesis' });
}

/** G = synthesis ∘ broadcast ∘ mapping: z [B, zDim] (, c [B, K]) → images, one w for every style input. */
export function stylegan2Generator(size: StyleGan2Size, rng: Rng): tfl.LayersModel {
  const mapping = stylegan2Mapping(size, rng);
  const synthesis = stylegan2Synthesis(size, rng);
  const inputs = latentInputs(size);
  const w = mapping.apply(inputs.length > 1 ? inputs : inputs[0]) as SymbolicTensor;
  const ws = new BroadcastW({ numWs: numWs(size.resolution), name: 'broadcast' }).apply(w) as SymbolicTensor;
  return tfl.model({ inputs, outputs: synthesis.apply(ws) as SymbolicTensor, name: 'generator' });
}

/**
 * The residual discriminator of StyleGAN2 config E/F (Karras et al. 2020, Fig. 7c): fromRGB (1×1 conv), residual
 * blocks halving the resolution down to 4×4 (src/nn/residual_block.ts), then the epilogue — minibatch stddev,
 * a 3×3 conv, a dense layer and the logit — all with equalized learning rate. A class-conditional D takes c [B, K]
 * too and ends in the projection output of Miyato & Koyama 2018 (src/nn/projection_discriminator.ts), the
 * conditioning StyleGAN2-ADA uses (Karras et al. 2020b, appendix C), without spectral norm.
 */
export function stylegan2Discriminator(size: StyleGan2Size, rng: Rng): tfl.LayersModel {
  const seed = seeds(rng);
  const ch = (r: number) => channelsAt(r, size);
  const R = size.resolution;
  const img = tfl.input({ shape: [R, R, size.channels], name: 'image' });
  let h = new EqualizedConv2D({ filters: ch(R), kernelSize: 1, activation: 'lrelu', seed: seed(), name: 'from_rgb' }).apply(img) as SymbolicTensor;
  for (let r = R; r > 4; r /= 2) h = new ResidualDBlock({ filters: ch(r / 2), seed: seed(), name: `b${r}` }).apply(h) as SymbolicTensor; // [B, r/2, r/2, ch(r/2)]
  if (size.mbstdGroup > 0) h = new MinibatchStddev({ groupSize: size.mbstdGroup, name: 'mbstd' }).apply(h) as SymbolicTensor; // [B, 4, 4, ch(4) + 1]
  h = new EqualizedConv2D({ filters: ch(4), kernelSize: 3, activation: 'lrelu', seed: seed(), name: 'b4_conv' }).apply(h) as SymbolicTensor;
  h = tfl.layers.flatten({ name: 'flatten' }).apply(h) as SymbolicTensor; // [B, 16·ch(4)]
  h = new EqualizedDense({ units: ch(4), activation: 'lrelu', seed: seed(), name: 'b4_fc' }).apply(h) as SymbolicTensor;
  if (size.classes > 0) {
    const c = tfl.input({ shape: [size.classes], name: 'c' });
    const logit = new ProjectionOutput({ classes: size.classes, spectralNorm: false, seed: seed(), name: 'out' }).apply([h, c]) as SymbolicTensor; // [B, 1]
    return tfl.model({ inputs: [img, c], outputs: logit, name: 'discriminator' });
  }
  return tfl.model({ inputs: img, outputs: new EqualizedDense({ units: 1, seed: seed(), name: 'out' }).apply(h) as SymbolicTensor, name: 'discriminator' });
}

/** A StyleGAN2 generator's parts: what the step, the style space and the tests call separately. */
export interface StyleParts {
  mapping: tfl.LayersModel;
  synthesis: tfl.LayersModel;
  tracker: MeanTracker;
  numWs: number;
  /** K of a class-conditional mapping (its second input c [B, K]); 0: unconditional. */
  classes: number;
}

/** The parts of a generator built by stylegan2Generator (or loaded from its checkpoint, or its EMA copy). */
export function styleParts(generator: tfl.LayersModel): StyleParts {
  const mapping = generator.getLayer('mapping') as tfl.LayersModel;
  const synthesis = generator.getLayer('synthesis') as tfl.LayersModel;
  const classes = mapping.inputs.length > 1 ? (mapping.inputs[1].shape[1] as number) : 0;
  return { mapping, synthesis, tracker: mapping.getLayer('w_avg') as MeanTracker, numWs: synthesis.inputs[0].shape[1] as number, classes };
}

/** The per-pixel noise layers of a synthesis network, coarse to fine. */
function noiseLayers(synthesis: tfl.LayersModel): NoiseInjection[] {
  return synthesis.layers.filter((l): l is NoiseInjection => l instanceof NoiseInjection);
}

/**
 * Runs `f` with every noise input of `synthesis` fixed, then frees what it made: zeros ('zero'), N(0, 1) drawn
 * from `seed` for a batch of `batch` (layer i from mixSeed(seed, i)), so that the same seed gives the same noise,
 * or the caller's maps [B or 1, H, W, 1], one per noise layer in `noiseShapes` order (projection optimises them).
 */
export function withFixedNoise<T>(synthesis: tfl.LayersModel, mode: 'random' | 'zero' | tf.Tensor[], seed: number, batch: number, f: () => T): T {
  const layers = noiseLayers(synthesis);
  if (Array.isArray(mode) && mode.length !== layers.length) throw new Error(`synthesis has ${layers.length} noise inputs, got ${mode.length} maps`);
  const made = Array.isArray(mode) ? [] : layers.map((l, i) => {
    const [, h, w] = l.outputShape as number[];
    return mode === 'zero' ? tf.zeros([1, h, w, 1]) : tf.randomNormal([batch, h, w, 1], 0, 1, 'float32', mixSeed(seed, i));
  });
  const noise = Array.isArray(mode) ? mode : made;
  layers.forEach((l, i) => (l.fixedNoise = noise[i]));
  try {
    return f();
  } finally {
    for (const l of layers) l.fixedNoise = null;
    tf.dispose(made);
  }
}

/** [H, W] of each noise input of `synthesis`, coarse to fine (the order withFixedNoise takes explicit maps in). */
export function noiseShapesOf(synthesis: tfl.LayersModel): [number, number][] {
  return noiseLayers(synthesis).map((l) => (l.outputShape as number[]).slice(1, 3) as [number, number]);
}
