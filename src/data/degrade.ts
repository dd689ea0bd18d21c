import sharp from 'sharp';
import { UserError } from '../util/errors.js';
import type { Rng } from '../util/rng.js';
import type { PlainImage } from './tiles.js';

/** A uint8 image, what degradations produce. */
export type ByteImage = Omit<PlainImage, 'values'> & { values: Uint8Array };

/** How a high-resolution image becomes a super-resolution input. */
export const DOWNSAMPLE_METHODS = ['bicubic', 'area'] as const;
export type DownsampleMethod = (typeof DOWNSAMPLE_METHODS)[number];
export const SR_SCALES = [2, 4, 8] as const;

/**
 * The classical degradation model of SR (e.g. Zhang et al. 2018, SRMD, eq. 1): y = JPEG_q((x ⊗ k_σ)↓s + n_σ).
 * Blur and noise are off at 0; jpeg is off when absent.
 */
export interface DegradeSpec {
  /** Downscale factor: the input is the target's size divided by this. */
  scale: number;
  /** bicubic: Keys' cubic (a = −0.5) widened by the scale to antialias, as MATLAB's imresize and PIL; area: the mean of each s×s block. */
  downsample: DownsampleMethod;
  /** σ in high-resolution pixels of an isotropic Gaussian blur before downscaling (0 = none). */
  blur: number;
  /** σ of additive Gaussian noise on the low-resolution image, in 0–255 units (0 = none). */
  noise: number;
  /** JPEG quality 1–100 of a round trip through the codec at the end (undefined = none). */
  jpeg?: number;
}

export const DEFAULT_DEGRADE: DegradeSpec = { scale: 4, downsample: 'bicubic', blur: 0, noise: 0 };

/** Validate a degradation once, at the edge; errors name the flag. */
export function checkDegrade(spec: DegradeSpec): DegradeSpec {
  if (!(SR_SCALES as readonly number[]).includes(spec.scale)) throw new UserError(`--scale must be one of ${SR_SCALES.join(', ')}, got ${spec.scale}`);
  if (!(DOWNSAMPLE_METHODS as readonly string[]).includes(spec.downsample)) throw new UserError(`--downsample must be one of ${DOWNSAMPLE_METHODS.join(', ')}, got '${spec.downsample}'`);
  if (!(spec.blur >= 0 && spec.blur <= 20)) throw new UserError(`--blur is a Gaussian σ in pixels in [0, 20], got ${spec.blur}`);
  if (!(spec.noise >= 0 && spec.noise <= 255)) throw new UserError(`--noise is a Gaussian σ in 0–255 units in [0, 255], got ${spec.noise}`);
  if (spec.jpeg !== undefined && !(Number.isInteger(spec.jpeg) && spec.jpeg >= 1 && spec.jpeg <= 100)) throw new UserError(`--jpeg is a quality in 1–100, got ${spec.jpeg}`);
  return spec;
}

/** One line for notices and run folders, e.g. "×4 bicubic (antialiased), blur σ 1, noise σ 5, JPEG q 75". */
export function describeDegrade(spec: DegradeSpec): string {
  const parts = [`×${spec.scale} ${spec.downsample === 'bicubic' ? 'bicubic (antialiased)' : 'area'} downscale`];
  if (spec.blur > 0) parts.unshift(`Gaussian blur σ ${spec.blur}`);
  if (spec.noise > 0) parts.push(`noise σ ${spec.noise}/255`);
  if (spec.jpeg !== undefined) parts.push(`JPEG q ${spec.jpeg}`);
  return parts.join(', ');
}

/** Keys' cubic convolution kernel with a = −0.5 (MATLAB's imresize 'bicubic', PIL's BICUBIC). */
export function cubic(x: number): number {
  const t = Math.abs(x);
  if (t <= 1) return 1.5 * t ** 3 - 2.5 * t ** 2 + 1;
  if (t < 2) return -0.5 * t ** 3 + 2.5 * t ** 2 - 4 * t + 2;
  return 0;
}

/** Index into [0, n) by symmetric reflection (…, 1, 0 | 0, 1, … n−1 | n−1, n−2, …), MATLAB's boundary. */
function reflect(i: number, n: number): number {
  for (;;) {
    if (i < 0) i = -i - 1;
    else if (i >= n) i = 2 * n - i - 1;
    else return i;
  }
}

/** For each output index along one axis: source indices and normalised weights. */
interface Taps {
  index: Int32Array;
  weight: Float64Array;
  /** Taps per output. */
  k: number;
}

/**
 * Resampling taps of one axis from `inSize` to `outSize` (half-pixel centres). When shrinking, the kernel is
 * stretched by 1/scale (and scaled down), so every input pixel contributes: the antialiasing of imresize.
 */
function resizeTaps(inSize: number, outSize: number, kernel: (x: number) => number, support: number, antialias: boolean): Taps {
  const s = outSize / inSize;
  const stretch = antialias && s < 1 ? s : 1;
  const width = support / stretch;
  const k = Math.ceil(2 * width) + 1;
  const index = new Int32Array(outSize * k);
  const weight = new Float64Array(outSize * k);
  for (let o = 0; o < outSize; o++) {
    const u = (o + 0.5) / s - 0.5;
    const left = Math.floor(u - width);
    let sum = 0;
    for (let j = 0; j < k; j++) {
      const wgt = stretch * kernel((u - (left + j)) * stretch);
      index[o * k + j] = reflect(left + j, inSize);
      weight[o * k + j] = wgt;
      sum += wgt;
    }
    for (let j = 0; j < k; j++) weight[o * k + j] /= sum;
  }
  return { index, weight, k };
}

/** Separable resampling of one image [h, w, c] to [oh, ow, c] with per-axis taps (rows first, then columns). */
function resample(v: ArrayLike<number>, [h, w, c]: number[], oh: number, ow: number, ys: Taps, xs: Taps): Float32Array {
  const mid = new Float64Array(oh * w * c);
  for (let y = 0; y < oh; y++) {
    for (let j = 0; j < ys.k; j++) {
      const wt = ys.weight[y * ys.k + j];
      if (wt === 0) continue;
      const src = ys.index[y * ys.k + j] * w * c;
      for (let i = 0; i < w * c; i++) mid[y * w * c + i] += wt * v[src + i];
    }
  }
  const out = new Float32Array(oh * ow * c);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      for (let ch = 0; ch < c; ch++) {
        let acc = 0;
        for (let j = 0; j < xs.k; j++) acc += xs.weight[x * xs.k + j] * mid[(y * w + xs.index[x * xs.k + j]) * c + ch];
        out[(y * ow + x) * c + ch] = acc;
      }
    }
  }
  return out;
}

const box = (x: number): number => (x >= -0.5 && x < 0.5 ? 1 : 0);

/**
 * Downscale one image [h, w, c] by an integer `scale` (h and w divisible by it): bicubic with antialiasing
 * (MATLAB imresize(x, 1/s), PIL resize BICUBIC), or area (the mean of every s×s block). Unrounded floats.
 */
export function downscale(values: ArrayLike<number>, [h, w, c]: number[], scale: number, method: DownsampleMethod): Float32Array {
  if (h % scale !== 0 || w % scale !== 0) throw new UserError(`${w}×${h} images cannot be downscaled ×${scale}: their sides must be divisible by it`);
  const [oh, ow] = [h / scale, w / scale];
  const [kernel, support] = method === 'bicubic' ? [cubic, 2] : [box, 0.5];
  return resample(values, [h, w, c], oh, ow, resizeTaps(h, oh, kernel, support, true), resizeTaps(w, ow, kernel, support, true));
}

/**
 * Bicubic upscale of one image [h, w, c] by `scale` with the kernel of the bicubic downscale (Keys a = −0.5,
 * half-pixel centres, symmetric borders): the "Bicubic" baseline row of SR tables. Unrounded floats in the
 * input's units.
 * @example
 * const baseline = bicubicUpscale(lr.values, [lr.h, lr.w, 3], 4); // Float32Array [4h, 4w, 3]
 */
export function bicubicUpscale(values: ArrayLike<number>, [h, w, c]: number[], scale: number): Float32Array {
  if (!Number.isInteger(scale) || scale < 1) throw new UserError(`scale must be a positive integer, got ${scale}`);
  return resample(values, [h, w, c], h * scale, w * scale, resizeTaps(h, h * scale, cubic, 2, false), resizeTaps(w, w * scale, cubic, 2, false));
}

/**
 * The SR papers' "modcrop": drop the bottom rows and right columns that keep the sides from dividing by
 * `scale`, so that HR = scale × LR exactly (a no-op when they already divide).
 */
export function modcrop<T extends Omit<PlainImage, 'values'> & { values: Uint8Array | Float32Array }>(img: T, scale: number): T {
  const [h, w] = [img.h - (img.h % scale), img.w - (img.w % scale)];
  if (h === img.h && w === img.w) return img;
  if (h === 0 || w === 0) throw new UserError(`a ${img.w}×${img.h} image is smaller than the scale ${scale}`);
  const values = new (img.values.constructor as Uint8ArrayConstructor)(h * w * img.c);
  for (let y = 0; y < h; y++) values.set(img.values.subarray(y * img.w * img.c, (y * img.w + w) * img.c), y * w * img.c);
  return { ...img, values, h, w };
}

/** Isotropic Gaussian blur of σ pixels, kernel radius ⌈3σ⌉, symmetric borders. */
export function gaussianBlur(values: ArrayLike<number>, [h, w, c]: number[], sigma: number): Float32Array {
  const r = Math.ceil(3 * sigma);
  const g = Float64Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const sum = g.reduce((a, b) => a + b, 0);
  const kernel = (x: number): number => (Math.abs(x) <= r ? g[Math.round(x) + r] / sum : 0);
  // A resize to the same size with the Gaussian as kernel: the taps at integer offsets are the blur.
  const taps = (n: number): Taps => {
    const k = 2 * r + 1;
    const index = new Int32Array(n * k);
    const weight = new Float64Array(n * k);
    for (let o = 0; o < n; o++) for (let j = 0; j < k; j++) [index[o * k + j], weight[o * k + j]] = [reflect(o - r + j, n), kernel(j - r)];
    return { index, weight, k };
  };
  return resample(values, [h, w, c], h, w, taps(h), taps(w));
}

/** Floats on 0–255 → uint8, rounded and clipped, as a stored image would be. */
export function toUint8(v: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = Math.min(255, Math.max(0, Math.round(v[i])));
  return out;
}

/**
 * The synchronous part of a degradation, for one uint8 image [h, w, c]: blur → downscale → noise, rounded to
 * uint8 as a stored image would be. Noise draws h/s · w/s · c normals from `rng` (none when off), so a seeded
 * stream replays it. JPEG, which needs the codec, is `jpegRoundTrip`; `degrade` does both.
 */
export function degradeSync(hr: PlainImage, spec: DegradeSpec, rng: Rng): ByteImage {
  const shape = [hr.h, hr.w, hr.c];
  const sharp0 = spec.blur > 0 ? gaussianBlur(hr.values, shape, spec.blur) : hr.values;
  const lr = downscale(sharp0, shape, spec.scale, spec.downsample);
  if (spec.noise > 0) for (let i = 0; i < lr.length; i++) lr[i] += spec.noise * rng.normal();
  return { values: toUint8(lr), h: hr.h / spec.scale, w: hr.w / spec.scale, c: hr.c };
}

/** Encode a uint8 image as JPEG at `quality` (libjpeg via sharp, 4:2:0 chroma as PIL's default) and decode it. */
export async function jpegRoundTrip(img: PlainImage, quality: number): Promise<ByteImage> {
  const raw = { width: img.w, height: img.h, channels: img.c as 1 | 3 };
  const encoded = await sharp(Buffer.from(img.values.buffer, img.values.byteOffset, img.values.byteLength), { raw }).jpeg({ quality }).toBuffer();
  let p = sharp(encoded);
  p = img.c === 1 ? p.toColourspace('b-w') : p.removeAlpha();
  const { data } = await p.raw().toBuffer({ resolveWithObject: true });
  return { values: new Uint8Array(data.buffer, data.byteOffset, data.length), h: img.h, w: img.w, c: img.c };
}

/**
 * The whole degradation of one uint8 high-resolution image: blur, downscale, noise, then JPEG when asked.
 * Pure apart from the rng it draws noise from.
 * @example
 * const lr = await degrade({ values, h: 96, w: 96, c: 3 }, { ...DEFAULT_DEGRADE, noise: 5 }, new Rng(0)); // 24×24×3
 */
export async function degrade(hr: PlainImage, spec: DegradeSpec, rng: Rng): Promise<ByteImage> {
  const lr = degradeSync(hr, spec, rng);
  return spec.jpeg === undefined ? lr : jpegRoundTrip(lr, spec.jpeg);
}
