import * as tf from '@tensorflow/tfjs-core';
import { readTidyAll } from '../util/tensors.js';
import { Rng } from '../util/rng.js';

export interface KidResult {
  /** Mean of the unbiased MMD² estimates over the subsets. */
  kid: number;
  /** Their standard deviation (population std over subsets, as the reference code reports). */
  std: number;
  subsets: number;
  subsetSize: number;
}

export interface KidOptions {
  /** Number of random subset pairs (default 100). */
  subsets?: number;
  /** Examples per subset (default min(1000, n, m)). */
  subsetSize?: number;
  seed?: number;
}

/**
 * Kernel Inception Distance (Bińkowski, Sutherland, Arbel & Gretton 2018, "Demystifying MMD GANs", §4):
 * the unbiased estimator of MMD² with the cubic polynomial kernel k(x, y) = (xᵀy / d + 1)³, averaged over
 * random subsets of both sets. Unlike FID it is unbiased in the sample size, so small evaluations are
 * comparable with large ones; it can be slightly negative when the sets match.
 *
 * The Gram matrices are float32 matrix products on the active TF.js backend; each subset's sums are
 * accumulated in float64.
 */
export function kernelInceptionDistance(x: Float32Array, n: number, y: Float32Array, m: number, d: number, opts: KidOptions = {}): KidResult {
  const subsets = opts.subsets ?? 100;
  const size = opts.subsetSize ?? Math.min(1000, n, m);
  if (size < 2) throw new Error('kernelInceptionDistance: subsets need at least 2 examples');
  if (size > n || size > m) throw new Error(`kernelInceptionDistance: subset size ${size} exceeds the set sizes (${n}, ${m})`);
  const rng = new Rng(opts.seed ?? 0);
  const xt = tf.tensor2d(x, [n, d]);
  const yt = tf.tensor2d(y, [m, d]);
  const estimates: number[] = [];
  try {
    for (let s = 0; s < subsets; s++) {
      const ix = pick(rng, n, size);
      const iy = pick(rng, m, size);
      const [kxx, kyy, kxy] = readTidyAll(() => {
        const a = tf.gather(xt, ix);
        const b = tf.gather(yt, iy);
        const kern = (p: tf.Tensor2D, q: tf.Tensor2D) => tf.pow(tf.add(tf.div(tf.matMul(p, q, false, true), d), 1), 3);
        return [kern(a, a), kern(b, b), kern(a, b)];
      });
      estimates.push(unbiasedMmd2(kxx, kyy, kxy, size));
    }
  } finally {
    xt.dispose();
    yt.dispose();
  }
  const mean = estimates.reduce((p, v) => p + v, 0) / estimates.length;
  const variance = estimates.reduce((p, v) => p + (v - mean) ** 2, 0) / estimates.length;
  return { kid: mean, std: Math.sqrt(variance), subsets, subsetSize: size };
}

/** Without replacement: the first `k` of a seeded Fisher–Yates shuffle of 0..n−1. */
function pick(rng: Rng, n: number, k: number): tf.Tensor1D {
  const idx = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i));
  return tf.tensor1d(idx.subarray(0, k), 'int32');
}

/** MMD²ᵤ = mean_{i≠j} k(xᵢ,xⱼ) + mean_{i≠j} k(yᵢ,yⱼ) − 2 mean_{i,j} k(xᵢ,yⱼ) (diagonals excluded). */
export function unbiasedMmd2(kxx: ArrayLike<number>, kyy: ArrayLike<number>, kxy: ArrayLike<number>, m: number): number {
  let sxx = 0, syy = 0, sxy = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      const o = i * m + j;
      sxy += kxy[o];
      if (i !== j) {
        sxx += kxx[o];
        syy += kyy[o];
      }
    }
  }
  return (sxx + syy) / (m * (m - 1)) - (2 * sxy) / (m * m);
}
