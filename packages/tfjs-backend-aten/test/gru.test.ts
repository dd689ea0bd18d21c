// GruSequence (a masked GRU over a whole sequence in one native call) and its gradient, against a step-by-step GRU
// composed of tfjs ops on the cpu backend (tfjs-layers' GRUCell math: gates z, r, h; the candidate reads r·h
// through the last H columns of the recurrent kernel; padded steps hold the state), on both native paths (the CPU
// loop and the ATen-op path other devices run), forwards and backwards in time, sigmoid and hardSigmoid gates,
// binary and fractional masks; and against finite differences.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setup, tf } from './helpers.js';
import { CASES as SEQUENCE_CASES, lengths, matchesFiniteDifferences, matchesOracle, native, runsNativelyAndFrees, type Case, type Oracle, type SequenceKernel } from './sequence_kernels.js';

await setup();

const GRU: SequenceKernel = { name: 'GruSequence', gates: 3 };

/** The oracle: tfjs-layers' GRUCell step and rnn() masking, written out in ops; y in processing order. */
const gruOps: Oracle = (x, kernel, recurrent, bias, mask, reverse, hard) => {
  const [b, t] = x.shape, h = recurrent.shape[0];
  const gate = (z: tf.Tensor) => (hard ? tf.clipByValue(tf.add(tf.mul(z, 0.2), 0.5), 0, 1) : tf.sigmoid(z));
  const [uZr, uH] = tf.split(recurrent, [2 * h, h], 1);
  let hs: tf.Tensor = tf.zeros([b, h]);
  const ys: tf.Tensor[] = [];
  for (let s = 0; s < t; s++) {
    const step = reverse ? t - 1 - s : s;
    const xt = tf.reshape(tf.slice(x, [0, step, 0], [b, 1, -1]), [b, -1]);
    const m = tf.reshape(tf.slice(mask, [0, step], [b, 1]), [b, 1]);
    const [xz, xr, xh] = tf.split(tf.add(tf.matMul(xt, kernel), bias), 3, 1);
    const [rz, rr] = tf.split(tf.matMul(hs, uZr), 2, 1);
    const z = gate(tf.add(xz, rz)), r = gate(tf.add(xr, rr));
    const candidate = tf.tanh(tf.add(xh, tf.matMul(tf.mul(r, hs), uH)));
    const hn = tf.add(tf.mul(z, hs), tf.mul(tf.sub(1, z), candidate));
    hs = tf.add(tf.mul(hn, m), tf.mul(hs, tf.sub(1, m)));
    ys.push(hs);
  }
  return tf.stack(ys, 1) as tf.Tensor3D;
};

const CASES: Case[] = [...SEQUENCE_CASES, { b: 1, t: 7, e: 3, h: 4, reverse: false, hard: false, mask: lengths(7, [7]) }];

test('GruSequence and its gradient match a step-by-step GRU of tfjs ops on cpu, on both native paths', async () => {
  await matchesOracle(GRU, gruOps, CASES);
});

test('GruSequence gradient agrees with central finite differences (float32, a few coordinates of each input)', async () => {
  await matchesFiniteDifferences(GRU);
});

test('GruSequence forward and gradient run natively and free what they make', async () => {
  const { c, args } = await runsNativelyAndFrees(GRU);
  assert.throws(() => tf.engine().runKernel('GruSequence', { x: tf.zeros([2, 3, 4]), kernel: tf.zeros([4, 6]),
    recurrentKernel: tf.zeros([3, 9]), bias: tf.zeros([9]), mask: tf.ones([2, 3]) }, {}), /aten GruSequence: kernel must be \[4, 9\]/);
  assert.throws(() => tf.tidy(() => {
    const [x, kernel, recurrent, bias] = args();
    return tf.grad((x: tf.Tensor) => tf.sum(tf.grad((y: tf.Tensor) => tf.sum(native(c, GRU, false)(y as tf.Tensor3D, kernel, recurrent, bias)))(x)))(x);
  }), /GruSequence has first-order gradients only/);
});
