import { before, test } from 'node:test';
import { matchesCpu, rand, setup, tf } from './helpers.js';

before(setup);

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
const PADS: Pad[] = ['same', 'valid', [[0, 0], [1, 2], [0, 1], [0, 0]]];

test('Conv2D forward and gradients: strides, dilations, paddings, odd sizes', async () => {
  for (const pad of PADS) {
    for (const [stride, dilation] of [[1, 1], [2, 1], [3, 1], [1, 2]] as const) {
      const xs = [2, 9, 7, 3], fs = [3, 2, 3, 4];
      const x = rand(xs), f = rand(fs);
      const label = `conv2d pad=${JSON.stringify(pad)} s=${stride} d=${dilation}`;
      await matchesCpu(label, () => tf.conv2d(tf.tensor4d(x, xs as never), tf.tensor4d(f, fs as never), stride, pad, 'NHWC', dilation));
      if (dilation > 1) continue;  // tfjs has no gradient for dilated conv2d
      await matchesCpu(`${label} grads`, () => tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad))))([tf.tensor4d(x, xs as never), tf.tensor4d(f, fs as never)]));
    }
  }
});

test('Conv2DBackpropInput (conv2dTranspose) forward and gradients', async () => {
  for (const pad of ['same', 'valid'] as const) {
    for (const stride of [1, 2, 3]) {
      const xs = [2, 5, 4, 6], fs = [4, 3, 3, 6];
      const outH = pad === 'same' ? 5 * stride : (5 - 1) * stride + 4, outW = pad === 'same' ? 4 * stride : (4 - 1) * stride + 3;
      const x = rand(xs), f = rand(fs);
      const label = `conv2dTranspose pad=${pad} s=${stride}`;
      const t = (a: tf.Tensor, b: tf.Tensor) => tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, [2, outH, outW, 3], stride, pad);
      await matchesCpu(label, () => t(tf.tensor4d(x, xs as never), tf.tensor4d(f, fs as never)));
      await matchesCpu(`${label} grads`, () => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(t(a, b))))(
        [tf.tensor4d(x, xs as never), tf.tensor4d(f, fs as never)]));
    }
  }
});

test('FusedConv2D with bias and activations', async () => {
  const xs = [2, 8, 8, 3], fs = [3, 3, 3, 5];
  const x = rand(xs), f = rand(fs), bias = rand([5]);
  for (const activation of ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu'] as const) {
    await matchesCpu(`fused conv ${activation}`, () => tf.fused.conv2d({ x: tf.tensor4d(x, xs as never), filter: tf.tensor4d(f, fs as never),
      strides: 2, pad: 'same', bias: tf.tensor1d(bias), activation, leakyreluAlpha: 0.1 }));
  }
  await matchesCpu('fused conv grads', () => tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.square(tf.fused.conv2d({
    x: a as tf.Tensor4D, filter: b as tf.Tensor4D, strides: 1, pad: 'same', bias: c, activation: 'relu' }))))(
    [tf.tensor4d(x, xs as never), tf.tensor4d(f, fs as never), tf.tensor1d(bias)]));
});

test('DepthwiseConv2dNative forward and gradients', async () => {
  for (const pad of ['same', 'valid'] as const) {
    for (const [stride, dilation] of [[1, 1], [2, 1], [1, 2]] as const) {
      const xs = [2, 9, 8, 3], fs = [3, 3, 3, 2];
      const x = rand(xs), f = rand(fs);
      const label = `depthwise pad=${pad} s=${stride} d=${dilation}`;
      await matchesCpu(label, () => tf.depthwiseConv2d(tf.tensor4d(x, xs as never), tf.tensor4d(f, fs as never), stride, pad, 'NHWC', dilation));
      if (dilation > 1) continue;
      await matchesCpu(`${label} grads`, () => tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.square(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad))))([tf.tensor4d(x, xs as never), tf.tensor4d(f, fs as never)]));
    }
  }
});

// Small outputs (batch × pixels ≤ 128, ≤ 256 for the filter gradient) take the im2col + GEMM path, larger ones
// oneDNN: each shape below lands on a different side for forward, input gradient and filter gradient.
test('Conv2D and conv2dTranspose on both paths: few-pixel/many-channel, in between, and large outputs', async () => {
  const cases: [number[], number[], number, Pad][] = [
    [[3, 4, 4, 24], [4, 4, 24, 20], 2, 'same'],                      // 12 output pixels: GEMM everywhere
    [[2, 5, 5, 6], [2, 2, 6, 5], 2, 'valid'],                        // a row and column left over
    [[1, 3, 5, 7], [3, 3, 7, 9], 1, [[0, 0], [2, 0], [1, 2], [0, 0]]], // asymmetric explicit padding
    [[2, 9, 9, 4], [3, 3, 4, 5], 1, 'same'],                         // 162: oneDNN forward, GEMM filter gradient
    [[2, 13, 11, 3], [3, 2, 3, 4], 1, 'same'],                       // 286: oneDNN everywhere
  ];
  for (const [xs, fs, stride, pad] of cases) {
    const x = rand(xs), f = rand(fs);
    const label = `conv2d ${xs} * ${fs} s=${stride} pad=${JSON.stringify(pad)}`;
    const conv = (a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad);
    await matchesCpu(label, () => conv(tf.tensor4d(x, xs as never), tf.tensor4d(f, fs as never)));
    await matchesCpu(`${label} grads`, () => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(conv(a, b))))(
      [tf.tensor4d(x, xs as never), tf.tensor4d(f, fs as never)]));
    const bias = rand([fs[3]]);
    await matchesCpu(`${label} fused`, () => tf.fused.conv2d({ x: tf.tensor4d(x, xs as never), filter: tf.tensor4d(f, fs as never),
      strides: stride, pad, bias: tf.tensor1d(bias), activation: 'leakyrelu', leakyreluAlpha: 0.2 }));
  }
  // The U-Net decoder's innermost transposed conv: 1×1 → 2×2 with many channels.
  const xs = [3, 1, 1, 16], fs = [4, 4, 12, 16];
  const x = rand(xs), f = rand(fs);
  const t = (a: tf.Tensor, b: tf.Tensor) => tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, [3, 2, 2, 12], 2, 'same');
  await matchesCpu('conv2dTranspose 1×1 → 2×2', () => t(tf.tensor4d(x, xs as never), tf.tensor4d(f, fs as never)));
  await matchesCpu('conv2dTranspose 1×1 → 2×2 grads', () => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(t(a, b))))(
    [tf.tensor4d(x, xs as never), tf.tensor4d(f, fs as never)]));
});
