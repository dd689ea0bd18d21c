import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { DatasetInfo } from '../data/types.js';
import { Rng } from '../util/rng.js';
import { imageGrid, scatterPlot, toUint8Images } from '../io/png.js';

/** z ~ N(0, I): [n, latentDim], drawn from our RNG so that a resumed run draws the same latents. */
export function latents(rng: Rng, n: number, latentDim: number): tf.Tensor2D {
  return tf.tensor2d(rng.normals(n * latentDim), [n, latentDim]);
}

/** Run G in inference mode (batch norm uses its moving statistics) in chunks; returns G(z) flattened. */
export function generate(generator: tfl.LayersModel, z: tf.Tensor2D, chunk = 256): Float32Array {
  const n = z.shape[0];
  let out: Float32Array | null = null;
  for (let start = 0; start < n; start += chunk) {
    const size = Math.min(chunk, n - start);
    const values = tf.tidy(() => (generator.apply(tf.slice(z, [start, 0], [size, -1]), { training: false }) as tf.Tensor).dataSync() as Float32Array);
    out ??= new Float32Array((values.length / size) * n);
    out.set(values, (values.length / size) * start);
  }
  return out ?? new Float32Array(0);
}

/** A PNG of samples: a grid for images, a scatter plot for 2-D points. */
export async function samplesPng(values: Float32Array, n: number, data: DatasetInfo, reference?: Float32Array): Promise<Buffer> {
  if (data.kind === 'points') return scatterPlot(values, { reference });
  const [h, w, c] = data.shape;
  return imageGrid(toUint8Images(values), n, h, w, c);
}
