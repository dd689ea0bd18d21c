// A StyleSpace small enough to compute by hand: w = tanh(z·M), and an image [2, 2, 1] that is a sum over the
// style inputs of w_l·A_l plus the noise maps (whose shapes are those of the network's noise inputs). Used by the
// style-mixing, truncation, projection and path-length tests, so they exercise the generic code, not a model.
import * as tf from '@tensorflow/tfjs-core';
import type { StyleSpace } from '../../src/gan/family.js';
import { Rng } from '../../src/util/rng.js';

export const FAKE = { zDim: 3, wDim: 4, numWs: 3, side: 2 };

export function fakeStyleSpace(opts: { meanW?: number[] } = {}): StyleSpace & { dispose(): void } {
  const rng = new Rng(7);
  const M = tf.tensor2d(rng.normals(FAKE.zDim * FAKE.wDim), [FAKE.zDim, FAKE.wDim]);
  // A_l: [wDim, side²] per style input, so each input moves every pixel differently.
  const A = Array.from({ length: FAKE.numWs }, () => tf.tensor2d(rng.normals(FAKE.wDim * FAKE.side ** 2), [FAKE.wDim, FAKE.side ** 2]));
  const mean: tf.Tensor2D = tf.tensor2d(opts.meanW ?? [0.1, -0.2, 0.3, 0], [1, FAKE.wDim]);
  const s = FAKE.side;
  return {
    zDim: FAKE.zDim, wDim: FAKE.wDim, numWs: FAKE.numWs, resolutions: [4, 8, 8], noiseShapes: [[s, s]],
    mapping: (z) => tf.tidy(() => tf.tanh(tf.matMul(z, M)) as tf.Tensor2D),
    meanW: (classes) => tf.tidy(() => (classes ? tf.tile(mean, [classes.shape[0], 1]) : tf.clone(mean)) as tf.Tensor2D),
    synthesis(ws, options = {}) {
      return tf.tidy(() => {
        const b = ws.shape[0];
        let img: tf.Tensor = tf.zeros([b, s * s]);
        for (let l = 0; l < FAKE.numWs; l++) img = tf.add(img, tf.matMul(tf.reshape(tf.slice(ws, [0, l, 0], [-1, 1, -1]), [b, FAKE.wDim]), A[l]));
        const images = tf.reshape(img, [b, s, s, 1]);
        const noise = options.noise ?? 'random';
        if (noise === 'zero') return images as tf.Tensor4D;
        const maps = Array.isArray(noise) ? noise : [tf.tensor4d(new Rng(options.seed ?? 0).normals(b * s * s), [b, s, s, 1])];
        return tf.add(images, tf.mul(0.1, maps[0])) as tf.Tensor4D;
      });
    },
    dispose: () => tf.dispose([M, ...A, mean]),
  };
}
