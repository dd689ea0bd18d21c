// GruSequence (a masked GRU over a whole sequence in one native call) and its gradient, against a step-by-step GRU
// composed of tfjs ops on the cpu backend (tfjs-layers' GRUCell math: gates z, r, h; the candidate reads r·h
// through the last H columns of the recurrent kernel; padded steps hold the state), on both native paths (the CPU
// loop and the ATen-op path other devices run), forwards and backwards in time, sigmoid and hardSigmoid gates,
// binary and fractional masks; and against finite differences.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { atenFallbackKernels } from 'tfjs-backend-aten';
import { rand, runOn, setup, tf } from './helpers.js';

await setup();

interface Case { b: number; t: number; e: number; h: number; reverse: boolean; hard: boolean; mask: number[] }

/** The oracle: tfjs-layers' GRUCell step and rnn() masking, written out in ops; y in processing order. */
function gruOps(x: tf.Tensor3D, kernel: tf.Tensor2D, recurrent: tf.Tensor2D, bias: tf.Tensor1D, mask: tf.Tensor2D,
  reverse: boolean, hard: boolean): tf.Tensor3D {
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
}

function inputs(c: Case) {
  return {
    x: rand([c.b, c.t, c.e]), kernel: rand([c.e, 3 * c.h], -0.6, 0.6), recurrent: rand([c.h, 3 * c.h], -0.6, 0.6),
    bias: rand([3 * c.h], -0.5, 0.5), weights: rand([c.b, c.t, c.h]),
  };
}

type Gru = (x: tf.Tensor3D, k: tf.Tensor2D, r: tf.Tensor2D, bias: tf.Tensor1D) => tf.Tensor3D;

/** y and the gradients of Σ y·w with respect to x, kernel, recurrent kernel and bias. */
function forwardBackward(c: Case, v: ReturnType<typeof inputs>, f: Gru) {
  return () => {
    const args = [tf.tensor3d(v.x, [c.b, c.t, c.e]), tf.tensor2d(v.kernel, [c.e, 3 * c.h]), tf.tensor2d(v.recurrent, [c.h, 3 * c.h]),
      tf.tensor1d(v.bias)] as const;
    const w = tf.tensor3d(v.weights, [c.b, c.t, c.h]);
    const loss = (...a: tf.Tensor[]) => tf.sum(tf.mul(f(...(a as unknown as typeof args)), w));
    return [f(...args), ...tf.grads(loss)([...args])];
  };
}

function native(c: Case, generic: boolean): Gru {
  return (x, kernel, recurrentKernel, bias) =>
    (tf.engine().runKernel('GruSequence', { x, kernel, recurrentKernel, bias, mask: tf.tensor2d(c.mask, [c.b, c.t]) },
      { goBackwards: c.reverse, recurrentActivation: c.hard ? 'hardSigmoid' : 'sigmoid', generic }) as tf.Tensor[])[0] as tf.Tensor3D;
}

/** Padding at the end of each row (lengths). */
const lengths = (t: number, ls: number[]) => ls.flatMap((l) => Array.from({ length: t }, (_, s) => (s < l ? 1 : 0)));

const CASES: Case[] = [
  { b: 3, t: 5, e: 4, h: 3, reverse: false, hard: false, mask: lengths(5, [5, 2, 0]) },
  { b: 3, t: 5, e: 4, h: 3, reverse: true, hard: false, mask: lengths(5, [5, 2, 0]) },
  { b: 2, t: 6, e: 7, h: 5, reverse: false, hard: true, mask: lengths(6, [3, 6]) },
  { b: 2, t: 6, e: 7, h: 5, reverse: true, hard: true, mask: lengths(6, [3, 6]) },
  { b: 1, t: 1, e: 2, h: 1, reverse: true, hard: false, mask: [1] },
  { b: 1, t: 7, e: 3, h: 4, reverse: false, hard: false, mask: lengths(7, [7]) },
  // A fractional mask blends the states (tfjs-layers' rnn() computes h·m + h_prev·(1 − m) for any m).
  { b: 2, t: 4, e: 3, h: 2, reverse: false, hard: false, mask: [1, 0.3, 0.8, 0, 0.5, 1, 0, 1] },
];

test('GruSequence and its gradient match a step-by-step GRU of tfjs ops on cpu, on both native paths', async () => {
  for (const c of CASES) {
    const v = inputs(c);
    const expected = await runOn('cpu', forwardBackward(c, v, (x, k, r, bias) => gruOps(x, k, r, bias, tf.tensor2d(c.mask, [c.b, c.t]), c.reverse, c.hard)));
    for (const generic of [false, true]) {
      const label = `${JSON.stringify({ ...c, mask: undefined })} generic=${generic}`;
      const got = await runOn('aten', forwardBackward(c, v, native(c, generic)));
      ['y', 'dx', 'dKernel', 'dRecurrent', 'dBias'].forEach((name, i) => {
        assert.deepEqual(got[i].shape, expected[i].shape, `${label} ${name} shape`);
        got[i].values.forEach((a, k) =>
          assert.ok(Math.abs(a - expected[i].values[k]) <= 1e-5 * Math.max(1, Math.abs(expected[i].values[k])), `${label} ${name}[${k}]: ${a} vs ${expected[i].values[k]}`));
      });
    }
  }
});

test('GruSequence gradient agrees with central finite differences (float32, a few coordinates of each input)', async () => {
  const c: Case = { b: 2, t: 4, e: 3, h: 2, reverse: true, hard: false, mask: lengths(4, [4, 3]) };
  const v = inputs(c);
  const [, ...grads] = await runOn('aten', forwardBackward(c, v, native(c, false)));
  const loss = (vals: ReturnType<typeof inputs>) => tf.tidy(() => tf.sum(tf.mul(native(c, false)(tf.tensor3d(vals.x, [c.b, c.t, c.e]),
    tf.tensor2d(vals.kernel, [c.e, 3 * c.h]), tf.tensor2d(vals.recurrent, [c.h, 3 * c.h]), tf.tensor1d(vals.bias)),
    tf.tensor3d(vals.weights, [c.b, c.t, c.h]))).dataSync()[0]);
  const eps = 1e-2;
  (['x', 'kernel', 'recurrent', 'bias'] as const).forEach((name, g) => {
    for (const k of [0, 5, v[name].length - 1]) {
      const plus = { ...v, [name]: v[name].slice() }, minus = { ...v, [name]: v[name].slice() };
      plus[name][k] += eps;
      minus[name][k] -= eps;
      const numeric = (loss(plus) - loss(minus)) / (2 * eps);
      assert.ok(Math.abs(grads[g].values[k] - numeric) <= 2e-3 * Math.max(1, Math.abs(numeric)), `d${name}[${k}]: ${grads[g].values[k]} vs ${numeric}`);
    }
  });
});

test('GruSequence forward and gradient run natively and free what they make', async () => {
  const c: Case = { b: 4, t: 6, e: 5, h: 3, reverse: true, hard: false, mask: lengths(6, [6, 4, 1, 2]) };
  const v = inputs(c);
  await tf.setBackend('aten');
  const before = new Set(atenFallbackKernels());
  const run = forwardBackward(c, v, native(c, false));
  tf.dispose(tf.tidy(run));
  const tensors = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) tf.dispose(tf.tidy(run));
  assert.equal(tf.memory().numTensors, tensors);
  assert.deepEqual(atenFallbackKernels().filter((k) => !before.has(k)), []);
  assert.throws(() => tf.engine().runKernel('GruSequence', { x: tf.zeros([2, 3, 4]), kernel: tf.zeros([4, 6]),
    recurrentKernel: tf.zeros([3, 9]), bias: tf.zeros([9]), mask: tf.ones([2, 3]) }, {}), /aten GruSequence: kernel must be \[4, 9\]/);
  assert.throws(() => tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(tf.grad((y: tf.Tensor) => tf.sum(native(c, false)(y as tf.Tensor3D,
    tf.tensor2d(v.kernel, [c.e, 3 * c.h]), tf.tensor2d(v.recurrent, [c.h, 3 * c.h]), tf.tensor1d(v.bias))))(x)))(tf.tensor3d(v.x, [c.b, c.t, c.e]))),
  /GruSequence has first-order gradients only/);
});
