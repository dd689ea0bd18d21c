/**
 * npm run bench:train — DCGAN training throughput (batch 64, 28×28×1) on every backend available here,
 * one line each: `backend=<name> img/s=<number>`. The JS cpu backend is slow, so it runs fewer steps.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend/index.js';
import { dcganImagesPerSecond } from './dcgan_step.js';

const plan: { backend: 'aten' | 'cpu'; steps: number; warmup: number }[] = [
  { backend: 'aten', steps: 30, warmup: 5 },
  { backend: 'cpu', steps: 2, warmup: 1 },
];

for (const { backend, steps, warmup } of plan) {
  try {
    await initBackend({ prefer: backend, quiet: true });
  } catch (e) {
    console.log(`backend=${backend} unavailable (${(e as Error).message.split('\n')[0]})`);
    continue;
  }
  const ips = dcganImagesPerSecond(steps, warmup);
  console.log(`backend=${tf.getBackend()} img/s=${ips.toFixed(1)}`);
}
