import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import { runBackendKernel } from './backend_kernels.js';

type Shape = (number | null)[];

/** Kernel name of the fused unit a backend may register (tfjs-backend-aten does, with its gradient): one pass each
 *  way instead of two slices, a sigmoid and a product forward and five kernels backward. */
export const GLU_KERNEL = 'GatedLinearUnit';

/** a ⊙ σ(b) where [a, b] are the two halves of x's last axis: [..., 2n] → [..., n]. */
export function glu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const fused = runBackendKernel(GLU_KERNEL, { x });
    if (fused) return fused;
    const [a, b] = tf.split(x, 2, -1);
    return tf.mul(a, tf.sigmoid(b));
  });
}

/**
 * The gated linear unit (Dauphin et al. 2017, "Language Modeling with Gated Convolutional Networks", eq. 1) over
 * the last axis: the first half of the channels gated by the sigmoid of the second. StackGAN++ and AttnGAN use it
 * as the non-linearity of their generators (after batch norm), where a conv or dense layer makes twice the
 * channels it keeps.
 *
 * @example
 * const y = new GatedLinearUnit().apply(x) as tfl.SymbolicTensor; // x [B, 8, 8, 64] → y [B, 8, 8, 32]
 */
export class GatedLinearUnit extends tfl.layers.Layer {
  static className = 'GatedLinearUnit';

  constructor(args: LayerArgs = {}) {
    super(args);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const c = s[s.length - 1];
    if (c == null || c % 2 !== 0) throw new Error(`GatedLinearUnit needs an even last axis, got [${s.join(', ')}]`);
    return [...s.slice(0, -1), c / 2];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return glu(Array.isArray(inputs) ? inputs[0] : inputs);
  }
}
tf.serialization.registerClass(GatedLinearUnit);
