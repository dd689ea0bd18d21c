// BatchNormTraining (+ its gradient), aten's fused batch norm with the batch's own statistics, against the same
// normalisation composed of tfjs ops (tf.moments then tf.batchNorm, as tfjs-layers trains) on cpu: forward, the
// gradients of x, scale and offset through y and through the returned statistics, and second order (the composed
// closed form aten runs where the gradient is itself differentiated), plus finite differences of the native gradient.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchesCpu, rand, setup, tf } from './helpers.js';

await setup();

/** [y, mean, variance] over every axis but the last. */
function batchNormTraining(x: tf.Tensor, scale: tf.Tensor, offset: tf.Tensor, epsilon: number): tf.Tensor[] {
  if (tf.getBackend() === 'aten') return tf.engine().runKernel('BatchNormTraining', { x, scale, offset }, { epsilon }) as tf.Tensor[];
  const { mean, variance } = tf.moments(x, x.shape.slice(0, -1).map((_, i) => i));
  return [tf.batchNorm(x, mean, variance, offset, scale, epsilon), mean, variance];
}

const CASES: [number[], number][] = [[[16, 4, 4, 8], 1e-5], [[3, 5, 7, 6], 1e-3], [[5, 11], 1e-5], [[1, 2, 3, 40], 1e-5]];

test('BatchNormTraining forward and gradients match tf.moments + tf.batchNorm on cpu', async () => {
  for (const [shape, eps] of CASES) {
    const c = shape[shape.length - 1];
    const x = rand(shape, -2, 3), w = rand(shape), g = rand([c], 0.5, 1.5), b = rand([c]), wm = rand([c]), wv = rand([c]);
    const label = `batchNormTraining ${shape} ε=${eps}`;
    const xt = () => tf.tensor(x, shape), gt = () => tf.tensor(g, [c]), bt = () => tf.tensor(b, [c]);
    await matchesCpu(label, () => batchNormTraining(xt(), gt(), bt(), eps), 2e-5);
    // A loss non-linear in y (so dy varies) that also uses the statistics (their gradients reach x).
    const loss = (a: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => {
      const [y, mean, variance] = batchNormTraining(a, s, o, eps);
      return tf.addN([tf.sum(tf.mul(tf.square(y), tf.tensor(w, shape))), tf.sum(tf.mul(mean, tf.tensor(wm, [c]))),
        tf.sum(tf.mul(variance, tf.tensor(wv, [c])))]);
    };
    await matchesCpu(`${label} grads`, () => tf.grads(loss)([xt(), gt(), bt()]), 2e-4);
    // Only y used: the statistics' gradients are zeros, as when tfjs-layers' moving averages are the only readers.
    const yOnly = (a: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => tf.sum(tf.mul(tf.square(batchNormTraining(a, s, o, eps)[0]), tf.tensor(w, shape)));
    await matchesCpu(`${label} grads of y`, () => tf.grads(yOnly)([xt(), gt(), bt()]), 2e-4);
    // Differentiating the gradient again (a gradient penalty through a batch-normed D) takes the composed path.
    await matchesCpu(`${label} 2nd order`, () => tf.grad((a: tf.Tensor) => tf.sum(tf.square(tf.grads(loss)([a, gt(), bt()])[0])))(xt()), 1e-3);
  }
});

test('BatchNormTraining gradient on aten matches central finite differences', async () => {
  await tf.setBackend('aten');
  const shape = [4, 3, 2, 5], eps = 1e-3, h = 1e-2;
  const x = rand(shape, -2, 3), w = rand(shape), g = rand([5], 0.5, 1.5), b = rand([5]);
  const f = (a: tf.Tensor) => tf.tidy(() => tf.sum(tf.mul(tf.square(batchNormTraining(a, tf.tensor(g, [5]), tf.tensor(b, [5]), eps)[0]), tf.tensor(w, shape))));
  const grad = tf.tidy(() => tf.grad(f)(tf.tensor(x, shape)).dataSync());
  for (const i of [0, 7, 19, 64, 119]) {
    const at = (d: number) => { const v = Float32Array.from(x); v[i] += d; return tf.tidy(() => f(tf.tensor(v, shape)).dataSync()[0]); };
    const numeric = (at(h) - at(-h)) / (2 * h);
    assert.ok(Math.abs(grad[i] - numeric) <= 2e-2 * Math.max(1, Math.abs(numeric)), `dx[${i}]: ${grad[i]} vs ${numeric}`);
  }
});
