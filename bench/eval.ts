/**
 * npm run bench:eval — FID of 10,000 vs 10,000 Fashion-MNIST images (train[:10000] standing in for a
 * generator's output, against test[:10000]) with the shipped feature network, end to end: load both sets,
 * embed 20,000 images, fit the Gaussians, matrix square root. Prints the total and each stage.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend/index.js';
import { evaluateSets, loadReference } from '../src/metrics/evaluate.js';
import { loadClassifierNet } from '../src/metrics/features.js';

const count = Number(process.env.BENCH_EVAL_COUNT ?? 10_000);
await initBackend({ quiet: true });
const t0 = performance.now();
const real = await loadReference('fashion-mnist:test', count, 0);
const fake = await loadReference('fashion-mnist:train', count, 0);
const net = await loadClassifierNet('fashion-mnist');
const t1 = performance.now();
const stages: string[] = [];
let last = t1;
const [r] = evaluateSets({ ...fake.set, source: 'fashion-mnist:train' }, real.set, net, real, {
  metrics: 'fid',
  onProgress: (line) => {
    const now = performance.now();
    stages.push(`${((now - last) / 1000).toFixed(1)} s`);
    last = now;
    stages.push(line);
  },
});
const t2 = performance.now();
net.dispose();
console.log(`backend=${tf.getBackend()} count=${count}+${count} fid=${(r.values.fid as number).toFixed(4)} weights=${r.protocol.weightsSha256}`);
console.log(`load ${((t1 - t0) / 1000).toFixed(1)} s; ${stages.slice(1).join(' | ')} | ${((t2 - last) / 1000).toFixed(1)} s`);
console.log(`eval_seconds=${((t2 - t0) / 1000).toFixed(1)} (target < 60)`);
