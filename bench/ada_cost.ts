/**
 * What ADA's augmentation costs per call, forward and backward (the gradient into x that G receives), on the
 * backend in use: the paper's 2× Symlet-6 filtered resampling (--ada-resample sym6, the default) against plain
 * bilinear (--ada-resample bilinear), with the same draws at probability p. The two alternate round by round;
 * medians of the rounds, in ms per call. A training step calls it about three times (D's real and fake inputs, G's).
 *
 * `--pipe` draws another of the paper's pipelines (--ada-pipe; bgcfnc adds band filtering, noise and cutout).
 * `--composed` unregisters the backend's one-pass TapMix kernel first, so the interpolation runs as tfjs's gather,
 * product and sum (what it costs on a backend without the kernel; the A/B of that kernel on aten).
 *
 *   node --single-threaded dist/bench/ada_cost.js [--sizes 32,64] [--batch 16] [--p 0.6] [--rounds 9] [--pipe bgc] [--composed]
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/backend/index.js';
import { ADA_PIPES, ADA_RESAMPLE, applyAda, drawAda, type AdaPipe } from '../src/gan/tricks/ada.js';
import { Rng } from '../src/util/rng.js';
import { TAP_MIX_KERNEL } from '../src/nn/gather_rows.js';
import { median } from './step_bench.js';

const { values } = parseArgs({
  options: { sizes: { type: 'string', default: '32,64' }, batch: { type: 'string', default: '16' }, p: { type: 'string', default: '0.6' }, rounds: { type: 'string', default: '9' }, pipe: { type: 'string', default: 'bgc' }, composed: { type: 'boolean', default: false } },
});
const pipe = values.pipe as AdaPipe;
if (!ADA_PIPES.includes(pipe)) throw new Error(`--pipe must be one of ${ADA_PIPES.join(', ')}, got ${values.pipe}`);
const sizes = values.sizes.split(',').map(Number), batch = Number(values.batch), p = Number(values.p), rounds = Number(values.rounds);
const info = await initBackend({ quiet: true });
if (values.composed && tf.getKernel(TAP_MIX_KERNEL, info.name)) tf.unregisterKernel(TAP_MIX_KERNEL, info.name);
process.stdout.write(`ada cost — backend ${info.name}${tf.getKernel(TAP_MIX_KERNEL, info.name) ? ' (TapMix kernel)' : ''}, pipe ${pipe}, batch ${batch}, RGB, p ${p}, ${rounds} rounds (forward + gradient in x, ms per call)\n`);
process.stdout.write('| side | sym6 (paper) | bilinear | ratio |\n|---|---|---|---|\n');
for (const side of sizes) {
  const x = tf.randomNormal([batch, side, side, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const w = tf.randomNormal([batch, side, side, 3], 0, 1, 'float32', 2);
  const times: Record<string, number[]> = { sym6: [], bilinear: [] };
  const rng = new Rng(3);
  for (let r = -2; r < rounds; r++) {
    const draws = drawAda(rng, batch, side, side, p, pipe);
    for (const resample of ADA_RESAMPLE) {
      const t0 = performance.now();
      // A block body: tidy must not get the typed array back (it would walk it element by element).
      tf.tidy(() => { tf.grad((v: tf.Tensor) => tf.sum(tf.mul(applyAda(v as tf.Tensor4D, draws, resample), w)))(x).dataSync(); });
      if (r >= 0) times[resample].push(performance.now() - t0); // two untimed rounds first
    }
  }
  const [a, b] = [median(times.sym6), median(times.bilinear)];
  process.stdout.write(`| ${side} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(a / b).toFixed(2)} |\n`);
  tf.dispose([x, w]);
}
