import * as tf from '@tensorflow/tfjs-core';
import type { LayerVariable } from '@tensorflow/tfjs-layers/dist/variables.js';
import type { Kwargs } from '@tensorflow/tfjs-layers/dist/types.js';
import * as tfl from '@tensorflow/tfjs-layers';
import { KernelLayer, type KernelLayerArgs, type OwnedKernel } from './kernel_layer.js';

type Shape = (number | null)[];

/**
 * Self-attention over the positions of a feature map (Zhang, Goodfellow, Metaxas & Odena 2019, "Self-Attention
 * Generative Adversarial Networks", §3), in the form BigGAN uses at one resolution of G and D (Brock et al. 2019,
 * Appendix B): with N = H·W positions and M = N/4 pooled ones,
 *
 *   θ = x·W_θ [B, N, C/8],  φ = maxpool₂ₓ₂(x·W_φ) [B, M, C/8],  g = maxpool₂ₓ₂(x·W_g) [B, M, C/2]
 *   β = softmax(θ φᵀ) over the M keys [B, N, M],  o = (β g)·W_o [B, N, C],  y = x + γ·o
 *
 * Each W is a 1×1 convolution without bias, stored as a [cIn, cOut] matrix and spectrally normalised unless
 * `spectralNorm: false`. The 2×2 max-pooling of keys and values is BigGAN's, a 4× cheaper attention map than
 * SAGAN's full N×N. γ starts at 0 (SAGAN §3: the network first relies on local convolutions and learns to use
 * non-local evidence gradually), so a fresh layer is the identity.
 *
 * @example
 * const h = new SelfAttention({ seed: 3 }).apply(x) as tfl.SymbolicTensor; // x [B, 8, 8, 64] → same shape
 */
export class SelfAttention extends KernelLayer {
  static className = 'SelfAttention';
  private theta!: OwnedKernel;
  private phi!: OwnedKernel;
  private g!: OwnedKernel;
  private o!: OwnedKernel;
  private gamma!: LayerVariable;

  constructor(args: KernelLayerArgs = {}) {
    super(args);
  }

  override build(inputShape: Shape | Shape[]): void {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const [h, w, c] = [s[1], s[2], s[3]];
    if (s.length !== 4 || c == null || c % 8 !== 0 || (h != null && h % 2 !== 0) || (w != null && w % 2 !== 0)) {
      throw new Error(`SelfAttention needs [B, H, W, C] with even H, W and C a multiple of 8, got [${s.join(', ')}]`);
    }
    this.theta = this.addKernel('theta', [c, c / 8]);
    this.phi = this.addKernel('phi', [c, c / 8]);
    this.g = this.addKernel('g', [c, c / 2]);
    this.o = this.addKernel('o', [c / 2, c]);
    this.gamma = this.addWeight('gamma', [], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const [b, h, w, c] = x.shape;
      const pixels = tf.reshape(x, [b * h * w, c]); // [B·N, C]: a 1×1 conv is a matmul over positions
      const conv1x1 = (k: OwnedKernel, input: tf.Tensor) => tf.matMul(input as tf.Tensor2D, this.kernelValue(k, kwargs) as tf.Tensor2D);
      const pooled = (k: OwnedKernel, channels: number) => {
        const map = tf.reshape(conv1x1(k, pixels), [b, h, w, channels]) as tf.Tensor4D;
        return tf.reshape(tf.maxPool(map, 2, 2, 'valid'), [b, (h / 2) * (w / 2), channels]); // [B, M, channels]
      };
      const theta = tf.reshape(conv1x1(this.theta, pixels), [b, h * w, c / 8]); // [B, N, C/8]
      const phi = pooled(this.phi, c / 8); // [B, M, C/8]
      const g = pooled(this.g, c / 2); // [B, M, C/2]
      const beta = tf.softmax(tf.matMul(theta, phi, false, true)); // [B, N, M], rows sum to 1
      const attended = tf.reshape(tf.matMul(beta, g), [b * h * w, c / 2]); // [B·N, C/2]
      const o = tf.reshape(conv1x1(this.o, attended), [b, h, w, c]); // [B, H, W, C]
      return tf.add(x, tf.mul(this.gamma.read(), o));
    });
  }
}
tf.serialization.registerClass(SelfAttention);
