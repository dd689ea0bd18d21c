import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Rng } from '../util/rng.js';

type LayerArgs = ConstructorParameters<typeof tfl.layers.Layer>[0];
type Shape = (number | null)[];

function single(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? inputs[0] : inputs;
}

/**
 * Minibatch standard deviation (Karras et al. 2018, "Progressive Growing of GANs", §3): split the batch into
 * groups of `groupSize`, take each feature's standard deviation over a group, average it over features and
 * positions into one number per group, and append it as one more feature (flat input [B, F] → [B, F + 1]) or
 * channel ([B, H, W, C] → [B, H, W, C + 1]). A collapsed generator gives groups with no spread, which D can
 * then see. Group i holds rows i, i + B/G, i + 2B/G, …; when B is not a multiple of the group size the whole
 * batch is one group.
 *
 * @example
 * d.add(new MinibatchStddev({ groupSize: 4 })); // before D's last dense layer
 */
export class MinibatchStddev extends tfl.layers.Layer {
  static className = 'MinibatchStddev';
  readonly groupSize: number;

  constructor(args: LayerArgs & { groupSize: number }) {
    super(args);
    this.groupSize = args.groupSize;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const last = s[s.length - 1];
    return [...s.slice(0, -1), last === null ? null : last + 1];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs); // [B, ...rest]
      const b = x.shape[0];
      let g = Math.min(this.groupSize, b);
      if (b % g !== 0) g = b;
      const m = b / g;
      const grouped = tf.reshape(x, [g, m, ...x.shape.slice(1)]); // [G, M, ...rest]
      const centred = tf.sub(grouped, tf.mean(grouped, 0, true));
      const std = tf.sqrt(tf.add(tf.mean(tf.square(centred), 0), 1e-8)); // [M, ...rest]
      const perGroup = tf.mean(tf.reshape(std, [m, -1]), 1); // [M]
      const perRow = tf.reshape(tf.tile(tf.reshape(perGroup, [1, m]), [g, 1]), [b, ...x.shape.slice(1, -1).map(() => 1), 1]); // [B, 1, …, 1]
      const filled = tf.mul(perRow, tf.ones([b, ...x.shape.slice(1, -1), 1])); // [B, ..., 1]
      return tf.concat([x, filled], -1);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), groupSize: this.groupSize };
  }
}
tf.serialization.registerClass(MinibatchStddev);

/** Dimensions per kernel of minibatch discrimination (C in Salimans et al.'s notation). */
export const MINIBATCH_KERNEL_DIM = 5;

/**
 * Minibatch discrimination (Salimans et al. 2016, "Improved Techniques for Training GANs", §3.2): a learnt
 * tensor T maps each example's features f(xᵢ) ∈ R^A to K rows Mᵢ ∈ R^{K×C}; for each kernel k,
 * o(xᵢ)_k = Σ_{j≠i} exp(−‖Mᵢ,ₖ − Mⱼ,ₖ‖₁) measures how close xᵢ is to the rest of the batch, and [f(xᵢ), o(xᵢ)]
 * goes on to D's last layer. A batch of identical samples gives every o the largest value, B − 1, so D can
 * spot a collapsed G. Input [B, A] → [B, A + K].
 *
 * @example
 * d.add(tfl.layers.flatten()); d.add(new MinibatchDiscrimination({ kernels: 50, kernelDim: 5, seed: 1 }));
 */
export class MinibatchDiscrimination extends tfl.layers.Layer {
  static className = 'MinibatchDiscrimination';
  readonly kernels: number;
  readonly kernelDim: number;
  readonly seed: number;
  private kernel!: tfl.LayerVariable;

  constructor(args: LayerArgs & { kernels: number; kernelDim: number; seed: number }) {
    super(args);
    this.kernels = args.kernels;
    this.kernelDim = args.kernelDim;
    this.seed = args.seed;
  }

  override build(inputShape: Shape | Shape[]): void {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    if (s.length !== 2) throw new Error(`MinibatchDiscrimination needs flat features [B, A], got [${s.join(', ')}]; flatten first`);
    const a = s[1]!;
    // Entries of M start at unit scale whatever A is, so exp(−‖·‖₁) starts neither at 0 nor at 1 everywhere.
    const init = tfl.initializers.randomNormal({ mean: 0, stddev: 1 / Math.sqrt(a), seed: this.seed });
    this.kernel = this.addWeight('kernel', [a, this.kernels * this.kernelDim], 'float32', init);
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    return [s[0], s[1] === null ? null : s[1] + this.kernels];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs) as tf.Tensor2D; // [B, A]
      const b = x.shape[0];
      const m = tf.reshape(tf.matMul(x, this.kernel.read() as tf.Tensor2D), [b, this.kernels, this.kernelDim]); // [B, K, C]
      const l1 = tf.sum(tf.abs(tf.sub(tf.expandDims(m, 1), tf.expandDims(m, 0))), 3); // [B, B, K]
      const o = tf.sub(tf.sum(tf.exp(tf.neg(l1)), 1), 1); // [B, K]; the −1 drops j = i, whose term is exp(0)
      return tf.concat([x, o], 1); // [B, A + K]
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), kernels: this.kernels, kernelDim: this.kernelDim, seed: this.seed };
  }
}
tf.serialization.registerClass(MinibatchDiscrimination);

/**
 * The minibatch layers a discriminator builder inserts before its last dense layer (on flat features):
 * minibatch discrimination with `kernels` kernels (0 = none), then a minibatch-stddev feature over groups of
 * `stddevGroup` (0 = none). Draws a seed from `rng` only when minibatch discrimination is on, so builders
 * without it keep their weights.
 */
export function minibatchLayers(opts: { kernels: number; stddevGroup: number }, rng: Rng): tfl.layers.Layer[] {
  const out: tfl.layers.Layer[] = [];
  if (opts.kernels > 0) out.push(new MinibatchDiscrimination({ kernels: opts.kernels, kernelDim: MINIBATCH_KERNEL_DIM, seed: rng.nextUint32() % 2147483647 }));
  if (opts.stddevGroup > 0) out.push(new MinibatchStddev({ groupSize: opts.stddevGroup }));
  return out;
}
