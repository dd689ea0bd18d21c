import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { matchesCpu, rand, randInt, setup, tf } from './helpers.js';

before(setup);
const run = (name: string, inputs: tf.NamedTensorMap, attrs: Record<string, unknown> = {}) =>
  tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;

// Inputs inside each op's domain, odd shape.
const DOMAIN: Record<string, [number, number]> = {
  Acos: [-0.99, 0.99], Asin: [-0.99, 0.99], Atanh: [-0.99, 0.99], Acosh: [1.01, 4], Log: [0.01, 5], Sqrt: [0.01, 5],
  Rsqrt: [0.05, 5], Reciprocal: [0.1, 3], Log1p: [-0.9, 5],
};
const UNARY = ['Abs', 'Acos', 'Acosh', 'Asin', 'Asinh', 'Atan', 'Atanh', 'Ceil', 'Cos', 'Cosh', 'Elu', 'Erf', 'Exp', 'Expm1',
  'Floor', 'IsFinite', 'IsInf', 'IsNan', 'Log', 'Log1p', 'Neg', 'Reciprocal', 'Relu', 'Relu6', 'Round', 'Rsqrt', 'Selu',
  'Sigmoid', 'Sign', 'Sin', 'Sinh', 'Softplus', 'Sqrt', 'Square', 'Tan', 'Tanh'];

test('unary kernels (float32) match cpu', async () => {
  for (const op of UNARY) {
    const [lo, hi] = DOMAIN[op] ?? [-8, 8];
    const v = rand([3, 7, 5], lo, hi);
    await matchesCpu(op, () => run(op, { x: tf.tensor(v, [3, 7, 5]) }));
  }
  const special = [NaN, Infinity, -Infinity, 0, -2.5, 2.5, 0.5, 1.5];
  for (const op of ['IsNan', 'IsInf', 'IsFinite', 'Round', 'Relu', 'Abs', 'Neg']) {
    await matchesCpu(`${op} special`, () => run(op, { x: tf.tensor(special) }));
  }
});

test('unary kernels with attributes and int32 inputs', async () => {
  const v = rand([4, 9], -10, 10);
  await matchesCpu('LeakyRelu', () => run('LeakyRelu', { x: tf.tensor(v, [4, 9]) }, { alpha: 0.2 }));
  await matchesCpu('Step', () => run('Step', { x: tf.tensor([...v, NaN]) }, { alpha: 0.3 }));
  await matchesCpu('ClipByValue', () => run('ClipByValue', { x: tf.tensor(v) }, { clipValueMin: -2, clipValueMax: 3.5 }));
  const iv = randInt([13], -9, 9);
  for (const op of ['Abs', 'Neg', 'Square', 'Relu', 'Sign', 'Exp', 'Sqrt']) {
    await matchesCpu(`${op} int32`, () => run(op, { x: tf.tensor(op === 'Sqrt' ? iv.map(Math.abs) : iv, [13], 'int32') }));
  }
  await matchesCpu('LogicalNot', () => run('LogicalNot', { x: tf.tensor([1, 0, 1, 1], [4], 'bool') }));
});

const ARITH = ['Add', 'Sub', 'Multiply', 'RealDiv', 'Maximum', 'Minimum', 'Pow', 'SquaredDifference', 'FloorDiv', 'Mod', 'Atan2'];
const COMPARE = ['Equal', 'NotEqual', 'Less', 'LessEqual', 'Greater', 'GreaterEqual'];

test('binary kernels broadcast like cpu (float32)', async () => {
  const shapes: [number[], number[]][] = [[[3, 1, 5], [4, 1]], [[2, 3], [2, 3]], [[5], []], [[1], [3, 5]]];
  for (const [sa, sb] of shapes) {
    const a = rand(sa, 0.5, 3), b = rand(sb, -2, 2);
    for (const op of [...ARITH, ...COMPARE]) {
      const bv = op === 'Pow' || op === 'FloorDiv' || op === 'Mod' || op === 'RealDiv' ? b.map((x) => (Math.abs(x) < 0.1 ? 0.5 : x)) : b;
      await matchesCpu(`${op} ${sa}x${sb}`, () => run(op, { a: tf.tensor(a, sa), b: tf.tensor(bv, sb) }));
    }
  }
});

test('binary kernels on int32 and bool', async () => {
  const a = randInt([4, 6], -20, 20), b = randInt([6], 1, 7);
  for (const op of ['Add', 'Sub', 'Multiply', 'Maximum', 'Minimum', 'FloorDiv', 'Mod', 'SquaredDifference', ...COMPARE]) {
    await matchesCpu(`${op} int32`, () => run(op, { a: tf.tensor(a, [4, 6], 'int32'), b: tf.tensor(b, [6], 'int32') }));
  }
  const pa = randInt([7], -4, 4), pb = randInt([7], 0, 4);
  await matchesCpu('Pow int32', () => run('Pow', { a: tf.tensor(pa, [7], 'int32'), b: tf.tensor(pb, [7], 'int32') }));
  const p = tf.tensor([1, 0, 1, 0], [4], 'bool'), q = [1, 1, 0, 0];
  for (const op of ['LogicalAnd', 'LogicalOr', 'Equal', 'NotEqual']) {
    await matchesCpu(op, () => run(op, { a: tf.tensor(p.dataSync(), [4], 'bool'), b: tf.tensor(q, [4], 'bool') }));
  }
  p.dispose();
  // LogicalXor has no CPU kernel to compare with.
  await tf.setBackend('aten');
  const xor = tf.tidy(() => run('LogicalXor', { a: tf.tensor([1, 0, 1, 0], [4], 'bool'), b: tf.tensor(q, [4], 'bool') }).dataSync());
  assert.deepEqual(Array.from(xor), [0, 1, 1, 0]);
});

test('Prelu, Select, AddN, Cast, EluGrad', async () => {
  const x = rand([2, 5, 3], -3, 3), alpha = rand([3], 0, 0.5);
  await matchesCpu('Prelu', () => run('Prelu', { x: tf.tensor(x, [2, 5, 3]), alpha: tf.tensor(alpha, [3]) }));
  const c = Array.from({ length: 10 }, (_, i) => i % 3 === 0 ? 1 : 0);
  await matchesCpu('Select', () => tf.where(tf.tensor(c, [2, 5], 'bool'), tf.tensor(x.slice(0, 10), [2, 5]), tf.tensor(alpha.slice(0, 1))));
  // A rank-1 condition selects whole rows (tfjs's documented semantics; the CPU kernel
  // repeats the first element of each row instead, so compare with the expected values).
  await tf.setBackend('aten');
  const rows = tf.tidy(() => run('Select', { condition: tf.tensor([1, 0], [2], 'bool'), t: tf.tensor(x.slice(0, 10), [2, 5]), e: tf.zeros([2, 5]) }).dataSync());
  assert.deepEqual(Array.from(rows), [...Array.from(x.slice(0, 5)), 0, 0, 0, 0, 0]);
  await matchesCpu('AddN', () => tf.addN([tf.tensor(x, [2, 5, 3]), tf.tensor(x, [2, 5, 3]), tf.ones([2, 5, 3])]));
  for (const [from, to] of [['float32', 'int32'], ['float32', 'bool'], ['int32', 'float32'], ['bool', 'float32'], ['int32', 'bool']] as const) {
    const vals = from === 'bool' ? [1, 0, 1] : from === 'int32' ? [0, -3, 7] : [-2.7, 0, 3.9];
    await matchesCpu(`Cast ${from}->${to}`, () => tf.cast(tf.tensor(vals, [3], from), to));
  }
  await matchesCpu('EluGrad', () => tf.grad((t: tf.Tensor) => tf.elu(t))(tf.tensor(x, [2, 5, 3])));
});

test('gradients of elementwise ops match cpu', async () => {
  const x = rand([3, 4], 0.2, 2), y = rand([4], 0.5, 1.5);
  const fs: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
    ['mul/add', (a, b) => tf.add(tf.mul(a, b), a)],
    ['div/sub', (a, b) => tf.sub(tf.div(a, b), b)],
    ['pow', (a, b) => tf.pow(a, b)],
    ['max/min', (a, b) => tf.add(tf.maximum(a, tf.mul(a, b)), tf.minimum(tf.mul(a, b), a))],
    ['sqdiff', (a, b) => tf.squaredDifference(a, tf.mul(a, b))],
    ['activations', (a, b) => tf.addN([tf.sigmoid(a), tf.tanh(tf.mul(a, b)), tf.softplus(a), tf.leakyRelu(a, 0.2), tf.relu6(a), tf.selu(a)])],
    ['log/exp/sqrt', (a, b) => tf.addN([tf.log(a), tf.exp(tf.mul(a, b)), tf.sqrt(a), tf.rsqrt(a), tf.square(tf.sub(a, b))])],
  ];
  for (const [name, f] of fs) {
    await matchesCpu(`grad ${name}`, () => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(f(a, b)))([tf.tensor(x, [3, 4]), tf.tensor(y, [4])]));
  }
});
