import * as tf from '@tensorflow/tfjs-core';
import { backendHas } from './backend_kernels.js';

/**
 * A gather of rows and its transpose, a scatter-add of rows, each the other's gradient, so that both differentiate
 * to any order in time linear in the rows moved.
 *
 * tfjs's own gradient of gather is an unsorted segment sum, which the JS cpu backend computes with one masked sum
 * per segment: O(segments × rows). For the 16 k source pixels and 64 k taps of a small batch's bilinear resampling
 * that is about a second per step. tfjs's scatterND adds duplicates in one pass over the updates instead.
 */
export function gatherRows(x: tf.Tensor2D, index: tf.Tensor1D): tf.Tensor2D {
  const rows = x.shape[0];
  const op = tf.customGrad(((t: tf.Tensor2D, save: tf.GradSaveFunc) => {
    save([index]); // the engine keeps saved tensors for the backward pass; a captured one may be disposed by then
    return { value: tf.gather(t, index), gradFunc: (dy: tf.Tensor2D, [i]: tf.Tensor1D[]) => scatterAddRows(dy, i!, rows) };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as (t: tf.Tensor2D) => tf.Tensor2D;
  return op(x);
}

/** out[index[i]] += updates[i], out having `rows` rows; the transpose of gatherRows. */
export function scatterAddRows(updates: tf.Tensor2D, index: tf.Tensor1D, rows: number): tf.Tensor2D {
  const op = tf.customGrad(((u: tf.Tensor2D, save: tf.GradSaveFunc) => {
    save([index]);
    return {
      value: tf.scatterND(tf.expandDims(index, 1), u, [rows, u.shape[1]]),
      gradFunc: (dy: tf.Tensor2D, [i]: tf.Tensor1D[]) => gatherRows(dy, i!),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as (t: tf.Tensor2D) => tf.Tensor2D;
  return op(updates);
}

/** The backend's one-pass kernel for mixRows and its adjoint (aten: native/tap_mix.cc). */
export const TAP_MIX_KERNEL = 'TapMix';

/**
 * out[n] = Σ_t weight[n·T + t] · source[index[n·T + t]] for `taps` (T) taps per output row: source [R, C] → [N, C].
 * Interpolation as a sparse product: the index and weights are constants, the result is linear in `source` and
 * differentiates to any order. Where the backend has 'TapMix' it is one pass each way; elsewhere a gather of N·T
 * rows (gatherRows), a product and a sum.
 */
export function mixRows(source: tf.Tensor2D, index: Int32Array, weight: Float32Array, taps: number): tf.Tensor2D {
  const n = index.length / taps, c = source.shape[1];
  return tf.tidy(() => {
    if (backendHas(TAP_MIX_KERNEL) && source.dtype === 'float32') {
      const inputs = { source, index: tf.tensor2d(index, [n, taps], 'int32'), weight: tf.tensor2d(weight, [n, taps]) };
      return tf.engine().runKernel(TAP_MIX_KERNEL, inputs) as tf.Tensor2D;
    }
    const read = gatherRows(source, tf.tensor1d(index, 'int32')); // [N·T, C]
    return tf.sum(tf.mul(tf.reshape(read, [n, taps, c]), tf.tensor3d(weight, [n, taps, 1])), 1);
  });
}
