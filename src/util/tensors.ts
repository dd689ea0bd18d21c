import * as tf from '@tensorflow/tfjs-core';

/**
 * Runs `f` in a tidy scope and copies its result out. Returning the typed array from inside `tf.tidy`
 * instead looks harmless but is slow: tidy walks whatever it returns, element by element, searching for
 * tensors to keep — 392,000 steps for one chunk of 500 generated 28×28 images, more than the generator
 * itself took on aten. The tensors are taken out of the scope here and read after it closes.
 */
export function readTidy(f: () => tf.Tensor): Float32Array {
  return readTidyAll(() => [f()])[0];
}

/** readTidy for several results (e.g. a model's outputs); each comes back as float32. */
export function readTidyAll(f: () => tf.Tensor[]): Float32Array[] {
  const tensors = tf.tidy(f);
  try {
    return tensors.map((t) => {
      const values = t.dataSync();
      return values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
    });
  } finally {
    tf.dispose(tensors);
  }
}
