import * as tf from '@tensorflow/tfjs-core';
import type { StyleSpace } from '../gan/family.js';
import { latents } from '../gan/sampling.js';
import { Rng } from '../util/rng.js';
import { readTidy } from '../util/tensors.js';
import { PerceptualDistance } from './perceptual.js';

export interface ProjectOptions {
  steps: number;
  seed: number;
  /** Optimise one w per style input (w+) instead of one w for all: closer fits, less editable latents. */
  wPlus?: boolean;
  /** Peak learning rate of Adam (the paper's 0.1). */
  lr?: number;
  /** Weight of the noise-map autocorrelation penalty (the paper's 1e5). */
  noiseWeight?: number;
  /** Record the reconstruction at these steps (for the progress strip). */
  snapshots?: number[];
  /** One-hot class [1, K] for a conditional mapping. */
  classes?: tf.Tensor2D;
  onStep?: (step: number, distance: number) => void;
}

export interface Projection {
  /** w [1, wDim] or w+ [1, numWs, wDim]. */
  latent: { values: Float32Array; shape: number[] };
  /** The final reconstruction [H, W, C] in [−1, 1]. */
  image: Float32Array;
  /** Reconstructions at the snapshot steps, in order. */
  snapshots: { step: number; image: Float32Array }[];
  distance: number;
  /** PSNR of the reconstruction against the target, data range 2 ([−1, 1]). */
  psnr: number;
}

/**
 * Projection of a real image into W (Karras et al. 2020, Appendix D): start at the mean w, descend the
 * perceptual distance between synthesis(w) and the target with Adam (learning rate ramped up over the first 5 %
 * of the steps and down by a cosine over the last 25 %), adding Gaussian noise to w of scale 0.05·σ_w that fades
 * quadratically to 0 by ¾ of the way (exploration early, precision late). The per-pixel noise maps are
 * optimised too, each kept at zero mean and unit variance after every step, and penalised for spatial
 * autocorrelation at every scale down to 8×8 so that they cannot encode the image themselves.
 * The perceptual distance is the shipped RGB network's (src/metrics/perceptual.ts).
 */
export function projectImage(space: StyleSpace, distance: PerceptualDistance, target: tf.Tensor4D, opts: ProjectOptions): Projection {
  const { steps, seed, wPlus = false, lr = 0.1, noiseWeight = 1e5 } = opts;
  const rng = new Rng(seed);
  // w̄ and σ_w = √E‖w − w̄‖² from 10,000 mapped latents, as the paper's projector estimates them.
  const { wMean, wStd } = tf.tidy(() => {
    const c = opts.classes ? tf.tile(opts.classes, [10_000, 1]) as tf.Tensor2D : undefined;
    const w = space.mapping(latents(rng, 10_000, space.zDim), c);
    const mean = tf.mean(w, 0, true);
    return { wMean: tf.keep(mean), wStd: tf.keep(tf.sqrt(tf.mean(tf.sum(tf.square(tf.sub(w, mean)), 1)))) };
  });
  const sigmaW = wStd.dataSync()[0];
  const start = wPlus ? tf.tidy(() => tf.tile(tf.expandDims(wMean, 1), [1, space.numWs, 1])) : wMean;
  const w = tf.variable(start, true, 'project_w');
  if (wPlus) start.dispose();
  const noise = space.noiseShapes.map(([h, wd], i) => {
    const init = tf.tensor4d(rng.normals(h * wd), [1, h, wd, 1]);
    const v = tf.variable(init, true, `project_noise_${i}`);
    init.dispose();
    return v;
  });
  const targetFeatures = distance.features(target);
  const optimizer = tf.train.adam(lr, 0.9, 0.999, 1e-8);
  const synth = (wv: tf.Tensor) => space.synthesis(wPlus ? wv as tf.Tensor3D : tf.tile(tf.expandDims(wv, 1), [1, space.numWs, 1]) as tf.Tensor3D, { noise });
  const snapshots: Projection['snapshots'] = [];
  const wanted = new Set(opts.snapshots ?? []);
  let last = NaN;
  try {
    for (let step = 0; step < steps; step++) {
      const t = step / steps;
      const rate = lr * Math.min(1, t / 0.05) * 0.5 * (1 - Math.cos(Math.PI * Math.min(1, (1 - t) / 0.25)));
      // tfjs's Adam reads `learningRate` at each update (a plain field, protected in its typings); the ramp's first step would be 0.
      (optimizer as unknown as { learningRate: number }).learningRate = Math.max(rate, lr * 1e-3);
      const noiseScale = sigmaW * 0.05 * Math.max(0, 1 - t / 0.75) ** 2;
      const jitter = tf.tensor(rng.normals(w.size), w.shape);
      const loss = optimizer.minimize(() => {
        const img = synth(tf.add(w, tf.mul(jitter, noiseScale)));
        const d = PerceptualDistance.between(distance.features(img as tf.Tensor4D), targetFeatures);
        return tf.add(tf.sum(d), tf.mul(noiseWeight, noiseRegularisation(noise))) as tf.Scalar;
      }, true, [w, ...noise])!;
      jitter.dispose();
      last = loss.dataSync()[0];
      loss.dispose();
      tf.tidy(() => {
        for (const n of noise) {
          const centred = tf.sub(n, tf.mean(n));
          n.assign(tf.div(centred, tf.sqrt(tf.mean(tf.square(centred)))) as tf.Tensor4D);
        }
      });
      opts.onStep?.(step, last);
      if (wanted.has(step)) snapshots.push({ step, image: readTidy(() => synth(w)) });
    }
    const image = tf.tidy(() => synth(w));
    const final = readTidy(() => {
      const d = PerceptualDistance.between(distance.features(image), targetFeatures);
      const mse = tf.mean(tf.square(tf.sub(image, target)));
      return tf.concat([tf.reshape(d, [1]), tf.reshape(mse, [1])]);
    });
    const values = image.dataSync() as Float32Array;
    image.dispose();
    return {
      latent: { values: w.dataSync() as Float32Array, shape: w.shape },
      image: values,
      snapshots,
      distance: final[0],
      psnr: 10 * Math.log10(4 / final[1]),
    };
  } finally {
    tf.dispose([w, wMean, wStd, ...noise, ...targetFeatures]);
    optimizer.dispose();
  }
}

/**
 * The paper's noise regulariser: for each noise map, at each scale from its own down to 8×8 (2×2 average
 * pooling between scales), the squared mean product of the map with itself shifted by one pixel in x and in y.
 * Zero for white noise; large when the maps carry structure (the image) instead of noise.
 */
export function noiseRegularisation(maps: tf.Tensor4D[]): tf.Scalar {
  return tf.tidy(() => {
    let total: tf.Tensor = tf.scalar(0);
    for (const map of maps) {
      let n: tf.Tensor4D = map;
      for (;;) {
        const shiftX = tf.concat([tf.slice(n, [0, 0, 1, 0], [-1, -1, -1, -1]), tf.slice(n, [0, 0, 0, 0], [-1, -1, 1, -1])], 2);
        const shiftY = tf.concat([tf.slice(n, [0, 1, 0, 0], [-1, -1, -1, -1]), tf.slice(n, [0, 0, 0, 0], [-1, 1, -1, -1])], 1);
        total = tf.add(total, tf.add(tf.square(tf.mean(tf.mul(n, shiftX))), tf.square(tf.mean(tf.mul(n, shiftY)))));
        if (n.shape[1] <= 8 || n.shape[2] <= 8) break;
        n = tf.avgPool(n, 2, 2, 'valid');
      }
    }
    return total as tf.Scalar;
  });
}
