import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { LayerVariable } from '@tensorflow/tfjs-layers/dist/variables.js';
import { runBackendKernel } from './backend_kernels.js';

type Shape = (number | null)[];

/** Kernel name of the fused map a backend may register (tfjs-backend-aten does, with its gradient): inputs x
 *  [B, H, W, C], gamma and beta [B, C]; output γ·x + β. One pass each way instead of five. */
export const CHANNEL_AFFINE_KERNEL = 'ChannelAffine';

/**
 * A per-channel affine map whose scale and shift are inputs: [x [B, H, W, C], γ [B, C], β [B, C]] → γ·x + β,
 * γ and β broadcast over the positions. The fusion step of DF-GAN's DFBlock (Tao et al. 2022, §3.3), where γ
 * and β are predicted from the sentence; weightless, so the MLPs that predict them are ordinary dense layers.
 *
 * @example
 * const y = new ChannelAffine().apply([x, gamma, beta]) as tfl.SymbolicTensor; // x [B, 8, 8, 64], γ, β [B, 64]
 */
export class ChannelAffine extends tfl.layers.Layer {
  static className = 'ChannelAffine';

  constructor(args: LayerArgs = {}) {
    super(args);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return (inputShape as Shape[])[0];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [x, gamma, beta] = inputs as [tf.Tensor4D, tf.Tensor2D, tf.Tensor2D];
      const [b, c] = gamma.shape;
      return runBackendKernel(CHANNEL_AFFINE_KERNEL, { x, gamma, beta }) ?? tf.add(tf.mul(x, tf.reshape(gamma, [b, 1, 1, c])), tf.reshape(beta, [b, 1, 1, c]));
    });
  }
}
tf.serialization.registerClass(ChannelAffine);

/**
 * x ↦ γ·x with one learnt scalar γ that starts at 0: DF-GAN's discriminator blocks add their residual branch
 * through it (x_sc + γ·res), so a fresh block is its shortcut alone.
 */
export class LearnedScale extends tfl.layers.Layer {
  static className = 'LearnedScale';
  private gamma!: LayerVariable;

  constructor(args: LayerArgs = {}) {
    super(args);
  }

  override build(): void {
    this.gamma = this.addWeight('gamma', [], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return inputShape as Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.mul(this.gamma.read(), Array.isArray(inputs) ? inputs[0] : inputs));
  }
}
tf.serialization.registerClass(LearnedScale);

/**
 * A vector per example repeated over a side×side grid: [B, D] → [B, side, side, D]. How StackGAN's and DF-GAN's
 * discriminators join the text to the image features before their last convolutions. A reshape and a tile
 * (tf.layers' RepeatVector runs ExpandDims, which the aten backend leaves to the CPU). Weightless.
 */
export class SpatialReplicate extends tfl.layers.Layer {
  static className = 'SpatialReplicate';
  readonly side: number;

  constructor(args: LayerArgs & { side: number }) {
    super(args);
    this.side = args.side;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [b, d] = inputShape as Shape;
    return [b, this.side, this.side, d];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const v = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor2D;
      const [b, d] = v.shape;
      return tf.tile(tf.reshape(v, [b, 1, 1, d]), [1, this.side, this.side, 1]); // [B, side, side, D]
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), side: this.side };
  }
}
tf.serialization.registerClass(SpatialReplicate);

/** The functional form of SpatialReplicate. */
export function replicateSpatially(v: tfl.SymbolicTensor, side: number, name: string): tfl.SymbolicTensor {
  return new SpatialReplicate({ side, name }).apply(v) as tfl.SymbolicTensor;
}

/**
 * The reparameterisation of StackGAN's Conditioning Augmentation (Zhang et al. 2017, §3.1): [μ [B, D],
 * log σ² [B, D], ε [B, D]] → c = μ + σ·ε. ε is an input (drawn from the run's RNG by the step, from the request's
 * seed when sampling), so a seed reproduces c; ε = 0 gives c = μ.
 */
export class Reparameterize extends tfl.layers.Layer {
  static className = 'Reparameterize';

  constructor(args: LayerArgs = {}) {
    super(args);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return (inputShape as Shape[])[0];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [mu, logVar, eps] = inputs as tf.Tensor[];
      return tf.add(mu, tf.mul(tf.exp(tf.mul(0.5, logVar)), eps));
    });
  }
}
tf.serialization.registerClass(Reparameterize);

/**
 * Columns [begin, begin + size) of a latent [B, Z]: how one z carries several noises (StackGAN's G noise and the ε
 * of its two Conditioning Augmentations), so every noise a generator uses comes from the one latent it is given.
 */
export class LatentSlice extends tfl.layers.Layer {
  static className = 'LatentSlice';
  readonly begin: number;
  readonly size: number;

  constructor(args: LayerArgs & { begin: number; size: number }) {
    super(args);
    this.begin = args.begin;
    this.size = args.size;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return [(inputShape as Shape)[0], this.size];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const z = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor2D;
    return tf.slice(z, [0, this.begin], [-1, this.size]);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), begin: this.begin, size: this.size };
  }
}
tf.serialization.registerClass(LatentSlice);
