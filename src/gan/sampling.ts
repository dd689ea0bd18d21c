import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { DatasetInfo } from '../data/types.js';
import type { RunConfig } from './config.js';
import { Rng } from '../util/rng.js';
import { readTidy } from '../util/tensors.js';
import { imageGrid, scatterPlot, toUint8Images } from '../io/png.js';
import { UserError } from '../util/errors.js';
import { samplingGenerator, type GanFamily, type GanNetworks, type Probe, type SampleRequest, type SampleResult } from './family.js';

/** z ~ N(0, I): [n, latentDim], drawn from our RNG so that a resumed run draws the same latents. */
export function latents(rng: Rng, n: number, latentDim: number): tf.Tensor2D {
  return tf.tensor2d(rng.normals(n * latentDim), [n, latentDim]);
}

/** One-hot labels [n, k] for class ids (e.g. all `--class K`, or 0, 1, …, k−1, 0, … for a grid). */
export function oneHotLabels(classes: ArrayLike<number>, k: number): tf.Tensor2D {
  return tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(Array.from(classes), 'int32'), k), 'float32') as tf.Tensor2D);
}

/**
 * Run G in inference mode (batch norm uses its moving statistics) in chunks; returns G(z) flattened.
 * A class-conditional G also takes one-hot `labels` [n, k] (the caller's).
 */
export function generate(generator: tfl.LayersModel, z: tf.Tensor2D, chunk = 256, labels?: tf.Tensor2D): Float32Array {
  const n = z.shape[0];
  let out: Float32Array | null = null;
  for (let start = 0; start < n; start += chunk) {
    const size = Math.min(chunk, n - start);
    const values = readTidy(() => {
      const zs = tf.slice(z, [start, 0], [size, -1]);
      const input = labels ? [zs, tf.slice(labels, [start, 0], [size, -1])] : zs;
      return generator.apply(input, { training: false }) as tf.Tensor;
    });
    out ??= new Float32Array((values.length / size) * n);
    out.set(values, (values.length / size) * start);
  }
  return out ?? new Float32Array(0);
}

/** What `family` makes of a sampling request: its own `sample`, or G on noise (noiseSample). */
export function sampleFamily(family: GanFamily, nets: GanNetworks, request: SampleRequest, run: { config: RunConfig; data: DatasetInfo }): SampleResult {
  return family.sample ? family.sample(nets, request, run) : noiseSample(family, nets, request, run);
}

/**
 * Sampling for families that map noise (and a class) to data: z ~ N(0, I) seeded by `request.seed` (or the
 * family's coded latents, infogan), through the EMA generator when the run keeps one. A class-conditional
 * family gets `request.class` for every row, or rows cycling through the classes.
 */
export function noiseSample(family: GanFamily, nets: GanNetworks, request: SampleRequest, run: { config: RunConfig; data: DatasetInfo }): SampleResult {
  const { config, data } = run;
  if (request.input) throw new UserError(`${family.name} generates from noise; it takes no input images (translate needs a translator such as pix2pix or cyclegan)`);
  if (request.direction) throw new UserError(`--direction chooses a translator's generator; ${family.name} has one generator`);
  const k = family.condition === 'class' ? (data.numClasses ?? 0) : 0;
  if (request.class !== undefined && (k === 0 || request.class < 0 || request.class >= k)) {
    throw new UserError(k === 0 ? `--class needs a class-conditional model (cgan, acgan); ${family.name} is not one` : `--class must be in 0..${k - 1}, got ${request.class}`);
  }
  if (!family.sampleLatents && (request.code?.length || request.vary !== undefined)) {
    throw new UserError(`--code/--vary set the latent codes of a model that has them (infogan); ${family.name} has none`);
  }
  const { z, cols } = family.sampleLatents?.(config, request.seed, request.count, request) ?? { z: latents(new Rng(request.seed), request.count, config.latentDim) };
  const n = z.shape[0];
  const labels = k > 0 ? oneHotLabels(Array.from({ length: n }, (_, i) => request.class ?? i % k), k) : undefined;
  try {
    return { values: generate(samplingGenerator(nets), z, 256, labels), count: n, shape: data.shape, cols };
  } finally {
    tf.dispose([z, ...(labels ? [labels] : [])]);
  }
}

/** How many samples the progress grid of a noise family shows. */
export const GRID_COUNT = 64;

/** The progress grid: the family's own picture of the probe, or its samples from the grid's fixed seed. */
export function progressPicture(family: GanFamily, nets: GanNetworks, probe: Probe, run: { config: RunConfig; data: DatasetInfo }): SampleResult {
  if (family.picture) return family.picture(nets, probe, run);
  return sampleFamily(family, nets, { count: GRID_COUNT, seed: run.config.seed ^ 0x5eed }, run);
}

/** A PNG of a SampleResult: an image grid, or a scatter plot for 2-D points. */
export async function resultPng(result: SampleResult, data: DatasetInfo, reference?: Float32Array): Promise<Buffer> {
  if (data.kind === 'points') return scatterPlot(result.values, { reference });
  const [h, w, c] = result.shape;
  return imageGrid(toUint8Images(result.values), result.count, h, w, c, { cols: result.cols });
}

/**
 * Rows of images side by side (input | output | target …): `columns` are [n, H, W, C_i] tensors in [-1, 1]
 * with the same n, H and W; grey columns are repeated to RGB when any column is colour. The caller owns them.
 */
export function imageRows(columns: tf.Tensor[]): SampleResult {
  const channels = Math.max(...columns.map((c) => c.shape[3] ?? 1));
  const [n, h, w] = columns[0].shape;
  const values = readTidy(() => {
    const cells = columns.map((c) => (c.shape[3] === channels ? c : tf.tile(c, [1, 1, 1, channels]))); // [n, H, W, C]
    return tf.reshape(tf.stack(cells, 1), [n * columns.length, h, w, channels]); // row i: the columns of example i
  });
  return { values, count: n * columns.length, shape: [h, w, channels], cols: columns.length };
}

/** A PNG of samples: a grid for images (`cols` columns, default ⌈√n⌉), a scatter plot for 2-D points. */
export async function samplesPng(values: Float32Array, n: number, data: DatasetInfo, reference?: Float32Array, cols?: number): Promise<Buffer> {
  if (data.kind === 'points') return scatterPlot(values, { reference });
  const [h, w, c] = data.shape;
  return imageGrid(toUint8Images(values), n, h, w, c, { cols });
}
