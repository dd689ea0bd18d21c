import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { LayerVariable } from '@tensorflow/tfjs-layers/dist/variables.js';
import type { Kwargs } from '@tensorflow/tfjs-layers/dist/types.js';

/**
 * Spectral normalization (Miyato, Kataoka, Koyama & Yoshida 2018, "Spectral Normalization for Generative
 * Adversarial Networks", §2.1 and Algorithm 1): a layer uses W / σ(W) instead of W, where σ(W) is W's
 * largest singular value, so each layer is 1-Lipschitz and D's Lipschitz constant is bounded by that of
 * its activations. σ is estimated by power iteration: one step per training call, warm-started from the
 * vector ũ of the previous call, which is why ũ must live as long as the weights do.
 *
 * ũ is a non-trainable layer weight (`…/sn_u`): it is saved with the model, so a checkpoint resumes the
 * power iteration exactly where it was, and no optimizer ever moves it. With a kernel K of shape
 * [fanIn, out] (a conv kernel [kh, kw, cIn, out] is flattened to [kh·kw·cIn, out]) the paper's
 * W̄ ∈ R^{out×fanIn} is Kᵀ, and ũ ∈ R^out:
 *
 *   ṽ ← W̄ᵀũ / ‖W̄ᵀũ‖,   ũ ← W̄ṽ / ‖W̄ṽ‖,   σ(W̄) ≈ ũᵀW̄ṽ,   W̄_SN = W̄ / σ(W̄)
 *
 * ũ and ṽ are constants for the gradient (the paper's Algorithm 1 differentiates W̄/σ with ũ, ṽ fixed,
 * eq. 12): spectrallyNormalized's gradient is written out so. In inference (training false) ũ is read but not updated.
 */

// ε in ũ/‖ũ‖ so a zero vector (e.g. a zero kernel) does not divide by zero; the paper's l2normalize does the same.
const EPS = 1e-12;

function l2normalize(x: tf.Tensor): tf.Tensor {
  return tf.div(x, tf.add(tf.sqrt(tf.sum(tf.square(x))), EPS));
}

/** One power-iteration step on K ([fanIn, out]) from ũ ([1, out]): ṽ ([1, fanIn]), the new ũ and σ = ũᵀW̄ṽ. */
function powerIteration(kernel: tf.Tensor2D, u: tf.Tensor): { v: tf.Tensor; u: tf.Tensor; sigma: tf.Scalar } {
  const v = l2normalize(tf.matMul(u, kernel, false, true)); // [1, fanIn] = (W̄ᵀũ)ᵀ
  const wv = tf.matMul(v, kernel); // [1, out] = (W̄ṽ)ᵀ
  const uNew = l2normalize(wv);
  return { v, u: uNew, sigma: tf.sum(tf.mul(wv, uNew)) as tf.Scalar };
}

/**
 * K / σ(K) for a kernel K ([..., out], flattened to [fanIn, out] for σ) and its ũ ([1, out]), σ from one
 * power-iteration step; when `update`, ũ keeps the step's result (a training call). Exported for layers that
 * own several kernels (self-attention, conditional batch norm, the projection output).
 *
 * One differentiable op: the power iteration runs inside it, unrecorded, and its gradient is written out. With ũ
 * and ṽ constants, σ = ṽᵀKũ (K flattened), ∂σ/∂K = ṽũᵀ, so for G = ∂L/∂(K/σ):
 *   ∂L/∂K = (G − ⟨G, K⟩/σ · ṽũᵀ) / σ.
 * Left to the tape, the same step was ~50 kernel calls per layer and call (the norms, and zero gradients pushed
 * back through the stopped vectors); a BigGAN step made 26,749 calls, which bound it on a GPU.
 */
export function spectrallyNormalized(kernel: LayerVariable, u: LayerVariable, update: boolean): tf.Tensor {
  const step = spectralNormalize(kernel.read(), u.read());
  if (update) u.write(step.u);
  step.u.dispose();
  return step.kernel;
}

/** K/σ(K) (the op spectrallyNormalized describes) and the power iteration's next ũ, from tensors. */
export function spectralNormalize(k: tf.Tensor, u: tf.Tensor): { kernel: tf.Tensor; u: tf.Tensor } {
  let next: tf.Tensor | undefined;
  const normalize = tf.customGrad(((kIn: tf.Tensor, save: tf.GradSaveFunc) => {
    const step = powerIteration(tf.reshape(kIn, [-1, kIn.shape[kIn.rank - 1]]) as tf.Tensor2D, u);
    next = tf.keep(step.u);
    save([kIn, step.sigma, tf.reshape(tf.matMul(step.v, step.u, true, false), kIn.shape)]); // ṽũᵀ in K's shape
    return {
      value: tf.div(kIn, step.sigma),
      gradFunc: (dy: tf.Tensor, [kept, sigma, outer]: tf.Tensor[]) =>
        tf.div(tf.sub(dy, tf.mul(tf.div(tf.sum(tf.mul(dy, kept)), sigma), outer)), sigma),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as (k: tf.Tensor) => tf.Tensor;
  const kernel = normalize(k);
  return { kernel, u: next! };
}

/** How the kernel is initialised: N(0, stddev²) (DCGAN-style) or Glorot uniform, each with a seed. */
export interface SpectralInit {
  init?: 'normal' | 'glorot';
  stddev?: number;
  seed?: number;
}

export function kernelInitializer(c: SpectralInit) {
  return c.init === 'normal' ? tfl.initializers.randomNormal({ mean: 0, stddev: c.stddev ?? 0.02, seed: c.seed ?? undefined }) : tfl.initializers.glorotUniform({ seed: c.seed ?? undefined });
}

// ũ starts as a random direction (any vector not orthogonal to the top singular vector converges).
export function uInitializer(c: SpectralInit) {
  return tfl.initializers.randomNormal({ mean: 0, stddev: 1, seed: c.seed == null ? undefined : c.seed + 1 });
}

/** Shared part of the two layers: the kernel, the bias, ũ and the normalised kernel. */
abstract class SpectralLayer extends tfl.layers.Layer {
  protected kernel!: LayerVariable;
  protected bias: LayerVariable | null = null;
  protected u!: LayerVariable;

  constructor(protected readonly sn: SpectralInit & { useBias?: boolean } & LayerArgs) {
    super(sn);
  }

  protected addSpectralWeights(kernelShape: number[], out: number): void {
    this.kernel = this.addWeight('kernel', kernelShape, 'float32', kernelInitializer(this.sn));
    if (this.sn.useBias ?? true) this.bias = this.addWeight('bias', [out], 'float32', tfl.initializers.zeros());
    this.u = this.addWeight('sn_u', [1, out], 'float32', uInitializer(this.sn), undefined, false);
  }

  /**
   * K / σ(K) with σ from one power-iteration step; when `update`, ũ keeps the step's result (a training
   * call), else the stored ũ is left as it is (inference, or inspecting the layer).
   */
  normalizedKernel(update = false): tf.Tensor {
    return spectrallyNormalized(this.kernel, this.u, update);
  }

  /** The current estimate of σ(K) from the stored ũ (no update): for tests and diagnostics. */
  sigma(): number {
    return tf.tidy(() => {
      const k = this.kernel.read();
      return powerIteration(tf.reshape(k, [-1, k.shape[k.rank - 1]]) as tf.Tensor2D, this.u.read()).sigma.dataSync()[0];
    });
  }

  protected addBias(y: tf.Tensor): tf.Tensor {
    return this.bias ? tf.add(y, this.bias.read()) : y;
  }

  override getConfig(): tf.serialization.ConfigDict {
    const { init, stddev, seed, useBias } = this.sn;
    return { ...super.getConfig(), init: init ?? 'glorot', stddev: stddev ?? 0.02, seed: seed ?? null, useBias: useBias ?? true };
  }
}

function training(kwargs: Kwargs | undefined): boolean {
  return kwargs?.['training'] === true;
}

function single(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? inputs[0] : inputs;
}

export interface SpectralDenseArgs extends SpectralInit, LayerArgs {
  units: number;
  useBias?: boolean;
}

/**
 * A dense layer y = x·(K/σ(K)) + b with spectral normalization (Miyato et al. 2018); no activation, add one
 * after it.
 *
 * @example
 * const d = tfl.sequential();
 * d.add(spectralDense({ inputShape: [2], units: 64, seed: 1 }));
 * d.add(tfl.layers.leakyReLU({ alpha: 0.1 }));
 * d.add(spectralDense({ units: 1, seed: 2 }));
 * d.apply(tf.randomNormal([8, 2]), { training: true }); // one power-iteration step per layer
 */
export class SpectralDense extends SpectralLayer {
  static className = 'SpectralDense';
  private readonly units: number;

  constructor(args: SpectralDenseArgs) {
    super(args);
    this.units = args.units;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    this.addSpectralWeights([shape[shape.length - 1]!, this.units], this.units);
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    return [...shape.slice(0, -1), this.units];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => this.addBias(tf.matMul(single(inputs) as tf.Tensor2D, this.normalizedKernel(training(kwargs)) as tf.Tensor2D))); // [B, units]
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), units: this.units };
  }
}

export interface SpectralConv2DArgs extends SpectralInit, LayerArgs {
  filters: number;
  kernelSize: number;
  strides?: number;
  padding?: 'same' | 'valid';
  useBias?: boolean;
}

/**
 * A 2-D convolution (NHWC) with kernel K/σ(K), K flattened to [kh·kw·cIn, filters] for σ — the paper's
 * choice (§2.1, footnote on convolutions), not the operator norm of the convolution itself.
 */
export class SpectralConv2D extends SpectralLayer {
  static className = 'SpectralConv2D';
  private readonly filters: number;
  private readonly kernelSize: number;
  private readonly strides: number;
  private readonly padding: 'same' | 'valid';

  constructor(args: SpectralConv2DArgs) {
    super(args);
    this.filters = args.filters;
    this.kernelSize = args.kernelSize;
    this.strides = args.strides ?? 1;
    this.padding = args.padding ?? 'same';
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    this.addSpectralWeights([this.kernelSize, this.kernelSize, shape[3]!, this.filters], this.filters);
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const [b, h, w] = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const side = (n: number | null) => (n === null ? null : this.padding === 'same' ? Math.ceil(n / this.strides) : Math.ceil((n - this.kernelSize + 1) / this.strides));
    return [b, side(h), side(w), this.filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const k = this.normalizedKernel(training(kwargs)) as tf.Tensor4D; // [kh, kw, cIn, filters]
      return this.addBias(tf.conv2d(single(inputs) as tf.Tensor4D, k, this.strides, this.padding)); // [B, H', W', filters]
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), filters: this.filters, kernelSize: this.kernelSize, strides: this.strides, padding: this.padding };
  }
}

// Registered so that tfl.loadLayersModel rebuilds these layers from a checkpoint's model.json.
tf.serialization.registerClass(SpectralDense);
tf.serialization.registerClass(SpectralConv2D);

/** A spectrally normalised dense layer (see SpectralDense). */
export function spectralDense(args: SpectralDenseArgs): SpectralDense {
  return new SpectralDense(args);
}

/** A spectrally normalised 2-D convolution (see SpectralConv2D). */
export function spectralConv2d(args: SpectralConv2DArgs): SpectralConv2D {
  return new SpectralConv2D(args);
}
