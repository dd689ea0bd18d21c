import * as tf from '@tensorflow/tfjs-core';
import { readTidy } from '../util/tensors.js';

export interface PrdcResult {
  precision: number;
  recall: number;
  density: number;
  coverage: number;
  /** The k of the k-nearest-neighbour balls. */
  k: number;
}

/** Rows per block of the distance computation: bounds memory at block × max(n, m) float32s. */
const BLOCK = 1024;

/**
 * Squared Euclidean distances from rows [lo, hi) of `a` to every row of `b`, float32 via the active backend:
 * ‖a‖² + ‖b‖² − 2abᵀ, clamped at 0 (the expansion can go slightly negative for near-equal points).
 */
function distanceBlock(a: tf.Tensor2D, aNorms: tf.Tensor1D, b: tf.Tensor2D, bNorms: tf.Tensor1D, lo: number, hi: number): Float32Array {
  return readTidy(() => {
    const rows = tf.slice(a, [lo, 0], [hi - lo, -1]);
    const rn = tf.slice(aNorms, [lo], [hi - lo]);
    const d2 = tf.add(tf.sub(tf.expandDims(rn, 1), tf.mul(tf.matMul(rows, b, false, true), 2)), tf.expandDims(bNorms, 0));
    return tf.relu(d2);
  });
}

function rowNorms(t: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.sum(tf.square(t), 1) as tf.Tensor1D);
}

/**
 * For each of the n rows of `x`, the squared distance to its k-th nearest other row (the radius of its
 * k-NN ball). The row itself is at distance ≈ 0, so this is the (k+1)-th smallest of its row of distances.
 */
export function knnRadii(x: Float32Array, n: number, d: number, k: number): Float64Array {
  if (k < 1 || k >= n) throw new Error(`knnRadii: k must be in 1..${n - 1}, got ${k}`);
  const t = tf.tensor2d(x, [n, d]);
  const norms = rowNorms(t);
  const radii = new Float64Array(n);
  const best = new Float64Array(k + 1);
  try {
    for (let lo = 0; lo < n; lo += BLOCK) {
      const hi = Math.min(n, lo + BLOCK);
      const dist = distanceBlock(t, norms, t, norms, lo, hi);
      for (let i = lo; i < hi; i++) {
        const row = dist.subarray((i - lo) * n, (i - lo + 1) * n);
        row[i] = 0; // the row's own distance, exactly
        radii[i] = kthSmallest(row, k + 1, best);
      }
    }
  } finally {
    t.dispose();
    norms.dispose();
  }
  return radii;
}

/** The `rank`-th smallest value (1-based) of `row`, keeping a sorted buffer of the `rank` smallest so far. */
function kthSmallest(row: Float32Array, rank: number, buf: Float64Array): number {
  let filled = 0;
  for (let j = 0; j < row.length; j++) {
    const v = row[j];
    if (filled === rank && v >= buf[rank - 1]) continue;
    let p = filled < rank ? filled++ : rank - 1;
    while (p > 0 && buf[p - 1] > v) {
      buf[p] = buf[p - 1];
      p--;
    }
    buf[p] = v;
  }
  return buf[rank - 1];
}

/**
 * Improved precision and recall (Kynkäänniemi, Karras, Laine, Lehtinen & Aila 2019, "Improved Precision and
 * Recall Metric for Assessing Generative Models") and density and coverage (Naeem, Oh, Uh, Choi & Yoo 2020,
 * "Reliable Fidelity and Diversity Metrics for Generative Models"), all from k-nearest-neighbour balls in
 * feature space:
 *
 * - precision: share of fake samples inside at least one real sample's k-NN ball;
 * - recall: share of real samples inside at least one fake sample's k-NN ball;
 * - density: (1 / (k·m)) Σ_fake (number of real balls containing it) — can exceed 1;
 * - coverage: share of real samples whose ball contains at least one fake sample.
 *
 * "Inside" means distance ≤ radius. k = 5 by default (Naeem et al.'s choice; Kynkäänniemi et al. use 3).
 */
export function precisionRecallDensityCoverage(real: Float32Array, n: number, fake: Float32Array, m: number, d: number, k = 5): PrdcResult {
  const realRadii = knnRadii(real, n, d, k);
  const fakeRadii = knnRadii(fake, m, d, k);
  const rt = tf.tensor2d(real, [n, d]);
  const ft = tf.tensor2d(fake, [m, d]);
  const rn = rowNorms(rt);
  const fn = rowNorms(ft);
  let precise = 0;
  let densitySum = 0;
  const recalled = new Uint8Array(n);
  const nearestFake = new Float64Array(n).fill(Infinity);
  try {
    for (let lo = 0; lo < m; lo += BLOCK) {
      const hi = Math.min(m, lo + BLOCK);
      const dist = distanceBlock(ft, fn, rt, rn, lo, hi); // [fake block, n]
      for (let f = lo; f < hi; f++) {
        const row = dist.subarray((f - lo) * n, (f - lo + 1) * n);
        const fr = fakeRadii[f];
        let inside = 0;
        for (let r = 0; r < n; r++) {
          const v = row[r];
          if (v <= realRadii[r]) inside++;
          if (v <= fr) recalled[r] = 1;
          if (v < nearestFake[r]) nearestFake[r] = v;
        }
        if (inside > 0) precise++;
        densitySum += inside;
      }
    }
  } finally {
    for (const t of [rt, ft, rn, fn]) t.dispose();
  }
  let recall = 0;
  let covered = 0;
  for (let r = 0; r < n; r++) {
    recall += recalled[r];
    if (nearestFake[r] <= realRadii[r]) covered++;
  }
  return { precision: precise / m, recall: recall / n, density: densitySum / (k * m), coverage: covered / n, k };
}
