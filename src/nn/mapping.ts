import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import { EqualizedDense } from './equalized.js';

type Shape = (number | null)[];

/**
 * Pixelwise feature normalisation (Karras et al. 2018, "Progressive Growing of GANs", §4.2, eq. 1):
 * b = a / √(mean_j a_j² + ε), over the last axis. StyleGAN applies it to z (and to the class embedding) before
 * the mapping network, which puts every latent on a sphere of radius √dim ("normalize 2nd moment").
 *
 * @example
 * const zn = new PixelNorm().apply(z); // [B, z_dim], mean square 1 per row
 */
export class PixelNorm extends tfl.layers.Layer {
  static className = 'PixelNorm';
  readonly epsilon: number;

  constructor(args: LayerArgs & { epsilon?: number } = {}) {
    super(args);
    this.epsilon = args.epsilon ?? 1e-8;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      return tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), this.epsilon)));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon };
  }
}
tf.serialization.registerClass(PixelNorm);

export interface MappingOptions {
  zDim: number;
  wDim: number;
  /** Number of dense layers (StyleGAN: 8; StyleGAN2-ADA uses 2 for small datasets). */
  depth: number;
  /** Learning-rate multiplier of every layer (StyleGAN §2 / appendix C: 0.01). */
  lrMul?: number;
  /** Number of classes for a one-hot condition c [B, classes]; 0 or absent for none. */
  classes?: number;
  /** Seeds the layers' weights: layer i gets seed + i, the class embedding seed + depth. */
  seed: number;
  name?: string;
}

/**
 * The mapping network f: Z → W (Karras et al. 2019, §2, Fig. 1b): normalise z, then `depth` equalized dense
 * layers with leaky ReLU(0.2)·√2, each wDim wide, learning-rate multiplier 0.01. With `classes`, c is embedded
 * by an equalized dense layer to wDim, normalised the same way and concatenated to z (the conditional form of
 * StyleGAN2-ADA, Karras et al. 2020b, appendix C), so the class moves w rather than being a separate input.
 * Returns a model z [B, zDim] (, c [B, classes]) → w [B, wDim].
 *
 * @example
 * const mapping = mappingNetwork({ zDim: 128, wDim: 128, depth: 4, seed: 1 });
 * const w = mapping.predict(tf.randomNormal([8, 128])) as tf.Tensor; // [8, 128]
 */
export function mappingNetwork(opts: MappingOptions): tfl.LayersModel {
  const lrMul = opts.lrMul ?? 0.01;
  const z = tfl.input({ shape: [opts.zDim], name: 'z' });
  const inputs = [z];
  let h = new PixelNorm().apply(z) as SymbolicTensor;
  if (opts.classes) {
    const c = tfl.input({ shape: [opts.classes], name: 'c' });
    inputs.push(c);
    const embedded = new EqualizedDense({ units: opts.wDim, seed: opts.seed + opts.depth, name: 'class_embed' }).apply(c) as SymbolicTensor;
    h = tfl.layers.concatenate().apply([h, new PixelNorm().apply(embedded) as SymbolicTensor]) as SymbolicTensor; // [B, zDim + wDim]
  }
  for (let i = 0; i < opts.depth; i++) {
    h = new EqualizedDense({ units: opts.wDim, lrMul, activation: 'lrelu', seed: opts.seed + i, name: `map${i}` }).apply(h) as SymbolicTensor;
  }
  return tfl.model({ inputs, outputs: h, name: opts.name ?? 'mapping' });
}
