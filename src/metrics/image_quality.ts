import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../util/errors.js';

/**
 * Full-reference image quality of paired images (a translator's outputs against its targets): L1, PSNR and
 * SSIM, one value per image. Every function takes two float tensors [N, H, W, C] on the same interval and
 * returns a [N] tensor the caller owns; the work is tfjs ops, so it runs on whichever backend is active
 * (aten included). `L` is the data range: the width of the interval pixels lie in (2 for ganforge's [-1, 1]).
 */

/** SSIM constants of Wang, Bovik, Sheikh & Simoncelli 2004, §III-C: 11×11 Gaussian window, σ = 1.5. */
export const SSIM_SETTINGS = { window: 11, sigma: 1.5, k1: 0.01, k2: 0.03 } as const;

function checkPair(x: tf.Tensor4D, y: tf.Tensor4D, what: string): void {
  if (x.rank !== 4 || y.rank !== 4) throw new UserError(`${what}: images must be [N, H, W, C], got [${x.shape.join(', ')}] and [${y.shape.join(', ')}]`);
  if (x.shape.some((d, i) => d !== y.shape[i])) {
    throw new UserError(`${what}: outputs [${x.shape.join(', ')}] and targets [${y.shape.join(', ')}] differ in shape; pair each output with its own target`);
  }
}

/** Mean absolute difference per image, in the units of the input interval. */
export function l1PerImage(x: tf.Tensor4D, y: tf.Tensor4D): tf.Tensor1D {
  checkPair(x, y, 'l1');
  return tf.tidy(() => tf.mean(tf.abs(tf.sub(x, y)), [1, 2, 3]) as tf.Tensor1D);
}

/**
 * Peak signal-to-noise ratio per image, 10·log10(L² / MSE) in dB. Identical images have MSE 0 and PSNR
 * +Infinity (log of L²/0), which is the exact answer, so it is kept rather than capped at an arbitrary dB.
 */
export function psnrPerImage(x: tf.Tensor4D, y: tf.Tensor4D, L: number): tf.Tensor1D {
  checkPair(x, y, 'psnr');
  return tf.tidy(() => {
    const mse = tf.mean(tf.squaredDifference(x, y), [1, 2, 3]);
    // 10·log10(v) = 10·ln(v)/ln 10; division by a zero MSE gives +Infinity on every backend.
    return tf.mul(tf.log(tf.div(L * L, mse)), 10 / Math.LN10) as tf.Tensor1D;
  });
}

/** The normalised 1-D Gaussian of the SSIM window; its outer product with itself is the 2-D window. */
export function gaussianWindow1d(size: number = SSIM_SETTINGS.window, sigma: number = SSIM_SETTINGS.sigma): Float32Array {
  const half = (size - 1) / 2;
  const g = Float64Array.from({ length: size }, (_, i) => Math.exp(-((i - half) ** 2) / (2 * sigma * sigma)));
  const sum = g.reduce((a, b) => a + b, 0);
  return Float32Array.from(g, (v) => v / sum);
}

/**
 * Structural similarity per image (Wang et al. 2004, "Image Quality Assessment: From Error Visibility to
 * Structural Similarity", eq. 13), averaged over every valid 11×11 window position and every channel, so
 * an RGB image's SSIM is the mean of its three channels' SSIMs:
 *   SSIM = (2 μx μy + C1)(2 σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2)),  C1 = (K1 L)², C2 = (K2 L)²,
 * with Gaussian-weighted local means, variances and covariance (σ² = E_w[x²] − μ², no n−1 correction, as in
 * the authors' ssim_index.m). No padding ('valid' windows) and no downsampling of large images.
 *
 * Images smaller than the window are an error rather than a smaller window: SSIM with another window is a
 * different metric whose numbers would sit next to standard ones under the same name.
 */
export function ssimPerImage(x: tf.Tensor4D, y: tf.Tensor4D, L: number): tf.Tensor1D {
  checkPair(x, y, 'ssim');
  const [n, h, w, c] = x.shape;
  const size = SSIM_SETTINGS.window;
  if (h < size || w < size) {
    throw new UserError(`ssim needs images of at least ${size}×${size} (the Gaussian window of Wang et al. 2004), these are ${h}×${w}; upsample them or use l1 and psnr only`);
  }
  const c1 = (SSIM_SETTINGS.k1 * L) ** 2;
  const c2 = (SSIM_SETTINGS.k2 * L) ** 2;
  return tf.tidy(() => {
    // [N, H, W, C] → [N·C, H, W, 1]: every channel becomes its own plane, so one 1-channel filter serves all.
    const planes = (t: tf.Tensor4D) => tf.reshape(tf.transpose(t, [0, 3, 1, 2]), [n * c, h, w, 1]) as tf.Tensor4D;
    // Variances as E[x²] − μ² cancel badly in float32 on bright, flat regions (E[x²] ≈ μ² ≈ 1 while C2 is
    // 0.0036), so both planes are first centred on one shared constant, their joint mean: (co)variances do
    // not change under a common shift, and the raw means are restored for the luminance term.
    const shift = tf.div(tf.mean(tf.add(planes(x), planes(y)), [1, 2, 3], true), 2); // [N·C, 1, 1, 1]
    const px = tf.sub(planes(x), shift);
    const py = tf.sub(planes(y), shift);
    // The five local statistics in one stack, so the separable Gaussian (column pass, then row pass) is two
    // conv calls instead of ten: [5·N·C, H, W, 1] → [5·N·C, H−10, W−10, 1].
    const stack = tf.concat([px, py, tf.mul(px, px), tf.mul(py, py), tf.mul(px, py)], 0) as tf.Tensor4D;
    const g = gaussianWindow1d();
    const blurred = tf.conv2d(tf.conv2d(stack, tf.tensor4d(g, [size, 1, 1, 1]), 1, 'valid'), tf.tensor4d(g, [1, size, 1, 1]), 1, 'valid');
    const [cx, cy, exx, eyy, exy] = tf.split(blurred, 5, 0);
    const sxy = tf.sub(exy, tf.mul(cx, cy));
    const sxx = tf.sub(exx, tf.square(cx));
    const syy = tf.sub(eyy, tf.square(cy));
    const mx = tf.add(cx, shift);
    const my = tf.add(cy, shift);
    const mxy = tf.mul(mx, my);
    const mx2 = tf.square(mx);
    const my2 = tf.square(my);
    const num = tf.mul(tf.add(tf.mul(mxy, 2), c1), tf.add(tf.mul(sxy, 2), c2));
    const den = tf.mul(tf.add(tf.add(mx2, my2), c1), tf.add(tf.add(sxx, syy), c2));
    const map = tf.div(num, den); // [N·C, H−10, W−10, 1]
    // Planes of one image are consecutive (n-major), and every plane has the same number of windows, so
    // the mean over an image's rows is the mean over its channels of the per-channel means.
    return tf.mean(tf.reshape(map, [n, -1]), 1) as tf.Tensor1D;
  });
}

/**
 * How a super-resolution paper measures PSNR and SSIM, stated in full: which channel, how many border pixels
 * are cropped, the value range the numbers are on, and whether pixels are first rounded to 8-bit levels (as
 * an output saved to PNG would be). Numbers measured under different protocols differ by whole dB (Y vs RGB
 * alone is often 1–2 dB), so every result carries `describeProtocol`'s line.
 */
export interface QualityProtocol {
  /** 'rgb': every channel; 'y': BT.601 luma scaled to 16–235 as MATLAB's rgb2ycbcr (the SR papers' convention). */
  channel: 'rgb' | 'y';
  /** Pixels cropped from each side before measuring (by convention the SR scale factor); default 0. */
  border: number;
  /** Interval the input tensors' pixels lie in; default [-1, 1] (ganforge's images). */
  input: [number, number];
  /** The peak the numbers are reported on: pixels are mapped affinely from `input` to [0, peak]; default 255. */
  peak: 1 | 255;
  /** Round to 8-bit levels (on 0–255) before measuring, as saved images would be; default false. */
  quantize: boolean;
}

export const DEFAULT_PROTOCOL: QualityProtocol = { channel: 'rgb', border: 0, input: [-1, 1], peak: 255, quantize: false };

/** The SR convention of Kim et al. (VDSR), Lim et al. (EDSR), Wang et al. (ESRGAN): Y, border = scale, 8-bit. */
export function srProtocol(scale: number): QualityProtocol {
  return { channel: 'y', border: scale, input: [-1, 1], peak: 255, quantize: true };
}

/** One line that says how a number was measured, e.g. "PSNR on Y (BT.601, 16–235), border 4 px cropped, 0–255, 8-bit rounded". */
export function describeProtocol(metric: 'psnr' | 'ssim', p: QualityProtocol): string {
  const channel = p.channel === 'y' ? 'Y (BT.601, 16–235)' : 'RGB';
  const border = p.border > 0 ? `border ${p.border} px cropped` : 'no border crop';
  const range = p.peak === 255 ? '0–255' : '0–1';
  const extra = metric === 'ssim' ? `, ${SSIM_SETTINGS.window}×${SSIM_SETTINGS.window} Gaussian σ ${SSIM_SETTINGS.sigma}` : '';
  return `${metric.toUpperCase()} on ${channel}, ${border}, ${range}${p.quantize ? ', 8-bit rounded' : ''}${extra}`;
}

/** BT.601 luma of RGB on 0–255 as MATLAB's rgb2ycbcr: Y = 16 + (65.481 R + 128.553 G + 24.966 B)/255 ∈ [16, 235]. */
export const Y_WEIGHTS = [65.481 / 255, 128.553 / 255, 24.966 / 255] as const;

/** [N, H, W, 3] (or 1: grey is R = G = B) on 0–255 → Y [N, H, W, 1] on 16–235. */
export function rgbToY(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    if (x.shape[3] === 1) return tf.add(tf.mul(x, Y_WEIGHTS[0] + Y_WEIGHTS[1] + Y_WEIGHTS[2]), 16) as tf.Tensor4D;
    if (x.shape[3] !== 3) throw new UserError(`Y conversion needs 1 or 3 channels, got ${x.shape[3]}`);
    return tf.add(tf.sum(tf.mul(x, tf.tensor1d([...Y_WEIGHTS])), 3, true), 16) as tf.Tensor4D;
  });
}

function checkProtocol(p: QualityProtocol, [, h, w]: number[]): void {
  if (!Number.isInteger(p.border) || p.border < 0) throw new UserError(`border must be a non-negative integer of pixels, got ${p.border}`);
  if (h - 2 * p.border < 1 || w - 2 * p.border < 1) throw new UserError(`cropping ${p.border} px from each side of ${h}×${w} images leaves nothing`);
  if (!(p.input[1] > p.input[0])) throw new UserError(`input range [${p.input.join(', ')}] must be increasing`);
}

/** Images on `p.input` → the planes measured under `p`: mapped to 0–255, rounded, converted, cropped, then onto [0, peak]. */
export function measuredPlanes(x: tf.Tensor4D, p: QualityProtocol): tf.Tensor4D {
  checkProtocol(p, x.shape);
  return tf.tidy(() => {
    const [lo, hi] = p.input;
    let v = tf.mul(tf.sub(x, lo), 255 / (hi - lo)) as tf.Tensor4D;
    if (p.quantize) v = tf.round(tf.clipByValue(v, 0, 255));
    if (p.channel === 'y') v = rgbToY(v);
    const [, h, w, c] = v.shape;
    const b = p.border;
    if (b > 0) v = tf.slice(v, [0, b, b, 0], [-1, h - 2 * b, w - 2 * b, c]);
    return (p.peak === 255 ? v : tf.div(v, 255)) as tf.Tensor4D;
  });
}

/** Per-image scores with the line that says how they were measured. */
export interface ProtocolScores {
  values: number[];
  mean: number;
  protocol: string;
}

/** PSNR per image under `protocol` (any field left out takes DEFAULT_PROTOCOL's). */
export function psnrWith(x: tf.Tensor4D, y: tf.Tensor4D, protocol: Partial<QualityProtocol> = {}): ProtocolScores {
  const p = { ...DEFAULT_PROTOCOL, ...protocol };
  checkPair(x, y, 'psnr');
  const values = Array.from(tf.tidy(() => psnrPerImage(measuredPlanes(x, p), measuredPlanes(y, p), p.peak)).dataSync());
  return scores(values, describeProtocol('psnr', p));
}

/** SSIM per image under `protocol`; L = the peak, so the constants are (0.01·255)² and (0.03·255)² on 0–255. */
export function ssimWith(x: tf.Tensor4D, y: tf.Tensor4D, protocol: Partial<QualityProtocol> = {}): ProtocolScores {
  const p = { ...DEFAULT_PROTOCOL, ...protocol };
  checkPair(x, y, 'ssim');
  const values = Array.from(tf.tidy(() => ssimPerImage(measuredPlanes(x, p), measuredPlanes(y, p), p.peak)).dataSync());
  return scores(values, describeProtocol('ssim', p));
}

function scores(values: number[], protocol: string): ProtocolScores {
  return { values, mean: values.reduce((a, b) => a + b, 0) / values.length, protocol };
}

/** "28.31 dB (PSNR on Y (BT.601, 16–235), border 4 px cropped, 0–255)": a number never travels without its protocol. */
export function formatScore(s: ProtocolScores, unit = ''): string {
  return `${s.mean.toFixed(unit === 'dB' ? 2 : 4)}${unit ? ` ${unit}` : ''} (${s.protocol})`;
}
