import { test } from 'node:test';
import assert from 'node:assert/strict';
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.js';
import { FusedAdam } from '../../src/nn/adam.js';
import { Rng } from '../../src/util/rng.js';

const info = await initBackend({ quiet: true });

/** k Adam steps on a small non-linear problem; returns the weights, the moments and the optimizer's saved state. */
async function train(backend: string, make: () => tf.AdamOptimizer, k: number) {
  await tf.setBackend(backend);
  const rng = new Rng(4);
  const w = tf.variable(tf.tensor2d(rng.normals(6 * 5), [6, 5]));
  const b = tf.variable(tf.tensor1d(rng.normals(5)));
  const x = tf.tensor2d(rng.normals(8 * 6), [8, 6]);
  const opt = make();
  for (let i = 0; i < k; i++) opt.minimize(() => tf.sum(tf.square(tf.tanh(tf.add(tf.matMul(x, w), b)))), false, [w, b]);
  const state = await opt.getWeights();
  const out = {
    weights: [...w.dataSync(), ...b.dataSync()],
    saved: state.map((s) => ({ name: s.name.replace(/\d+/g, '#'), values: Array.from(s.tensor.dataSync()) })),
  };
  tf.dispose([w, b, x]);
  opt.dispose();
  return out;
}

/** |a − b| within 1e-4 relative (the backends' own gradients differ in the last float32 bits). */
const close = (a: number, b: number) => Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(b));

test('FusedAdam takes the same steps as tfjs Adam on the cpu backend, and saves the same state', async () => {
  const reference = await train('cpu', () => tf.train.adam(0.05, 0.5, 0.999), 6);
  for (const backend of [...new Set(['cpu', info.name])]) {
    const fused = await train(backend, () => new FusedAdam(0.05, 0.5, 0.999), 6);
    fused.weights.forEach((v, i) => assert.ok(close(v, reference.weights[i]), `${backend} weight ${i}: ${v} vs ${reference.weights[i]}`));
    assert.deepEqual(fused.saved.map((s) => s.name), reference.saved.map((s) => s.name));
    fused.saved.forEach((s, j) => s.values.forEach((v, i) => assert.ok(close(v, reference.saved[j].values[i]), `${backend} ${s.name}[${i}]: ${v} vs ${reference.saved[j].values[i]}`)));
  }
  await tf.setBackend(info.name);
});

test('FusedAdam leaks no tensors per step', async () => {
  await tf.setBackend(info.name);
  const w = tf.variable(tf.ones([64, 3]));
  const opt = new FusedAdam(0.01, 0.9, 0.999);
  const step = () => opt.minimize(() => tf.sum(tf.square(w)), false, [w]);
  step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) step();
  assert.equal(tf.memory().numTensors, before);
  w.dispose();
  opt.dispose();
});
