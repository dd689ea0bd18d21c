/**
 * Small dense float64 linear algebra for the metrics: feature statistics and the symmetric eigensolver
 * behind FID's matrix square root. Everything is row-major Float64Array; float32 would lose the small
 * eigenvalues that decide tr √(Σ₁Σ₂) when the two covariances are close.
 */

/** Mean [d] and unbiased covariance [d, d] of n rows of d features (float64 accumulation). */
export interface GaussianStats {
  dim: number;
  count: number;
  mean: Float64Array;
  cov: Float64Array;
}

/**
 * Mean and covariance (divisor n − 1, as numpy.cov and every FID implementation use) of `features` [n, d].
 * Two passes (mean first, then centred products) so large feature offsets do not cancel catastrophically.
 */
export function gaussianStats(features: Float32Array | Float64Array, n: number, d: number): GaussianStats {
  if (features.length !== n * d) throw new Error(`gaussianStats: expected ${n}×${d} values, got ${features.length}`);
  if (n < 2) throw new Error('gaussianStats: need at least 2 rows for a covariance');
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += features[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  const cov = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) row[j] = features[i * d + j] - mean[j];
    // Upper triangle only; mirrored below.
    for (let a = 0; a < d; a++) {
      const ra = row[a];
      if (ra === 0) continue;
      const base = a * d;
      for (let b = a; b < d; b++) cov[base + b] += ra * row[b];
    }
  }
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const v = cov[a * d + b] / (n - 1);
      cov[a * d + b] = v;
      cov[b * d + a] = v;
    }
  }
  return { dim: d, count: n, mean, cov };
}

/** Eigen-decomposition of a symmetric matrix: A = Σᵢ values[i] · vᵢ vᵢᵀ, vᵢ = row i of `vectors`. */
export interface SymmetricEigen {
  values: Float64Array;
  /** [n, n] row-major; row i is the unit eigenvector of values[i]. Absent when only values were asked for. */
  vectors?: Float64Array;
}

/**
 * Eigenvalues (and optionally eigenvectors) of a symmetric n×n matrix in float64: Householder reduction to
 * tridiagonal form, then the implicit symmetric QR iteration with Wilkinson shifts (Golub & Van Loan,
 * "Matrix Computations", §8.3). O(n³); the input is not modified. Only the upper-left average of A and Aᵀ
 * is used, so slightly asymmetric input (round-off) is symmetrised first.
 */
export function symmetricEigen(input: Float64Array, n: number, wantVectors = true): SymmetricEigen {
  if (input.length !== n * n) throw new Error(`symmetricEigen: expected ${n}×${n} values, got ${input.length}`);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = 0.5 * (input[i * n + j] + input[j * n + i]);
  // qt holds Qᵀ (rows = columns of Q) so that both the reflections and the rotations touch contiguous rows.
  const qt = wantVectors ? identity(n) : undefined;
  const d = new Float64Array(n);
  const e = new Float64Array(Math.max(0, n - 1));
  tridiagonalize(a, n, d, e, qt);
  tridiagonalQR(d, e, n, qt);
  return { values: d, vectors: qt };
}

function identity(n: number): Float64Array {
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) m[i * n + i] = 1;
  return m;
}

/**
 * A = Q T Qᵀ with T tridiagonal (diagonal d, off-diagonal e). Step k reflects rows/columns k+1..n−1 so that
 * column k becomes zero below the sub-diagonal; Q = H₀H₁…, accumulated as Qᵀ ← H Qᵀ.
 */
function tridiagonalize(a: Float64Array, n: number, d: Float64Array, e: Float64Array, qt?: Float64Array): void {
  const v = new Float64Array(n);
  const p = new Float64Array(n);
  // A column tail below (ε‖A‖_F)² counts as zero: dropping it moves A by round-off only, while reflecting it
  // divides by its squared norm, which for a covariance with many all-zero rows (dead ReLU features) was
  // ~1e-318, so β = 2/vv overflowed to Infinity and every eigenvalue came out NaN.
  let frob2 = 0;
  for (let i = 0; i < n * n; i++) frob2 += a[i] * a[i];
  const negligible = Number.EPSILON ** 2 * frob2;
  for (let k = 0; k < n - 2; k++) {
    const s = k + 1; // first index of the trailing block
    const m = n - s;
    let norm2 = 0;
    for (let i = 0; i < m; i++) {
      const x = a[(s + i) * n + k];
      v[i] = x;
      norm2 += x * x;
    }
    const x0 = v[0];
    const tail2 = norm2 - x0 * x0;
    if (tail2 <= negligible) continue; // (numerically) zero below the sub-diagonal: H = I
    const norm = Math.sqrt(norm2);
    const alpha = x0 >= 0 ? -norm : norm; // sign chosen so v₀ = x₀ − α does not cancel
    v[0] = x0 - alpha;
    const vv = v[0] * v[0] + tail2;
    const beta = 2 / vv;
    // p = β A₂₂ v ; w = p − (β pᵀv / 2) v ; A₂₂ −= v wᵀ + w vᵀ
    let pv = 0;
    for (let i = 0; i < m; i++) {
      const row = (s + i) * n + s;
      let acc = 0;
      for (let j = 0; j < m; j++) acc += a[row + j] * v[j];
      p[i] = beta * acc;
      pv += p[i] * v[i];
    }
    const c = (beta * pv) / 2;
    for (let i = 0; i < m; i++) p[i] -= c * v[i]; // p now holds w
    for (let i = 0; i < m; i++) {
      const row = (s + i) * n + s;
      const vi = v[i];
      const wi = p[i];
      for (let j = 0; j < m; j++) a[row + j] -= vi * p[j] + wi * v[j];
    }
    a[s * n + k] = alpha;
    a[k * n + s] = alpha;
    for (let i = 1; i < m; i++) {
      a[(s + i) * n + k] = 0;
      a[k * n + s + i] = 0;
    }
    if (qt) {
      // Qᵀ[s:, :] −= β v (vᵀ Qᵀ[s:, :])
      const t = p; // reuse as a length-n scratch row
      t.fill(0);
      for (let i = 0; i < m; i++) {
        const vi = v[i];
        if (vi === 0) continue;
        const row = (s + i) * n;
        for (let j = 0; j < n; j++) t[j] += vi * qt[row + j];
      }
      for (let i = 0; i < m; i++) {
        const f = beta * v[i];
        if (f === 0) continue;
        const row = (s + i) * n;
        for (let j = 0; j < n; j++) qt[row + j] -= f * t[j];
      }
    }
  }
  for (let i = 0; i < n; i++) d[i] = a[i * n + i];
  for (let i = 0; i < n - 1; i++) e[i] = a[(i + 1) * n + i];
}

/**
 * Diagonalise the symmetric tridiagonal (d, e) in place by implicit QR steps with a Wilkinson shift on the
 * trailing unreduced block, chasing the bulge with Givens rotations J; Qᵀ ← J Qᵀ keeps A = Q diag(d) Qᵀ.
 */
function tridiagonalQR(d: Float64Array, e: Float64Array, n: number, qt?: Float64Array): void {
  const eps = Number.EPSILON;
  let hi = n - 1;
  let iterations = 0;
  const maxIterations = 50 * Math.max(n, 1);
  while (hi > 0) {
    for (let i = 0; i < hi; i++) {
      if (Math.abs(e[i]) <= eps * (Math.abs(d[i]) + Math.abs(d[i + 1])) || Math.abs(e[i]) < Number.MIN_VALUE * 1e10) e[i] = 0;
    }
    if (e[hi - 1] === 0) {
      hi--;
      continue;
    }
    let lo = hi - 1;
    while (lo > 0 && e[lo - 1] !== 0) lo--;
    if (++iterations > maxIterations) throw new Error('symmetricEigen: QR iteration did not converge');
    // Wilkinson shift: the eigenvalue of the trailing 2×2 block closer to its last diagonal entry.
    const delta = (d[hi - 1] - d[hi]) / 2;
    const b2 = e[hi - 1] * e[hi - 1];
    const mu = d[hi] - b2 / (delta + (delta >= 0 ? 1 : -1) * Math.hypot(delta, e[hi - 1]));
    let x = d[lo] - mu;
    let z = e[lo];
    for (let k = lo; k < hi; k++) {
      const r = Math.hypot(x, z);
      const c = r === 0 ? 1 : x / r;
      const s = r === 0 ? 0 : z / r;
      // J = [[c, s], [−s, c]] on rows/columns k, k+1; J [x; z] = [r; 0].
      if (k > lo) e[k - 1] = r;
      const dk = d[k];
      const ek = e[k];
      const dk1 = d[k + 1];
      d[k] = c * c * dk + 2 * c * s * ek + s * s * dk1;
      d[k + 1] = s * s * dk - 2 * c * s * ek + c * c * dk1;
      e[k] = c * s * (dk1 - dk) + (c * c - s * s) * ek;
      if (k + 1 < hi) {
        z = s * e[k + 1]; // the bulge at (k, k+2)
        e[k + 1] = c * e[k + 1];
        x = e[k];
      }
      if (qt) {
        const r0 = k * n;
        const r1 = (k + 1) * n;
        for (let j = 0; j < n; j++) {
          const q0 = qt[r0 + j];
          const q1 = qt[r1 + j];
          qt[r0 + j] = c * q0 + s * q1;
          qt[r1 + j] = -s * q0 + c * q1;
        }
      }
    }
  }
}

/**
 * Principal square root of a symmetric positive semi-definite matrix: S = V diag(√max(λ, 0)) Vᵀ, so that
 * S·S ≈ A and S is itself symmetric. Negative eigenvalues (round-off on a singular covariance) are clipped.
 */
export function sqrtmPsd(a: Float64Array, n: number): Float64Array {
  const { values, vectors } = symmetricEigen(a, n, true);
  const v = vectors!;
  const s = new Float64Array(n * n);
  const scaled = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const r = Math.sqrt(Math.max(values[k], 0));
    if (r === 0) continue;
    const row = k * n;
    for (let j = 0; j < n; j++) scaled[j] = r * v[row + j];
    for (let i = 0; i < n; i++) {
      const vi = v[row + i];
      if (vi === 0) continue;
      const out = i * n;
      for (let j = 0; j < n; j++) s[out + j] += vi * scaled[j];
    }
  }
  return s;
}

/** C = A·B for row-major n×n float64 matrices (i-k-j order for contiguous inner loops). */
export function matmulSquare(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ci = i * n;
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k];
      if (aik === 0) continue;
      const bk = k * n;
      for (let j = 0; j < n; j++) c[ci + j] += aik * b[bk + j];
    }
  }
  return c;
}

export function trace(a: Float64Array, n: number): number {
  let t = 0;
  for (let i = 0; i < n; i++) t += a[i * n + i];
  return t;
}
