// aten's TapMix / TapScatter (the aten package's native/tap_mix.cc), which mixRows runs where the backend has them,
// against the cpu backend's composed gather, product and sum, and against a loop over the definition: values,
// gradients, and the second-order gradient R1 takes through an augmentation's resampling.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '../../src/nn/second_order_grads.js';
import { initBackend } from '../../src/backend/index.js';
import { mixRows, TAP_MIX_KERNEL } from '../../src/nn/gather_rows.js';
import { Rng } from '../../src/util/rng.js';

const info = await initBackend({ quiet: true });
const skip = info.name !== 'aten' ? 'the aten backend is not built here' : false;

const [R, C, N, T] = [37, 3, 50, 4];
const rng = new Rng(7);
const sourceValues = Float32Array.from(rng.normals(R * C));
const index = Int32Array.from({ length: N * T }, () => Math.floor(rng.uniform() * R)); // repeats: taps share rows
const weight = Float32Array.from({ length: N * T }, () => rng.uniform() * 2 - 1);
const cotangent = Float32Array.from(rng.normals(N * C));

/** The value, its gradient for the source, and the gradient of ‖∇ f‖² with f = Σ u · mixRows(s)² (second order). */
function chain(backend: string): Float32Array[] {
  tf.setBackend(backend);
  const s = tf.tensor2d(sourceValues, [R, C]);
  const u = tf.tensor2d(cotangent, [N, C]);
  const f = (v: tf.Tensor) => tf.sum(tf.mul(u, tf.square(mixRows(v as tf.Tensor2D, index, weight, T)))) as tf.Scalar;
  const r1 = (v: tf.Tensor) => tf.sum(tf.square(tf.grad(f)(v))) as tf.Scalar;
  const out = tf.tidy(() => [mixRows(s, index, weight, T), tf.grad(f)(s), tf.grad(r1)(s)].map((t) => t.dataSync() as Float32Array));
  tf.dispose([s, u]);
  return out;
}

test('mixRows: the definition, on every backend', () => {
  for (const backend of ['cpu', info.name]) {
    tf.setBackend(backend);
    const got = tf.tidy(() => mixRows(tf.tensor2d(sourceValues, [R, C]), index, weight, T).dataSync());
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        let want = 0;
        for (let t = 0; t < T; t++) want += weight[n * T + t] * sourceValues[index[n * T + t] * C + c];
        assert.ok(Math.abs(got[n * C + c] - want) <= 1e-5 * (1 + Math.abs(want)), `${backend} [${n}, ${c}]: ${got[n * C + c]} vs ${want}`);
      }
    }
  }
});

test('TapMix and TapScatter on aten: value, gradient and second-order gradient match the cpu backend', { skip }, () => {
  assert.ok(tf.getKernel(TAP_MIX_KERNEL, 'aten'), 'aten registers TapMix');
  const cpu = chain('cpu');
  const aten = chain('aten');
  ['value', 'gradient', 'second order'].forEach((what, i) => {
    assert.equal(aten[i].length, cpu[i].length, what);
    const scale = Math.max(1, ...Array.from(cpu[i], Math.abs));
    for (let k = 0; k < cpu[i].length; k++) assert.ok(Math.abs(aten[i][k] - cpu[i][k]) <= 1e-5 * scale, `${what}[${k}]: aten ${aten[i][k]} vs cpu ${cpu[i][k]}`);
  });
});

test('TapMix on aten: no tensor left behind, and an index out of range is an error naming it', { skip }, () => {
  tf.setBackend('aten');
  const s = tf.tensor2d(sourceValues, [R, C]);
  chain('aten');
  tf.setBackend('aten');
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    tf.grad((v: tf.Tensor) => tf.sum(mixRows(v as tf.Tensor2D, index, weight, T)))(s);
  });
  assert.equal(tf.memory().numTensors, before);
  const bad = Int32Array.from(index);
  bad[5] = R;
  assert.throws(() => tf.tidy(() => {
    mixRows(s, bad, weight, T);
  }), /TapMix.*index out of range: each must be in \[0, 37\), got 37/);
  s.dispose();
});
