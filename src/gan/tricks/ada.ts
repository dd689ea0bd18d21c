import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../../util/rng.js';
import { UserError } from '../../util/errors.js';
import { LOSSES, type AdversarialLoss } from '../losses.js';

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
}

export const IDENTITY_DRAW: Readonly<AdaDraw> = { rot: 0, flip: false, tx: 0, ty: 0, scale: 1, brightness: 0, contrast: 1, lumaFlip: false, hue: 0, saturation: 1 };

/** Spreads of the draws (the paper's defaults, appendix B). */
const TRANSLATE_MAX = 0.125; // of the image side, uniform in ±
const SCALE_STD = 0.2; // of log2(scale)
const BRIGHTNESS_STD = 0.2;
const CONTRAST_STD = 0.5; // of log2(contrast)
const SATURATION_STD = 1; // of log2(saturation)

/**
 * `b` draws for [B, h, w, C] images: each augmentation is applied to each example independently with
 * probability p, its parameter drawn as in the paper — rotation k ~ U{0..3}; translation round(t·side),
 * t ~ U(−⅛, ⅛) per axis; scale 2^N(0, 0.2²); brightness N(0, 0.2²); contrast 2^N(0, 0.5²); luma flip with
 * probability ½; hue θ ~ U(−π, π); saturation 2^N(0, 1). p = 0 draws nothing.
 */
export function drawAda(rng: Rng, b: number, h: number, w: number, p: number): AdaDraw[] {
  const on = () => rng.uniform() < p;
  return Array.from({ length: b }, () => {
    const d: AdaDraw = { ...IDENTITY_DRAW };
    if (p <= 0) return d;
    if (on()) d.flip = rng.uniform() < 0.5;
    if (on()) d.rot = rng.int(4) as AdaDraw['rot'];
    if (on()) {
      d.tx = Math.round((2 * rng.uniform() - 1) * TRANSLATE_MAX * w);
      d.ty = Math.round((2 * rng.uniform() - 1) * TRANSLATE_MAX * h);
    }
    if (on()) d.scale = 2 ** (SCALE_STD * rng.normal());
    if (on()) d.brightness = BRIGHTNESS_STD * rng.normal();
    if (on()) d.contrast = 2 ** (CONTRAST_STD * rng.normal());
    if (on()) d.lumaFlip = rng.uniform() < 0.5;
    if (on()) d.hue = (2 * rng.uniform() - 1) * Math.PI;
    if (on()) d.saturation = 2 ** (SATURATION_STD * rng.normal());
    return d;
  });
}

/**
 * ADA's augmentation of D's input at probability p (Karras et al. 2020): per example, a random rotation by a
 * multiple of 90°, x-flip, integer translation, isotropic scaling and colour changes (brightness, contrast,
 * luma flip, hue, saturation), each with probability p (see drawAda). Differentiable in x: every step is a
 * linear map of x, so G gets gradients through it, and at p < 1 D still sees clean images often enough that
 * the augmentations do not leak into G's distribution. Images [B, H, W, C] in [−1, 1], square, C = 1 or 3.
 *
 * @example
 * const xa = adaAugment(x, 0.3, rng); // [B, H, W, C], differentiable in x
 */
export function adaAugment(x: tf.Tensor, p: number, rng: Rng): tf.Tensor {
  if (p <= 0) return x;
  if (x.rank !== 4) throw new UserError(`--ada-target augments images [B, H, W, C]; D's input has shape [${x.shape.join(', ')}]`);
  const [b, h, w] = x.shape;
  return applyAda(x as tf.Tensor4D, drawAda(rng, b, h, w, p));
}

/**
 * The augmentations of `draws` (one per example) applied to x [B, H, W, C]: rotation (pixel-exact, by
 * transposes and reversals selected per example with masks), then x-flip, integer translation and scaling as
 * one resampling per axis, out = M_y · x · M_xᵀ with per-example matrices (bilinear, the boundary continued
 * by reflection about the edge pixels, as the paper pads), then the colour as one affine map per example.
 */
export function applyAda(x: tf.Tensor4D, draws: readonly AdaDraw[]): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  if (draws.length !== b) throw new Error(`applyAda: ${draws.length} draws for a batch of ${b}`);
  if (draws.some((d) => d.rot % 2 === 1) && h !== w) throw new UserError(`--ada-target rotates by 90°, which needs square images; these are ${h}×${w}`);
  if (c !== 1 && c !== 3) throw new UserError(`--ada-target's colour transforms need 1 or 3 channels; these images have ${c}`);
  return tf.tidy(() => colour(resample(rotate(x, draws), draws), draws));
}

/** Per-example selection mask [B, 1, 1, 1]: 1 where `pick` holds. */
function mask(draws: readonly AdaDraw[], pick: (d: AdaDraw) => boolean): tf.Tensor4D {
  return tf.tensor4d(draws.map((d) => (pick(d) ? 1 : 0)), [draws.length, 1, 1, 1]);
}

function rotate(x: tf.Tensor4D, draws: readonly AdaDraw[]): tf.Tensor4D {
  if (draws.every((d) => d.rot === 0)) return x;
  const rotations: ((t: tf.Tensor4D) => tf.Tensor4D)[] = [
    (t) => t,
    (t) => tf.reverse(tf.transpose(t, [0, 2, 1, 3]), 1), // out[i][j] = x[j][n−1−i]
    (t) => tf.reverse(t, [1, 2]),
    (t) => tf.reverse(tf.transpose(t, [0, 2, 1, 3]), 2), // out[i][j] = x[n−1−j][i]
  ];
  // Σ_k m_k · rot_k(x) with one-hot masks: exactly rot_k(x) per example (the other terms are +0).
  const terms = rotations.flatMap((f, k) => (draws.some((d) => d.rot === k) ? [tf.mul(f(x), mask(draws, (d) => d.rot === k))] : []));
  return (terms.length === 1 ? terms[0] : tf.addN(terms)) as tf.Tensor4D;
}

/** Index k of a signal of length n continued by reflection about its end samples (…, 2, 1, 0, 1, 2, …, n−1, n−2, …). */
export function reflect(k: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const m = ((k % period) + period) % period;
  return m < n ? m : period - m;
}

/**
 * Row i of the resampling along one axis of length n, as weights on the source samples: flip (`flip`), then
 * translation by `shift`, then bilinear scaling by `scale` about the centre. Output sample i reads the scaled
 * image at c = (i + ½ − n/2)/scale + n/2 − ½, i.e. the translated image at ⌊c⌋ and ⌊c⌋ + 1, which is the
 * source at reflect(· − shift), mirrored when flipped.
 */
export function resampleMatrix(n: number, shift: number, scale: number, flip: boolean): Float32Array {
  const m = new Float32Array(n * n);
  const source = (k: number) => {
    const j = reflect(k - shift, n);
    return flip ? n - 1 - j : j;
  };
  for (let i = 0; i < n; i++) {
    const at = scale === 1 ? i : (i + 0.5 - n / 2) / scale + n / 2 - 0.5;
    const f = Math.floor(at);
    const t = at - f;
    m[i * n + source(f)] += 1 - t;
    if (t > 0) m[i * n + source(f + 1)] += t;
  }
  return m;
}

function resample(x: tf.Tensor4D, draws: readonly AdaDraw[]): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const alongH = draws.some((d) => d.ty !== 0 || d.scale !== 1);
  const alongW = draws.some((d) => d.tx !== 0 || d.scale !== 1 || d.flip);
  let y = x;
  if (alongH) {
    const my = stack(draws.map((d) => resampleMatrix(h, d.ty, d.scale, false)), h); // [B, H, H]
    y = tf.reshape(tf.matMul(my, tf.reshape(y, [b, h, w * c])), [b, h, w, c]);
  }
  if (alongW) {
    const mx = stack(draws.map((d) => resampleMatrix(w, d.tx, d.scale, d.flip)), w); // [B, W, W]
    const t = tf.reshape(tf.transpose(y, [0, 2, 1, 3]), [b, w, h * c]); // [B, W, H·C]
    y = tf.transpose(tf.reshape(tf.matMul(mx, t), [b, w, h, c]), [0, 2, 1, 3]);
  }
  return y;
}

function stack(matrices: Float32Array[], n: number): tf.Tensor3D {
  const all = new Float32Array(matrices.length * n * n);
  matrices.forEach((m, k) => all.set(m, k * n * n));
  return tf.tensor3d(all, [matrices.length, n, n]);
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
