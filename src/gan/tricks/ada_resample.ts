import * as tf from '@tensorflow/tfjs-core';
import { mixRows } from '../../nn/gather_rows.js';

/** A 2×3 affine map of pixel coordinates (y, x) ↦ (a·y + b·x + c, d·y + e·x + f), as [a, b, c, d, e, f]. */
export type Affine = [number, number, number, number, number, number];

/**
 * The low-pass filter of the Symlet-6 wavelet decomposition (12 taps), the filter StyleGAN2-ADA resamples its
 * geometric augmentations through; scaled here to sum to 1. The filter is orthogonal to its own even shifts
 * (Σₖ f[k]·f[k + 2n] = ½ δₙ), so upsampling by 2 through it and downsampling back is exactly the identity.
 */
export const SYM6 = [
  0.015404109327027373, 0.0034907120842174702, -0.11799011114819057, -0.048311742585633, 0.4910559419267466, 0.787641141030194,
  0.3379294217276218, -0.07263752278646252, -0.021060292512300564, 0.04472490177066578, 0.0017677118642428036, -0.007800708325034148,
].map((v, _, all) => v / all.reduce((s, u) => s + u, 0));

const TAPS = SYM6.length;
/** Where the filter's mass sits (Σ k·f[k]); with ALIGN, it fixes the sub-pixel position of every 2× sample. */
const CENTROID = SYM6.reduce((s, v, k) => s + k * v, 0);
const ALIGN = Math.round(CENTROID);
/** Source position of sample k of the 2× grid. The 2× image made by `upsampleRows` and the one `downsampleRows`
 *  reads share this grid, so a whole-pixel move is a move by an even number of its samples. */
const position = (k: number) => (k + ALIGN - CENTROID) / 2;
const sampleAt = (s: number) => 2 * s - ALIGN + CENTROID;

/** Index k of a signal of length n continued by reflection about its end samples (…, 2, 1, 0, 1, 2, …, n−1, n−2, …). */
export function reflect(k: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const m = ((k % period) + period) % period;
  return m < n ? m : period - m;
}

/** [count, n]: rows k0 … k0 + count − 1 of the 2× upsampling of a length-n signal continued by reflection. */
function upsampleRows(n: number, k0: number, count: number): tf.Tensor2D {
  const m = new Float32Array(count * n);
  for (let r = 0; r < count; r++) {
    const k = k0 + r;
    // up[k] = 2·Σᵢ x[i]·f[k − 2i + ALIGN] (the 2 restores the gain of the zeros between the samples)
    for (let i = Math.ceil((k + ALIGN - TAPS + 1) / 2); 2 * i <= k + ALIGN; i++) m[r * n + reflect(i, n)] += 2 * SYM6[k - 2 * i + ALIGN];
  }
  return tf.tensor2d(m, [count, n]);
}

/** The 2× rows that the downsampling of a length-n signal reads: k = DOWN_FIRST … 2n − 2 + DOWN_FIRST + TAPS − 1. */
const DOWN_FIRST = -ALIGN;
const downCount = (n: number) => 2 * n - 2 + TAPS;

/** [n, downCount(n)]: out[i] = Σₖ v[k]·f[k − 2i + ALIGN], the adjoint of upsampleRows over ½. */
function downsampleRows(n: number): tf.Tensor2D {
  const count = downCount(n);
  const m = new Float32Array(n * count);
  for (let i = 0; i < n; i++) for (let t = 0; t < TAPS; t++) m[i * count + (2 * i - ALIGN + t - DOWN_FIRST)] = SYM6[t];
  return tf.tensor2d(m, [n, count]);
}

/** The bilinear weight of tap t (0: (⌊y⌋, ⌊x⌋), 1: (⌊y⌋, ⌊x⌋ + 1), 2: (⌊y⌋ + 1, ⌊x⌋), 3: both + 1) at fractions (ty, tx). */
const tapWeight = (t: number, ty: number, tx: number) => (t >> 1 ? ty : 1 - ty) * (t & 1 ? tx : 1 - tx);

/** rows · t per example and channel along H: t [B, H, W, C], rows [H′, H] → [B, H′, W, C]; one product per example
 *  on t as laid out ([H, W·C]), the filter broadcast over the batch. */
function alongH(t: tf.Tensor4D, rows: tf.Tensor2D): tf.Tensor4D {
  const [b, h, w, c] = t.shape;
  return tf.reshape(tf.matMul(tf.expandDims(rows, 0), tf.reshape(t, [b, h, w * c])), [b, rows.shape[0], w, c]);
}

/** t · colsᵀ per example and channel along W: t [B, H, W, C], cols [W′, W] → [B, H, W′, C]; W is brought to the front
 *  for one large product (a transpose copies stride by stride, so this pass goes where the tensor is smallest). */
function alongW(t: tf.Tensor4D, cols: tf.Tensor2D): tf.Tensor4D {
  const [b, h, w, c] = t.shape;
  const ww = cols.shape[0];
  const byCol = tf.matMul(cols, tf.reshape(tf.transpose(t, [2, 0, 1, 3]), [w, b * h * c])); // [W′, B·H·C]
  return tf.transpose(tf.reshape(byCol, [ww, b, h, c]), [1, 2, 0, 3]);
}

/**
 * x [B, H, W, C] resampled per example through `maps` (output pixel → source coordinates, the image continued by
 * reflection) the way StyleGAN2-ADA executes its geometric augmentations (Karras et al. 2020, appendix B.2): upsample
 * 2× through the Symlet-6 low-pass filter, read the transformed points bilinearly at the 2× rate, filter and
 * downsample back. Interpolating at twice the rate and low-passing before decimation keeps the rotated and scaled
 * content from aliasing. As in the authors' code the image is continued by reflection up to one side's length
 * beyond each edge and by zeros past that. Every step is a matrix product or a gather, so the result is linear in
 * x and differentiates to any order; with the filter's orthogonality a map that moves by whole pixels (or not at
 * all) returns x's pixels exactly.
 */
export function filteredWarp(x: tf.Tensor4D, maps: readonly Affine[]): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const [kh, kw] = [downCount(h), downCount(w)];
  // The 2× samples every map reads, bounded to the reflection margin (one side beyond each edge).
  const corners = maps.flatMap(([a0, a1, a2, a3, a4, a5]) => [DOWN_FIRST, DOWN_FIRST + kh - 1].flatMap((ki) => [DOWN_FIRST, DOWN_FIRST + kw - 1].map((kj) => {
    const [y, x2] = [position(ki), position(kj)];
    return [sampleAt(a0 * y + a1 * x2 + a2), sampleAt(a3 * y + a4 * x2 + a5)];
  })));
  const range = (axis: 0 | 1, n: number): [number, number] => {
    const lo = Math.max(Math.floor(Math.min(...corners.map((p) => p[axis]))), Math.floor(sampleAt(-(n - 1))));
    const hi = Math.min(Math.floor(Math.max(...corners.map((p) => p[axis]))) + 1, Math.ceil(sampleAt(2 * (n - 1))));
    return [lo, Math.max(hi, lo) - lo + 1];
  };
  const [[y0, rows], [x0, cols]] = [range(0, h), range(1, w)];
  const index = new Int32Array(b * kh * kw * 4);
  const weight = new Float32Array(b * kh * kw * 4);
  maps.forEach(([a0, a1, a2, a3, a4, a5], n) => {
    let o = n * kh * kw * 4;
    for (let i = 0; i < kh; i++) {
      const y = position(DOWN_FIRST + i);
      for (let j = 0; j < kw; j++, o += 4) {
        const x2 = position(DOWN_FIRST + j);
        const sy = sampleAt(a0 * y + a1 * x2 + a2) - y0, sx = sampleAt(a3 * y + a4 * x2 + a5) - x0;
        const fy = Math.floor(sy), fx = Math.floor(sx), ty = sy - fy, tx = sx - fx;
        for (let t = 0; t < 4; t++) {
          const r = fy + (t >> 1), q = fx + (t & 1);
          if (r < 0 || r >= rows || q < 0 || q >= cols) continue; // zeros past the margin: weight 0, index 0
          index[o + t] = (n * rows + r) * cols + q;
          weight[o + t] = tapWeight(t, ty, tx);
        }
      }
    }
  });
  return tf.tidy(() => {
    // Separable filters, the W pass on the smaller side of each: before upsampling, after downsampling.
    const up = alongH(alongW(x, upsampleRows(w, x0, cols)), upsampleRows(h, y0, rows)); // [B, rows, cols, C] at 2×
    const warped = mixRows(tf.reshape(up, [b * rows * cols, c]), index, weight, 4); // [B·kh·kw, C], 4 bilinear taps each
    return alongW(alongH(tf.reshape(warped, [b, kh, kw, c]), downsampleRows(h)), downsampleRows(w));
  });
}

/**
 * x [B, H, W, C] resampled per example through `maps` by plain bilinear interpolation at the output pixels, the image
 * continued by reflection: the four source pixels around each point, one gather. Cheaper than filteredWarp (no 2×
 * image), but content scaled down or rotated aliases (--ada-resample bilinear).
 */
export function bilinearWarp(x: tf.Tensor4D, maps: readonly Affine[]): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const pixels = h * w;
  const index = new Int32Array(b * pixels * 4);
  const weight = new Float32Array(b * pixels * 4);
  maps.forEach(([a0, a1, a2, a3, a4, a5], n) => {
    let o = n * pixels * 4;
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++, o += 4) {
        const sy = a0 * i + a1 * j + a2, sx = a3 * i + a4 * j + a5;
        const fy = Math.floor(sy), fx = Math.floor(sx), ty = sy - fy, tx = sx - fx;
        for (let t = 0; t < 4; t++) {
          index[o + t] = n * pixels + reflect(fy + (t >> 1), h) * w + reflect(fx + (t & 1), w);
          weight[o + t] = tapWeight(t, ty, tx);
        }
      }
    }
  });
  return tf.tidy(() => tf.reshape(mixRows(tf.reshape(x, [b * pixels, c]), index, weight, 4), [b, h, w, c]));
}
