import type { ArraySource, FeatureScaling, SequenceInfo } from './types.js';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';

/**
 * Sequence data in memory: windows of T rows of F features, scaled per feature, as an ArraySource whose values
 * are float32 [N, T, F] used as they are (like 2-D points). Everything that reads sequence data (the CSV loader,
 * the named series, sampling back to original units) goes through these few functions.
 */

/** How a series' features are scaled for training (--scaling). */
export const SCALINGS = ['minmax', 'standard'] as const;
export type ScalingKind = (typeof SCALINGS)[number];

/** One series: `rows` of `features.length` numbers, row-major, plus an optional class per series (rcgan's condition). */
export interface Series {
  /** float [rows × F] in original units, row-major. */
  values: Float64Array | Float32Array;
  rows: number;
  /** Class of every window cut from it (index into classNames). */
  label?: number;
  /** For messages: "series 'AAPL'". */
  name?: string;
}

/**
 * Per-feature scaling fitted on every row of the training series. A constant feature cannot be scaled (the
 * division is by zero) and is refused by name: drop it with --columns.
 */
export function fitScaling(series: readonly Series[], features: readonly string[], kind: ScalingKind): FeatureScaling {
  const f = features.length;
  const lo = new Array<number>(f).fill(Infinity), hi = new Array<number>(f).fill(-Infinity);
  const sum = new Array<number>(f).fill(0), sq = new Array<number>(f).fill(0);
  let n = 0;
  for (const s of series) {
    for (let r = 0; r < s.rows; r++) {
      for (let j = 0; j < f; j++) {
        const v = s.values[r * f + j];
        if (v < lo[j]) lo[j] = v;
        if (v > hi[j]) hi[j] = v;
        sum[j] += v;
        sq[j] += v * v;
      }
    }
    n += s.rows;
  }
  const constant = features.filter((_, j) => !(hi[j] > lo[j]));
  if (constant.length > 0) {
    throw new UserError(`column${constant.length > 1 ? 's' : ''} ${constant.map((c) => `'${c}'`).join(', ')} ${constant.length > 1 ? 'are' : 'is'} constant (value ${lo[features.indexOf(constant[0])]}): scaling would divide by zero; leave ${constant.length > 1 ? 'them' : 'it'} out with --columns`);
  }
  if (kind === 'minmax') return { kind, offset: lo, scale: hi.map((h, j) => h - lo[j]) };
  const mean = sum.map((s) => s / n);
  return { kind, offset: mean, scale: sq.map((q, j) => Math.sqrt(Math.max(q / n - mean[j] * mean[j], 0)) || 1) };
}

/** Scaled values → original units, in place: x = scaled · scale + offset, feature = index mod F. */
export function unscale(values: Float32Array, scaling: FeatureScaling): Float32Array {
  const f = scaling.offset.length;
  for (let i = 0; i < values.length; i++) values[i] = values[i] * scaling.scale[i % f] + scaling.offset[i % f];
  return values;
}

/** Original units → scaled values, in place (the inverse of `unscale`). */
export function rescale(values: Float32Array, scaling: FeatureScaling): Float32Array {
  const f = scaling.offset.length;
  for (let i = 0; i < values.length; i++) values[i] = (values[i] - scaling.offset[i % f]) / scaling.scale[i % f];
  return values;
}

/**
 * Values scaled by `from` put into the units of `to`, in place (unscaled, then rescaled); untouched when the two
 * scalings agree. A split scaled on its own (a test split) is compared with a run in the run's units this way.
 */
export function convertScaling(values: Float32Array, from: FeatureScaling, to: FeatureScaling): Float32Array {
  const same = from.offset.every((o, j) => o === to.offset[j] && from.scale[j] === to.scale[j]);
  return same ? values : rescale(unscale(values, from), to);
}

/** Where windows start in a series of `rows` rows: 0, S, 2S, … while a whole window fits. */
export function windowStarts(rows: number, window: number, stride: number): number[] {
  const starts: number[] = [];
  for (let s = 0; s + window <= rows; s += stride) starts.push(s);
  return starts;
}

export interface SequenceSourceOptions {
  name: string;
  features: string[];
  window: number;
  stride: number;
  scaling: ScalingKind | FeatureScaling;
  classNames?: string[];
  conditionColumn?: string;
  timeColumn?: string;
  origin?: string;
  notices?: string[];
  /** Keep only the first N windows (--data-limit). */
  limit?: number;
}

/**
 * Cut every series into windows of `window` rows with `stride`, scale them, and hold them as float32 [N, T, F].
 * A window longer than every series is refused, naming the longest; series too short for one window are
 * skipped with a notice when others are long enough.
 */
export function sequenceSource(series: readonly Series[], opts: SequenceSourceOptions): ArraySource {
  const f = opts.features.length;
  if (!Number.isInteger(opts.window) || opts.window < 2) throw new UserError(`--window ${opts.window}: a sequence needs at least 2 time steps`);
  if (!Number.isInteger(opts.stride) || opts.stride < 1) throw new UserError(`--stride ${opts.stride}: must be a whole number ≥ 1`);
  const longest = Math.max(0, ...series.map((s) => s.rows));
  if (opts.window > longest) {
    throw new UserError(`--window ${opts.window} is longer than ${series.length > 1 ? `the longest series (${longest} rows)` : `the series (${longest} rows)`} in ${opts.name}; pass --window ${longest} or less`);
  }
  const scaling = typeof opts.scaling === 'string' ? fitScaling(series, opts.features, opts.scaling) : opts.scaling;
  const short = series.filter((s) => s.rows < opts.window).length;
  const starts = series.map((s) => windowStarts(s.rows, opts.window, opts.stride));
  let count = starts.reduce((a, s) => a + s.length, 0);
  if (opts.limit !== undefined && opts.limit > 0) count = Math.min(count, opts.limit);
  const size = opts.window * f;
  const values = new Float32Array(count * size);
  const labeled = series.some((s) => s.label !== undefined);
  const labels = labeled ? new Int32Array(count) : undefined;
  let n = 0;
  for (let k = 0; k < series.length && n < count; k++) {
    const s = series[k];
    for (const start of starts[k]) {
      if (n === count) break;
      // Scaled from the series' own precision: rounding large values (volumes ~1e9) to float32 first would put
      // the extremes a hair outside minmax's [0, 1].
      for (let i = 0; i < size; i++) values[n * size + i] = (s.values[start * f + i] - scaling.offset[i % f]) / scaling.scale[i % f];
      if (labels) labels[n] = s.label ?? 0;
      n++;
    }
  }
  const sequence: SequenceInfo = {
    features: [...opts.features], window: opts.window, stride: opts.stride, scaling, series: series.length,
    ...(opts.conditionColumn ? { conditionColumn: opts.conditionColumn } : {}),
    ...(opts.timeColumn ? { timeColumn: opts.timeColumn } : {}),
    ...(opts.origin ? { origin: opts.origin } : {}),
  };
  const notices = [...(opts.notices ?? [])];
  if (short > 0) notices.push(`${opts.name}: ${short} of ${series.length} series are shorter than --window ${opts.window} and were left out`);
  return {
    kind: 'array',
    info: {
      name: opts.name, kind: 'sequence', shape: [opts.window, f], count, sequence,
      ...(opts.classNames ? { numClasses: opts.classNames.length, classNames: [...opts.classNames] } : {}),
    },
    count, values, ...(labels ? { labels } : {}), ...(notices.length > 0 ? { notices } : {}),
  };
}

/** Sequence data's default window when --window is 0: the dataset's own (sines: 24) or TimeGAN's 24. */
export const DEFAULT_WINDOW = 24;

/**
 * TimeGAN's synthetic sines (Yoon et al. 2019, §5.1), in the variant of the authors' released code (the paper's
 * text draws η ~ U[0, 1] and θ ~ U[−π, π] instead): each of the F features of a sequence is sin(η·t + θ) for
 * t = 0 … T−1 with its own η, θ ~ U[0, 0.1], so every sequence is a slow, nearly linear piece of a sine. The
 * authors' code then maps [−1, 1] to [0, 1]; here that is the fixed scaling, so samples come back as sines.
 * 10,000 sequences of 24 steps of 5 features, the paper's sizes; the test split is a second draw.
 */
export function sinesSource(opts: { count?: number; window?: number; features?: number; split?: 'train' | 'test'; seed?: number } = {}): ArraySource {
  const count = opts.count ?? 10000, t = opts.window ?? DEFAULT_WINDOW, f = opts.features ?? 5;
  if (t < 2) throw new UserError(`--window ${t}: a sequence needs at least 2 time steps`);
  const rng = new Rng((opts.seed ?? 0x5195) + (opts.split === 'test' ? 1 : 0));
  const values = new Float32Array(count * t * f);
  for (let n = 0; n < count; n++) {
    for (let j = 0; j < f; j++) {
      const freq = rng.uniform() * 0.1, phase = rng.uniform() * 0.1;
      for (let i = 0; i < t; i++) values[(n * t + i) * f + j] = Math.sin(freq * i + phase);
    }
  }
  const scaling: FeatureScaling = { kind: 'fixed', offset: new Array(f).fill(-1), scale: new Array(f).fill(2) };
  rescale(values, scaling);
  const features = Array.from({ length: f }, (_, j) => `sine${j + 1}`);
  return {
    kind: 'array', count, values,
    info: {
      name: 'sines', kind: 'sequence', shape: [t, f], count,
      sequence: { features, window: t, stride: t, scaling, series: count, origin: "TimeGAN's synthetic sines (authors' code variant: η, θ ~ U[0, 0.1])" },
    },
  };
}
