import * as tf from '@tensorflow/tfjs-core';

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
