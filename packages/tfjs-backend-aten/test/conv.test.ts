import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { matchesCpu, rand, runOn, setup, tf } from './helpers.js';

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
      if (dilation > 1) continue;  // tfjs has no gradient for dilated conv2d (aten's: the test below)
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

// Small outputs (batch × pixels ≤ 64) take the im2col + GEMM path, larger ones oneDNN: the shapes below land on
// either side of that limit, with the special cases of each path.
test('Conv2D and conv2dTranspose on both paths: few-pixel/many-channel, in between, and large outputs', async () => {
  const cases: [number[], number[], number, Pad][] = [
    [[3, 4, 4, 24], [4, 4, 24, 20], 2, 'same'],                      // 12 output pixels: GEMM everywhere
    [[2, 5, 5, 6], [2, 2, 6, 5], 2, 'valid'],                        // a row and column left over
    [[1, 3, 5, 7], [3, 3, 7, 9], 1, [[0, 0], [2, 0], [1, 2], [0, 0]]], // asymmetric explicit padding
    [[1, 8, 8, 4], [3, 3, 4, 5], 1, 'same'],                         // 64: the largest output on the GEMM path
    [[2, 8, 8, 4], [3, 3, 4, 5], 1, 'same'],                         // 128: the smallest here on oneDNN
    [[2, 13, 11, 3], [3, 2, 3, 4], 1, 'same'],                       // 286: oneDNN everywhere
    [[6, 4, 4, 8], [4, 4, 8, 1], 1, 'valid'],                        // the kernel covers the image: a 1×1 logit map
    [[8, 4, 4, 16], [3, 3, 16, 12], 1, 'same'],                      // 128 on 4×4 maps: oneDNN
    [[9, 3, 3, 5], [2, 2, 5, 4], 1, 'same'],                         // the same with tfjs's uneven 'same' padding
    [[3, 3, 5, 4], [3, 5, 4, 6], 2, 'valid'],                        // the same, non-square, any stride
    // ≤ 8 output channels at stride 1 beyond the GEMM path: the forward runs as the mirrored input gradient
    [[2, 12, 10, 6], [9, 9, 6, 3], 1, 'same'],                       // srgan's output layer's shape, smaller
    [[2, 12, 10, 6], [5, 4, 6, 8], 1, 'valid'],                      // 8 channels, non-square kernel, no padding
    [[2, 9, 11, 5], [4, 4, 5, 1], 1, [[0, 0], [3, 0], [0, 2], [0, 0]]], // one channel, asymmetric explicit padding
    [[2, 12, 10, 6], [3, 3, 6, 9], 1, 'same'],                       // 9 channels: oneDNN's forward again
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

test('dilated Conv2D gradients on aten equal cpu\'s for the equivalent zero-inserted filter', async () => {
  for (const pad of PADS) {
    for (const [dh, dw] of [[2, 2], [2, 3], [3, 1]] as const) {
      const xs = [2, 11, 9, 3], fs = [3, 2, 3, 4];
      const ds = [(fs[0] - 1) * dh + 1, (fs[1] - 1) * dw + 1, fs[2], fs[3]];
      const x = rand(xs), f = rand(fs);
      // The filter with dh − 1 (dw − 1) zero rows (columns) between taps: an undilated conv with it is the dilated conv.
      const dilated = new Float32Array(ds.reduce((a, b) => a * b, 1));
      const tap = (i: number, j: number, k: number, shape: number[]) => ((i * shape[1] + j) * shape[2]) * shape[3] + k * shape[3];
      for (let i = 0; i < fs[0]; i++) for (let j = 0; j < fs[1]; j++) for (let k = 0; k < fs[2]; k++) {
        dilated.set(f.subarray(tap(i, j, k, fs), tap(i, j, k, fs) + fs[3]), tap(i * dh, j * dw, k, ds));
      }
      const loss = (a: tf.Tensor, b: tf.Tensor, d: [number, number]) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, pad, 'NHWC', d)));
      const [gx, gf] = await runOn('aten', () => tf.grads((a: tf.Tensor, b: tf.Tensor) => loss(a, b, [dh, dw]))([tf.tensor4d(x, xs as never), tf.tensor4d(f, fs as never)]));
      const [cx, cf] = await runOn('cpu', () => tf.grads((a: tf.Tensor, b: tf.Tensor) => loss(a, b, [1, 1]))([tf.tensor4d(x, xs as never), tf.tensor4d(dilated, ds as never)]));
      const label = `conv2d pad=${JSON.stringify(pad)} d=${dh},${dw}`;
      const close = (a: number, c: number, scale: number, what: string) => assert.ok(Math.abs(a - c) <= 1e-4 * scale, `${label} ${what}: aten ${a} vs cpu ${c}`);
      const sx = Math.max(1, ...cx.values.map(Math.abs)), sf = Math.max(1, ...cf.values.map(Math.abs));
      gx.values.forEach((v, i) => close(v, cx.values[i], sx, `dx[${i}]`));
      for (let i = 0; i < fs[0]; i++) for (let j = 0; j < fs[1]; j++) for (let k = 0; k < fs[2]; k++) for (let o = 0; o < fs[3]; o++) {
        close(gf.values[tap(i, j, k, fs) + o], cf.values[tap(i * dh, j * dw, k, ds) + o], sf, `dfilter[${i},${j},${k},${o}]`);
      }
    }
  }
});
