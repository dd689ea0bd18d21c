import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { LayerVariable } from '@tensorflow/tfjs-layers/dist/variables.js';
import type { Kwargs } from '@tensorflow/tfjs-layers/dist/types.js';
import { KernelLayer, type KernelLayerArgs, type OwnedKernel } from './kernel_layer.js';
import { glu } from './glu.js';

type Shape = (number | null)[];

export interface ConditioningAugmentationArgs extends KernelLayerArgs {
  /** Size of the condition c (AttnGAN: 100). */
  units: number;
}

/**
 * Conditioning Augmentation (Zhang et al. 2017, StackGAN §3.1), in AttnGAN's form: [sentence s [B, D], ε [B, c]]
 * → [ĉ, μ, log σ²], each [B, c], with
 *
 *   [μ, log σ²] = GLU(s·W + b)      (W: [D, 4c], the gated half dropped)
 *   ĉ = μ + exp(½ log σ²) ⊙ ε
 *
 * ε is an input, drawn by the caller from a seeded RNG (the step's latent RNG, the request's seed when
 * sampling), so the layer itself is deterministic; ε = 0 gives ĉ = μ. The KL term that keeps N(μ, σ²) near
 * N(0, I) is the family's (it reads μ and log σ² from the outputs).
 *
 * @example
 * const [c, mu, logVar] = new ConditioningAugmentation({ units: 100, seed: 1 }).apply([sentence, eps]) as tfl.SymbolicTensor[];
 */
export class ConditioningAugmentation extends KernelLayer {
  static className = 'ConditioningAugmentation';
  private readonly units: number;
  private fc!: OwnedKernel;
  private bias!: LayerVariable;

  constructor(args: ConditioningAugmentationArgs) {
    super({ ...args, spectralNorm: args.spectralNorm ?? false });
    this.units = args.units;
  }

  override build(inputShape: Shape | Shape[]): void {
    const [sentence, eps] = inputShape as Shape[];
    const d = sentence[1];
    if (d == null || eps[1] !== this.units) throw new Error(`ConditioningAugmentation takes [sentence [B, D], ε [B, ${this.units}]], got [${sentence.join(', ')}] and [${eps.join(', ')}]`);
    this.fc = this.addKernel('kernel', [d, 4 * this.units]);
    this.bias = this.addWeight('bias', [4 * this.units], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape[] {
    const b = (inputShape as Shape[])[0][0];
    return [[b, this.units], [b, this.units], [b, this.units]];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor[] {
    return tf.tidy(() => {
      const [sentence, eps] = inputs as tf.Tensor2D[];
      const h = glu(tf.add(tf.matMul(sentence, this.kernelValue(this.fc, kwargs) as tf.Tensor2D), this.bias.read())); // [B, 2c]
      const [mu, logVar] = tf.split(h, 2, 1);
      const c = tf.add(mu, tf.mul(tf.exp(tf.mul(0.5, logVar)), eps));
      return [c, mu, logVar];
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), units: this.units };
  }
}
tf.serialization.registerClass(ConditioningAugmentation);

/**
 * A latent [B, n] split into its head [B, n − k] and its tail [B, k]: a text generator's z carries all its noise
 * (the generator's own and Conditioning Augmentation's ε in the last k columns), so one z reproduces a sample.
 */
export class LatentSplit extends tfl.layers.Layer {
  static className = 'LatentSplit';
  private readonly tail: number;

  constructor(args: LayerArgs & { tail: number }) {
    super(args);
    this.tail = args.tail;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape[] {
    const [b, n] = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    if (n == null || n <= this.tail) throw new Error(`LatentSplit: a latent of ${n} cannot give a tail of ${this.tail} and a head`);
    return [[b, n - this.tail], [b, this.tail]];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
    const z = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor2D;
    return tf.split(z, [z.shape[1] - this.tail, this.tail], 1);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), tail: this.tail };
  }
}
tf.serialization.registerClass(LatentSplit);

/**
 * KL(N(μ, diag σ²) ‖ N(0, I)) in closed form, ½(μ² + σ² − 1 − log σ²) per dimension, averaged over the batch and
 * the dimensions (as AttnGAN's released code does): Conditioning Augmentation's regulariser.
 */
export function caKlDivergence(mu: tf.Tensor, logVar: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mul(0.5, tf.mean(tf.sub(tf.add(tf.square(mu), tf.exp(logVar)), tf.add(1, logVar)))) as tf.Scalar);
}
