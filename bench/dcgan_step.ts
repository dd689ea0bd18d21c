import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { dcgan } from '../src/models/dcgan.js';
import { resolveConfig } from '../src/gan/config.js';
import { adversarialStep } from '../src/gan/step.js';
import { nonSaturating } from '../src/gan/losses.js';
import { latents } from '../src/gan/sampling.js';
import { Rng } from '../src/util/rng.js';
import { makeOptimizers, dOptimizer } from '../src/gan/optimizers.js';
import type { DatasetInfo } from '../src/data/types.js';
import { discriminatorOf } from '../src/gan/family.js';

export const FASHION_INFO: DatasetInfo = { name: 'fashion-mnist', kind: 'image', shape: [28, 28, 1], numClasses: 10 };

/**
 * Images per second of the reference DCGAN step (batch 64, 28×28×1: the network of
 * shared/reference/dcgan_torch.py), D and G updates together, on the active backend.
 * Real data is uniform noise in [-1, 1] as in the PyTorch twin, so only compute is measured.
 */
export function dcganImagesPerSecond(steps: number, warmup: number, batch = 64): number {
  const config = resolveConfig({ model: 'dcgan', batchSize: batch });
  const nets = dcgan.build(FASHION_INFO, config, new Rng(0));
  const opt = makeOptimizers(config); // Adam(2e-4, 0.5, 0.999) as ganforge trains: dcgan's defaults
  const rng = new Rng(1);
  const real = tf.tidy(() => tf.sub(tf.mul(tf.randomUniform([batch, 28, 28, 1], 0, 1, 'float32', 1), 2), 1));
  const step = () => {
    const z = latents(rng, batch, config.latentDim);
    adversarialStep(nets, opt, nonSaturating, real, z); // reads the losses: a full sync each step
    z.dispose();
  };
  for (let i = 0; i < warmup; i++) step();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) step();
  const seconds = (performance.now() - t0) / 1000;
  tf.dispose([real]);
  nets.generator.dispose();
  discriminatorOf(nets).dispose();
  opt.g.dispose();
  dOptimizer(opt).dispose();
  return (steps * batch) / seconds;
}
