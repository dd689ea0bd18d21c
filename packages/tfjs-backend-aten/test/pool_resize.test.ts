import { before, test } from 'node:test';
import { matchesCpu, rand, setup, tf } from './helpers.js';

before(setup);

test('MaxPool / AvgPool forward and gradients', async () => {
  for (const pad of ['same', 'valid'] as const) {
    for (const [k, s] of [[2, 2], [3, 2], [3, 1], [2, 3]] as const) {
      const xs = [2, 9, 7, 3];
      const x = rand(xs);
      const label = `pool k=${k} s=${s} pad=${pad}`;
      await matchesCpu(`max${label}`, () => tf.maxPool(tf.tensor4d(x, xs as never), k, s, pad));
      await matchesCpu(`avg${label}`, () => tf.avgPool(tf.tensor4d(x, xs as never), k, s, pad));
      await matchesCpu(`max${label} grad`, () => tf.grad((a: tf.Tensor) => tf.sum(tf.square(tf.maxPool(a as tf.Tensor4D, k, s, pad))))(tf.tensor4d(x, xs as never)));
      await matchesCpu(`avg${label} grad`, () => tf.grad((a: tf.Tensor) => tf.sum(tf.square(tf.avgPool(a as tf.Tensor4D, k, s, pad))))(tf.tensor4d(x, xs as never)));
    }
  }
});

test('ResizeBilinear / ResizeNearestNeighbor forward and gradients', async () => {
  const xs = [2, 5, 7, 3];
  const x = rand(xs);
  for (const [align, half] of [[false, false], [true, false], [false, true]]) {
    for (const size of [[9, 4], [3, 11], [1, 1]] as [number, number][]) {
      const label = `resize ${size} align=${align} half=${half}`;
      await matchesCpu(`bilinear ${label}`, () => tf.image.resizeBilinear(tf.tensor4d(x, xs as never), size, align, half));
      await matchesCpu(`nearest ${label}`, () => tf.image.resizeNearestNeighbor(tf.tensor4d(x, xs as never), size, align, half));
      // tfjs's gradient kernels ignore halfPixelCenters, and the CPU one swaps height and width
      // in its output shape, so gradients are compared on square images.
      if (half) continue;
      const sq = x.slice(0, 2 * 5 * 5 * 3);
      await matchesCpu(`bilinear ${label} grad`, () =>
        tf.grad((a: tf.Tensor) => tf.sum(tf.square(tf.image.resizeBilinear(a as tf.Tensor4D, size, align))))(tf.tensor4d(sq, [2, 5, 5, 3])));
    }
  }
});
