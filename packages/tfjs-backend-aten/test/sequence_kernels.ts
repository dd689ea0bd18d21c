// Shared plumbing of the fused recurrent kernels' tests (GruSequence, LstmSequence): random inputs, the forward
// and backward pass under test, the native kernel call, and the checks both kernels pass: a step-by-step oracle
// of tfjs ops on cpu, central finite differences, and a native run that frees what it makes.
import assert from 'node:assert/strict';
import { atenFallbackKernels } from 'tfjs-backend-aten';
import { rand, runOn, tf } from './helpers.js';

export interface Case { b: number; t: number; e: number; h: number; reverse: boolean; hard: boolean; mask: number[] }

/** A fused recurrent kernel: its name and how many gate blocks its kernels hold per hidden unit (GRU 3, LSTM 4). */
export interface SequenceKernel { name: 'GruSequence' | 'LstmSequence'; gates: number }

/** A sequence layer as the checks call it: y of x under kernel, recurrent kernel and bias. */
export type Sequence = (x: tf.Tensor3D, k: tf.Tensor2D, r: tf.Tensor2D, bias: tf.Tensor1D) => tf.Tensor3D;

/** The oracle: the layer's step and rnn() masking, written out in ops; y in processing order. */
export type Oracle = (x: tf.Tensor3D, kernel: tf.Tensor2D, recurrent: tf.Tensor2D, bias: tf.Tensor1D, mask: tf.Tensor2D,
  reverse: boolean, hard: boolean) => tf.Tensor3D;

type Inputs = ReturnType<typeof inputs>;

function inputs(c: Case, k: SequenceKernel) {
  return {
    x: rand([c.b, c.t, c.e]), kernel: rand([c.e, k.gates * c.h], -0.6, 0.6), recurrent: rand([c.h, k.gates * c.h], -0.6, 0.6),
    bias: rand([k.gates * c.h], -0.5, 0.5), weights: rand([c.b, c.t, c.h]),
  };
}

/** x, kernel, recurrent kernel and bias of v as tensors. */
const tensors = (c: Case, k: SequenceKernel, v: Inputs) =>
  [tf.tensor3d(v.x, [c.b, c.t, c.e]), tf.tensor2d(v.kernel, [c.e, k.gates * c.h]), tf.tensor2d(v.recurrent, [c.h, k.gates * c.h]), tf.tensor1d(v.bias)] as const;

/** y and the gradients of Σ y·w with respect to x, kernel, recurrent kernel and bias. */
function forwardBackward(c: Case, k: SequenceKernel, v: Inputs, f: Sequence) {
  return () => {
    const args = tensors(c, k, v);
    const w = tf.tensor3d(v.weights, [c.b, c.t, c.h]);
    const loss = (...a: tf.Tensor[]) => tf.sum(tf.mul(f(...(a as unknown as typeof args)), w));
    return [f(...args), ...tf.grads(loss)([...args])];
  };
}

/** The kernel under test, on the CPU loop or (generic) the ATen-op path other devices run. */
export function native(c: Case, k: SequenceKernel, generic: boolean): Sequence {
  return (x, kernel, recurrentKernel, bias) =>
    (tf.engine().runKernel(k.name, { x, kernel, recurrentKernel, bias, mask: tf.tensor2d(c.mask, [c.b, c.t]) },
      { goBackwards: c.reverse, recurrentActivation: c.hard ? 'hardSigmoid' : 'sigmoid', generic }) as tf.Tensor[])[0] as tf.Tensor3D;
}

/** Padding at the end of each row (lengths), as captions have it. */
export const lengths = (t: number, ls: number[]) => ls.flatMap((l) => Array.from({ length: t }, (_, s) => (s < l ? 1 : 0)));

/** The kernel's y and gradients match the oracle's on cpu, on both native paths, in every case. */
export async function matchesOracle(k: SequenceKernel, oracle: Oracle, cases: Case[]): Promise<void> {
  for (const c of cases) {
    const v = inputs(c, k);
    const expected = await runOn('cpu', forwardBackward(c, k, v, (x, kernel, r, bias) => oracle(x, kernel, r, bias, tf.tensor2d(c.mask, [c.b, c.t]), c.reverse, c.hard)));
    for (const generic of [false, true]) {
      const label = `${JSON.stringify({ ...c, mask: undefined })} generic=${generic}`;
      const got = await runOn('aten', forwardBackward(c, k, v, native(c, k, generic)));
      ['y', 'dx', 'dKernel', 'dRecurrent', 'dBias'].forEach((name, i) => {
        assert.deepEqual(got[i].shape, expected[i].shape, `${label} ${name} shape`);
        got[i].values.forEach((a, j) =>
          assert.ok(Math.abs(a - expected[i].values[j]) <= 1e-5 * Math.max(1, Math.abs(expected[i].values[j])), `${label} ${name}[${j}]: ${a} vs ${expected[i].values[j]}`));
      });
    }
  }
}

/** The kernel's gradient agrees with central finite differences at a few coordinates of each input. */
export async function matchesFiniteDifferences(k: SequenceKernel): Promise<void> {
  const c: Case = { b: 2, t: 4, e: 3, h: 2, reverse: true, hard: false, mask: lengths(4, [4, 3]) };
  const v = inputs(c, k);
  const [, ...grads] = await runOn('aten', forwardBackward(c, k, v, native(c, k, false)));
  const loss = (vals: Inputs) => tf.tidy(() => tf.sum(tf.mul(native(c, k, false)(...tensors(c, k, vals)), tf.tensor3d(vals.weights, [c.b, c.t, c.h]))).dataSync()[0]);
  const eps = 1e-2;
  (['x', 'kernel', 'recurrent', 'bias'] as const).forEach((name, g) => {
    for (const j of [0, 5, v[name].length - 1]) {
      const plus = { ...v, [name]: v[name].slice() }, minus = { ...v, [name]: v[name].slice() };
      plus[name][j] += eps;
      minus[name][j] -= eps;
      const numeric = (loss(plus) - loss(minus)) / (2 * eps);
      assert.ok(Math.abs(grads[g].values[j] - numeric) <= 2e-3 * Math.max(1, Math.abs(numeric)), `d${name}[${j}]: ${grads[g].values[j]} vs ${numeric}`);
    }
  });
}

/**
 * Forward and gradient on aten leave the tensor count flat over repeated runs and fall back to no CPU kernel;
 * returns the case and its inputs' tensors for the kernel's own checks.
 */
export async function runsNativelyAndFrees(k: SequenceKernel): Promise<{ c: Case; args: () => ReturnType<typeof tensors> }> {
  const c: Case = { b: 4, t: 6, e: 5, h: 3, reverse: true, hard: false, mask: lengths(6, [6, 4, 1, 2]) };
  const v = inputs(c, k);
  await tf.setBackend('aten');
  const before = new Set(atenFallbackKernels());
  const run = forwardBackward(c, k, v, native(c, k, false));
  tf.dispose(tf.tidy(run));
  const count = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) tf.dispose(tf.tidy(run));
  assert.equal(tf.memory().numTensors, count);
  assert.deepEqual(atenFallbackKernels().filter((name) => !before.has(name)), []);
  return { c, args: () => tensors(c, k, v) };
}

/** Cases both kernels run: padding at the end, none, all, one step, both directions and gates, a fractional mask. */
export const CASES: Case[] = [
  { b: 3, t: 5, e: 4, h: 3, reverse: false, hard: false, mask: lengths(5, [5, 2, 0]) },
  { b: 3, t: 5, e: 4, h: 3, reverse: true, hard: false, mask: lengths(5, [5, 2, 0]) },
  { b: 2, t: 6, e: 7, h: 5, reverse: false, hard: true, mask: lengths(6, [3, 6]) },
  { b: 2, t: 6, e: 7, h: 5, reverse: true, hard: true, mask: lengths(6, [3, 6]) },
  { b: 1, t: 1, e: 2, h: 1, reverse: true, hard: false, mask: [1] },
  // A fractional mask blends the states (tfjs-layers' rnn() computes h·m + h_prev·(1 − m) for any m).
  { b: 2, t: 4, e: 3, h: 2, reverse: false, hard: false, mask: [1, 0.3, 0.8, 0, 0.5, 1, 0, 1] },
];
