import { Rng } from '../../util/rng.js';

/**
 * Maximum mean discrepancy with a Gaussian kernel (Gretton et al. 2012, JMLR 13, "A Kernel Two-Sample Test"),
 * on sequences flattened to T·F vectors. Pure float64 arithmetic over subsets small enough to hold every
 * pair (≈ 3·m² kernel values), so no tensors are involved.
 */

/** Squared Euclidean distance between rows i of `a` and j of `b`, both row-major with `d` columns. */
function sqDist(a: Float32Array, i: number, b: Float32Array, j: number, d: number): number {
  let s = 0;
  const oa = i * d, ob = j * d;
  for (let k = 0; k < d; k++) {
    const t = a[oa + k] - b[ob + k];
    s += t * t;
  }
  return s;
}

/**
 * The median of the squared distances between distinct rows of `x` and `y` pooled (the median heuristic's σ²,
 * Gretton et al. 2012, §8). The pooled set is what the test compares, so the bandwidth does not favour either side.
 */
export function medianSquaredDistance(x: Float32Array, nx: number, y: Float32Array, ny: number, d: number): number {
  const n = nx + ny;
  if (n < 2) throw new Error('medianSquaredDistance: needs at least two rows');
  const row = (i: number): [Float32Array, number] => (i < nx ? [x, i] : [y, i - nx]);
  const dists = new Float64Array((n * (n - 1)) / 2);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const [a, ia] = row(i);
    for (let j = i + 1; j < n; j++) {
      const [b, jb] = row(j);
      dists[k++] = sqDist(a, ia, b, jb, d);
    }
  }
  dists.sort();
  const m = dists.length;
  return m % 2 === 1 ? dists[(m - 1) / 2] : 0.5 * (dists[m / 2 - 1] + dists[m / 2]);
}

/**
 * Unbiased MMD² (Gretton et al. 2012, eq. 3) between rows of `x` [nx, d] and `y` [ny, d] with the kernel
 * k(a, b) = exp(−‖a − b‖² / (2σ²)):
 *   1/(m(m−1)) Σ_{i≠j} k(xᵢ, xⱼ) + 1/(n(n−1)) Σ_{i≠j} k(yᵢ, yⱼ) − 2/(mn) Σ_{i,j} k(xᵢ, yⱼ).
 * It can be slightly negative when the sets come from one distribution. `sigma2` defaults to the median heuristic.
 */
export function gaussianMmd2(x: Float32Array, nx: number, y: Float32Array, ny: number, d: number, sigma2?: number): { mmd2: number; sigma2: number } {
  if (nx < 2 || ny < 2) throw new Error(`gaussianMmd2: each set needs at least 2 rows, got ${nx} and ${ny}`);
  const s2 = sigma2 ?? medianSquaredDistance(x, nx, y, ny, d);
  // A degenerate pool (every row equal) has median 0; any bandwidth gives MMD² = 0 there, so avoid 0/0.
  const g = s2 > 0 ? -1 / (2 * s2) : -Infinity;
  const within = (a: Float32Array, n: number) => {
    let s = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) s += Math.exp(g * sqDist(a, i, a, j, d));
    return (2 * s) / (n * (n - 1));
  };
  let cross = 0;
  for (let i = 0; i < nx; i++) for (let j = 0; j < ny; j++) cross += Math.exp(g * sqDist(x, i, y, j, d));
  return { mmd2: within(x, nx) + within(y, ny) - (2 * cross) / (nx * ny), sigma2: s2 };
}

/** The rows subsetRows picks: min(size, n) distinct indices of 0..n−1 by a partial Fisher–Yates shuffle (all, in order, when size ≥ n). */
export function subsetIndices(n: number, size: number, rng: Rng): Int32Array {
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  if (size >= n) return idx;
  for (let i = 0; i < size; i++) {
    const j = i + rng.int(n - i);
    const t = idx[i]; idx[i] = idx[j]; idx[j] = t;
  }
  return idx.subarray(0, size);
}

/** Rows `rows` of `values` [·, d], in that order, as a new array. */
export function gatherRows(values: Float32Array, d: number, rows: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows.length * d);
  for (let i = 0; i < rows.length; i++) out.set(values.subarray(rows[i] * d, (rows[i] + 1) * d), i * d);
  return out;
}

/** `size` rows of `values` [n, d] chosen without replacement by `rng` (all of them, in order, when size ≥ n). */
export function subsetRows(values: Float32Array, n: number, d: number, size: number, rng: Rng): Float32Array {
  if (size >= n) return values.subarray(0, n * d);
  return gatherRows(values, d, subsetIndices(n, size, rng));
}
