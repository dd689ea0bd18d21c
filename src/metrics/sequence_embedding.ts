import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { vegaLitePng } from '../io/vega_png.js';
import type { DatasetInfo } from '../data/types.js';
import { Rng } from '../util/rng.js';
import { gaussianStats, symmetricEigen } from './linalg.js';

/**
 * The TimeGAN paper's picture of real vs synthetic sequences (Yoon et al. 2019, Fig. 3): PCA and t-SNE in 2-D.
 * As the authors' metrics/visualization_metrics.py does it: ≤ 1,000 random sequences of each set (they take the
 * same indices of both, the synthetic set being as long as the real one; here each set is drawn from on its own,
 * so a real set longer than the synthetic one is not cut to its first rows); each sequence [T, F] is averaged over its features to a vector of T numbers (not flattened); PCA is fitted
 * on the real vectors and applied to both; t-SNE embeds both sets together with perplexity 40 for 300 iterations.
 * The input is the scaled data the model sees (the authors' min-max scaled data), so features weigh alike.
 *
 * t-SNE here is the exact O(N²) method (van der Maaten & Hinton 2008) with scikit-learn's optimiser as the authors
 * ran it (scikit-learn ≤ 1.1): P from a binary search per row to the perplexity, symmetrised and normalised;
 * Student-t kernel with one degree of freedom; early exaggeration 12 with momentum 0.5 for 250 iterations, then
 * momentum 0.8; delta-bar-delta gains (+0.2, ×0.8, ≥ 0.01); random start N(0, 10⁻⁴ I). The one change is the
 * learning rate: N / 12 (Belkina et al. 2019) instead of their fixed 200. At the figure's 2,000 points that is 167,
 * near theirs; on small sets 200 makes the exaggerated phase oscillate (120 points in 3 clusters: KL 1.98 after
 * 300 iterations with 200, 0.70 with N / 12). scikit-learn's default Barnes–Hut method approximates this
 * gradient; at N = 2,000 the exact one takes seconds. No npm t-SNE is kept up: tsne-js and @keckelt/tsne are ports
 * of a 2016 optimiser without the exaggeration schedule and the gains.
 */

export const EMBEDDING_METHODS = ['pca', 'tsne'] as const;
export type EmbeddingMethod = (typeof EMBEDDING_METHODS)[number];

/** The authors' settings: sequences per set, t-SNE perplexity and iterations. */
export const EMBEDDING_PROTOCOL = { count: 1000, perplexity: 40, iterations: 300, earlyExaggeration: 12, exaggerationIterations: 250 } as const;

/** Sequences [count, T, F] row-major, scaled. */
export interface SequenceBatch {
  values: Float32Array;
  count: number;
  /** T time steps. */
  window: number;
  /** F features. */
  features: number;
}

/** 2-D coordinates of both sets: real [n, 2] and fake [n, 2] row-major, and how they were made. */
export interface Embedding2d {
  method: EmbeddingMethod;
  real: Float64Array;
  fake: Float64Array;
  /** Sequences per set. */
  count: number;
  /** Which sequences were used: indices into each set. */
  realIndices: Int32Array;
  fakeIndices: Int32Array;
  /** One line: method, counts and settings, for captions and logs. */
  protocol: string;
}

export interface EmbedOptions {
  method: EmbeddingMethod;
  /** Seeds the choice of sequences and t-SNE's start. */
  seed: number;
  /** Sequences per set (default 1,000, or fewer when a set is smaller). */
  count?: number;
  /** t-SNE settings (default the authors'). */
  perplexity?: number;
  iterations?: number;
}

/**
 * Real and synthetic sequences in 2-D, the TimeGAN figure's way (see the file's comment).
 *
 * @example
 * const e = embed2d({ values: real, count: 3000, window: 24, features: 5 }, { values: fake, count: 3000, window: 24, features: 5 }, { method: 'pca', seed: 0 });
 * e.real.length; // 2000: 1,000 points × (x, y)
 */
export function embed2d(real: SequenceBatch, fake: SequenceBatch, opts: EmbedOptions): Embedding2d {
  if (real.window !== fake.window || real.features !== fake.features) {
    throw new Error(`embed2d: real sequences are [${real.window}, ${real.features}] but synthetic ones [${fake.window}, ${fake.features}]`);
  }
  const n = Math.min(opts.count ?? EMBEDDING_PROTOCOL.count, real.count, fake.count);
  if (n < 2) throw new Error(`embed2d: needs at least 2 sequences of each set, got ${Math.min(real.count, fake.count)}`);
  const rng = new Rng(opts.seed);
  const realIndices = chooseIndices(real.count, n, rng);
  const fakeIndices = chooseIndices(fake.count, n, rng);
  const t = real.window;
  const x = featureMeans(real, realIndices);
  const y = featureMeans(fake, fakeIndices);
  if (opts.method === 'pca') {
    const [a, b] = pca2d(x, y, n, n, t);
    return { method: 'pca', real: a, fake: b, count: n, realIndices, fakeIndices, protocol: `PCA fitted on ${n} real sequences (each averaged over its ${real.features} features), applied to ${n} synthetic` };
  }
  // A perplexity is an effective neighbour count: a row's search needs about three times as many other points, so a
  // small set (a short test split) lowers the protocol's 40 to what its 2n points allow, and the protocol says so.
  const asked = opts.perplexity ?? EMBEDDING_PROTOCOL.perplexity;
  const perplexity = Math.min(asked, (2 * n - 1) / 3);
  const lowered = perplexity < asked ? ` (${asked} lowered to (2n − 1)/3 for ${2 * n} points)` : '';
  const iterations = opts.iterations ?? EMBEDDING_PROTOCOL.iterations;
  const both = new Float64Array(2 * n * t);
  both.set(x);
  both.set(y, n * t);
  const z = tsne(both, 2 * n, t, { perplexity, iterations, rng });
  return {
    method: 'tsne', real: z.slice(0, 2 * n), fake: z.slice(2 * n), count: n, realIndices, fakeIndices,
    protocol: `exact t-SNE of ${n} real + ${n} synthetic sequences (each averaged over its ${real.features} features), perplexity ${+perplexity.toFixed(2)}${lowered}, ${iterations} iterations`,
  };
}

/** `k` distinct indices of 0..n−1 in random order (the authors' np.random.permutation(n)[:k]). */
export function chooseIndices(n: number, k: number, rng: Rng): Int32Array {
  const all = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i));
  return all.slice(0, k);
}

/** Each chosen sequence averaged over its features: [k, T]. */
export function featureMeans(s: SequenceBatch, indices: Int32Array): Float64Array {
  const t = s.window, f = s.features;
  const out = new Float64Array(indices.length * t);
  indices.forEach((row, i) => {
    for (let step = 0; step < t; step++) {
      let sum = 0;
      for (let j = 0; j < f; j++) sum += s.values[(row * t + step) * f + j];
      out[i * t + step] = sum / f;
    }
  });
  return out;
}

/**
 * PCA to 2-D fitted on `x` [n, d] (its mean and two leading eigenvectors of its covariance), applied to `x` and
 * `y` [m, d]. Each axis' sign makes its largest-magnitude loading positive, so the picture does not flip between
 * runs.
 */
export function pca2d(x: Float64Array, y: Float64Array, n: number, m: number, d: number): [Float64Array, Float64Array] {
  const { mean, cov } = gaussianStats(x, n, d);
  const { values, vectors } = symmetricEigen(cov, d);
  const order = Array.from(values.keys()).sort((a, b) => values[b] - values[a]).slice(0, 2);
  const axes = order.map((k) => {
    const v = vectors!.slice(k * d, (k + 1) * d);
    let big = 0;
    for (let j = 1; j < d; j++) if (Math.abs(v[j]) > Math.abs(v[big])) big = j;
    if (v[big] < 0) for (let j = 0; j < d; j++) v[j] = -v[j];
    return v;
  });
  while (axes.length < 2) axes.push(new Float64Array(d)); // d = 1: the second axis is flat
  const project = (a: Float64Array, rows: number) => {
    const out = new Float64Array(rows * 2);
    for (let i = 0; i < rows; i++) {
      for (let c = 0; c < 2; c++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += (a[i * d + j] - mean[j]) * axes[c][j];
        out[i * 2 + c] = s;
      }
    }
    return out;
  };
  return [project(x, n), project(y, m)];
}

/** Squared Euclidean distances of the rows of x [n, d]: [n, n]. */
export function squaredDistances(x: Float64Array, n: number, d: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) {
        const diff = x[i * d + k] - x[j * d + k];
        s += diff * diff;
      }
      out[i * n + j] = s;
      out[j * n + i] = s;
    }
  }
  return out;
}

/**
 * t-SNE's conditional affinities: per row i, p(j|i) ∝ exp(−β_i d²_ij), p(i|i) = 0, with β_i found by bisection so
 * that the row's entropy (nats) is log(perplexity) to 10⁻⁵: [n, n].
 */
export function conditionalProbabilities(d2: Float64Array, n: number, perplexity: number): Float64Array {
  if (!(perplexity > 0 && perplexity < n)) throw new Error(`t-SNE perplexity ${perplexity} must be in (0, ${n}) for ${n} points`);
  const target = Math.log(perplexity);
  const cond = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    let beta = 1, lo = -Infinity, hi = Infinity;
    for (let step = 0; step < 100; step++) {
      const h = rowEntropy(d2, cond, n, i, beta);
      if (Math.abs(h - target) <= 1e-5) break;
      // Entropy falls as β grows: too high an entropy needs a larger β.
      if (h > target) {
        lo = beta;
        beta = hi === Infinity ? beta * 2 : (beta + hi) / 2;
      } else {
        hi = beta;
        beta = lo === -Infinity ? beta / 2 : (beta + lo) / 2;
      }
    }
  }
  return cond;
}

/** t-SNE's joint affinities: P = (P_cond + P_condᵀ) / Σ, off-diagonal entries at least machine epsilon (scikit-learn's). */
export function jointProbabilities(d2: Float64Array, n: number, perplexity: number): Float64Array {
  const cond = conditionalProbabilities(d2, n, perplexity);
  const p = new Float64Array(n * n);
  let sum = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) sum += (p[i * n + j] = cond[i * n + j] + cond[j * n + i]);
  const norm = Math.max(sum, Number.EPSILON);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (j !== i) p[i * n + j] = Math.max(p[i * n + j] / norm, Number.EPSILON);
  return p;
}

/**
 * Fills row i of `cond` with p(j|i) for precision β and returns its entropy in nats, as log Z + β E[d²] (the same
 * as −Σ p log p, with one exp and no log per entry).
 */
function rowEntropy(d2: Float64Array, cond: Float64Array, n: number, i: number, beta: number): number {
  let sum = 0, weighted = 0;
  for (let j = 0; j < n; j++) {
    const v = j === i ? 0 : Math.exp(-beta * d2[i * n + j]);
    cond[i * n + j] = v;
    sum += v;
    weighted += v * d2[i * n + j];
  }
  if (sum === 0) sum = Number.EPSILON; // every neighbour underflowed: β is far too large
  const inv = 1 / sum;
  for (let j = 0; j < n; j++) cond[i * n + j] *= inv;
  return Math.log(sum) + beta * weighted * inv;
}

/**
 * The gradient of KL(P ‖ Q) at an embedding y [n, 2], and KL itself when `withKl`: q_ij = w_ij / Σ w,
 * w_ij = 1 / (1 + ‖y_i − y_j‖²), ∂KL/∂y_i = 4 Σ_j (p_ij − q_ij) w_ij (y_i − y_j). `exaggeration` multiplies P
 * (early exaggeration). `grad` and `w` [n, n] are reused when given: the optimiser calls this 300 times.
 */
export function klGradient(p: Float64Array, y: Float64Array, n: number, opts: { exaggeration?: number; withKl?: boolean; grad?: Float64Array; w?: Float64Array } = {}): { kl: number; grad: Float64Array } {
  const ex = opts.exaggeration ?? 1;
  const grad = opts.grad ?? new Float64Array(n * 2);
  const w = opts.w ?? new Float64Array(n * n);
  let z = 0;
  for (let i = 0; i < n; i++) {
    const xi = y[i * 2], yi = y[i * 2 + 1];
    for (let j = i + 1; j < n; j++) {
      const dx = xi - y[j * 2], dy = yi - y[j * 2 + 1];
      const v = 1 / (1 + dx * dx + dy * dy);
      w[i * n + j] = v;
      z += 2 * v;
    }
  }
  grad.fill(0);
  const invZ = 1 / z;
  let kl = 0;
  // Each pair once (P and W are symmetric): its force on i, and the opposite one on j.
  for (let i = 0; i < n; i++) {
    const xi = y[i * 2], yi = y[i * 2 + 1];
    let gx = 0, gy = 0;
    for (let j = i + 1; j < n; j++) {
      const pij = ex * p[i * n + j], wij = w[i * n + j];
      const c = (pij - wij * invZ) * wij;
      const fx = c * (xi - y[j * 2]), fy = c * (yi - y[j * 2 + 1]);
      gx += fx;
      gy += fy;
      grad[j * 2] -= fx;
      grad[j * 2 + 1] -= fy;
      if (opts.withKl && pij > 0) kl += 2 * pij * Math.log(pij / Math.max(wij * invZ, Number.EPSILON));
    }
    grad[i * 2] += gx;
    grad[i * 2 + 1] += gy;
  }
  for (let k = 0; k < grad.length; k++) grad[k] *= 4;
  return { kl, grad };
}

/** Exact t-SNE of x [n, d] to 2-D (the optimiser of the file's comment); learning rate n / 12 unless given. */
export function tsne(x: Float64Array, n: number, d: number, opts: { perplexity: number; iterations: number; rng: Rng; learningRate?: number }): Float64Array {
  const p = jointProbabilities(squaredDistances(x, n, d), n, opts.perplexity);
  const lr = opts.learningRate ?? n / EMBEDDING_PROTOCOL.earlyExaggeration;
  const y = new Float64Array(n * 2);
  for (let k = 0; k < y.length; k++) y[k] = 1e-4 * opts.rng.normal();
  const update = new Float64Array(n * 2);
  const gains = new Float64Array(n * 2).fill(1);
  const grad = new Float64Array(n * 2);
  const w = new Float64Array(n * n); // the kernel's values, reused by every iteration
  for (let it = 0; it < opts.iterations; it++) {
    const early = it < EMBEDDING_PROTOCOL.exaggerationIterations;
    klGradient(p, y, n, { exaggeration: early ? EMBEDDING_PROTOCOL.earlyExaggeration : 1, grad, w });
    const momentum = early ? 0.5 : 0.8;
    for (let k = 0; k < y.length; k++) {
      // Delta-bar-delta: a coordinate whose gradient keeps its sign against the last step speeds up.
      gains[k] = update[k] * grad[k] < 0 ? gains[k] + 0.2 : gains[k] * 0.8;
      if (gains[k] < 0.01) gains[k] = 0.01;
      update[k] = momentum * update[k] - lr * gains[k] * grad[k];
      y[k] += update[k];
    }
  }
  return y;
}

/** Colours of the two sets, the authors' (red real, blue synthetic). */
export const EMBEDDING_COLOURS = { real: '#dc2626', synthetic: '#2563eb' } as const;

/** A scatter plot of an embedding, real and synthetic coloured, drawn by Vega-Lite to SVG and rasterised by sharp. */
export async function embeddingPng(e: Embedding2d, opts: { title?: string } = {}): Promise<Buffer> {
  const rows: { x: number; y: number; set: string }[] = [];
  for (let i = 0; i < e.count; i++) rows.push({ x: e.real[i * 2], y: e.real[i * 2 + 1], set: 'real' });
  for (let i = 0; i < e.count; i++) rows.push({ x: e.fake[i * 2], y: e.fake[i * 2 + 1], set: 'synthetic' });
  const name = e.method === 'pca' ? 'PCA' : 't-SNE';
  const spec: TopLevelSpec = {
    title: { text: opts.title ?? `${name}: real vs synthetic`, subtitle: e.protocol.split(/(?<=\)),\s*/), subtitleFontSize: 10 }, // the protocol on two lines
    width: 420,
    height: 360,
    background: 'white',
    data: { values: rows },
    mark: { type: 'circle', size: 14, opacity: 0.3 },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: `x-${e.method}`, scale: { zero: false } },
      y: { field: 'y', type: 'quantitative', title: `y-${e.method}`, scale: { zero: false } },
      color: { field: 'set', type: 'nominal', title: null, scale: { domain: ['real', 'synthetic'], range: [EMBEDDING_COLOURS.real, EMBEDDING_COLOURS.synthetic] } },
    },
  };
  return vegaLitePng(spec, 2);
}

/** The batch view of scaled sequence values of `data` ([N, T, F] flattened). */
export function sequenceBatch(values: Float32Array, data: DatasetInfo): SequenceBatch {
  if (data.kind !== 'sequence' || data.shape.length !== 2) throw new Error(`${data.name} is not sequence data`);
  const [window, features] = data.shape;
  const size = window * features;
  if (values.length % size !== 0) throw new Error(`${values.length} values are not whole sequences of [${window}, ${features}]`);
  return { values, count: values.length / size, window, features };
}

/**
 * pca.png and tsne.png in `dir`: the TimeGAN figure of `real` and `fake`, scaled sequences of `data`
 * ([N, T, F] flattened, as training sees them). Returns the files written.
 *
 * @example
 * await writeSequenceFigures(run.dir, realScaled, sampleFamily(family, nets, { count: 1000, seed: 0 }, run).values, data);
 */
export async function writeSequenceFigures(dir: string, real: Float32Array, fake: Float32Array, data: DatasetInfo, opts: { seed?: number; count?: number } = {}): Promise<string[]> {
  await fs.mkdir(dir, { recursive: true });
  const files: string[] = [];
  for (const method of EMBEDDING_METHODS) {
    const e = embed2d(sequenceBatch(real, data), sequenceBatch(fake, data), { method, seed: opts.seed ?? 0, count: opts.count });
    const file = path.join(dir, `${method}.png`);
    await fs.writeFile(file, await embeddingPng(e));
    files.push(file);
  }
  return files;
}
