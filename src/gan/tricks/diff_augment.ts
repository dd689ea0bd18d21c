import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../../util/rng.js';
import { UserError } from '../../util/errors.js';

export const DIFF_AUGMENT_POLICIES = ['translation', 'cutout', 'color'] as const;
export type DiffAugmentPolicy = (typeof DIFF_AUGMENT_POLICIES)[number];

/** '' → [], 'color,translation' → its policies in the order given; null when a name is not a policy. */
export function parseDiffAugment(spec: string): DiffAugmentPolicy[] | null {
  if (spec.trim() === '') return [];
  const parts = spec.split(',').map((p) => p.trim());
  return parts.every((p) => (DIFF_AUGMENT_POLICIES as readonly string[]).includes(p)) ? (parts as DiffAugmentPolicy[]) : null;
}

/**
 * DiffAugment (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training", §3): the same
 * random, differentiable augmentations T on every input of D — T(x) and T(G(z)) in D's update, T(G(z)) in G's —
 * so D cannot memorise a small training set while G still gets gradients through T. Images [B, H, W, C] in
 * [−1, 1]; random draws come from `rng` (the run's checkpointed RNG), so a seeded run is reproducible.
 * - color: per example, brightness + U(−½, ½), saturation × U(0, 2), contrast × U(½, 3⁄2)
 * - translation: per example, an integer shift of up to ⅛ of each side, zero-filled
 * - cutout: per example, a zeroed square of half the side at a random centre
 *
 * @example
 * const xa = diffAugment(x, ['translation', 'cutout'], rng); // [B, H, W, C], differentiable in x
 */
export function diffAugment(x: tf.Tensor, policies: readonly DiffAugmentPolicy[], rng: Rng): tf.Tensor {
  if (policies.length === 0) return x;
  if (x.rank !== 4) throw new UserError(`--diff-augment works on images [B, H, W, C]; D's input has shape [${x.shape.join(', ')}]`);
  return tf.tidy(() => {
    let y = x as tf.Tensor4D;
    for (const p of policies) y = p === 'color' ? color(y, rng) : p === 'translation' ? translation(y, rng) : cutout(y, rng);
    return y;
  });
}

/** One number per example, broadcastable over [B, H, W, C]: [B, 1, 1, 1]. */
function perExample(rng: Rng, b: number, f: (u: number) => number): tf.Tensor4D {
  return tf.tensor4d(Float32Array.from({ length: b }, () => f(rng.uniform())), [b, 1, 1, 1]);
}

function color(x: tf.Tensor4D, rng: Rng): tf.Tensor4D {
  const b = x.shape[0];
  let y = tf.add(x, perExample(rng, b, (u) => u - 0.5));
  const channelMean = tf.mean(y, 3, true);
  y = tf.add(tf.mul(tf.sub(y, channelMean), perExample(rng, b, (u) => 2 * u)), channelMean);
  const imageMean = tf.mean(y, [1, 2, 3], true);
  return tf.add(tf.mul(tf.sub(y, imageMean), perExample(rng, b, (u) => u + 0.5)), imageMean) as tf.Tensor4D;
}

/**
 * Shift matrices S [B, n, n] with S[b, i, i − d_b] = 1: S·v moves v by d_b places, zero-filled. A product with a
 * constant matrix is differentiable in v and needs no per-example slicing.
 */
function shiftMatrices(shifts: number[], n: number): tf.Tensor3D {
  const m = new Float32Array(shifts.length * n * n);
  shifts.forEach((d, b) => {
    for (let i = 0; i < n; i++) if (i - d >= 0 && i - d < n) m[b * n * n + i * n + (i - d)] = 1;
  });
  return tf.tensor3d(m, [shifts.length, n, n]);
}

function translation(x: tf.Tensor4D, rng: Rng): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const shift = (n: number) => {
    const s = Math.round(n / 8);
    return Array.from({ length: b }, () => rng.int(2 * s + 1) - s);
  };
  const sy = shiftMatrices(shift(h), h);
  const sx = shiftMatrices(shift(w), w);
  const rows = tf.reshape(tf.matMul(sy, tf.reshape(x, [b, h, w * c])), [b, h, w, c]); // shifted along H
  const t = tf.reshape(tf.transpose(rows, [0, 2, 1, 3]), [b, w, h * c]); // [B, W, H·C]
  return tf.transpose(tf.reshape(tf.matMul(sx, t), [b, w, h, c]), [0, 2, 1, 3]) as tf.Tensor4D; // shifted along W
}

function cutout(x: tf.Tensor4D, rng: Rng): tf.Tensor4D {
  const [b, h, w] = x.shape;
  const sh = Math.round(h / 2);
  const sw = Math.round(w / 2);
  const mask = new Float32Array(b * h * w).fill(1);
  for (let k = 0; k < b; k++) {
    const cy = rng.int(h);
    const cx = rng.int(w);
    for (let i = Math.max(0, cy - Math.floor(sh / 2)); i < Math.min(h, cy - Math.floor(sh / 2) + sh); i++) {
      for (let j = Math.max(0, cx - Math.floor(sw / 2)); j < Math.min(w, cx - Math.floor(sw / 2) + sw); j++) mask[(k * h + i) * w + j] = 0;
    }
  }
  return tf.mul(x, tf.tensor4d(mask, [b, h, w, 1])) as tf.Tensor4D;
}
