import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { DatasetInfo } from '../data/types.js';
import { Rng } from '../util/rng.js';
import { readTidy } from '../util/tensors.js';
import { imageGrid, scatterPlot, toUint8Images } from '../io/png.js';

/** z ~ N(0, I): [n, latentDim], drawn from our RNG so that a resumed run draws the same latents. */
export function latents(rng: Rng, n: number, latentDim: number): tf.Tensor2D {
  return tf.tensor2d(rng.normals(n * latentDim), [n, latentDim]);
}

/** Number of classes of a conditional generator (one taking [z, one-hot label]), else 0. */
export function generatorClasses(generator: tfl.LayersModel): number {
  return generator.inputs.length === 2 ? (generator.inputs[1].shape[1] ?? 0) : 0;
}

/** One-hot labels [n, k] for class ids (e.g. all `--class K`, or 0, 1, …, k−1, 0, … for a grid). */
export function oneHotLabels(classes: ArrayLike<number>, k: number): tf.Tensor2D {
  return tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(Array.from(classes), 'int32'), k), 'float32') as tf.Tensor2D);
}

/**
 * Run G in inference mode (batch norm uses its moving statistics) in chunks; returns G(z) flattened.
 * A conditional G also takes one-hot `labels` [n, k]; without them row i gets class i mod k.
 */
export function generate(generator: tfl.LayersModel, z: tf.Tensor2D, chunk = 256, labels?: tf.Tensor2D): Float32Array {
  const n = z.shape[0];
  const k = generatorClasses(generator);
  const y = k > 0 ? (labels ?? oneHotLabels(Array.from({ length: n }, (_, i) => i % k), k)) : undefined;
  let out: Float32Array | null = null;
  for (let start = 0; start < n; start += chunk) {
    const size = Math.min(chunk, n - start);
    const values = readTidy(() => {
      const zs = tf.slice(z, [start, 0], [size, -1]);
      const input = y ? [zs, tf.slice(y, [start, 0], [size, -1])] : zs;
      return generator.apply(input, { training: false }) as tf.Tensor;
    });
    out ??= new Float32Array((values.length / size) * n);
    out.set(values, (values.length / size) * start);
  }
  if (y && y !== labels) y.dispose();
  return out ?? new Float32Array(0);
}

/** A PNG of samples: a grid for images (`cols` columns, default ⌈√n⌉), a scatter plot for 2-D points. */
export async function samplesPng(values: Float32Array, n: number, data: DatasetInfo, reference?: Float32Array, cols?: number): Promise<Buffer> {
  if (data.kind === 'points') return scatterPlot(values, { reference });
  const [h, w, c] = data.shape;
  return imageGrid(toUint8Images(values), n, h, w, c, { cols });
}
