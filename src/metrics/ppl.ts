import * as tf from '@tensorflow/tfjs-core';
import type { StyleSpace } from '../gan/family.js';
import { latents } from '../gan/sampling.js';
import { Rng } from '../util/rng.js';
import type { PerceptualDistance } from './perceptual.js';

export interface PplOptions {
  /** Pairs to average over (the paper: 100k; 10k is within a few percent). */
  count: number;
  seed: number;
  /** Step along the path (the paper's 1e-4). */
  epsilon?: number;
  /** Interpolate in W (lerp, StyleGAN2's choice) or in Z (slerp, StyleGAN's). */
  space?: 'w' | 'z';
  /** 'end': t = 0, the path's start at a sample (StyleGAN2's "end-points"); 'full': t ~ U[0, 1]. */
  sampling?: 'end' | 'full';
  batch?: number;
  /** One-hot classes [1, K] for a conditional mapping: every pair is drawn within this class. */
  classes?: tf.Tensor2D;
}

export interface PplResult {
  ppl: number;
  /** Pairs kept after dropping those below the 1st and above the 99th percentile, of `count`. */
  kept: number;
  settings: Record<string, unknown>;
}

/**
 * Perceptual path length (Karras, Laine & Aila 2019 §4.2; Karras et al. 2020 §3.2): how much the image changes
 * per small step of the latent, E[d(G(lerp(w₁, w₂; t)), G(lerp(w₁, w₂; t + ε))) / ε²], with d a perceptual
 * distance. Smoother latent spaces score lower; StyleGAN2 found it tracks image quality. Both images of a pair
 * share one noise draw, so only the latent moves. Like the paper, pairs below the 1st and above the 99th
 * percentile are dropped before averaging. No crop (the paper crops faces to their centre).
 */
export function perceptualPathLength(space: StyleSpace, distance: PerceptualDistance, opts: PplOptions): PplResult {
  const { count, seed, epsilon = 1e-4, space: where = 'w', sampling = 'end', batch = 64 } = opts;
  const rng = new Rng(seed);
  const values: number[] = [];
  for (let done = 0; done < count; done += batch) {
    const b = Math.min(batch, count - done);
    const t = Float32Array.from({ length: b }, () => (sampling === 'full' ? rng.uniform() : 0));
    const noiseSeed = rng.nextUint32();
    const d = tf.tidy(() => {
      const tt = tf.tensor2d(t, [b, 1]);
      const z1 = latents(rng, b, space.zDim);
      const z2 = latents(rng, b, space.zDim);
      const c = opts.classes ? (tf.tile(opts.classes, [b, 1]) as tf.Tensor2D) : undefined;
      let wa: tf.Tensor2D, wb: tf.Tensor2D;
      if (where === 'w') {
        const w1 = space.mapping(z1, c);
        const w2 = space.mapping(z2, c);
        wa = lerp(w1, w2, tt);
        wb = lerp(w1, w2, tf.add(tt, epsilon));
      } else {
        wa = space.mapping(slerp(z1, z2, tt), c);
        wb = space.mapping(slerp(z1, z2, tf.add(tt, epsilon)), c);
      }
      const ws = tf.tile(tf.expandDims(tf.concat([wa, wb]), 1), [1, space.numWs, 1]) as tf.Tensor3D; // [2b, numWs, wDim]
      const noiseRng = new Rng(noiseSeed);
      const maps = space.noiseShapes.map(([h, w]) => tf.tile(tf.tensor4d(noiseRng.normals(b * h * w), [b, h, w, 1]), [2, 1, 1, 1]));
      const images = space.synthesis(ws, { noise: maps }); // [2b, H, W, C]
      const [ia, ib] = tf.split(images, 2) as [tf.Tensor4D, tf.Tensor4D];
      return tf.div(distance.distance(ia, ib), epsilon * epsilon);
    });
    values.push(...d.dataSync());
    d.dispose();
  }
  const sorted = [...values].sort((a, b) => a - b);
  const lo = percentile(sorted, 1), hi = percentile(sorted, 99);
  const kept = values.filter((v) => v >= lo && v <= hi);
  return {
    ppl: kept.reduce((s, v) => s + v, 0) / kept.length,
    kept: kept.length,
    settings: { epsilon, space: where, sampling, crop: 'none', pairs: count, filter: '1st–99th percentile', distance: distance.name, weights: distance.weightsSha256, seed },
  };
}

/** Linear interpolation a + t(b − a), t [B, 1]. */
function lerp(a: tf.Tensor2D, b: tf.Tensor2D, t: tf.Tensor): tf.Tensor2D {
  return tf.add(a, tf.mul(t, tf.sub(b, a))) as tf.Tensor2D;
}

/** Spherical interpolation between the directions of a and b (StyleGAN's Z paths), t [B, 1]. */
export function slerp(a: tf.Tensor2D, b: tf.Tensor2D, t: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    const unit = (x: tf.Tensor) => tf.div(x, tf.norm(x, 'euclidean', 1, true));
    const ua = unit(a), ub = unit(b);
    const cos = tf.clipByValue(tf.sum(tf.mul(ua, ub), 1, true), -1, 1);
    const omega = tf.mul(tf.acos(cos), t);
    const perp = unit(tf.sub(ub, tf.mul(ua, cos))); // unit vector orthogonal to ua in the plane of a and b
    return tf.add(tf.mul(ua, tf.cos(omega)), tf.mul(perp, tf.sin(omega))) as tf.Tensor2D;
  });
}

/** The p-th percentile of sorted values, by linear interpolation between ranks (numpy's default). */
export function percentile(sorted: number[], p: number): number {
  const r = (p / 100) * (sorted.length - 1);
  const i = Math.floor(r);
  return i + 1 < sorted.length ? sorted[i] + (r - i) * (sorted[i + 1] - sorted[i]) : sorted[i];
}
