// GatedLinearUnit (+ its gradient), aten's a ⊙ σ(b) over x's two halves along the last axis, against the same unit
// composed of tfjs ops on cpu (forward, gradient) and against finite differences of that gradient (second order: the
// composed gradient aten runs where it is itself differentiated). tfjs's own second order through a sigmoid is no
// oracle: its gradient reads a saved copy of the output that a gradient of the gradient cannot trace back to.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchesCpu, rand, setup, tf } from './helpers.js';

await setup();

function glu(x: tf.Tensor): tf.Tensor {
  if (tf.getBackend() === 'aten') return tf.engine().runKernel('GatedLinearUnit', { x }) as tf.Tensor;
  const [a, b] = tf.split(x, 2, -1);
  return tf.mul(a, tf.sigmoid(b));
}

test('GatedLinearUnit forward, gradient and second-order gradient match the composed ops on cpu', async () => {
  for (const shape of [[3, 10], [2, 4, 4, 16], [2, 8, 8, 128], [1, 2]]) {
    const half = [...shape.slice(0, -1), shape[shape.length - 1] / 2];
    const x = rand(shape, -6, 6), w = rand(half);
    const label = `glu ${shape}`;
    await matchesCpu(label, () => glu(tf.tensor(x, shape)), 1e-6);
    const loss = (a: tf.Tensor) => tf.sum(tf.mul(tf.square(glu(a)), tf.tensor(w, half)));
    await matchesCpu(`${label} grad`, () => tf.grad(loss)(tf.tensor(x, shape)), 1e-5);
  }
});

test('GatedLinearUnit second order = finite differences of its gradient', async () => {
  await tf.setBackend('aten');
  const shape = [3, 8], half = [3, 4];
  const x = rand(shape, -3, 3), w = rand(half);
  const loss = (a: tf.Tensor) => tf.sum(tf.mul(tf.square(glu(a)), tf.tensor(w, half)));
  const outer = (a: tf.Tensor) => tf.sum(tf.square(tf.grad(loss)(a)));
  const analytic = tf.tidy(() => tf.grad(outer)(tf.tensor(x, shape)).dataSync());
  const h = 1e-2;
  for (let i = 0; i < x.length; i++) {
    const at = (d: number) => tf.tidy(() => {
      const v = Float32Array.from(x);
      v[i] += d;
      return outer(tf.tensor(v, shape)).dataSync()[0];
    });
    const numeric = (at(h) - at(-h)) / (2 * h);
    assert.ok(Math.abs(analytic[i] - numeric) <= 2e-2 * Math.max(1, Math.abs(numeric)), `x[${i}]: ${analytic[i]} vs ${numeric}`);
  }
});

test('GatedLinearUnit refuses an odd last axis, naming the shape', async () => {
  await tf.setBackend('aten');
  tf.tidy(() => {
    const x = tf.ones([2, 3]);
    let message = '';
    try { tf.engine().runKernel('GatedLinearUnit', { x }); } catch (e) { message = (e as Error).message; }
    if (!/GatedLinearUnit.*even.*\[2, 3\]/.test(message)) throw new Error(`unexpected: ${message}`);
  });
});
