import { test } from 'node:test';
import assert from 'node:assert/strict';
import '@tensorflow/tfjs-layers'; // registers gradients for tf.grad in Node
import * as tf from '@tensorflow/tfjs-core';
import { gatherRows, scatterAddRows } from '../../src/nn/gather_rows.js';
import { initBackend } from '../../src/backend/index.js';

await initBackend({ quiet: true });
const backends = ['cpu', ...(tf.findBackend('aten') ? ['aten'] : [])];

function close(a: tf.Tensor, b: tf.Tensor, what: string) {
  const x = a.dataSync();
  const y = b.dataSync();
  assert.deepEqual(a.shape, b.shape, what);
  for (let i = 0; i < x.length; i++) assert.ok(Math.abs(x[i]! - y[i]!) <= 1e-5 * (1 + Math.abs(y[i]!)), `${what}[${i}]: ${x[i]} vs ${y[i]}`);
}

for (const backend of backends) {
  test(`[${backend}] gatherRows equals tf.gather, and its gradient sums repeated rows like tf.gather's`, async () => {
    await tf.setBackend(backend);
    const x = tf.randomNormal([5, 3], 0, 1, 'float32', 1) as tf.Tensor2D;
    const index = tf.tensor1d([4, 0, 4, 2, 4, 0, 1], 'int32');
    const w = tf.randomNormal([7, 3], 0, 1, 'float32', 2);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      close(gatherRows(x, index), tf.gather(x, index), 'value');
      const ours = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(gatherRows(t as tf.Tensor2D, index), w)))(x);
      const theirs = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, index), w)))(x);
      close(ours, theirs, 'gradient');
      // Row 3 is never read: its gradient is exactly zero.
      assert.deepEqual(Array.from(tf.slice(ours, [3, 0], [1, 3]).dataSync()), [0, 0, 0]);
    });
    assert.equal(tf.memory().numTensors, before, 'no tensors leak');
    tf.dispose([x, index, w]);
  });

  test(`[${backend}] scatterAddRows is gatherRows's transpose, and second derivatives flow through the pair`, async () => {
    await tf.setBackend(backend);
    const index = tf.tensor1d([1, 3, 1, 0], 'int32');
    const u = tf.randomNormal([4, 2], 0, 1, 'float32', 3) as tf.Tensor2D;
    const v = tf.randomNormal([4, 2], 0, 1, 'float32', 4) as tf.Tensor2D;
    tf.tidy(() => {
      // <scatter(u), v'> = <u, gather(v')> for every v' with 4 rows.
      const s = scatterAddRows(u, index, 4);
      assert.deepEqual(Array.from(s.dataSync()).map((a) => +a.toFixed(5)), (() => {
        const out = new Array(8).fill(0);
        const uu = u.dataSync();
        [1, 3, 1, 0].forEach((r, i) => { out[2 * r] += uu[2 * i]!; out[2 * r + 1] += uu[2 * i + 1]!; });
        return out.map((a: number) => +a.toFixed(5));
      })());
      close(tf.sum(tf.mul(s, v)), tf.sum(tf.mul(u, gatherRows(v, index))), 'adjoint identity');
      // f(x) = Σ gather(x)³ has Hessian-vector product 6·scatter(gather(x)·gather(d)); compare with its closed form.
      const x = tf.randomNormal([4, 2], 0, 1, 'float32', 5) as tf.Tensor2D;
      const d = tf.randomNormal([4, 2], 0, 1, 'float32', 6) as tf.Tensor2D;
      const hvp = tf.grad((t: tf.Tensor) => {
        const g = tf.grad((y: tf.Tensor) => tf.sum(tf.pow(gatherRows(y as tf.Tensor2D, index), 3)))(t);
        return tf.sum(tf.mul(g, d));
      })(x);
      const closed = tf.mul(6, scatterAddRows(tf.mul(gatherRows(x, index), gatherRows(d, index)) as tf.Tensor2D, index, 4));
      close(hvp, closed, 'Hessian-vector product');
    });
    tf.dispose([index, u, v]);
  });
}
