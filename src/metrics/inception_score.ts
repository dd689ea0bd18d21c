export interface InceptionScoreResult {
  /** Mean over splits of exp(E_x KL(p(y|x) ‖ p(y))). */
  score: number;
  /** Standard deviation over splits. */
  std: number;
  splits: number;
}

/**
 * Inception Score (Salimans et al. 2016, "Improved Techniques for Training GANs", §4):
 * IS = exp(E_x KL(p(y|x) ‖ p(y))), computed on `splits` equal consecutive parts and reported as mean ± std,
 * as the original code does. 1 when every sample gets the same prediction; C (the number of classes) when
 * predictions are confident and spread evenly over the C classes.
 *
 * @param probs class probabilities [n, C] (rows sum to 1; use `softmaxRows` on logits)
 */
export function inceptionScore(probs: Float32Array | Float64Array, n: number, classes: number, splits = 10): InceptionScoreResult {
  if (probs.length !== n * classes) throw new Error(`inceptionScore: expected ${n}×${classes} values, got ${probs.length}`);
  if (!Number.isInteger(splits) || splits < 1 || splits > n) throw new Error(`inceptionScore: splits must be in 1..${n}, got ${splits}`);
  const scores: number[] = [];
  for (let s = 0; s < splits; s++) {
    const lo = Math.floor((s * n) / splits);
    const hi = Math.floor(((s + 1) * n) / splits);
    const marginal = new Float64Array(classes);
    for (let i = lo; i < hi; i++) for (let c = 0; c < classes; c++) marginal[c] += probs[i * classes + c];
    for (let c = 0; c < classes; c++) marginal[c] /= hi - lo;
    let kl = 0;
    for (let i = lo; i < hi; i++) {
      for (let c = 0; c < classes; c++) {
        const p = probs[i * classes + c];
        if (p > 0) kl += p * (Math.log(p) - Math.log(marginal[c])); // 0·log 0 = 0
      }
    }
    scores.push(Math.exp(kl / (hi - lo)));
  }
  const mean = scores.reduce((a, b) => a + b, 0) / splits;
  const std = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / splits);
  return { score: mean, std, splits };
}

/** Row-wise softmax of logits [n, C] in float64 (max-subtracted, so large logits do not overflow). */
export function softmaxRows(logits: Float32Array, n: number, classes: number): Float64Array {
  const out = new Float64Array(n * classes);
  for (let i = 0; i < n; i++) {
    let mx = -Infinity;
    for (let c = 0; c < classes; c++) mx = Math.max(mx, logits[i * classes + c]);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += out[i * classes + c] = Math.exp(logits[i * classes + c] - mx);
    for (let c = 0; c < classes; c++) out[i * classes + c] /= sum;
  }
  return out;
}
