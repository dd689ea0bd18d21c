// The two kernels aten adds for image-to-image networks, which the CPU backend lacks: InstanceNorm (+ its
// gradient) against the same normalisation composed of tfjs ops on cpu, and MirrorPadGrad against the gradient
// of the equivalent gathers (tfjs's own MirrorPad gradient ignores the border, so it is no oracle).
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { matchesCpu, rand, setup, tf } from './helpers.js';

before(setup);

/** aten's fused kernel; on cpu the same normalisation composed of ops (the oracle). */
function instanceNorm(x: tf.Tensor, epsilon: number): tf.Tensor {
  if (tf.getBackend() === 'aten') return (tf.engine().runKernel('InstanceNorm', { x }, { epsilon }) as tf.Tensor[])[0];
  const { mean, variance } = tf.moments(x, [1, 2], true);
  return tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, epsilon)));
}

test('InstanceNorm forward, gradient and second-order gradient match the composed ops on cpu', async () => {
  for (const [shape, eps] of [[[2, 5, 7, 3], 1e-5], [[3, 1, 4, 2], 1e-3], [[1, 9, 6, 5], 1e-5]] as [number[], number][]) {
    const x = rand(shape, -2, 3), w = rand(shape);
    const label = `instanceNorm ${shape} ε=${eps}`;
    const xt = () => tf.tensor(x, shape), wt = () => tf.tensor(w, shape);
    await matchesCpu(label, () => instanceNorm(xt(), eps));
    // A loss non-linear in the output, so dy varies over the image.
    const loss = (a: tf.Tensor) => tf.sum(tf.mul(tf.square(instanceNorm(a, eps)), wt()));
    await matchesCpu(`${label} grad`, () => tf.grad(loss)(xt()), 2e-4);
    // Differentiating the gradient again (a gradient penalty would) takes the composed path on aten.
    await matchesCpu(`${label} 2nd order`, () => tf.grad((a: tf.Tensor) => tf.sum(tf.square(tf.grad(loss)(a))))(xt()), 1e-3);
  }
});

/** Source index along an axis of length n mirror-padded by (before, after); reflect skips the edge. */
function mirrorIndex(n: number, before: number, after: number, symmetric: boolean): number[] {
  const off = symmetric ? 0 : 1;
  return Array.from({ length: n + before + after }, (_, p) => {
    const i = p - before;
    return i < 0 ? -i - 1 + off : i >= n ? 2 * n - 1 - i - off : i;
  });
}

test('MirrorPadGrad equals the gradient of the equivalent gathers (reflect and symmetric, odd shapes, ranks 2-4)', async () => {
  const cases: [number[], [number, number][]][] = [
    [[5, 4], [[2, 1], [3, 0]]],
    [[3, 5, 2], [[0, 2], [1, 4], [1, 1]]],
    [[2, 5, 7, 3], [[0, 0], [3, 2], [1, 3], [0, 0]]],
  ];
  for (const [shape, paddings] of cases) {
    for (const mode of ['reflect', 'symmetric'] as const) {
      const limit = mode === 'reflect' ? 1 : 0; // reflect needs pad < n, symmetric pad ≤ n
      if (paddings.some(([a, b], d) => Math.max(a, b) > shape[d] - limit)) continue;
      const paddedShape = shape.map((n, d) => n + paddings[d][0] + paddings[d][1]);
      const dy = rand(paddedShape);
      const x = rand(shape);
      const label = `MirrorPadGrad ${shape} ${JSON.stringify(paddings)} ${mode}`;
      // Forward first: the gathers really are the mirror pad.
      const gathers = (t: tf.Tensor) => paddings.reduce((acc, [a, b], d) => tf.gather(acc, mirrorIndex(shape[d], a, b, mode === 'symmetric'), d), t);
      await matchesCpu(`${label} forward`, () => tf.mirrorPad(tf.tensor(x, shape), paddings, mode));
      await matchesCpu(label, () => {
        if (tf.getBackend() === 'aten') return tf.engine().runKernel('MirrorPadGrad', { dy: tf.tensor(dy, paddedShape) }, { paddings, mode }) as tf.Tensor;
        return tf.grad((t: tf.Tensor) => tf.sum(tf.mul(gathers(t), tf.tensor(dy, paddedShape))))(tf.tensor(x, shape));
      });
      const out = tf.tidy(() => tf.mirrorPad(tf.tensor(x, shape), paddings, mode).shape);
      assert.deepEqual(out, paddedShape);
    }
  }
});
