import type { FeatureNetwork, ImageSet } from './features.js';

/**
 * How well an image's identity survives a reconstruction or an edit, scored as Age-cGAN's evaluation does
 * (Antipov et al. 2017, §4.2: the share of reconstructions a face-verification system accepts as the same
 * person), with a digit for a person:
 *  - classAgreement: the share of candidates the classifier assigns the original's class (the digit kept);
 *  - verified: the share whose feature distance to the original is below the original's threshold τ_i, the
 *    q-quantile (default 0.1) of the distances from the original to the other real images of its class:
 *    accepted when closer to x than 90 % of the other writers' same digit (the digit and its style kept);
 *  - meanDistance: the mean of those feature distances.
 */
export interface IdentityScores {
  classAgreement: number;
  verified: number;
  meanDistance: number;
}

/** Euclidean distances between rows i of two [n, d] feature arrays. */
function rowDistances(a: Float32Array, b: Float32Array, n: number, d: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => {
    let s = 0;
    for (let j = 0; j < d; j++) s += (a[i * d + j] - b[i * d + j]) ** 2;
    return Math.sqrt(s);
  });
}

/**
 * τ_i for each of n originals with features [n, d]: the q-quantile (the ⌊q·m⌋-th smallest of m) of the distances
 * from original i to the others of its class (Infinity when it is the only one).
 */
export function verificationThresholds(features: Float32Array, classes: ArrayLike<number>, n: number, d: number, q = 0.1): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => {
    const ds: number[] = [];
    for (let j = 0; j < n; j++) {
      if (j === i || classes[j] !== classes[i]) continue;
      let s = 0;
      for (let t = 0; t < d; t++) s += (features[i * d + t] - features[j * d + t]) ** 2;
      ds.push(Math.sqrt(s));
    }
    if (ds.length === 0) return Infinity;
    ds.sort((a, b) => a - b);
    return ds[Math.min(ds.length - 1, Math.floor(q * ds.length))];
  });
}

/** The scores of `candidates` (one per original, same layout) against the originals of known `classes`. */
export function identityScores(net: FeatureNetwork, originals: ImageSet, candidates: ImageSet, classes: ArrayLike<number>, thresholds?: Float64Array): IdentityScores {
  const n = originals.n;
  const d = net.info.featureDim;
  const a = net.embed(originals);
  const b = net.embed(candidates);
  const tau = thresholds ?? verificationThresholds(a.features, classes, n, d);
  const dist = rowDistances(a.features, b.features, n, d);
  let agree = 0;
  let verified = 0;
  for (let i = 0; i < n; i++) {
    if (b.logits && argmax(b.logits, i, net.info.classes!) === classes[i]) agree++;
    if (dist[i] < tau[i]) verified++;
  }
  return { classAgreement: b.logits ? agree / n : NaN, verified: verified / n, meanDistance: dist.reduce((s, v) => s + v, 0) / n };
}

function argmax(logits: Float32Array, row: number, k: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if (logits[row * k + j] > logits[row * k + best]) best = j;
  return best;
}

/** The share of edits whose measured bin is the bin they were asked for (Age-cGAN's age-estimation check). */
export function targetAccuracy(measuredBins: ArrayLike<number>, targets: ArrayLike<number>): number {
  let hit = 0;
  for (let i = 0; i < measuredBins.length; i++) if (measuredBins[i] === targets[i]) hit++;
  return measuredBins.length === 0 ? NaN : hit / measuredBins.length;
}
