import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { Kwargs } from '@tensorflow/tfjs-layers/dist/types.js';
import { KernelLayer, type KernelLayerArgs, type OwnedKernel } from './kernel_layer.js';

type Shape = (number | null)[];

/**
 * AttnGAN's attention model F^attn (Xu et al. 2018, §2, eq. 2): for each sub-region j of the hidden features h
 * [B, H, W, C], a word-context vector c_j = Σ_i β_{j,i} e'_i over the caption's T words, where
 *
 *   e'_i = U e_i                               the word features [B, T, D] brought to the hidden size C by a
 *                                              1×1 "perception" layer U [D, C] (no bias)
 *   β_{j,i} = exp(s'_{j,i}) / Σ_k exp(s'_{j,k}),   s'_{j,i} = h_jᵀ e'_i
 *
 * The softmax runs over the real words only: `mask` [B, T] is 1 at a word and 0 at padding, whose weight is exactly
 * 0. A mask between 0 and 1 weighs a word's share, β_{j,i} ∝ m_i·exp(s'_{j,i}) (log m is added to the scores):
 * sampling mixes two captions' words this way when it interpolates from one sentence to another.
 * Outputs [context [B, H, W, C], β [B, H, W, T]]: the word-context features the next stage joins to h, and the
 * attention maps (for pictures of which words each region looks at).
 *
 * @example
 * const [context, beta] = new WordAttention({ seed: 7 }).apply([h, words, mask]) as tfl.SymbolicTensor[];
 */
export class WordAttention extends KernelLayer {
  static className = 'WordAttention';
  private perception!: OwnedKernel;

  constructor(args: KernelLayerArgs = {}) {
    super({ ...args, spectralNorm: args.spectralNorm ?? false });
    this.supportsMasking = true; // the words may come with an RNN's mask: the explicit `mask` input stands for it
  }

  override build(inputShape: Shape | Shape[]): void {
    const [h, words, mask] = inputShape as Shape[];
    const [c, t, d] = [h?.[3], words?.[1], words?.[2]];
    if (h?.length !== 4 || words?.length !== 3 || mask?.length !== 2 || c == null || d == null || t == null || mask[1] !== t) {
      throw new Error(`WordAttention takes [h [B, H, W, C], words [B, T, D], mask [B, T]], got ${JSON.stringify(inputShape)}`);
    }
    this.perception = this.addKernel('perception', [d, c]);
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape[] {
    const [h, words] = inputShape as Shape[];
    return [h, [h[0], h[1], h[2], words[1]]];
  }

  override computeMask(): tf.Tensor[] {
    return [null, null] as unknown as tf.Tensor[]; // the outputs are not sequences
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor[] {
    return tf.tidy(() => {
      const [h, words, mask] = inputs as [tf.Tensor4D, tf.Tensor3D, tf.Tensor2D];
      const [b, height, width, c] = h.shape;
      const [, t, d] = words.shape;
      const u = this.kernelValue(this.perception, kwargs) as tf.Tensor2D; // [D, C]
      const projected = tf.reshape(tf.matMul(tf.reshape(words, [b * t, d]), u), [b, t, c]); // e' [B, T, C]
      const regions = tf.reshape(h, [b, height * width, c]); // [B, N, C]
      const scores = tf.matMul(regions, projected, false, true); // s' [B, N, T]
      const logMask = tf.reshape(tf.log(mask), [b, 1, t]); // −∞ at padding: exp(−∞) = 0 exactly
      const beta = tf.softmax(tf.add(scores, logMask)); // over words: [B, N, T]
      const context = tf.reshape(tf.matMul(beta, projected), [b, height, width, c]); // [B, H, W, C]
      return [context, tf.reshape(beta, [b, height, width, t])];
    });
  }
}
tf.serialization.registerClass(WordAttention);

/** Token ids [B, T] (as float32, PAD = 0) → 1 at a word and 0 at padding [B, T]: WordAttention's mask, as a layer for composed models. */
export class PaddingMask extends tfl.layers.Layer {
  static className = 'PaddingMask';

  constructor(args: LayerArgs = {}) {
    super(args);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.cast(tf.notEqual(Array.isArray(inputs) ? inputs[0] : inputs, 0), 'float32'));
  }
}
tf.serialization.registerClass(PaddingMask);
