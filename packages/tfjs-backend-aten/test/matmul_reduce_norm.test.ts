import { before, test } from 'node:test';
import { matchesCpu, rand, randInt, setup, tf } from './helpers.js';

before(setup);

test('BatchMatMul: transposes, batch broadcasting, gradients', async () => {
  const cases: [number[], number[], boolean, boolean][] = [
    [[5, 7], [7, 3], false, false], [[7, 5], [7, 3], true, false], [[5, 7], [3, 7], false, true], [[7, 5], [3, 7], true, true],
    [[4, 5, 7], [4, 7, 2], false, false], [[1, 5, 7], [3, 7, 2], false, false], [[3, 5, 7], [1, 7, 2], false, false],
  ];
  for (const [sa, sb, ta, tb] of cases) {
    const a = rand(sa), b = rand(sb);
    const label = `matmul ${sa}x${sb} ${ta}/${tb}`;
    await matchesCpu(label, () => tf.matMul(tf.tensor(a, sa), tf.tensor(b, sb), ta, tb));
    if (JSON.stringify(sa.slice(0, -2)) === JSON.stringify(sb.slice(0, -2))) {
      await matchesCpu(`${label} grads`, () => tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, y, ta, tb))))([tf.tensor(a, sa), tf.tensor(b, sb)]));
    }
  }
  const ia = randInt([3, 4], -5, 5), ib = randInt([4, 2], -5, 5);
  await matchesCpu('matmul int32', () => tf.matMul(tf.tensor(ia, [3, 4], 'int32'), tf.tensor(ib, [4, 2], 'int32')));
});

test('_FusedMatMul with bias, activations and gradients', async () => {
  const a = rand([6, 5]), b = rand([5, 4]), bias = rand([4]), prelu = rand([4], 0, 0.5);
  for (const activation of ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'] as const) {
    await matchesCpu(`fused matmul ${activation}`, () => tf.fused.matMul({ a: tf.tensor2d(a, [6, 5]), b: tf.tensor2d(b, [5, 4]),
      bias: tf.tensor1d(bias), activation, preluActivationWeights: tf.tensor1d(prelu), leakyreluAlpha: 0.3 }));
  }
  await matchesCpu('fused matmul grads', () => tf.grads((x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) => tf.sum(tf.square(tf.fused.matMul({
    a: x as tf.Tensor2D, b: y as tf.Tensor2D, bias: z, activation: 'relu', transposeB: false }))))([tf.tensor2d(a, [6, 5]), tf.tensor2d(b, [5, 4]), tf.tensor1d(bias)]));
});

test('reductions over axes with keepDims on float32/int32/bool', async () => {
  const x = rand([3, 4, 5]), xi = randInt([3, 4, 5], -9, 9), xb = Array.from(randInt([3, 4, 5], 0, 2));
  for (const axis of [0, 1, [0, 2], -1, [0, 1, 2]]) {
    for (const keepDims of [false, true]) {
      const l = `axis=${axis} keep=${keepDims}`;
      await matchesCpu(`sum ${l}`, () => [tf.sum(tf.tensor(x, [3, 4, 5]), axis, keepDims), tf.sum(tf.tensor(xi, [3, 4, 5], 'int32'), axis, keepDims)]);
      await matchesCpu(`mean ${l}`, () => tf.mean(tf.tensor(x, [3, 4, 5]), axis, keepDims));
      await matchesCpu(`max/min ${l}`, () => [tf.max(tf.tensor(x, [3, 4, 5]), axis, keepDims), tf.min(tf.tensor(xi, [3, 4, 5], 'int32'), axis, keepDims)]);
      await matchesCpu(`prod ${l}`, () => tf.prod(tf.tensor(x, [3, 4, 5]), axis, keepDims));
      await matchesCpu(`all/any ${l}`, () => [tf.all(tf.tensor(xb, [3, 4, 5], 'bool'), axis, keepDims), tf.any(tf.tensor(xb, [3, 4, 5], 'bool'), axis, keepDims)]);
    }
  }
  for (const axis of [0, 1, 2]) {
    await matchesCpu(`argmax/argmin ${axis}`, () => [tf.argMax(tf.tensor(x, [3, 4, 5]), axis), tf.argMin(tf.tensor(x, [3, 4, 5]), axis)]);
  }
  await matchesCpu('reduction grads', () => tf.grad((t: tf.Tensor) => tf.addN([tf.sum(tf.max(t, 1)), tf.sum(tf.mean(t, [0, 2])), tf.sum(tf.min(t, 0))]))(tf.tensor(x, [3, 4, 5])));
});

test('Softmax, logSoftmax, FusedBatchNorm, Cumsum and their gradients', async () => {
  const x = rand([4, 7], -3, 3);
  await matchesCpu('softmax', () => [tf.softmax(tf.tensor2d(x, [4, 7])), tf.logSoftmax(tf.tensor2d(x, [4, 7]))]);
  await matchesCpu('softmax grad', () => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.softmax(t), tf.range(0, 7))))(tf.tensor2d(x, [4, 7])));
  const xs = [2, 3, 3, 5];
  const bx = rand(xs), mean = rand([5]), variance = rand([5], 0.5, 2), offset = rand([5]), scale = rand([5], 0.5, 1.5);
  const bn = (a: tf.Tensor, m: tf.Tensor, v: tf.Tensor, o: tf.Tensor, s: tf.Tensor) => tf.batchNorm(a, m, v, o, s, 1e-3);
  await matchesCpu('batchNorm', () => bn(tf.tensor(bx, xs), tf.tensor(mean), tf.tensor(variance), tf.tensor(offset), tf.tensor(scale)));
  await matchesCpu('batchNorm no scale/offset', () => tf.batchNorm(tf.tensor(bx, xs), tf.tensor(mean), tf.tensor(variance)));
  await matchesCpu('batchNorm grads', () => tf.grads((a: tf.Tensor, m: tf.Tensor, v: tf.Tensor, o: tf.Tensor, s: tf.Tensor) => tf.sum(tf.square(bn(a, m, v, o, s))))(
    [tf.tensor(bx, xs), tf.tensor(mean), tf.tensor(variance), tf.tensor(offset), tf.tensor(scale)]));
  const ci = randInt([4, 7], -5, 5);
  for (const [exclusive, reverse] of [[false, false], [true, false], [false, true], [true, true]]) {
    await matchesCpu(`cumsum ex=${exclusive} rev=${reverse}`, () => [tf.cumsum(tf.tensor2d(x, [4, 7]), 1, exclusive, reverse),
      tf.cumsum(tf.tensor(ci, [4, 7], 'int32'), 0, exclusive, reverse)]);
  }
  await matchesCpu('cumsum grad', () => tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.cumsum(t, 1))))(tf.tensor2d(x, [4, 7])));
});
