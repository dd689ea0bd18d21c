import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../../util/rng.js';
import { UserError } from '../../util/errors.js';
import { LOSSES, type AdversarialLoss } from '../losses.js';
import { gatherRows, scatterAddRows } from '../../nn/gather_rows.js';
import { bilinearWarp, filteredWarp, reflect, type Affine } from './ada_resample.js';
import { addNoise, cutout, drawBandGains, drawCutout, drawNoise, filterImages } from './ada_image_ops.js';

/** How ADA's fractional geometry resamples (--ada-resample): the authors' 2× Symlet-6 filtered path, or plain bilinear. */
export type AdaResample = 'sym6' | 'bilinear';
export const ADA_RESAMPLE: readonly AdaResample[] = ['sym6', 'bilinear'];

/**
 * Which of ADA's augmentation groups run (--ada-pipe), named as in the paper's ablation (Fig. 4): b(lit), g(eometric),
 * c(olour), f(ilter), n(oise), c(utout). bgc is the paper's default and ours.
 */
export const ADA_PIPES = ['bgc', 'blit', 'geom', 'color', 'filter', 'noise', 'cutout', 'bg', 'bgcf', 'bgcfn', 'bgcfnc'] as const;
export type AdaPipe = (typeof ADA_PIPES)[number];
type Group = 'blit' | 'geom' | 'color' | 'filter' | 'noise' | 'cutout';
const PIPE_GROUPS: Record<AdaPipe, readonly Group[]> = {
  blit: ['blit'], geom: ['geom'], color: ['color'], filter: ['filter'], noise: ['noise'], cutout: ['cutout'],
  bg: ['blit', 'geom'], bgc: ['blit', 'geom', 'color'], bgcf: ['blit', 'geom', 'color', 'filter'],
  bgcfn: ['blit', 'geom', 'color', 'filter', 'noise'], bgcfnc: ['blit', 'geom', 'color', 'filter', 'noise', 'cutout'],
};

/**
 * One example's draw of ADA's augmentations (Karras et al. 2020, "Training Generative Adversarial Networks
 * with Limited Data", §2.3 and appendix B, the "bgc" pipeline's blit + geometric + colour subset). The
 * identity draw (IDENTITY_DRAW) leaves the example unchanged.
 */
export interface AdaDraw {
  /** Rotation by k·90°, counter-clockwise as displayed: out[i][j] = x[j][n−1−i] for k = 1. */
  rot: 0 | 1 | 2 | 3;
  /** Mirror left–right: out[i][j] = x[i][W−1−j]. */
  flip: boolean;
  /** Integer translation in pixels, down (ty) and right (tx); the image is continued by reflection. */
  tx: number;
  ty: number;
  /** Isotropic scale factor about the image centre (2: content twice as large). */
  scale: number;
  /** Rotation about the centre before the anisotropic scaling, in radians, counter-clockwise as displayed. */
  preRotation: number;
  /** Anisotropic scale: content stretched by this factor left–right and by its inverse up–down. */
  aniso: number;
  /** Rotation about the centre after the anisotropic scaling (radians, as preRotation). */
  postRotation: number;
  /** Fractional translation in pixels, down (fy) and right (fx), applied last. */
  fx: number;
  fy: number;
  /** Added to every channel. */
  brightness: number;
  /** Multiplies every channel (about 0, the middle of [−1, 1]). */
  contrast: number;
  /** Reflect the colour through the plane orthogonal to the grey axis: rgb ↦ rgb − 2·mean(rgb). */
  lumaFlip: boolean;
  /** Rotation of the colour about the grey axis (1, 1, 1), in radians. */
  hue: number;
  /** Scales the colour's distance from the grey axis: rgb ↦ m + s·(rgb − m), m = mean(rgb). */
  saturation: number;
  /** Gains of the four frequency bands of image-space filtering, lowest first (see ada_image_ops.ts). */
  bandGains: readonly number[];
  /** Additive noise: its standard deviation (0: none) and the seed of its values. */
  noise: { std: number; seed: number };
  /** Cutout's centre as fractions of height and width, or null. */
  cutout: [number, number] | null;
}

export const IDENTITY_DRAW: Readonly<AdaDraw> = { rot: 0, flip: false, tx: 0, ty: 0, scale: 1, preRotation: 0, aniso: 1, postRotation: 0, fx: 0, fy: 0, brightness: 0, contrast: 1, lumaFlip: false, hue: 0, saturation: 1, bandGains: [1, 1, 1, 1], noise: { std: 0, seed: 0 }, cutout: null };

/** Spreads of the draws (the paper's defaults, appendix B). */
const TRANSLATE_MAX = 0.125; // of the image side, uniform in ±
const SCALE_STD = 0.2; // of log2(scale)
const ANISO_STD = 0.2; // of log2(aniso)
const FRACTIONAL_STD = 0.125; // of the image side, normal per axis
const BRIGHTNESS_STD = 0.2;
const CONTRAST_STD = 0.5; // of log2(contrast)
const SATURATION_STD = 1; // of log2(saturation)

/**
 * `b` draws for [B, h, w, C] images: each augmentation is applied to each example independently with
 * probability p, its parameter drawn as in the paper — rotation k ~ U{0..3}; translation round(t·side),
 * t ~ U(−⅛, ⅛) per axis; scale 2^N(0, 0.2²); arbitrary rotation θ ~ U(−π, π) before and again after the
 * anisotropic scaling, each with probability 1 − √(1 − p) so that at least one happens with probability p;
 * anisotropic scale 2^N(0, 0.2²); fractional translation N(0, (⅛·side)²) per axis; brightness N(0, 0.2²); contrast
 * 2^N(0, 0.5²); luma flip with probability ½; hue θ ~ U(−π, π); saturation 2^N(0, 1); then, where `pipe` has them,
 * band gains, noise and cutout (ada_image_ops.ts). p = 0 draws nothing; groups outside `pipe` draw nothing either.
 */
export function drawAda(rng: Rng, b: number, h: number, w: number, p: number, pipe: AdaPipe = 'bgc'): AdaDraw[] {
  const on = () => rng.uniform() < p;
  const groups = new Set(PIPE_GROUPS[pipe]);
  return Array.from({ length: b }, () => {
    const d: AdaDraw = { ...IDENTITY_DRAW };
    if (p <= 0) return d;
    if (groups.has('blit')) drawBlit(d);
    if (groups.has('geom')) drawGeometry(d);
    if (groups.has('color')) drawColour(d);
    if (groups.has('filter')) d.bandGains = drawBandGains(rng, p);
    if (groups.has('noise')) d.noise = drawNoise(rng, p);
    if (groups.has('cutout')) d.cutout = drawCutout(rng, p);
    return d;
  });

  function drawBlit(d: AdaDraw): void {
    if (on()) d.flip = rng.uniform() < 0.5;
    // A quarter turn needs a square; other sides get the half turn or none.
    if (on()) d.rot = (h === w ? rng.int(4) : 2 * rng.int(2)) as AdaDraw['rot'];
    if (on()) {
      d.tx = Math.round((2 * rng.uniform() - 1) * TRANSLATE_MAX * w);
      d.ty = Math.round((2 * rng.uniform() - 1) * TRANSLATE_MAX * h);
    }
  }

  function drawGeometry(d: AdaDraw): void {
    if (on()) d.scale = 2 ** (SCALE_STD * rng.normal());
    const pRotation = 1 - Math.sqrt(1 - p);
    if (rng.uniform() < pRotation) d.preRotation = (2 * rng.uniform() - 1) * Math.PI;
    if (on()) d.aniso = 2 ** (ANISO_STD * rng.normal());
    if (rng.uniform() < pRotation) d.postRotation = (2 * rng.uniform() - 1) * Math.PI;
    if (on()) {
      d.fx = FRACTIONAL_STD * w * rng.normal();
      d.fy = FRACTIONAL_STD * h * rng.normal();
    }
  }

  function drawColour(d: AdaDraw): void {
    if (on()) d.brightness = BRIGHTNESS_STD * rng.normal();
    if (on()) d.contrast = 2 ** (CONTRAST_STD * rng.normal());
    if (on()) d.lumaFlip = rng.uniform() < 0.5;
    if (on()) d.hue = (2 * rng.uniform() - 1) * Math.PI;
    if (on()) d.saturation = 2 ** (SATURATION_STD * rng.normal());
  }
}

/**
 * ADA's augmentation of D's input at probability p (Karras et al. 2020): per example, the blit set (x-flip,
 * rotation by a multiple of 90°, integer translation), the geometric set (isotropic scaling, arbitrary rotation,
 * anisotropic scaling, fractional translation) and colour changes (brightness, contrast, luma flip, hue,
 * saturation), each with probability p (see drawAda); with a longer `pipe`, band filtering, noise and cutout too. Differentiable in x: every step is a
 * linear map of x, so G gets gradients through it, and at p < 1 D still sees clean images often enough that
 * the augmentations do not leak into G's distribution. Images [B, H, W, C] in [−1, 1], C = 1 or 3 (square where a draw rotates by 90°).
 *
 * @example
 * const xa = adaAugment(x, 0.3, rng); // [B, H, W, C], differentiable in x
 */
export function adaAugment(x: tf.Tensor, p: number, rng: Rng, resample: AdaResample = 'sym6', pipe: AdaPipe = 'bgc'): tf.Tensor {
  if (p <= 0) return x;
  if (x.rank !== 4) throw new UserError(`--ada-target augments images [B, H, W, C]; D's input has shape [${x.shape.join(', ')}]`);
  const [b, h, w] = x.shape;
  return applyAda(x as tf.Tensor4D, drawAda(rng, b, h, w, p, pipe), resample);
}

/**
 * The augmentations of `draws` (one per example) applied to x [B, H, W, C]: the geometry as one resampling (see
 * geometry), then the colour as one affine map per example.
 */
export function applyAda(x: tf.Tensor4D, draws: readonly AdaDraw[], resample: AdaResample = 'sym6'): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  if (draws.length !== b) throw new Error(`applyAda: ${draws.length} draws for a batch of ${b}`);
  if (draws.some((d) => d.rot % 2 === 1) && h !== w) throw new UserError(`--ada-target rotates by 90°, which needs square images; these are ${h}×${w}`);
  if (c !== 1 && c !== 3) throw new UserError(`--ada-target's colour transforms need 1 or 3 channels; these images have ${c}`);
  return tf.tidy(() => imageSpace(colour(geometry(x, draws, resample), draws), draws));
}

/** Filtering, noise and cutout, in the paper's order, each only where some draw asks for it. */
function imageSpace(x: tf.Tensor4D, draws: readonly AdaDraw[]): tf.Tensor4D {
  let y = x;
  if (draws.some((d) => d.bandGains.some((g) => g !== 1))) y = filterImages(y, draws.map((d) => d.bandGains));
  if (draws.some((d) => d.noise.std !== 0)) y = addNoise(y, draws.map((d) => d.noise));
  if (draws.some((d) => d.cutout !== null)) y = cutout(y, draws.map((d) => d.cutout));
  return y;
}

/** The map p ↦ outer(inner(p)). */
function compose(outer: Affine, inner: Affine): Affine {
  const [a, b, c, d, e, f] = outer, [p, q, r, s, t, u] = inner;
  return [a * p + b * s, a * q + b * t, a * r + b * u + c, d * p + e * s, d * q + e * t, d * r + e * u + f];
}

/**
 * Where pixel (i, j) of the blit's output reads its source, any integers (the source is continued by reflection about
 * its edge pixels, as the paper pads): integer translation, then x-flip, then rotation by rot·90°
 * (out[i][j] = x[j][n−1−i] for rot = 1). Flips and quarter turns are symmetries of the reflected continuation, so
 * reflecting after this map is the same as reflecting at each step.
 */
function blitSource(d: AdaDraw, h: number, w: number): Affine {
  const translate: Affine = [1, 0, -d.ty, 0, 1, -d.tx];
  const flip: Affine = d.flip ? [1, 0, 0, 0, -1, w - 1] : [1, 0, 0, 0, 1, 0];
  const rotations: Affine[] = [[1, 0, 0, 0, 1, 0], [0, 1, 0, -1, 0, h - 1], [-1, 0, h - 1, 0, -1, w - 1], [0, -1, h - 1, 1, 0, 0]];
  return compose(rotations[d.rot], compose(flip, translate));
}

function isGeometricIdentity(d: AdaDraw): boolean {
  return d.scale === 1 && d.preRotation === 0 && d.aniso === 1 && d.postRotation === 0 && d.fx === 0 && d.fy === 0;
}

/**
 * Where output pixel (i, j) of a draw's geometric part reads the blit's output, in its pixel coordinates: about the
 * image centre, the inverse of (isotropic scale, pre-rotation, anisotropic scale, post-rotation, fractional
 * translation), the order of the paper's pipeline. A rotation by θ = π/2 reads as rot = 1 does.
 */
function geometricSource(d: AdaDraw, h: number, w: number): Affine {
  if (isGeometricIdentity(d)) return [1, 0, 0, 0, 1, 0];
  const cy = (h - 1) / 2, cx = (w - 1) / 2;
  const unrotate = (theta: number): Affine => [Math.cos(theta), Math.sin(theta), 0, -Math.sin(theta), Math.cos(theta), 0];
  const steps: Affine[] = [
    [1, 0, -cy - d.fy, 0, 1, -cx - d.fx], unrotate(d.postRotation), [d.aniso, 0, 0, 0, 1 / d.aniso, 0], unrotate(d.preRotation),
    [1 / d.scale, 0, cy, 0, 1 / d.scale, cx],
  ];
  return steps.reduce((m, step) => compose(step, m));
}

/**
 * Every geometric augmentation of the draws. Per example the blit and geometric parts compose into one affine map
 * from output pixels to source coordinates. Examples whose maps move content by whole pixels only (flips, quarter
 * turns, integer translations) are one exact gather from x continued by reflection; the others are resampled
 * through the authors' 2× wavelet-filtered interpolation (filteredWarp) or, with resample 'bilinear', plain
 * bilinear (bilinearWarp), as a sub-batch scattered back into place, so its cost follows how many draws need it.
 */
function geometry(x: tf.Tensor4D, draws: readonly AdaDraw[], resample: AdaResample): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const moves = (d: AdaDraw) => d.rot !== 0 || d.flip || d.tx !== 0 || d.ty !== 0 || !isGeometricIdentity(d);
  if (!draws.some(moves)) return x;
  const maps = draws.map((d) => compose(blitSource(d, h, w), geometricSource(d, h, w)));
  const warp = resample === 'sym6' ? filteredWarp : bilinearWarp;
  const exact = draws.map(isGeometricIdentity); // whole-pixel maps
  const resampled = exact.flatMap((e, n) => (e ? [] : [n]));
  if (resampled.length === b) return warp(x, maps);
  const pixels = h * w;
  const index = new Int32Array(b * pixels);
  maps.forEach(([a0, a1, a2, a3, a4, a5], n) => {
    if (!exact[n]) {
      index.fill(n * pixels, n * pixels, (n + 1) * pixels); // resampled below; these rows are masked out
      return;
    }
    for (let i = 0, o = n * pixels; i < h; i++) {
      for (let j = 0; j < w; j++, o++) index[o] = n * pixels + reflect(a0 * i + a1 * j + a2, h) * w + reflect(a3 * i + a4 * j + a5, w);
    }
  });
  const whole = tf.reshape(gatherRows(tf.reshape(x, [b * pixels, c]), tf.tensor1d(index, 'int32')), [b, h, w, c]) as tf.Tensor4D;
  if (resampled.length === 0) return whole;
  const picked = tf.tensor1d(resampled, 'int32');
  const part = warp(tf.reshape(gatherRows(tf.reshape(x, [b, pixels * c]), picked), [resampled.length, h, w, c]), resampled.map((n) => maps[n]));
  const keep = tf.tensor4d(exact.map(Number), [b, 1, 1, 1]); // the whole-pixel examples' rows of `whole`
  return tf.add(tf.mul(whole, keep), tf.reshape(scatterAddRows(tf.reshape(part, [resampled.length, pixels * c]), picked, b), [b, h, w, c]));
}

type Mat4 = number[]; // row-major 4×4, acting on homogeneous colours [r, g, b, 1]

function mul4(a: Mat4, b: Mat4): Mat4 {
  const out = new Array<number>(16).fill(0);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) for (let k = 0; k < 4; k++) out[i * 4 + j] += a[i * 4 + k] * b[k * 4 + j];
  return out;
}

const I4: Mat4 = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
/** v·vᵀ for the unit grey axis v = (1, 1, 1)/√3, on the colour block. */
const GREY: Mat4 = [1 / 3, 1 / 3, 1 / 3, 0, 1 / 3, 1 / 3, 1 / 3, 0, 1 / 3, 1 / 3, 1 / 3, 0, 0, 0, 0, 0];

function affine(f: (i: number, j: number) => number, t = 0): Mat4 {
  return [f(0, 0), f(0, 1), f(0, 2), t, f(1, 0), f(1, 1), f(1, 2), t, f(2, 0), f(2, 1), f(2, 2), t, 0, 0, 0, 1];
}

/**
 * The colour part of a draw as one 4×4 matrix on [r, g, b, 1], applied in the paper's order: brightness,
 * contrast, luma flip, hue, saturation (each a left factor, so the last named acts last).
 */
export function colourMatrix(d: AdaDraw): Mat4 {
  let m = I4;
  const eye = (i: number, j: number) => (i === j ? 1 : 0);
  const g = (i: number, j: number) => GREY[i * 4 + j];
  if (d.brightness !== 0) m = mul4(affine(eye, d.brightness), m);
  if (d.contrast !== 1) m = mul4(affine((i, j) => d.contrast * eye(i, j)), m);
  if (d.lumaFlip) m = mul4(affine((i, j) => eye(i, j) - 2 * g(i, j)), m);
  if (d.hue !== 0) {
    // Rodrigues: R = cos θ·I + sin θ·[v]× + (1 − cos θ)·v vᵀ, v = (1, 1, 1)/√3; [v]× has ±1/√3 off the diagonal.
    const cos = Math.cos(d.hue), sin = Math.sin(d.hue), s = sin / Math.sqrt(3);
    const cross = [0, -s, s, s, 0, -s, -s, s, 0];
    m = mul4(affine((i, j) => cos * eye(i, j) + cross[i * 3 + j] + (1 - cos) * g(i, j)), m);
  }
  if (d.saturation !== 1) m = mul4(affine((i, j) => g(i, j) + d.saturation * (eye(i, j) - g(i, j))), m);
  return m;
}

function isColourIdentity(d: AdaDraw): boolean {
  return d.brightness === 0 && d.contrast === 1 && !d.lumaFlip && d.hue === 0 && d.saturation === 1;
}

function colour(x: tf.Tensor4D, draws: readonly AdaDraw[]): tf.Tensor4D {
  if (draws.every(isColourIdentity)) return x;
  const [b, h, w, c] = x.shape;
  const ms = draws.map(colourMatrix);
  if (c === 1) {
    // A grey pixel g is the colour (g, g, g); the output is the mean of its three channels after the map:
    // g·ΣA/3 + Σt/3 (hue and saturation leave grey alone; brightness, contrast and luma flip act on it).
    const gain = ms.map((m) => [0, 1, 2].reduce((s, i) => s + m[i * 4] + m[i * 4 + 1] + m[i * 4 + 2], 0) / 3);
    const bias = ms.map((m) => (m[3] + m[7] + m[11]) / 3);
    return tf.add(tf.mul(x, tf.tensor4d(gain, [b, 1, 1, 1])), tf.tensor4d(bias, [b, 1, 1, 1])) as tf.Tensor4D;
  }
  const a = tf.tensor3d(ms.flatMap((m) => [m[0], m[1], m[2], m[4], m[5], m[6], m[8], m[9], m[10]]), [b, 3, 3]); // [B, 3, 3]
  const t = tf.tensor3d(ms.flatMap((m) => [m[3], m[7], m[11]]), [b, 1, 3]); // [B, 1, 3]
  const pixels = tf.reshape(x, [b, h * w, 3]); // [B, H·W, 3]
  return tf.reshape(tf.add(tf.matMul(pixels, a, false, true), t), [b, h, w, c]) as tf.Tensor4D; // rgb·Aᵀ + t
}

/** What ADA's controller keeps between steps; all of it is checkpointed. */
export interface AdaControllerState {
  /** The augmentation probability. */
  p: number;
  /** r_t of the last completed interval (absent before the first). */
  rt?: number;
  /** Σ sign(D(x) − centre) and the count of real examples seen in the interval so far, and its steps. */
  signSum: number;
  count: number;
  steps: number;
}

export interface AdaOptions {
  /** Target of r_t (--ada-target). */
  target: number;
  /** Steps between adjustments (--ada-interval). */
  interval: number;
  /** Thousands of images over which p can move from 0 to 1 (--ada-kimg). */
  kimg: number;
  /** Images per step (the global batch). */
  batchSize: number;
  /** p at the start (--ada-p; the paper starts at 0). */
  initialP?: number;
}

/**
 * ADA's feedback loop (Karras et al. 2020, §3): the overfitting heuristic r_t = E[sign(D_train)] over the
 * real examples D saw in the last `interval` steps; then p ← clamp(p + sign(r_t − target)·interval·B/(kimg·1000),
 * 0, 1), so p can cross [0, 1] in kimg thousand images. r_t near 1 means D is sure of every training image
 * (it overfits): more augmentation; below the target, less.
 *
 * @example
 * const ada = new AdaController({ target: 0.6, interval: 4, kimg: 500, batchSize: 64 });
 * ada.observe(40, 64); ada.endStep(); // … every 4th endStep moves p
 */
export class AdaController {
  private s: AdaControllerState;

  constructor(readonly opts: AdaOptions) {
    this.s = this.fresh();
  }

  private fresh(): AdaControllerState {
    return { p: this.opts.initialP ?? 0, signSum: 0, count: 0, steps: 0 };
  }

  get p(): number {
    return this.s.p;
  }

  get rt(): number | undefined {
    return this.s.rt;
  }

  /** Σ sign over `count` real examples from one D update. */
  observe(signSum: number, count: number): void {
    this.s.signSum += signSum;
    this.s.count += count;
  }

  /**
   * Close a step; at the end of an interval compute r_t and move p. `reduce` turns this rank's (Σ sign, count)
   * into the whole group's (data-parallel runs), so that every rank moves p the same way.
   */
  endStep(reduce?: (signSum: number, count: number) => [number, number]): void {
    if (++this.s.steps < this.opts.interval) return;
    const [sum, count] = reduce ? reduce(this.s.signSum, this.s.count) : [this.s.signSum, this.s.count];
    if (count === 0) throw new Error("--ada-target: no D update reported D's real outputs this interval; the family's D phase must pass them through the step tricks' discriminatorLoss");
    const rt = sum / count;
    const { target, interval, kimg, batchSize } = this.opts;
    const p = this.s.p + (Math.sign(rt - target) * interval * batchSize) / (kimg * 1000);
    this.s = { p: Math.min(1, Math.max(0, p)), rt, signSum: 0, count: 0, steps: 0 };
  }

  save(): AdaControllerState {
    return { ...this.s };
  }

  /** Put back what `save` returned; undefined: the fresh state. */
  restore(saved: unknown): void {
    if (saved === undefined) {
      this.s = this.fresh();
      return;
    }
    const s = saved as Partial<AdaControllerState> | null;
    if (!s || typeof s.p !== 'number' || typeof s.signSum !== 'number' || typeof s.count !== 'number' || typeof s.steps !== 'number') {
      throw new UserError(`checkpoint: ADA's saved state is malformed (${JSON.stringify(saved)})`);
    }
    this.s = { p: s.p, signSum: s.signSum, count: s.count, steps: s.steps, ...(typeof s.rt === 'number' ? { rt: s.rt } : {}) };
  }
}

/**
 * Where D's output separates "real" from "fake" under each loss, for r_t's sign (AdversarialLoss.level): 0 for
 * logits and hinge's ±1 margins, ½ for least squares (targets 0 and 1), the optimal critic's value at p = q for
 * the f-GAN losses (1 for f-kl, 0 for the others); null where the level of D's output is free (wasserstein,
 * relativistic: only differences enter the loss), so E[sign] says nothing.
 */
export function adaCentre(loss: string): number | null {
  return (LOSSES as Record<string, AdversarialLoss | undefined>)[loss]?.level ?? null;
}
