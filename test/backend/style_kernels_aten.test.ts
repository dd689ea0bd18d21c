// aten's StyleGAN2 kernels (Resample2x, BiasAct and its gradient, ChannelScale and ChannelDot; the aten package's
// native/style_ops.cc) against the cpu backend, which composes the same maps from tfjs ops (src/nn): values, first
// gradients and the second-order ones R1 and path-length regularisation take through them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '../../src/nn/second_order_grads.js';
import { initBackend } from '../../src/backend/index.js';
import { biasActivate } from '../../src/nn/equalized.js';
import { scaleChannels } from '../../src/nn/modulated_conv.js';
import { downsample2x, upsample2x } from '../../src/nn/resample.js';
import { Rng } from '../../src/util/rng.js';

const info = await initBackend({ quiet: true });
const skip = info.name !== 'aten' ? 'the aten backend is not built here' : false;

const values = (shape: number[], seed: number) => Array.from(new Rng(seed).normals(shape.reduce((a, b) => a * b, 1)));

/**
 * A chain through all four kernels on one backend: x [2, 6, 8, 21] modulated by s, upsampled, bias + lrelu,
 * downsampled twice, demodulated; returns its value and, for x, s and the bias, the gradients of the value and of
 * ‖∇ₓ value‖² (R1's shape) — the second also differentiates the first's gradient kernels.
 */
function chain(backend: string): Float32Array[] {
  tf.setBackend(backend);
  const x = tf.tensor(values([2, 6, 8, 21], 1), [2, 6, 8, 21]);
  const s = tf.tensor(values([2, 21], 2), [2, 21]);
  const bias = tf.tensor(values([21], 3), [21]);
  const r = tf.tensor(values([2, 3, 4, 21], 4), [2, 3, 4, 21]);
  const f = (xx: tf.Tensor, ss: tf.Tensor, bb: tf.Tensor) => {
    const h = upsample2x(scaleChannels(xx as tf.Tensor4D, ss as tf.Tensor2D));
    const a = biasActivate(h, bb, 'lrelu') as tf.Tensor4D;
    const y = scaleChannels(downsample2x(downsample2x(a)), tf.square(ss) as tf.Tensor2D);
    return tf.sum(tf.mul(y, r)) as tf.Scalar;
  };
  const r1 = (xx: tf.Tensor, ss: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.square(tf.grad((v: tf.Tensor) => f(v, ss, bb))(xx))) as tf.Scalar;
  const out = tf.tidy(() => [f(x, s, bias), ...tf.grads(f)([x, s, bias]), r1(x, s, bias), ...tf.grads(r1)([x, s, bias])].map((t) => t.dataSync() as Float32Array));
  tf.dispose([x, s, bias, r]);
  return out;
}

test('aten style kernels: values, gradients and second-order gradients equal the cpu backend\'s composed ops', { skip }, async () => {
  const cpu = chain('cpu');
  const aten = chain('aten');
  const profile = await tf.profile(() => tf.tidy(() => {
    const x = tf.ones([1, 4, 4, 3]) as tf.Tensor4D;
    return [upsample2x(x), downsample2x(x), biasActivate(x, tf.ones([3]), 'lrelu'), scaleChannels(x, tf.ones([1, 3]) as tf.Tensor2D)];
  }).forEach((t) => t.dispose()));
  for (const k of ['Resample2x', 'BiasAct', 'ChannelScale']) assert.ok(profile.kernelNames.includes(k), `aten runs ${k}`);
  const names = ['f', '∂f/∂x', '∂f/∂s', '∂f/∂bias', 'r1', '∂r1/∂x', '∂r1/∂s', '∂r1/∂bias'];
  cpu.forEach((expected, i) => {
    const actual = aten[i];
    assert.equal(actual.length, expected.length, names[i]);
    const scale = Math.max(1, ...Array.from(expected, Math.abs));
    let worst = 0;
    expected.forEach((e, j) => { worst = Math.max(worst, Math.abs(actual[j] - e)); });
    assert.ok(worst <= 1e-4 * scale, `${names[i]}: largest difference ${worst} (largest value ${scale})`);
  });
});
