import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../util/rng.js';
import { reflect } from './ada_resample.js';

/**
 * ADA's image-space corruptions beyond blit, geometry and colour (Karras et al. 2020, appendix B): filtering that
 * amplifies or weakens four frequency bands, additive RGB noise, and cutout. Each is linear in the image (a
 * matrix product, an added constant, a mask), so G's gradient passes through.
 */

/** Daubechies-2 (= Symlet-2) low-pass taps, orthonormal: (1 + √3, 3 + √3, 3 − √3, 1 − √3)/(4√2). */
const DB2 = [1 + Math.sqrt(3), 3 + Math.sqrt(3), 3 - Math.sqrt(3), 1 - Math.sqrt(3)].map((v) => v / (4 * Math.SQRT2));

/** Full convolution of two tap lists. */
function convolve(a: readonly number[], b: readonly number[]): number[] {
  const out = new Array<number>(a.length + b.length - 1).fill(0);
  a.forEach((u, i) => b.forEach((v, j) => { out[i + j] += u * v; }));
  return out;
}

/** Taps with `factor − 1` zeros between them: H(z) → H(z^factor). */
function dilate(taps: readonly number[], factor: number): number[] {
  const out = new Array<number>((taps.length - 1) * factor + 1).fill(0);
  taps.forEach((v, i) => { out[i * factor] = v; });
  return out;
}

/** A symmetric odd-length filter zero-padded on both sides to `length` taps. */
function centre(taps: readonly number[], length: number): number[] {
  const pad = (length - taps.length) / 2;
  return [...new Array<number>(pad).fill(0), ...taps, ...new Array<number>(pad).fill(0)];
}

/**
 * Four zero-phase band-pass filters, lowest band first, covering about [0, π/8], [π/8, π/4], [π/4, π/2], [π/2, π]:
 * the undecimated wavelet split of the DB2 half-band pair L = H(z)H(z⁻¹)/2 and its mirror M = H(−z)H(−z⁻¹)/2, for
 * which L + M = δ (the wavelet is orthogonal). Bands: M(z), L(z)·M(z²), L(z)L(z²)·M(z⁴), L(z)L(z²)L(z⁴); they
 * telescope to δ, so gains of 1 leave an image exactly as it was. Each row has FILTER_TAPS taps, centred.
 */
export const FILTER_BANK: readonly (readonly number[])[] = (() => {
  const low = convolve(DB2, [...DB2].reverse()).map((v) => v / 2);
  const high = low.map((v, k) => (k === (low.length - 1) / 2 ? 1 - v : -v)); // δ − L = M
  const l2 = convolve(low, dilate(low, 2));
  const bands = [convolve(l2, dilate(low, 4)), convolve(l2, dilate(high, 4)), convolve(low, dilate(high, 2)), high];
  const length = Math.max(...bands.map((b) => b.length));
  return [...bands].map((b) => centre(b, length));
})();
export const FILTER_TAPS = FILTER_BANK[0].length;

/** The share of a natural image's power in each band, lowest first (a 1/f spectrum, the paper's assumption). */
const EXPECTED_POWER = [10, 1, 1, 1].map((v) => v / 13);
/** Standard deviation of log2 of a band's gain. */
const FILTER_STD = 1;
/** Standard deviation of the noise's own standard deviation (|N(0, 0.1²)|, in the [−1, 1] range of the images). */
const NOISE_STD = 0.1;
/** Cutout's square, as a fraction of the image side. */
export const CUTOUT_SIZE = 0.5;

/**
 * Per-band gains of one example: each band, with probability p, is scaled by 2^N(0, 1) and the gains then renormalised
 * so that an image with the expected spectrum keeps its power; the four draws compose. No draw: all gains 1.
 */
export function drawBandGains(rng: Rng, p: number): number[] {
  const g = [1, 1, 1, 1];
  for (let i = 0; i < 4; i++) {
    if (!(rng.uniform() < p)) continue;
    const t = [1, 1, 1, 1];
    t[i] = 2 ** (FILTER_STD * rng.normal());
    const norm = Math.sqrt(t.reduce((s, v, k) => s + EXPECTED_POWER[k] * v * v, 0));
    for (let k = 0; k < 4; k++) g[k] *= t[k] / norm;
  }
  return g;
}

/** The noise of one example: standard deviation |N(0, 0.1²)| with probability p (else 0) and the seed of its values. */
export function drawNoise(rng: Rng, p: number): { std: number; seed: number } {
  return rng.uniform() < p ? { std: Math.abs(NOISE_STD * rng.normal()), seed: rng.int(2 ** 31) } : { std: 0, seed: 0 };
}

/** Cutout's centre for one example, in fractions of the height and width, with probability p; else null. */
export function drawCutout(rng: Rng, p: number): [number, number] | null {
  return rng.uniform() < p ? [rng.uniform(), rng.uniform()] : null;
}

/** [B, n, n]: per example, the 1-D filter Σ gains[k]·FILTER_BANK[k] as a matrix on a signal of length n continued by reflection. */
function filterMatrices(gains: readonly (readonly number[])[], n: number): tf.Tensor3D {
  const half = (FILTER_TAPS - 1) / 2;
  const m = new Float32Array(gains.length * n * n);
  gains.forEach((g, e) => {
    for (let t = 0; t < FILTER_TAPS; t++) {
      const tap = g.reduce((s, v, k) => s + v * FILTER_BANK[k][t], 0);
      if (tap === 0) continue;
      for (let i = 0; i < n; i++) m[(e * n + i) * n + reflect(i + t - half, n)] += tap;
    }
  });
  return tf.tensor3d(m, [gains.length, n, n]);
}

/**
 * x [B, H, W, C] filtered per example by the separable 2-D filter of its band gains (the same 1-D filter along
 * rows and columns), the image continued by reflection about its edge pixels: two batched matrix products.
 */
export function filterImages(x: tf.Tensor4D, gains: readonly (readonly number[])[]): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  return tf.tidy(() => {
    const rows = filterMatrices(gains, h);
    const cols = filterMatrices(gains, w);
    const down = tf.matMul(rows, tf.reshape(x, [b, h, w * c])); // along H: [B, H, W·C]
    const across = tf.matMul(cols, tf.reshape(tf.transpose(tf.reshape(down, [b, h, w, c]), [0, 2, 1, 3]), [b, w, h * c])); // along W
    return tf.transpose(tf.reshape(across, [b, w, h, c]), [0, 2, 1, 3]) as tf.Tensor4D;
  });
}

/** x + σₙ·εₙ per example n, εₙ ~ N(0, 1) per pixel and channel from Rng(seedₙ): the draw fixes the noise. */
export function addNoise(x: tf.Tensor4D, noise: readonly { std: number; seed: number }[]): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const per = h * w * c;
  const values = new Float32Array(b * per);
  noise.forEach(({ std, seed }, n) => {
    if (std === 0) return;
    const e = new Rng(seed).normals(per);
    for (let i = 0; i < per; i++) values[n * per + i] = std * e[i];
  });
  return tf.tidy(() => tf.add(x, tf.tensor4d(values, [b, h, w, c])));
}

/**
 * x with a square of side CUTOUT_SIZE × the image's zeroed (the middle of [−1, 1]) per example whose centre is drawn:
 * pixel (i, j) is cut when |(i + ½)/H − cy| < ¼ and |(j + ½)/W − cx| < ¼.
 */
export function cutout(x: tf.Tensor4D, centres: readonly ([number, number] | null)[]): tf.Tensor4D {
  const [b, h, w] = x.shape;
  const mask = new Float32Array(b * h * w).fill(1);
  centres.forEach((at, n) => {
    if (!at) return;
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        if (Math.abs((i + 0.5) / h - at[0]) < CUTOUT_SIZE / 2 && Math.abs((j + 0.5) / w - at[1]) < CUTOUT_SIZE / 2) mask[(n * h + i) * w + j] = 0;
      }
    }
  });
  return tf.tidy(() => tf.mul(x, tf.tensor4d(mask, [b, h, w, 1])));
}
