// LstmSequence (a masked LSTM over a whole sequence in one native call) and its gradient, against a step-by-step
// LSTM composed of tfjs ops on the cpu backend (tfjs-layers' math: gates i, f, g, o; padded steps hold the
// state), on both native paths (the CPU loop and the ATen-op path other devices run), forwards and backwards in
// time, sigmoid and hardSigmoid gates, binary and fractional masks; and against finite differences.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setup, tf } from './helpers.js';
import { CASES, matchesFiniteDifferences, matchesOracle, runsNativelyAndFrees, type Oracle, type SequenceKernel } from './sequence_kernels.js';

await setup();

const LSTM: SequenceKernel = { name: 'LstmSequence', gates: 4 };

/** The oracle: tfjs-layers' LSTM step and rnn() masking, written out in ops; y in processing order. */
const lstmOps: Oracle = (x, kernel, recurrent, bias, mask, reverse, hard) => {
  const [b, t] = x.shape, h = recurrent.shape[0];
  const gate = (z: tf.Tensor) => (hard ? tf.clipByValue(tf.add(tf.mul(z, 0.2), 0.5), 0, 1) : tf.sigmoid(z));
  let hs: tf.Tensor = tf.zeros([b, h]), cs: tf.Tensor = tf.zeros([b, h]);
  const ys: tf.Tensor[] = [];
  for (let s = 0; s < t; s++) {
    const step = reverse ? t - 1 - s : s;
    const xt = tf.reshape(tf.slice(x, [0, step, 0], [b, 1, -1]), [b, -1]);
    const m = tf.reshape(tf.slice(mask, [0, step], [b, 1]), [b, 1]);
    const z = tf.add(tf.add(tf.matMul(xt, kernel), tf.matMul(hs, recurrent)), bias);
    const [zi, zf, zg, zo] = tf.split(z, 4, 1);
    const cn = tf.add(tf.mul(gate(zf), cs), tf.mul(gate(zi), tf.tanh(zg)));
    const hn = tf.mul(gate(zo), tf.tanh(cn));
    cs = tf.add(tf.mul(cn, m), tf.mul(cs, tf.sub(1, m)));
    hs = tf.add(tf.mul(hn, m), tf.mul(hs, tf.sub(1, m)));
    ys.push(hs);
  }
  return tf.stack(ys, 1) as tf.Tensor3D;
};

test('LstmSequence and its gradient match a step-by-step LSTM of tfjs ops on cpu, on both native paths', async () => {
  await matchesOracle(LSTM, lstmOps, CASES);
});

test('LstmSequence gradient agrees with central finite differences (float32, a few coordinates of each input)', async () => {
  await matchesFiniteDifferences(LSTM);
});

test('LstmSequence forward and gradient run natively and free what they make', async () => {
  await runsNativelyAndFrees(LSTM);
  assert.throws(() => tf.engine().runKernel('LstmSequence', { x: tf.zeros([2, 3, 4]), kernel: tf.zeros([4, 8]),
    recurrentKernel: tf.zeros([3, 12]), bias: tf.zeros([12]), mask: tf.ones([2, 3]) }, {}), /aten LstmSequence: kernel must be \[4, 12\]/);
});
