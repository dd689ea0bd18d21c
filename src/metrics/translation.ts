import * as tf from '@tensorflow/tfjs-core';
import { UserError, unknownChoice } from '../util/errors.js';
import type { ImageSet } from './features.js';
import {
  DEFAULT_PROTOCOL, SSIM_SETTINGS, describeProtocol, l1PerImage, measuredPlanes, psnrPerImage, ssimPerImage, type QualityProtocol,
} from './image_quality.js';

/**
 * Paired metrics of image-to-image translators: each output is compared with its own target, not with a
 * distribution, so they live outside METRICS (whose metrics read two sets of embeddings).
 */
export type TranslationMetricName = 'l1' | 'psnr' | 'ssim';

export interface TranslationMetricDef {
  name: TranslationMetricName;
  summary: string;
  paper: string;
  better: 'lower' | 'higher';
  /** The per-image values of a chunk of pairs, [N]; `L` is the data range. */
  perImage(outputs: tf.Tensor4D, targets: tf.Tensor4D, L: number): tf.Tensor1D;
}

export const TRANSLATION_METRICS: Readonly<Record<TranslationMetricName, TranslationMetricDef>> = {
  l1: {
    name: 'l1', better: 'lower', perImage: (x, y) => l1PerImage(x, y),
    summary: 'mean absolute difference per image, in the units of the data range (on [-1, 1]: the pix2pix L1 term)',
    paper: 'Isola et al. 2017 (pix2pix), arXiv:1611.07004, eq. 3',
  },
  psnr: {
    name: 'psnr', better: 'higher', perImage: psnrPerImage,
    summary: 'peak signal-to-noise ratio 10·log10(L²/MSE) in dB per image; identical pairs are +Infinity',
    paper: 'e.g. Wang & Bovik 2009, "Mean squared error: love it or leave it?"',
  },
  ssim: {
    name: 'ssim', better: 'higher', perImage: ssimPerImage,
    summary: 'structural similarity, 11×11 Gaussian window σ 1.5, K1 0.01, K2 0.03, mean over windows and channels',
    paper: 'Wang, Bovik, Sheikh & Simoncelli 2004, IEEE TIP 13(4)',
  },
};

export const TRANSLATION_METRIC_NAMES = Object.keys(TRANSLATION_METRICS) as TranslationMetricName[];

export interface TranslationOptions {
  /** Interval the pixel values lie in; its width is the data range L. Default [-1, 1] (tanh outputs). */
  range?: [number, number];
  /** Comma-separated subset of l1, psnr, ssim (default all). */
  metrics?: string;
  /** Pairs per chunk; bounds the memory of SSIM's filtered maps (default 64). */
  batchSize?: number;
  /**
   * PSNR and SSIM under a stated protocol (channel, border crop, 0–255 or 0–1, 8-bit rounding; see
   * QualityProtocol; `input` is `range`), e.g. srProtocol(4) for super-resolution. Default: on `range` as given.
   */
  quality?: Partial<QualityProtocol>;
}

/** Everything that decides the numbers, stored next to them. */
export interface TranslationProtocol {
  range: [number, number];
  dataRange: number;
  count: number;
  imageShape: [number, number, number];
  l1: string;
  psnr: string;
  ssim: { window: number; sigma: number; k1: number; k2: number; positions: string; channels: string };
  /** With `quality`: the one-line protocols of PSNR and SSIM ("PSNR on Y (BT.601, 16–235), border 4 px cropped, 0–255"). */
  quality?: { psnr: string; ssim: string };
  backend: string;
}

export interface TranslationResult {
  /** Means over the pairs (PSNR: see `identicalPairs`); a metric not requested is absent. */
  l1?: number;
  psnr?: number;
  ssim?: number;
  /** Pairs with MSE 0 (PSNR +Infinity): left out of the PSNR mean, which is +Infinity only when all are. */
  identicalPairs: number;
  perImage: Partial<Record<TranslationMetricName, Float64Array>>;
  protocol: TranslationProtocol;
}

/** Uint8 sets are mapped to [-1, 1] like every other ganforge input; float sets are taken as they are. */
function toTensor(set: tf.Tensor4D | ImageSet, range: [number, number]): tf.Tensor4D {
  if (set instanceof tf.Tensor) return set;
  if (set.values instanceof Uint8Array) {
    if (range[0] !== -1 || range[1] !== 1) throw new UserError(`uint8 images are mapped to [-1, 1]; drop the range option [${range.join(', ')}] or pass float images on that range`);
    return tf.tensor4d(Float32Array.from(set.values, (v) => v / 127.5 - 1), [set.n, set.h, set.w, set.c]);
  }
  return tf.tensor4d(set.values, [set.n, set.h, set.w, set.c]);
}

/**
 * L1, PSNR and SSIM of `outputs` against `targets`, pair i with pair i, with per-image values and the protocol.
 * @example
 *   const r = evaluateTranslation(generated, targets); // both [N, H, W, C] in [-1, 1]
 *   console.log(r.ssim, r.psnr, r.protocol.dataRange); // SSIM, dB, 2
 */
export function evaluateTranslation(outputs: tf.Tensor4D | ImageSet, targets: tf.Tensor4D | ImageSet, opts: TranslationOptions = {}): TranslationResult {
  const range = opts.range ?? [-1, 1];
  const L = range[1] - range[0];
  if (!(L > 0)) throw new UserError(`range must be [lo, hi] with lo < hi, got [${range.join(', ')}]`);
  const names = (opts.metrics ?? TRANSLATION_METRIC_NAMES.join(',')).split(',').map((s) => s.trim().toLowerCase()).filter((s) => s);
  for (const name of names) if (!(name in TRANSLATION_METRICS)) throw unknownChoice('translation metric', name, TRANSLATION_METRIC_NAMES);
  const defs = [...new Set(names)].map((name) => TRANSLATION_METRICS[name as TranslationMetricName]);
  const q: QualityProtocol | undefined = opts.quality && { ...DEFAULT_PROTOCOL, ...opts.quality, input: range };
  const x = toTensor(outputs, range);
  const y = toTensor(targets, range);
  try {
    if (x.shape.some((d, i) => d !== y.shape[i])) throw new UserError(`outputs [${x.shape.join(', ')}] and targets [${y.shape.join(', ')}] differ in shape; pair each output with its own target`);
    const [n, h, w, c] = x.shape;
    if (n === 0) throw new UserError('evaluateTranslation: no image pairs');
    const perImage: TranslationResult['perImage'] = {};
    for (const d of defs) perImage[d.name] = new Float64Array(n);
    const chunk = opts.batchSize ?? 64;
    for (let lo = 0; lo < n; lo += chunk) {
      const b = Math.min(chunk, n - lo);
      const xs = tf.slice(x, [lo, 0, 0, 0], [b, -1, -1, -1]);
      const ys = tf.slice(y, [lo, 0, 0, 0], [b, -1, -1, -1]);
      try {
        for (const d of defs) {
          const v = q && d.name !== 'l1' ? tf.tidy(() => d.perImage(measuredPlanes(xs, q), measuredPlanes(ys, q), q.peak)) : d.perImage(xs, ys, L);
          perImage[d.name]!.set(v.dataSync(), lo);
          v.dispose();
        }
      } finally {
        tf.dispose([xs, ys]);
      }
    }
    const mean = (a: Float64Array) => a.reduce((s, v) => s + v, 0) / a.length;
    const psnr = perImage.psnr;
    const finite = psnr ? psnr.filter(Number.isFinite) : undefined;
    return {
      l1: perImage.l1 && mean(perImage.l1),
      psnr: finite && (finite.length ? mean(finite) : Infinity),
      ssim: perImage.ssim && mean(perImage.ssim),
      identicalPairs: psnr ? psnr.length - finite!.length : 0,
      perImage,
      protocol: {
        range, dataRange: L, count: n, imageShape: [h, w, c],
        l1: `mean |output − target| on [${range.join(', ')}], per image, then mean over images`,
        psnr: `10·log10(L²/MSE) dB, L = ${L}, per image; mean over pairs with MSE > 0`,
        ssim: { ...SSIM_SETTINGS, positions: 'valid (no padding)', channels: 'per channel, then mean' },
        backend: tf.getBackend(),
        ...(q ? { quality: { psnr: describeProtocol('psnr', q), ssim: describeProtocol('ssim', q) } } : {}),
      },
    };
  } finally {
    if (x !== outputs) x.dispose();
    if (y !== targets) y.dispose();
  }
}

/**
 * The result as JSON. JSON has no Infinity (JSON.stringify writes null, which reads as "missing"), so
 * +Infinity is written as the string "Infinity"; per-image arrays become plain arrays.
 */
export function translationResultJson(r: TranslationResult): string {
  return JSON.stringify(r, (_, v: unknown) => (v instanceof Float64Array ? Array.from(v) : v === Infinity ? 'Infinity' : v));
}

/** Terminal lines: each mean with its direction, then the protocol. */
export function formatTranslation(r: TranslationResult): string {
  const p = r.protocol;
  const lines: string[] = [];
  if (r.l1 !== undefined) lines.push(`l1   ${r.l1.toPrecision(5)} (lower is better; units of [${p.range.join(', ')}])`);
  const left = r.identicalPairs ? `; ${r.identicalPairs} identical pairs left out of the mean` : '';
  if (r.psnr !== undefined) lines.push(`psnr ${r.psnr === Infinity ? 'Infinity' : r.psnr.toFixed(3)} dB (${p.quality ? p.quality.psnr : `L = ${p.dataRange}`}${left})`);
  if (r.ssim !== undefined) lines.push(`ssim ${r.ssim.toFixed(5)} (${p.quality ? p.quality.ssim : '11×11 Gaussian σ 1.5'}, K1 0.01, K2 0.03)`);
  lines.push(`  ${p.count} pairs of ${p.imageShape.join('×')}, backend ${p.backend}`);
  return lines.join('\n');
}
