import { gaussianStats, matmulSquare, sqrtmPsd, symmetricEigen, trace, type GaussianStats } from './linalg.js';

/** The parts of a Fréchet distance, so a surprising value can be traced to the means or the covariances. */
export interface FidParts {
  fid: number;
  /** ‖μ₁ − μ₂‖² */
  meanTerm: number;
  /** tr Σ₁ + tr Σ₂ − 2 tr √(√Σ₁ Σ₂ √Σ₁) */
  covTerm: number;
}

/**
 * Fréchet distance between two Gaussians fitted to features (Heusel et al. 2017, "GANs Trained by a Two
 * Time-Scale Update Rule Converge to a Local Nash Equilibrium", eq. 6; Dowson & Landau 1982):
 * ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2 (Σ₁Σ₂)^½).
 *
 * tr (Σ₁Σ₂)^½ is computed as tr √(√Σ₁ Σ₂ √Σ₁): the product Σ₁Σ₂ is not symmetric, and a general matrix
 * square root of it (scipy.linalg.sqrtm, as most tools use) can return spurious imaginary parts; the
 * symmetric form has the same eigenvalues and needs only symmetric eigen-decompositions, whose tiny negative
 * eigenvalues from round-off are clipped to 0.
 */
export function frechetDistance(a: GaussianStats, b: GaussianStats): FidParts {
  if (a.dim !== b.dim) throw new Error(`frechetDistance: feature sizes differ (${a.dim} vs ${b.dim})`);
  const d = a.dim;
  let meanTerm = 0;
  for (let i = 0; i < d; i++) meanTerm += (a.mean[i] - b.mean[i]) ** 2;
  const s1 = sqrtmPsd(a.cov, d);
  const m = matmulSquare(matmulSquare(s1, b.cov, d), s1, d);
  const { values } = symmetricEigen(m, d, false);
  let trSqrt = 0;
  for (const v of values) trSqrt += Math.sqrt(Math.max(v, 0));
  const covTerm = trace(a.cov, d) + trace(b.cov, d) - 2 * trSqrt;
  // Both terms are ≥ 0 in exact arithmetic; a tiny negative total is round-off on identical inputs.
  const fid = Math.max(0, meanTerm + covTerm);
  return { fid, meanTerm, covTerm };
}

/** FID straight from two feature matrices [n, d] and [m, d]. */
export function fidFromFeatures(x: Float32Array, n: number, y: Float32Array, m: number, d: number): FidParts {
  return frechetDistance(gaussianStats(x, n, d), gaussianStats(y, m, d));
}
