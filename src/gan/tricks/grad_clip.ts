import * as tf from '@tensorflow/tfjs-core';

/**
 * Gradient clipping by global norm (Pascanu, Mikolov & Bengio 2013, "On the difficulty of training recurrent
 * neural networks", §3.2): if the gradients of all of a player's variables together have norm ‖g‖ > c, scale
 * them by c/‖g‖, keeping their direction. `optimizer.minimize` cannot clip, so the gradients are computed,
 * clipped and applied here. Returns the loss and the norm before clipping; the caller disposes the loss.
 *
 * @example
 * const { value, norm } = minimizeClipped(opt.d, () => lossD(), vars, 1);
 */
export function minimizeClipped(optimizer: tf.Optimizer, f: () => tf.Scalar, vars: tf.Variable[], maxNorm: number): { value: tf.Scalar; norm: number } {
  const { value, grads } = optimizer.computeGradients(f, vars);
  const names = Object.keys(grads);
  const normT = tf.tidy(() => tf.sqrt(tf.addN(names.map((n) => tf.sum(tf.square(grads[n]))))));
  const norm = normT.dataSync()[0];
  const scale = norm > maxNorm ? maxNorm / norm : 1;
  const clipped: tf.NamedTensorMap = scale === 1 ? grads : tf.tidy(() => Object.fromEntries(names.map((n) => [n, tf.mul(grads[n], scale)])));
  optimizer.applyGradients(clipped);
  tf.dispose([normT, ...Object.values(grads), ...(clipped === grads ? [] : Object.values(clipped))]);
  return { value, norm };
}
