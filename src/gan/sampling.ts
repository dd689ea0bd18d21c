import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { DatasetInfo, SequenceInfo } from '../data/types.js';
import { unscale } from '../data/sequences.js';
import { MAX_PANELS, sequencesPng } from '../io/sequence_plot.js';
import type { RunConfig } from './config.js';
import { Rng } from '../util/rng.js';
import { readTidy } from '../util/tensors.js';
import { imageGrid, scatterPlot, toUint8Images } from '../io/png.js';
import { UserError } from '../util/errors.js';
import { movingStatistics, withStandingStatistics } from '../nn/standing_stats.js';
import { conditionOf, samplingGenerator, type GanFamily, type GanNetworks, type Probe, type SampleRequest, type SampleResult, type StyleSpace } from './family.js';

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
  checkTruncation(family, request.truncation);
  checkText(family, request, run.data);
  if (family.sample && request.standingStats) throw new UserError(`--standing-stats recomputes the batch-norm statistics of a noise generator; ${family.name} samples its own way`);
  return family.sample ? family.sample(nets, request, run) : noiseSample(family, nets, request, run);
}

/** Sentences go only to a run that draws from text, and a text run needs them (interpolation: one sentence to another). */
function checkText(family: GanFamily, request: SampleRequest, data: DatasetInfo): void {
  const takesText = conditionOf(family, data) === 'text';
  const given = (request.text?.length ?? 0) > 0;
  if (given && !takesText) throw new UserError(`--text: ${family.name} on ${data.name} takes no text (its condition is ${conditionOf(family, data)}); sentences go to text-to-image runs (dfgan, stackgan, attngan on captions:… data)`);
  if (takesText && !given) throw new UserError(`${family.name} draws images from sentences: pass --text "a sentence" (repeatable) or --text-file FILE (one per line)`);
  if (request.textTo !== undefined && request.text?.length !== 1) throw new UserError(`--text-to interpolates from one sentence to another: give exactly one --text with it (got ${request.text?.length ?? 0})`);
}

/** `--truncation ψ`: a number in (0, 1], for a family that declares a truncation trick. */
export function checkTruncation(family: GanFamily, psi: number | undefined): void {
  if (psi === undefined) return;
  if (!family.truncation) throw new UserError(`--truncation needs a model with a truncation trick (stylegan2, biggan); ${family.name} has none`);
  if (!(psi > 0 && psi <= 1)) throw new UserError(`--truncation must be in (0, 1] (1: no truncation; 0.7 is typical), got ${psi}`);
}

/**
 * BigGAN's truncated latents: z ~ N(0, I) truncated to [−2, 2] (values outside are redrawn), times ψ: [n, d].
 * Smaller ψ, samples nearer the mode: more typical and less varied.
 */
export function truncatedLatents(rng: Rng, n: number, d: number, psi: number): tf.Tensor2D {
  const values = new Float32Array(n * d);
  for (let i = 0; i < values.length; i++) {
    let v = rng.normal();
    while (Math.abs(v) > 2) v = rng.normal();
    values[i] = psi * v;
  }
  return tf.tensor2d(values, [n, d]);
}

/** w pulled toward the mean: w̄ + ψ(w − w̄) (StyleGAN's truncation trick), [B, wDim]. `meanW` is [1 or B, wDim]. */
export function truncateW(w: tf.Tensor2D, meanW: tf.Tensor2D, psi: number): tf.Tensor2D {
  return tf.tidy(() => tf.add(meanW, tf.mul(psi, tf.sub(w, meanW))) as tf.Tensor2D);
}

/** One w per style input: [B, wDim] → w+ [B, numWs, wDim]. */
export function broadcastW(w: tf.Tensor2D, numWs: number): tf.Tensor3D {
  return tf.tidy(() => tf.tile(tf.expandDims(w, 1), [1, numWs, 1]) as tf.Tensor3D);
}

/**
 * Samples through a style space, with the truncation trick: z ~ N(0, I) from `seed` → w → w̄ + ψ(w − w̄) → w+
 * → images, in chunks; the per-pixel noise is drawn from the seed as well. `classes` [n, K] one-hot for a
 * conditional mapping (the caller's).
 */
export function styleSample(space: StyleSpace, request: { count: number; seed: number; truncation?: number }, classes?: tf.Tensor2D, chunk = 128): Float32Array {
  const n = request.count;
  const z = latents(new Rng(request.seed), n, space.zDim);
  let out: Float32Array | null = null;
  try {
    for (let start = 0; start < n; start += chunk) {
      const size = Math.min(chunk, n - start);
      const values = readTidy(() => {
        const c = classes ? tf.slice(classes, [start, 0], [size, -1]) : undefined;
        let w = space.mapping(tf.slice(z, [start, 0], [size, -1]), c);
        if (request.truncation !== undefined && request.truncation !== 1) w = truncateW(w, space.meanW(c), request.truncation);
        return space.synthesis(broadcastW(w, space.numWs), { noise: 'random', seed: request.seed + start });
      });
      out ??= new Float32Array((values.length / size) * n);
      out.set(values, (values.length / size) * start);
    }
  } finally {
    z.dispose();
  }
  return out ?? new Float32Array(0);
}

/**
 * How many classes a run's samples are drawn from: the data's classes when the family is class-conditional on
 * this data, else 0. `--class K` (when given) is checked against them.
 */
export function sampledClasses(family: GanFamily, data: DatasetInfo, k: number | undefined): number {
  const classes = conditionOf(family, data) === 'class' ? (data.numClasses ?? 0) : 0;
  if (k !== undefined && classes === 0) throw new UserError(`--class needs a class-conditional model (cgan, acgan, biggan, stylegan2 on labelled data); this ${family.name} run is not one`);
  if (k !== undefined && !(Number.isInteger(k) && k >= 0 && k < classes)) throw new UserError(`--class must be in 0..${classes - 1}, got ${k}`);
  return classes;
}

/** `request.classes` checked against the run's k classes and the request's count; undefined when not given. */
function requestedClasses(request: SampleRequest, k: number): ArrayLike<number> | undefined {
  const given = request.classes;
  if (given === undefined) return undefined;
  if (k === 0) throw new UserError('per-sample classes need a class-conditional model on labelled data');
  if (request.class !== undefined) throw new UserError('give one class for every sample (--class) or a class per sample, not both');
  if (given.length !== request.count) throw new Error(`${given.length} classes for ${request.count} samples`);
  for (let i = 0; i < given.length; i++) {
    if (!(Number.isInteger(given[i]) && given[i] >= 0 && given[i] < k)) throw new Error(`sample ${i}'s class must be in 0..${k - 1}, got ${given[i]}`);
  }
  return given;
}

/**
 * Sampling for families that map noise (and a class) to data: z ~ N(0, I) seeded by `request.seed` (or the
 * family's coded latents, infogan), through the EMA generator when the run keeps one. A class-conditional
 * family gets `request.classes` row by row, `request.class` for every row, or rows cycling through the classes.
 */
export function noiseSample(family: GanFamily, nets: GanNetworks, request: SampleRequest, run: { config: RunConfig; data: DatasetInfo }): SampleResult {
  const { config, data } = run;
  if (request.input) throw new UserError(`${family.name} generates from noise; it takes no input images (translate needs a translator such as pix2pix or cyclegan)`);
  if (request.direction) throw new UserError(`--direction chooses a translator's generator; ${family.name} has one generator`);
  const k = sampledClasses(family, data, request.class);
  if (!family.sampleLatents && (request.code?.length || request.vary !== undefined)) {
    throw new UserError(`--code/--vary set the latent codes of a model that has them (infogan); ${family.name} has none`);
  }
  const given = requestedClasses(request, k);
  const classesOf = (n: number) => (k > 0 ? oneHotLabels(Array.from({ length: n }, (_, i) => given?.[i] ?? request.class ?? i % k), k) : undefined);
  // A style space samples through mapping and synthesis (its truncation acts on w); others run G on z.
  const space = family.styleSpace?.(nets, run);
  if (space && request.standingStats) throw new UserError(`--standing-stats recomputes a generator's batch-norm statistics; ${family.name} samples through a style space without batch norm`);
  if (space) {
    const classes = classesOf(request.count);
    try {
      return { values: styleSample(space, request, classes), count: request.count, shape: data.shape };
    } finally {
      classes?.dispose();
    }
  }
  if (family.truncation === 'w' && request.truncation !== undefined) throw new Error(`${family.name} declares truncation in w but no styleSpace`);
  const truncated = request.truncation !== undefined && family.truncation === 'z';
  const { z, cols } = family.sampleLatents?.(config, request.seed, request.count, request) ??
    { z: truncated ? truncatedLatents(new Rng(request.seed), request.count, config.latentDim, request.truncation!) : latents(new Rng(request.seed), request.count, config.latentDim) };
  const n = z.shape[0];
  const labels = classesOf(n);
  const generator = samplingGenerator(nets);
  const sample = () => generate(generator, z, 256, labels);
  try {
    const values = request.standingStats ? withStandingStats(generator, request, run, k, sample) : sample();
    return { values, count: n, shape: data.shape, cols };
  } finally {
    tf.dispose([z, ...(labels ? [labels] : [])]);
  }
}

/**
 * `sample` run with standing batch-norm statistics (SampleRequest.standingStats, src/nn/standing_stats.ts): each
 * pass draws a training batch of latents the way sampling draws them (truncated when ψ is given) and, for a
 * class-conditional generator, classes uniformly, from a generator seeded by the request's seed.
 */
function withStandingStats(generator: tfl.LayersModel, request: SampleRequest, run: { config: RunConfig; data: DatasetInfo }, k: number, sample: () => Float32Array): Float32Array {
  const { config, data } = run;
  if (movingStatistics(generator).length === 0) throw new UserError(`--standing-stats recomputes batch-norm statistics, and the ${config.model} generator on ${data.name} has no batch norm`);
  const rng = new Rng(request.seed).fork();
  const n = config.batchSize;
  const draw = () => {
    const truncated = request.truncation !== undefined && request.truncation !== 1;
    const z = truncated ? truncatedLatents(rng, n, config.latentDim, request.truncation!) : latents(rng, n, config.latentDim);
    return k > 0 ? [z, oneHotLabels(Array.from({ length: n }, () => rng.int(k)), k)] : z;
  };
  return withStandingStatistics(generator, request.standingStats!, draw, sample);
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
  if (data.kind === 'sequence') return sequenceSamplesPng(result.values, result.count, data);
  const [h, w, c] = result.shape;
  return imageGrid(toUint8Images(result.values), result.count, h, w, c, { cols: result.cols });
}

/**
 * Rows of images side by side (input | output | target …): `columns` are [n, H, W, C_i] tensors in [-1, 1]
 * with the same n, H and W; grey columns are repeated to RGB when any column is colour. The caller owns them.
 */
export function imageRows(columns: tf.Tensor[]): SampleResult {
  // An image with a mask channel (masked: data's input, 2 or 4 channels) shows as the image alone.
  const shown = (c: tf.Tensor) => { const k = c.shape[3] ?? 1; return k === 2 || k === 4 ? k - 1 : k; };
  const channels = Math.max(...columns.map(shown));
  const [n, h, w] = columns[0].shape;
  const values = readTidy(() => {
    const cells = columns.map((c) => {
      const image = shown(c) === c.shape[3] ? c : tf.slice(c, [0, 0, 0, 0], [-1, -1, -1, shown(c)]);
      return image.shape[3] === channels ? image : tf.tile(image, [1, 1, 1, channels]); // [n, H, W, C]
    });
    return tf.reshape(tf.stack(cells, 1), [n * columns.length, h, w, channels]); // row i: the columns of example i
  });
  return { values, count: n * columns.length, shape: [h, w, channels], cols: columns.length };
}

/** A PNG of samples: a grid for images (`cols` columns, default ⌈√n⌉), a scatter plot for 2-D points. */
export async function samplesPng(values: Float32Array, n: number, data: DatasetInfo, reference?: Float32Array, cols?: number): Promise<Buffer> {
  if (data.kind === 'points') return scatterPlot(values, { reference });
  if (data.kind === 'sequence') return sequenceSamplesPng(values, n, data);
  const [h, w, c] = data.shape;
  return imageGrid(toUint8Images(values), n, h, w, c, { cols });
}

/**
 * Sequences as small multiples (the first MAX_PANELS of them): in original units when the features share a scale,
 * else in the scaled units they were trained in, where volumes in billions would flatten prices in thousands.
 */
function sequenceSamplesPng(values: Float32Array, n: number, data: DatasetInfo): Promise<Buffer> {
  const seq = sequenceInfoOf(data);
  const shown = Math.min(n, MAX_PANELS);
  const first = values.slice(0, shown * data.shape[0] * data.shape[1]);
  const spread = Math.max(...seq.scaling.scale) / Math.min(...seq.scaling.scale);
  const original = spread < 10;
  return sequencesPng({ values: original ? unscale(first, seq.scaling) : first, count: shown, window: data.shape[0], features: seq.features },
    { yTitle: original ? undefined : `scaled (${seq.scaling.kind})` });
}

/** The sequence description of sequence data, or an error naming what is missing. */
export function sequenceInfoOf(data: DatasetInfo): SequenceInfo {
  if (data.kind !== 'sequence' || !data.sequence) throw new Error(`${data.name} is not sequence data (DatasetInfo.sequence is missing)`);
  return data.sequence;
}
