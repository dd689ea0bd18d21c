import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import { backendHas } from './backend_kernels.js';

type Shape = (number | null)[];

/** Kernel name of a fused instance norm a backend may register (tfjs-backend-aten does, with its gradient):
 *  input x, attribute epsilon, outputs [y, 1/σ]. */
export const INSTANCE_NORM_KERNEL = 'InstanceNorm';

/**
 * Instance normalisation without affine parameters (Ulyanov, Vedaldi & Lempitsky 2016, "Instance Normalization:
 * The Missing Ingredient for Fast Stylization", eq. 2): each sample's channel is normalised over its own H×W,
 * y = (x − μ_bc) / √(σ²_bc + ε), with the biased variance. On a backend that registers the fused kernel
 * `InstanceNorm` (one pass forward, one backward, instead of a dozen elementwise kernels and reductions) it runs
 * that; elsewhere it is composed from tf.moments, and tfjs differentiates it.
 *
 * @example
 * const y = instanceNorm(tf.randomNormal([2, 8, 8, 3]));   // per-(sample, channel) mean 0, variance ≈ 1
 */
export function instanceNorm(x: tf.Tensor4D, epsilon = 1e-5): tf.Tensor4D {
  if (backendHas(INSTANCE_NORM_KERNEL)) {
    // The kernel also returns 1/σ per (sample, channel) for its gradient; only y leaves this scope.
    return tf.tidy(() => (tf.engine().runKernel(INSTANCE_NORM_KERNEL, { x }, { epsilon }) as tf.Tensor[])[0] as tf.Tensor4D);
  }
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, [1, 2], true); // [B, 1, 1, C] each
    return tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, epsilon))) as tf.Tensor4D;
  });
}

export interface InstanceNormalizationArgs extends LayerArgs {
  /** Added to the variance (PyTorch's InstanceNorm2d default, 1e-5). */
  epsilon?: number;
  /** Learn a per-channel scale γ (init 1) and shift β (init 0) after normalising; off as CycleGAN's nets use it. */
  affine?: boolean;
}

/**
 * A tfjs-layers layer for instance normalisation of NHWC images ([B, H, W, C] → same shape), with optional
 * per-channel affine parameters. Statistics are always the sample's own, in training and inference alike,
 * so there are no running averages (PyTorch's InstanceNorm2d default, track_running_stats = False).
 *
 * @example
 * g.add(tfl.layers.conv2d({ filters: 64, kernelSize: 3, padding: 'same' }));
 * g.add(new InstanceNormalization());            // CycleGAN's InstanceNorm2d(affine=False)
 */
export class InstanceNormalization extends tfl.layers.Layer {
  static className = 'InstanceNormalization';
  readonly epsilon: number;
  readonly affine: boolean;
  private gamma: tfl.LayerVariable | null = null;
  private beta: tfl.LayerVariable | null = null;

  constructor(args: InstanceNormalizationArgs = {}) {
    super(args);
    this.epsilon = args.epsilon ?? 1e-5;
    this.affine = args.affine ?? false;
  }

  override build(inputShape: Shape | Shape[]): void {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    if (s.length !== 4) throw new Error(`InstanceNormalization needs images [B, H, W, C], got [${s.join(', ')}]`);
    if (this.affine) {
      const c = s[3]!;
      this.gamma = this.addWeight('gamma', [c], 'float32', tfl.initializers.ones());
      this.beta = this.addWeight('beta', [c], 'float32', tfl.initializers.zeros());
    }
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D; // [B, H, W, C]
      const y = instanceNorm(x, this.epsilon);
      return this.gamma && this.beta ? tf.add(tf.mul(y, this.gamma.read()), this.beta.read()) : y;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon, affine: this.affine };
  }
}
// Registered so that loadModel rebuilds the layer from a checkpoint's model.json.
tf.serialization.registerClass(InstanceNormalization);
