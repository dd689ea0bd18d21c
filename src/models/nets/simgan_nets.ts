// SimGAN's two networks (Shrivastava et al. 2017, as described for its eye-gaze experiment): a refiner that
// keeps the image size throughout, and a small fully convolutional D whose output is a map of per-patch logits.
import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { SeededInit } from '../../nn/init.js';

export interface RefinerOptions {
  /** Image [H, W, C]; the output has the same shape. */
  shape: number[];
  /** Feature maps of every convolution (the paper's 64). */
  features: number;
  /** ResNet blocks (the paper's 4). */
  blocks: number;
}

/**
 * The refiner R: a 3×3 convolution to `features` maps, `blocks` ResNet blocks (each two 3×3 convolutions of
 * `features` maps around an identity skip), then a 1×1 convolution back to the image's channels. No stride and
 * no pooling, so every output pixel is a function of a small neighbourhood of the same input pixel (the paper's
 * point: refinement changes local appearance, not layout). A tanh keeps the output in the image range [−1, 1].
 *
 * @example
 * const R = refiner({ shape: [28, 28, 1], features: 64, blocks: 4 }, new SeededInit(new Rng(1)));  // [B, 28, 28, 1] → same
 */
export function refiner(opts: RefinerOptions, init: SeededInit): tfl.LayersModel {
  const { shape, features, blocks } = opts;
  const conv = (name: string, kernelSize: number, filters = features) =>
    tfl.layers.conv2d({ name, filters, kernelSize, strides: 1, padding: 'same', kernelInitializer: init.heNormal() });
  const input = tfl.input({ shape, name: 'synthetic' });
  let h = tfl.layers.reLU({ name: 'in_relu' }).apply(conv('in_conv', 3).apply(input)) as SymbolicTensor; // [B, H, W, F]
  for (let r = 1; r <= blocks; r++) {
    const a = tfl.layers.reLU({ name: `r${r}_relu1` }).apply(conv(`r${r}_conv1`, 3).apply(h)) as SymbolicTensor;
    const b = conv(`r${r}_conv2`, 3).apply(a) as SymbolicTensor;
    h = tfl.layers.reLU({ name: `r${r}_relu2` }).apply(tfl.layers.add({ name: `r${r}_add` }).apply([h, b])) as SymbolicTensor;
  }
  const out = tfl.layers.conv2d({ name: 'out_conv', filters: shape[2], kernelSize: 1, strides: 1, padding: 'same', kernelInitializer: init.glorotUniform() }).apply(h);
  const refined = tfl.layers.activation({ activation: 'tanh', name: 'refined' }).apply(out) as SymbolicTensor; // [B, H, W, C]
  return tfl.model({ inputs: input, outputs: refined, name: 'refiner' });
}

/**
 * The local discriminator: conv 3×3/2 (1.5w maps), conv 3×3/2 (w), max-pool 3×3/1, conv 3×3 (w/2), conv 1×1
 * (w/2), conv 1×1 (1), ReLUs between; the paper's 96-64-pool-32-32-2 at w = 64, with one logit per patch in
 * place of its two-way softmax (the same cross-entropy). Output [B, ⌈H/4⌉, ⌈W/4⌉, 1]: 7×7 patch logits at 28 px.
 */
export function localDiscriminator(opts: { shape: number[]; width: number }, init: SeededInit): tfl.LayersModel {
  const { shape, width } = opts;
  const conv = (name: string, filters: number, kernelSize: number, strides: number) =>
    tfl.layers.conv2d({ name, filters, kernelSize, strides, padding: 'same', kernelInitializer: init.heNormal() });
  const relu = (name: string) => tfl.layers.reLU({ name });
  const input = tfl.input({ shape, name: 'image' });
  let h = relu('c1_relu').apply(conv('c1', Math.round(1.5 * width), 3, 2).apply(input)) as SymbolicTensor; // [B, H/2, W/2, 1.5w]
  h = relu('c2_relu').apply(conv('c2', width, 3, 2).apply(h)) as SymbolicTensor; // [B, H/4, W/4, w]
  h = tfl.layers.maxPooling2d({ name: 'pool', poolSize: 3, strides: 1, padding: 'same' }).apply(h) as SymbolicTensor;
  h = relu('c3_relu').apply(conv('c3', Math.max(1, width >> 1), 3, 1).apply(h)) as SymbolicTensor;
  h = relu('c4_relu').apply(conv('c4', Math.max(1, width >> 1), 1, 1).apply(h)) as SymbolicTensor;
  const logits = tfl.layers.conv2d({ name: 'patch_logits', filters: 1, kernelSize: 1, strides: 1, padding: 'same', kernelInitializer: init.glorotUniform() }).apply(h) as SymbolicTensor; // [B, H/4, W/4, 1]
  return tfl.model({ inputs: input, outputs: logits, name: 'local_discriminator' });
}
