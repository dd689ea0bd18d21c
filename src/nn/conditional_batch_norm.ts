import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerVariable } from '@tensorflow/tfjs-layers/dist/variables.js';
import type { Kwargs } from '@tensorflow/tfjs-layers/dist/types.js';
import { isTraining, KernelLayer, type KernelLayerArgs, type OwnedKernel } from './kernel_layer.js';

type Shape = (number | null)[];

export interface ClassConditionalBatchNormArgs extends KernelLayerArgs {
  /** Moving averages: m ← momentum·m + (1 − momentum)·batch. 0.9 is PyTorch's momentum 0.1. */
  momentum?: number;
  /** Added to the variance; BigGAN's G uses 1e-5. */
  epsilon?: number;
}

/**
 * Class-conditional batch norm (de Vries et al. 2017; Brock, Donahue & Simonyan 2019, "Large Scale GAN Training
 * for High Fidelity Natural Image Synthesis", §3 and Appendix B): inputs [x [B, H, W, C], c [B, D]], where c is
 * the block's chunk of z concatenated with the shared class embedding E(y). The affine parameters are linear
 * projections of c, one pair per sample; the gain is 1 + projection so that small projection weights start
 * the layer as plain batch norm (γ = 1, β = 0):
 *
 *   y = (x − μ) / √(σ² + ε) · (1 + c·W_γ) + c·W_β
 *
 * μ, σ² (biased) are the batch's per-channel statistics in a training call, which also moves the saved
 * moving averages; any other call normalises with the moving averages. W_γ, W_β [D, C] have no bias term and
 * are spectrally normalised unless `spectralNorm: false` (BigGAN normalises every G weight but the embedding).
 *
 * @example
 * const h = new ClassConditionalBatchNorm({ seed: 1 }).apply([x, cond]) as tfl.SymbolicTensor; // x [B, 8, 8, 64], cond [B, 148]
 */
export class ClassConditionalBatchNorm extends KernelLayer {
  static className = 'ClassConditionalBatchNorm';
  readonly momentum: number;
  readonly epsilon: number;
  private gain!: OwnedKernel;
  private bias!: OwnedKernel;
  private movingMean!: LayerVariable;
  private movingVariance!: LayerVariable;

  constructor(args: ClassConditionalBatchNormArgs = {}) {
    super(args);
    this.momentum = args.momentum ?? 0.9;
    this.epsilon = args.epsilon ?? 1e-5;
  }

  override build(inputShape: Shape | Shape[]): void {
    const [x, c] = inputShape as Shape[];
    if (!Array.isArray(x) || x.length !== 4 || c?.length !== 2) {
      throw new Error(`ClassConditionalBatchNorm takes [x [B, H, W, C], cond [B, D]], got ${JSON.stringify(inputShape)}`);
    }
    const [channels, condDim] = [x[3]!, c[1]!];
    this.gain = this.addKernel('gain', [condDim, channels]);
    this.bias = this.addKernel('bias', [condDim, channels]);
    this.movingMean = this.addWeight('moving_mean', [channels], 'float32', tfl.initializers.zeros(), undefined, false);
    this.movingVariance = this.addWeight('moving_variance', [channels], 'float32', tfl.initializers.ones(), undefined, false);
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return (inputShape as Shape[])[0];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const [x, c] = inputs as [tf.Tensor4D, tf.Tensor2D];
      const channels = x.shape[3];
      let mean: tf.Tensor, variance: tf.Tensor;
      if (isTraining(kwargs)) {
        ({ mean, variance } = tf.moments(x, [0, 1, 2])); // [C] each
        const m = this.momentum;
        this.movingMean.write(tf.add(tf.mul(this.movingMean.read(), m), tf.mul(mean, 1 - m)));
        this.movingVariance.write(tf.add(tf.mul(this.movingVariance.read(), m), tf.mul(variance, 1 - m)));
      } else {
        [mean, variance] = [this.movingMean.read(), this.movingVariance.read()];
      }
      const gain = tf.reshape(tf.add(1, tf.matMul(c, this.kernelValue(this.gain, kwargs) as tf.Tensor2D)), [-1, 1, 1, channels]); // [B, 1, 1, C]
      const bias = tf.reshape(tf.matMul(c, this.kernelValue(this.bias, kwargs) as tf.Tensor2D), [-1, 1, 1, channels]); // [B, 1, 1, C]
      // 1/√(σ² + ε) folded into the per-sample gain: three full-size passes (−, ·, +), as a fused norm plus affine.
      return tf.add(tf.mul(tf.sub(x, mean), tf.mul(tf.rsqrt(tf.add(variance, this.epsilon)), gain)), bias);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), momentum: this.momentum, epsilon: this.epsilon };
  }
}
// Registered so that loadModel rebuilds the layer from a checkpoint's model.json.
tf.serialization.registerClass(ClassConditionalBatchNorm);
