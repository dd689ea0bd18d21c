import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { matchesCpu, rand, randInt, setup, tf } from './helpers.js';

before(setup);

test('transpose, reshape, slice, stridedSlice, reverse, tile', async () => {
  const x = rand([3, 4, 5]);
  const t = () => tf.tensor3d(x, [3, 4, 5]);
  await matchesCpu('transpose', () => [tf.transpose(t(), [2, 0, 1]), tf.transpose(t())]);
  await matchesCpu('reshape', () => [tf.reshape(t(), [12, 5]), tf.reshape(t(), [-1])]);
  await matchesCpu('slice', () => [tf.slice(t(), [1, 0, 2], [2, -1, 3]), tf.slice(t(), [0, 1])]);
  const ss: [number[], number[], number[], number, number, number, number, number][] = [
    [[0, 1, 0], [3, 4, 5], [1, 2, 2], 0, 0, 0, 0, 0],
    [[2, 3, 4], [0, 0, 0], [-1, -1, -2], 0, 0, 0, 0, 0],
    [[1, 0, 0], [2, 4, 5], [1, 1, 1], 0, 0, 0, 0, 1],
    [[0, -1], [0, 0], [1, -1], 1, 1, 0, 0, 0],
    [[1], [3], [1], 0, 0, 0, 1, 0],
    [[0, 1], [0, 4], [1, 3], 0, 0, 1, 0, 0],
  ];
  for (const [b, e, s, bm, em, ell, na, sh] of ss) {
    await matchesCpu(`stridedSlice ${b}/${e}/${s}`, () => tf.stridedSlice(t(), b, e, s, bm, em, ell, na, sh));
  }
  await matchesCpu('reverse', () => [tf.reverse(t(), [0, 2]), tf.reverse(t(), -1)]);
  await matchesCpu('tile', () => [tf.tile(t(), [2, 1, 3]), tf.tile(tf.tensor([1, 0], [2], 'bool'), [3])]);
  await matchesCpu('layout grads', () => tf.grad((a: tf.Tensor) => tf.sum(tf.square(tf.addN([
    tf.reshape(tf.transpose(a, [1, 0, 2]), [3, 4, 5]), tf.tile(tf.slice(a, [0, 0, 0], [1, 4, 5]), [3, 1, 1]), tf.reverse(a, 1)]))))(t()));
});

test('concat, stack, unstack, split, pad, mirrorPad', async () => {
  const a = rand([2, 3]), b = rand([2, 5]), c = rand([2, 3]);
  await matchesCpu('concat', () => [tf.concat([tf.tensor2d(a, [2, 3]), tf.tensor2d(b, [2, 5])], 1), tf.concat([tf.tensor2d(a, [2, 3]), tf.tensor2d(c, [2, 3])], 0)]);
  await matchesCpu('stack', () => [tf.stack([tf.tensor2d(a, [2, 3]), tf.tensor2d(c, [2, 3])], 1), tf.stack([tf.tensor2d(a, [2, 3]), tf.tensor2d(c, [2, 3])], -1)]);
  await matchesCpu('unstack', () => tf.unstack(tf.tensor2d(b, [2, 5]), 1));
  await matchesCpu('split', () => [...tf.split(tf.tensor2d(b, [2, 5]), [1, 3, 1], 1), ...tf.split(tf.tensor2d(c, [2, 3]), 2, 0)]);
  const pi = randInt([4], 0, 5);
  await matchesCpu('pad', () => [tf.pad(tf.tensor2d(a, [2, 3]), [[1, 2], [0, 3]], 1.5), tf.pad(tf.tensor(pi, [4], 'int32'), [[2, 1]])]);
  const m = rand([4, 5]);
  await matchesCpu('mirrorPad', () => [tf.mirrorPad(tf.tensor2d(m, [4, 5]), [[2, 1], [3, 0]], 'reflect'), tf.mirrorPad(tf.tensor2d(m, [4, 5]), [[3, 4], [1, 5]], 'symmetric')]);
  await matchesCpu('concat/stack/split/pad grads', () => tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.concat([
    tf.concat([x, y], 0), tf.sum(tf.stack([x, y]), 0), tf.slice(tf.pad(tf.split(x, 3, 1)[1], [[0, 0], [1, 1]]), [0, 0], [2, 3])], 0))))([tf.tensor2d(a, [2, 3]), tf.tensor2d(c, [2, 3])]));
});

test('gather, gatherND, scatterND, oneHot, unsortedSegmentSum, where', async () => {
  const x = rand([5, 4, 3]);
  const idx = [4, 0, 2, 2];
  await matchesCpu('gather', () => [tf.gather(tf.tensor3d(x, [5, 4, 3]), tf.tensor1d(idx, 'int32')), tf.gather(tf.tensor3d(x, [5, 4, 3]), tf.tensor2d([[1, 3], [0, 0]], [2, 2], 'int32'), 1)]);
  await matchesCpu('gather grad', () => tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.gather(t, tf.tensor1d(idx, 'int32')))))(tf.tensor3d(x, [5, 4, 3])));
  await matchesCpu('gatherND', () => tf.gatherND(tf.tensor3d(x, [5, 4, 3]), tf.tensor2d([[1, 2], [4, 0], [1, 2]], [3, 2], 'int32')));
  const upd = rand([3, 3]), top = rand([3, 8]);
  await matchesCpu('scatterND', () => tf.scatterND(tf.tensor2d([[1, 2], [4, 0], [1, 2]], [3, 2], 'int32'), tf.tensor2d(upd, [3, 3]), [5, 4, 3]));
  await matchesCpu('oneHot', () => [tf.oneHot(tf.tensor1d([0, 3, 1, 7, -1], 'int32'), 4), tf.oneHot(tf.tensor1d([2, 0], 'int32'), 3, 5, -1, 'float32')]);
  await matchesCpu('unsortedSegmentSum', () => tf.unsortedSegmentSum(tf.tensor3d(x, [5, 4, 3]), tf.tensor1d([0, 2, 0, 1, 2], 'int32'), 4));
  // The float32 fast path on many rows of 3 floats (a bilinear gather's gradient), and ids past the end.
  const ids = Array.from({ length: 200 }, (_, i) => (i * 37) % 23), rows = rand([200, 3]);
  await matchesCpu('unsortedSegmentSum, 200 rows', () => tf.unsortedSegmentSum(tf.tensor2d(rows, [200, 3]), tf.tensor1d(ids, 'int32'), 25));
  // scatterND with one index per row (gatherRows's transpose) takes the same row loop: repeated rows add up.
  await matchesCpu('scatterND, rows of a matrix', () => [
    tf.scatterND(tf.tensor2d(ids, [200, 1], 'int32'), tf.tensor2d(rows, [200, 3]), [25, 3]),
    tf.scatterND(tf.tensor2d([3, 0, 3], [3, 1], 'int32'), tf.tensor1d([1, 2, 3], 'int32'), [4]),
  ]);
  await tf.setBackend('aten');
  assert.throws(() => tf.scatterND(tf.tensor2d([0, 9], [2, 1], 'int32'), tf.tensor2d(x.slice(0, 6), [2, 3]), [4, 3]).dataSync(), /out of range/);
  assert.throws(() => tf.unsortedSegmentSum(tf.tensor2d(x.slice(0, 6), [2, 3]), tf.tensor1d([0, 5], 'int32'), 2).dataSync(), /out of range/);
  await matchesCpu('topk values', () => tf.topk(tf.tensor2d(top, [3, 8]), 3).values);
});

test('creation kernels: fill, zerosLike, onesLike, range, einsum, identity', async () => {
  await matchesCpu('fill', () => [tf.fill([2, 3], 4.5), tf.fill([3], 7, 'int32'), tf.fill([2], 1, 'bool')]);
  await matchesCpu('zerosLike/onesLike', () => [tf.zerosLike(tf.tensor([1, 2, 3])), tf.onesLike(tf.tensor([1, 2], [2], 'int32'))]);
  await matchesCpu('range', () => [tf.range(0, 10, 3), tf.range(5, -2, -1.5), tf.range(1, 9, 2, 'int32'), tf.range(2, 2)]);
  const e1 = rand([2, 3]), e2 = rand([3, 4]), e3 = rand([2, 3, 4]);
  await matchesCpu('einsum', () => [tf.einsum('ij,jk->ik', tf.tensor2d(e1, [2, 3]), tf.tensor2d(e2, [3, 4])), tf.einsum('bij->bji', tf.tensor3d(e3, [2, 3, 4]))]);
  await matchesCpu('identity/clone', () => tf.clone(tf.tensor([1, 2, 3])));
});
