import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { LayerVariable } from '@tensorflow/tfjs-layers/dist/variables.js';
import type { Kwargs } from '@tensorflow/tfjs-layers/dist/types.js';
import { KernelLayer, type KernelLayerArgs, type OwnedKernel } from './kernel_layer.js';

type Shape = (number | null)[];

/** Σ over H and W: [B, H, W, C] → [B, C]. BigGAN's and SN-GAN's D pool this way (a sum, not a mean) before the
 *  output layer. Weightless. */
export class GlobalSumPooling2D extends tfl.layers.Layer {
  static className = 'GlobalSumPooling2D';

  constructor(args: LayerArgs = {}) {
    super(args);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = inputShape as Shape;
    return [s[0], s[3]];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.sum(Array.isArray(inputs) ? inputs[0] : inputs, [1, 2]); // [B, C]
  }
}
tf.serialization.registerClass(GlobalSumPooling2D);

export interface ProjectionOutputArgs extends KernelLayerArgs {
  /** Number of classes K: the label input is one-hot (or soft) [B, K], as ganforge's labels are. */
  classes: number;
}

/**
 * The projection discriminator's output (Miyato & Koyama 2018, "cGANs with Projection Discriminator", eq. 3 and
 * §3): inputs [h [B, C], y [B, K]] with h D's pooled features,
 *
 *   logit = ψ(h) + ⟨embed(y), h⟩ = h·w_ψ + b_ψ + Σ_c (y·V)_c h_c     → [B, 1]
 *
 * The inner product is the log-ratio of the class-conditional densities for a log-linear class model (their
 * eq. 2), so class information enters as a projection onto h rather than a concatenation to the input. With a
 * one-hot y, y·V is V's row for the class. w_ψ [C, 1] and V [K, C] are spectrally normalised unless
 * `spectralNorm: false` (both are in the paper and in BigGAN's D); b_ψ is a plain bias.
 *
 * @example
 * const logit = new ProjectionOutput({ classes: 10, seed: 5 }).apply([pooled, label]) as tfl.SymbolicTensor; // [B, 1]
 */
export class ProjectionOutput extends KernelLayer {
  static className = 'ProjectionOutput';
  readonly classes: number;
  private psi!: OwnedKernel;
  private psiBias!: LayerVariable;
  private embedding!: OwnedKernel;

  constructor(args: ProjectionOutputArgs) {
    super(args);
    this.classes = args.classes;
  }

  override build(inputShape: Shape | Shape[]): void {
    const [h, y] = inputShape as Shape[];
    if (!Array.isArray(h) || h.length !== 2 || y?.length !== 2 || y[1] !== this.classes) {
      throw new Error(`ProjectionOutput takes [h [B, C], label [B, ${this.classes}]], got ${JSON.stringify(inputShape)}`);
    }
    this.psi = this.addKernel('psi', [h[1]!, 1]);
    this.psiBias = this.addWeight('psi_bias', [1], 'float32', tfl.initializers.zeros());
    this.embedding = this.addKernel('embedding', [this.classes, h[1]!]);
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return [(inputShape as Shape[])[0][0], 1];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const [h, y] = inputs as [tf.Tensor2D, tf.Tensor2D];
      const unconditional = tf.add(tf.matMul(h, this.kernelValue(this.psi, kwargs) as tf.Tensor2D), this.psiBias.read()); // [B, 1]
      const embedded = tf.matMul(y, this.kernelValue(this.embedding, kwargs) as tf.Tensor2D); // [B, C]
      return tf.add(unconditional, tf.sum(tf.mul(embedded, h), 1, true)); // [B, 1]
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), classes: this.classes };
  }
}
tf.serialization.registerClass(ProjectionOutput);
