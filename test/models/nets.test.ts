// The image-to-image networks: shapes at 32-256 px (built, not trained), the U-Net's skips and dropout, the
// ResNet generator's blocks, and the PatchGAN's receptive field measured through its input gradient.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.js';
import { SeededInit } from '../../src/nn/init.js';
import { unetDepth, unetGenerator } from '../../src/models/nets/unet.js';
import { resnetBlocks, resnetGenerator } from '../../src/models/nets/resnet_generator.js';
import { patchGanDiscriminator, patchGanLayers, patchReceptiveField } from '../../src/models/nets/patchgan.js';
import { Rng } from '../../src/util/rng.js';

await initBackend({ quiet: true });
const SIZES = [32, 64, 128, 256];
const init = (seed = 1) => new SeededInit(new Rng(seed));
const classes = (m: tfl.LayersModel, name: string) => m.layers.filter((l) => l.getClassName() === name);

test('U-Net depth follows the image side; sides it cannot halve enough are refused by name', () => {
  assert.deepEqual([256, 128, 64, 32, 512, 96].map(unetDepth), [8, 7, 6, 5, 9, 5]);
  assert.throws(() => unetDepth(100), /divisible by 8 .* got 100/);
});

test('U-Net: [B, s, s, in] → [B, s, s, out] at 32-256 px, one skip per inner level, dropout in 3 decoder blocks', () => {
  for (const size of SIZES) {
    const g = unetGenerator({ size, ngf: 4, inChannels: 1, outChannels: 2 }, init());
    const depth = unetDepth(size);
    assert.deepEqual(g.outputs[0].shape, [null, size, size, 2], `${size} px`);
    assert.equal(classes(g, 'Conv2D').length, depth);
    assert.equal(classes(g, 'Conv2DTranspose').length, depth);
    assert.equal(classes(g, 'SeededDropout').length, 3); // reproducible masks: exact resume
    assert.equal(classes(g, 'BatchNormalization').length, 2 * depth - 3, 'norm everywhere but enc1, the innermost conv and the output');
    // Each skip concatenates an encoder activation with the decoder output of the same size.
    const skips = classes(g, 'Concatenate');
    assert.equal(skips.length, depth - 1);
    for (const skip of skips) {
      const [encoder, decoder] = skip.inboundNodes[0].inboundLayers;
      assert.match(encoder.name, /^enc\d+_lrelu$/, skip.name);
      assert.deepEqual(encoder.outputShape.slice(1, 3), decoder.outputShape.slice(1, 3), skip.name);
    }
    // Widths: 4, 8, 16, 32, then capped at 8× ngf.
    assert.deepEqual(classes(g, 'Conv2D').map((l) => (l.outputShape as number[])[3]), Array.from({ length: depth }, (_, i) => 4 * Math.min(2 ** i, 8)));
    g.dispose();
  }
  const inst = unetGenerator({ size: 32, ngf: 4, norm: 'instance', dropout: 0 }, init());
  assert.equal(classes(inst, 'InstanceNormalization').length, 7);
  assert.equal(classes(inst, 'SeededDropout').length, 0);
  inst.dispose();
});

test('U-Net: the output depends on the input through the skips (zeroing the innermost path leaves it image-dependent)', () => {
  const g = unetGenerator({ size: 32, ngf: 4, dropout: 0 }, init(2));
  const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 3);
  const y = g.predict(x) as tf.Tensor;
  assert.deepEqual(y.shape, [2, 32, 32, 3]);
  // The gradient of one output pixel reaches the input pixels right below it even with dec1 silenced:
  // only the outermost skip (enc1 → last decoder block) can carry it.
  const dec1 = g.getLayer('dec1_convT');
  dec1.setWeights(dec1.getWeights().map((w) => tf.zerosLike(w)));
  const grad = tf.grad((a: tf.Tensor) => tf.sum(tf.slice(g.predict(a) as tf.Tensor, [0, 16, 16, 0], [1, 1, 1, 1])))(x);
  assert.ok(tf.max(tf.abs(grad)).dataSync()[0] > 0);
  tf.dispose([x, y, grad]);
  g.dispose();
});

test('ResNet generator: same-size output at 32-256 px, blocks per size, reflection padding and instance norm', () => {
  assert.deepEqual(SIZES.map(resnetBlocks), [4, 6, 6, 9]);
  for (const size of SIZES) {
    const g = resnetGenerator({ size, ngf: 4 }, init());
    assert.deepEqual(g.outputs[0].shape, [null, size, size, 3], `${size} px`);
    const blocks = resnetBlocks(size);
    assert.equal(classes(g, 'Add').length, blocks);
    assert.equal(classes(g, 'ReflectionPadding2D').length, 2 * blocks + 2);
    assert.equal(classes(g, 'InstanceNormalization').length, 2 * blocks + 5);
    assert.deepEqual(g.getLayer('r1_add').outputShape, [null, size / 4, size / 4, 16]);
    g.dispose();
  }
  assert.throws(() => resnetGenerator({ size: 30 }, init()), /divisible by 4 .* got 30/);
});

test('PatchGAN: logits [B, s/2ⁿ − 2, ., 1]; layers per size; the paper\'s 70×70 at 256 px', () => {
  assert.deepEqual(SIZES.map(patchGanLayers), [1, 1, 2, 3]);
  assert.deepEqual([1, 2, 3, 4].map(patchReceptiveField), [16, 34, 70, 142]);
  const expected = [14, 30, 30, 30];
  SIZES.forEach((size, i) => {
    const d = patchGanDiscriminator({ size, inChannels: 6, ndf: 4 }, init());
    assert.deepEqual(d.outputs[0].shape, [null, expected[i], expected[i], 1], `${size} px`);
    assert.equal(classes(d, 'Conv2D').length, patchGanLayers(size) + 2);
    d.dispose();
  });
  assert.throws(() => patchGanDiscriminator({ size: 20, inChannels: 3, nLayers: 3 }, init()), /divisible by 8 .* got 20/);
});

test('PatchGAN receptive field: the input pixels one logit depends on span patchReceptiveField(n) rows and columns', () => {
  for (const nLayers of [1, 2, 3]) {
    // Inference mode: batch norm is per-channel affine, so nothing couples distant positions.
    const d = patchGanDiscriminator({ size: 128, inChannels: 1, ndf: 2, nLayers }, init(nLayers));
    const x = tf.randomNormal([1, 128, 128, 1], 0, 1, 'float32', 7);
    const side = (d.outputs[0].shape[1] as number);
    const c = Math.floor(side / 2); // an interior logit, so no border clips its field
    const grad = tf.grad((a: tf.Tensor) => tf.sum(tf.slice(d.predict(a) as tf.Tensor, [0, c, c, 0], [1, 1, 1, 1])))(x);
    const g = tf.reshape(grad, [128, 128]).arraySync() as number[][];
    const rows = g.map((row) => row.some((v) => v !== 0));
    const cols = g[0].map((_, j) => g.some((row) => row[j] !== 0));
    const extent = (used: boolean[]) => used.lastIndexOf(true) - used.indexOf(true) + 1;
    assert.equal(extent(rows), patchReceptiveField(nLayers), `rows, n=${nLayers}`);
    assert.equal(extent(cols), patchReceptiveField(nLayers), `cols, n=${nLayers}`);
    tf.dispose([x, grad]);
    d.dispose();
  }
});

test('builders are seeded: the same SeededInit stream gives the same weights, N(0, 0.02) kernels', () => {
  const [a, b] = [1, 1].map((s) => patchGanDiscriminator({ size: 32, inChannels: 3, ndf: 8 }, init(s)));
  a.getWeights().forEach((w, i) => assert.deepEqual(b.getWeights()[i].dataSync(), w.dataSync()));
  const k = Array.from(a.getLayer('c2_conv').getWeights()[0].dataSync());
  const std = Math.sqrt(k.reduce((s, v) => s + v * v, 0) / k.length);
  assert.ok(Math.abs(std - 0.02) < 0.003, `std ${std}`);
  a.dispose();
  b.dispose();
});
