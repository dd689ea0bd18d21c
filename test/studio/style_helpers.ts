// A tiny style space built from src/nn's style layers, as a family would declare it (StyleSpace with models):
// mapping z [B, 8] (, one-hot c [B, K]) → w [B, 8]; synthesis w+ [B, 6, 8] → [B, 16, 16, 3] with five
// per-pixel noise inputs (4, 8, 8, 16, 16 px) at a strength that makes them visible; w̄ is the mean of w over
// 64 fixed latents (per class when conditional).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { StyleSpace } from '../../src/gan/family.js';
import { latents } from '../../src/gan/sampling.js';
import { mappingNetwork } from '../../src/nn/mapping.js';
import { ToRGB, styledConv } from '../../src/nn/modulated_conv.js';
import { ConstantInput, NoiseInjection } from '../../src/nn/synthesis_inputs.js';
import { Rng } from '../../src/util/rng.js';

export const Z = 8, W = 8, NUM_WS = 6, SIDE = 16;
const C = 8;

/** w+ [B, numWs, W] → w_i [B, W] from standard layers only (the page's TF.js knows them). */
function pick(ws: SymbolicTensor, i: number): SymbolicTensor {
  const image = tfl.layers.reshape({ targetShape: [NUM_WS, W, 1] }).apply(ws) as SymbolicTensor; // [B, numWs, W, 1]
  const one = tfl.layers.cropping2D({ cropping: [[i, NUM_WS - 1 - i], [0, 0]] }).apply(image) as SymbolicTensor; // [B, 1, W, 1]
  return tfl.layers.flatten().apply(one) as SymbolicTensor; // [B, W]
}

/** StyleGAN2's layout at 16 px: input i of w+ styles conv/toRGB as in its synthesis network (two per resolution). */
function tinySynthesis(seed: number): tfl.LayersModel {
  const ws = tfl.input({ shape: [NUM_WS, W] });
  const w = Array.from({ length: NUM_WS }, (_, i) => pick(ws, i));
  let x = new ConstantInput({ channels: C, seed: seed + 10 }).apply(ws) as SymbolicTensor; // [B, 4, 4, C]
  x = styledConv(x, w[0], { filters: C, seed: seed + 20 });
  let rgb = new ToRGB({ seed: seed + 30 }).apply([x, w[1]]) as SymbolicTensor;
  for (const [block, i] of [[0, 1], [1, 3]]) { // 4 → 8 → 16
    const s = seed + 40 + 10 * block;
    x = styledConv(x, w[i], { filters: C, upsample: true, seed: s });
    x = styledConv(x, w[i + 1], { filters: C, seed: s + 3 });
    rgb = new ToRGB({ seed: s + 6 }).apply([x, w[i + 2], rgb]) as SymbolicTensor; // [B, 2H, 2W, 3]
  }
  const model = tfl.model({ inputs: ws, outputs: rgb });
  for (const l of noiseLayers(model)) tf.tidy(() => l.setWeights([tf.scalar(0.8), l.getWeights()[1]]));
  return model;
}

function noiseLayers(model: tfl.LayersModel): NoiseInjection[] {
  return model.layers.filter((l): l is NoiseInjection => l instanceof NoiseInjection);
}

/** The tiny style space; `classes` > 0 makes its mapping class-conditional. `dispose` frees its models and w̄. */
export function tinyStyleSpace(seed: number, classes = 0): StyleSpace & { dispose(): void } {
  const mapping = mappingNetwork({ zDim: Z, wDim: W, depth: 2, seed, classes: classes || undefined, lrMul: 1 });
  const synthesis = tinySynthesis(seed + 100);
  const layers = noiseLayers(synthesis);
  const map = (z: tf.Tensor2D, c?: tf.Tensor2D) => mapping.apply(c ? [z, c] : z, { training: false }) as tf.Tensor2D;
  const probe = latents(new Rng(seed + 7), 64, Z);
  // Mean w over fixed latents: a stand-in for the tracked w̄, one row per class row given.
  const meanRows = tf.tidy(() => {
    if (!classes) return tf.mean(map(probe), 0, true);
    return tf.concat(Array.from({ length: classes }, (_, k) => tf.mean(map(probe, tf.cast(tf.oneHot(tf.fill([64], k, 'int32') as tf.Tensor1D, classes), 'float32') as tf.Tensor2D), 0, true)));
  });
  probe.dispose();
  return {
    zDim: Z,
    wDim: W,
    numWs: NUM_WS,
    resolutions: [4, 4, 8, 8, 16, 16],
    noiseShapes: layers.map((l) => [l.outputShape[1] as number, l.outputShape[2] as number]),
    mapping: map,
    meanW: (c) => tf.tidy(() => (c ? tf.matMul(c, meanRows) : tf.clone(meanRows)) as tf.Tensor2D), // [B or 1, W]
    synthesis(ws, options = {}) {
      const noise = options.noise ?? 'random';
      const given = Array.isArray(noise)
        ? noise
        : layers.map((l) => {
          const [, h, w] = l.outputShape as number[];
          return noise === 'zero' ? tf.zeros([1, h, w, 1]) : tf.randomNormal([ws.shape[0], h, w, 1], 0, 1, 'float32', options.seed ?? 0);
        });
      layers.forEach((l, i) => (l.fixedNoise = given[i]));
      try {
        return synthesis.apply(ws, { training: false }) as tf.Tensor4D;
      } finally {
        for (const l of layers) l.fixedNoise = null;
        if (!Array.isArray(noise)) tf.dispose(given);
      }
    },
    models: { mapping, synthesis },
    dispose() {
      meanRows.dispose();
      mapping.dispose();
      synthesis.dispose();
    },
  };
}
