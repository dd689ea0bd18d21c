import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import { runBackendKernel } from './backend_kernels.js';

type Shape = (number | null)[];

/**
 * Equalized learning rate (Karras, Aila, Laine & Lehtinen 2018, "Progressive Growing of GANs", §4.1): weights
 * are stored as N(0, 1) and multiplied at run time by the He constant c = 1/√fan_in, so every layer's stored
 * parameters have the same dynamic range and Adam, which normalises each update by the gradient's scale, moves
 * them all at the same relative speed. StyleGAN (Karras, Laine & Aila 2019, §2 and appendix C) adds a
 * learning-rate multiplier λ (0.01 in the mapping network): stored weights start at N(0, 1/λ²) and are
 * multiplied by λ·c, biases are multiplied by λ. The effective weights start the same as with λ = 1, while
 * their updates shrink by λ².
 */

/** 'lrelu' is leaky ReLU with slope 0.2 times √2, the He gain that keeps unit-variance signals at unit variance
 *  through the activation (StyleGAN's implementation applies it after every leaky ReLU). */
export type Activation = 'linear' | 'lrelu';
export const LRELU_SLOPE = 0.2;
export const LRELU_GAIN = Math.SQRT2;

export function activate(x: tf.Tensor, activation: Activation): tf.Tensor {
  return activation === 'lrelu' ? tf.mul(tf.leakyRelu(x, LRELU_SLOPE), LRELU_GAIN) : x;
}

/** The backend's one-pass bias + leaky ReLU + gain (on 'aten'): x [..., C], bias [C]; attrs alpha, gain. */
export const BIAS_ACT_KERNEL = 'BiasAct';

/**
 * activate(x + bias, activation), bias [C] along x's last axis: one kernel where the backend has BiasAct (its
 * gradient is one kernel too, and differentiable again), else the add and the activation as tfjs ops; the same
 * float32 roundings either way.
 */
export function biasActivate(x: tf.Tensor, bias: tf.Tensor, activation: Activation): tf.Tensor {
  const fused = activation === 'lrelu' ? runBackendKernel(BIAS_ACT_KERNEL, { x, bias }, { alpha: LRELU_SLOPE, gain: LRELU_GAIN }) : null;
  return fused ?? activate(tf.add(x, bias), activation);
}

function single(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? inputs[0] : inputs;
}

function firstShape(inputShape: Shape | Shape[]): Shape {
  return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
}

/** N(0, 1/λ²) with an optional seed: the stored weight of an equalized layer with multiplier λ. */
export function equalizedInitializer(lrMul: number, seed: number | null | undefined) {
  return tfl.initializers.randomNormal({ mean: 0, stddev: 1 / lrMul, seed: seed ?? undefined });
}

export interface EqualizedArgs extends LayerArgs {
  /** Learning-rate multiplier λ (StyleGAN's mapping network: 0.01). Default 1. */
  lrMul?: number;
  /** Applied after the bias. Default 'linear'. */
  activation?: Activation;
  useBias?: boolean;
  /** The bias's effective initial value (stored as biasInit/λ). Default 0. */
  biasInit?: number;
  seed?: number | null;
}

/** The parts dense and conv share: the kernel, the bias and their run-time multipliers. */
abstract class EqualizedLayer extends tfl.layers.Layer {
  readonly lrMul: number;
  readonly activation: Activation;
  readonly useBias: boolean;
  readonly biasInit: number;
  readonly seed: number | null;
  protected kernel!: tfl.LayerVariable;
  protected bias: tfl.LayerVariable | null = null;
  /** λ/√fan_in, set in build. */
  protected weightGain = 1;

  constructor(args: EqualizedArgs) {
    super(args);
    this.lrMul = args.lrMul ?? 1;
    this.activation = args.activation ?? 'linear';
    this.useBias = args.useBias ?? true;
    this.biasInit = args.biasInit ?? 0;
    this.seed = args.seed ?? null;
  }

  protected addEqualizedWeights(kernelShape: number[]): void {
    const fanIn = kernelShape.slice(0, -1).reduce((a, b) => a * b, 1);
    this.weightGain = this.lrMul / Math.sqrt(fanIn);
    this.kernel = this.addWeight('kernel', kernelShape, 'float32', equalizedInitializer(this.lrMul, this.seed));
    const out = kernelShape[kernelShape.length - 1];
    if (this.useBias) this.bias = this.addWeight('bias', [out], 'float32', tfl.initializers.constant({ value: this.biasInit / this.lrMul }));
  }

  /** The weight the layer computes with: stored kernel · λ/√fan_in. */
  effectiveKernel(): tf.Tensor {
    return tf.mul(this.kernel.read(), this.weightGain);
  }

  protected biasAndActivate(y: tf.Tensor): tf.Tensor {
    return this.bias ? biasActivate(y, tf.mul(this.bias.read(), this.lrMul), this.activation) : activate(y, this.activation);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), lrMul: this.lrMul, activation: this.activation, useBias: this.useBias, biasInit: this.biasInit, seed: this.seed };
  }
}

/**
 * Dense layer with equalized learning rate: y = act(x · (λ/√fan_in)·K + λ·b), K stored as N(0, 1/λ²).
 *
 * @example
 * const h = new EqualizedDense({ units: 64, lrMul: 0.01, activation: 'lrelu', seed: 1 }).apply(z); // mapping layer
 */
export class EqualizedDense extends EqualizedLayer {
  static className = 'EqualizedDense';
  readonly units: number;

  constructor(args: EqualizedArgs & { units: number }) {
    super(args);
    this.units = args.units;
  }

  override build(inputShape: Shape | Shape[]): void {
    const s = firstShape(inputShape);
    if (s.length !== 2 || s[1] === null) throw new Error(`EqualizedDense needs flat inputs [B, F] with known F, got [${s.join(', ')}]`);
    this.addEqualizedWeights([s[1], this.units]);
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return [firstShape(inputShape)[0], this.units];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => this.biasAndActivate(tf.matMul(single(inputs) as tf.Tensor2D, this.effectiveKernel() as tf.Tensor2D))); // [B, units]
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), units: this.units };
  }
}

/**
 * 2-D convolution (NHWC, stride 1, 'same' padding) with equalized learning rate: fan_in = k·k·C_in.
 *
 * @example
 * const h = new EqualizedConv2D({ filters: 32, kernelSize: 3, activation: 'lrelu', seed: 2 }).apply(x);
 */
export class EqualizedConv2D extends EqualizedLayer {
  static className = 'EqualizedConv2D';
  readonly filters: number;
  readonly kernelSize: number;

  constructor(args: EqualizedArgs & { filters: number; kernelSize: number }) {
    super(args);
    this.filters = args.filters;
    this.kernelSize = args.kernelSize;
  }

  override build(inputShape: Shape | Shape[]): void {
    const s = firstShape(inputShape);
    if (s.length !== 4 || s[3] === null) throw new Error(`EqualizedConv2D needs images [B, H, W, C] with known C, got [${s.join(', ')}]`);
    this.addEqualizedWeights([this.kernelSize, this.kernelSize, s[3], this.filters]);
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [b, h, w] = firstShape(inputShape);
    return [b, h, w, this.filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => this.biasAndActivate(tf.conv2d(single(inputs) as tf.Tensor4D, this.effectiveKernel() as tf.Tensor4D, 1, 'same'))); // [B, H, W, filters]
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), filters: this.filters, kernelSize: this.kernelSize };
  }
}

/**
 * A learned per-channel bias (×λ) then the activation: what follows a modulated convolution and its noise in
 * StyleGAN2's synthesis layer (Karras et al. 2020, Fig. 2c: "b" and the activation after "B").
 *
 * @example
 * const h = new BiasActivation({ activation: 'lrelu' }).apply(noisy); // [B, H, W, C], bias per channel
 */
export class BiasActivation extends tfl.layers.Layer {
  static className = 'BiasActivation';
  readonly lrMul: number;
  readonly activation: Activation;
  private bias!: tfl.LayerVariable;

  constructor(args: LayerArgs & { lrMul?: number; activation?: Activation } = {}) {
    super(args);
    this.lrMul = args.lrMul ?? 1;
    this.activation = args.activation ?? 'lrelu';
  }

  override build(inputShape: Shape | Shape[]): void {
    const s = firstShape(inputShape);
    this.bias = this.addWeight('bias', [s[s.length - 1]!], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return firstShape(inputShape);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => biasActivate(single(inputs), tf.mul(this.bias.read(), this.lrMul), this.activation));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), lrMul: this.lrMul, activation: this.activation };
  }
}

// Registered so that loadModel rebuilds these layers from a checkpoint's model.json.
tf.serialization.registerClass(EqualizedDense);
tf.serialization.registerClass(EqualizedConv2D);
tf.serialization.registerClass(BiasActivation);
