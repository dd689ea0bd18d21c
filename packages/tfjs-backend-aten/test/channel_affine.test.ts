// ChannelAffine (+ its gradient), aten's per-sample, per-channel γ·x + β, against the same map composed of tfjs ops
// on cpu: forward, the gradients of x, γ and β, and second order (the composed gradient aten runs where it is itself
// differentiated).
import { test } from 'node:test';
import { matchesCpu, rand, setup, tf } from './helpers.js';

await setup();

function channelAffine(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor {
  if (tf.getBackend() === 'aten') return tf.engine().runKernel('ChannelAffine', { x, gamma, beta }) as tf.Tensor;
  const [b, c] = gamma.shape;
  return tf.add(tf.mul(x, tf.reshape(gamma, [b, 1, 1, c])), tf.reshape(beta, [b, 1, 1, c]));
}

test('ChannelAffine forward, gradients and second-order gradient match the composed ops on cpu', async () => {
  for (const shape of [[4, 5, 3, 6], [2, 8, 8, 64], [1, 1, 1, 3]]) {
    const [b, , , c] = shape;
    const x = rand(shape, -2, 2), w = rand(shape), g = rand([b, c]), be = rand([b, c]);
    const inputs = () => [tf.tensor(x, shape), tf.tensor(g, [b, c]), tf.tensor(be, [b, c])];
    const label = `channelAffine ${shape}`;
    await matchesCpu(label, () => channelAffine(...(inputs() as [tf.Tensor, tf.Tensor, tf.Tensor])), 1e-5);
    const loss = (a: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => tf.sum(tf.mul(tf.square(channelAffine(a, s, o)), tf.tensor(w, shape)));
    await matchesCpu(`${label} grads`, () => tf.grads(loss)(inputs()), 1e-4);
    await matchesCpu(`${label} 2nd order`, () => {
      const [, s, o] = inputs();
      return tf.grad((a: tf.Tensor) => tf.sum(tf.square(tf.grads(loss)([a, s, o])[1])))(inputs()[0]);
    }, 1e-3);
  }
});
