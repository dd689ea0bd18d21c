import { test } from 'node:test';
import assert from 'node:assert/strict';
import '@tensorflow/tfjs-layers'; // registers gradients for tf.grad / optimizer.minimize in Node
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.js';
import { getModel } from '../../src/models/registry.js';
import { AGE_ENCODER, agecgan, editImages, encoderPhase, featureObjective, nearestBins, pixelObjective } from '../../src/models/agecgan.js';
import { resolveConfig } from '../../src/gan/config.js';
import { latents, oneHotLabels } from '../../src/gan/sampling.js';
import { disposeState } from '../../src/gan/training_step.js';
import type { ArraySource, DatasetInfo } from '../../src/data/types.js';
import type { GanNetworks, StepContext } from '../../src/gan/family.js';
import { allNetworks } from '../../src/gan/family.js';
import { Rng } from '../../src/util/rng.js';
import { trainChecked } from './train_checked.js';
import { backends } from '../nn/style_helpers.js';

await initBackend({ quiet: true });
const aten = backends().includes('aten') ? ((await import('tfjs-backend-aten' as string)) as { atenFallbackKernels(): string[] }) : null;

/** 28×28 bars whose width is their bin + 1 (bins 0–4), at varying heights: ordinal data with a known attribute. */
function bars(n: number): ArraySource {
  const side = 28;
  const values = new Uint8Array(n * side * side);
  const labels = Int32Array.from({ length: n }, (_, i) => i % 5);
  for (let i = 0; i < n; i++) {
    const top = 4 + ((i * 7) % 16);
    for (let y = top; y < top + labels[i] + 1; y++) for (let x = 4; x < 24; x++) values[i * side * side + y * side + x] = 255;
  }
  const info: DatasetInfo = { name: 'bars', kind: 'image', shape: [side, side, 1], count: n, numClasses: 5, classNames: ['w1', 'w2', 'w3', 'w4', 'w5'], ordinal: true };
  return { kind: 'array', info, count: n, values, labels };
}

const small = { width: 4, batchSize: 8, latentDim: 8 };
const data = bars(40);

/**
 * Fresh networks whose G has batch-norm moving statistics of its own batches (training-mode passes), as after
 * training: at initialisation they are (0, 1), and G in inference mode then draws nearly one flat image for every z.
 */
function freshNets(seed = 3): { nets: GanNetworks; config: ReturnType<typeof resolveConfig> } {
  const config = resolveConfig(agecgan.defaults(data.info), { model: 'agecgan', ...small });
  const nets = agecgan.build(data.info, config, new Rng(seed));
  const rng = new Rng(seed + 100);
  for (let i = 0; i < 60; i++) {
    tf.tidy(() => { nets.generator.apply([latents(rng, 32, 8), oneHotLabels(Array.from({ length: 32 }, (_, j) => j % 5), 5)], { training: true }); });
  }
  return { nets, config };
}

function dispose(nets: GanNetworks): void {
  for (const [, m] of allNetworks(nets)) m.dispose();
}

test('agecgan trains a few steps (G, D and E) without NaN, with the tensor count flat and no CPU fallback on aten', () => {
  const before = aten?.atenFallbackKernels() ?? [];
  const { state, stats } = trainChecked('agecgan', data, small, 4);
  assert.ok(stats.every((s) => Number.isFinite(s.extra?.['loss/encoder'])), 'E reports its loss every step');
  assert.deepEqual(Object.keys(state.nets.extra ?? {}), [AGE_ENCODER]);
  assert.deepEqual(state.nets.generator.inputs.map((i) => i.shape), [[null, 8], [null, 5]]);
  assert.deepEqual(state.nets.discriminator!.inputs.map((i) => i.shape), [[null, 28, 28, 1], [null, 5]]);
  if (aten && tf.getBackend() === 'aten') assert.deepEqual(aten.atenFallbackKernels().filter((k) => !before.includes(k)), [], 'kernels on the CPU fallback');
  disposeState(state);
});

test('agecgan refuses labelled data whose classes are not ordered, and non-square sides', () => {
  const config = resolveConfig({ model: 'agecgan' });
  assert.match(agecgan.check({ ...data.info, ordinal: undefined }, config) ?? '', /ordered bins.*unordered classes.*mnist-thickness, emoji-age or folder:PATH --ordinal/);
  assert.match(agecgan.check({ ...data.info, shape: [30, 30, 1] }, config) ?? '', /--image-size/);
  assert.equal(agecgan.check(data.info, config), null);
  assert.ok(getModel('agecgan').attributeEdit, 'declares its edit');
  assert.equal(getModel('cgan').attributeEdit, undefined);
});

test("E's update lowers ‖z − E(G(z, y))‖² on held-out generated pairs (G fixed)", () => {
  const { nets, config } = freshNets();
  const encoder = nets.extra![AGE_ENCODER];
  const rng = new Rng(5);
  const opt = tf.train.adam(2e-3);
  const real = tf.zeros([16, 28, 28, 1]);
  const ctx = { nets, data: data.info, config, real, rng, opt: { g: opt, extra: { encoder: opt } }, latents: () => latents(rng, 16, 8) } as unknown as StepContext;
  const zHeld = latents(new Rng(77), 64, 8);
  const yHeld = oneHotLabels(Array.from({ length: 64 }, (_, i) => i % 5), 5);
  const xHeld = nets.generator.apply([zHeld, yHeld], { training: false }) as tf.Tensor;
  const heldLoss = () => tf.tidy(() => tf.mean(tf.squaredDifference(encoder.apply(xHeld) as tf.Tensor, zHeld)).dataSync()[0]);
  const before = heldLoss();
  encoderPhase(ctx); // creates Adam's slots
  const count = tf.memory().numTensors;
  const losses: number[] = [];
  for (let i = 0; i < 60; i++) losses.push(encoderPhase(ctx));
  assert.equal(tf.memory().numTensors, count, 'encoder phase leaks no tensor');
  const after = heldLoss();
  assert.ok(after < 0.8 * before, `held-out E loss ${before.toFixed(3)} → ${after.toFixed(3)}`);
  assert.ok(losses.slice(-10).reduce((a, b) => a + b) < losses.slice(0, 10).reduce((a, b) => a + b), 'training loss falls');
  tf.dispose([real, zHeld, yHeld, xHeld]);
  opt.dispose();
  dispose(nets);
});

test('nearestBins finds the bin an image was generated at; the pixel objective is the direct mean squared error', () => {
  const { nets } = freshNets(11);
  const n = 10;
  const z = latents(new Rng(2), n, 8);
  const bins = Array.from({ length: n }, (_, i) => (i * 3) % 5);
  const y = oneHotLabels(bins, 5);
  const x = nets.generator.apply([z, y], { training: false }) as tf.Tensor4D;
  assert.deepEqual(nearestBins(nets.generator, z, x, 5), bins);
  const target = tf.randomUniform([n, 28, 28, 1], -1, 1, 'float32', 4) as tf.Tensor4D;
  const objective = pixelObjective(nets.generator, target, y);
  const got = objective(z).arraySync();
  const gz = x.arraySync() as number[][][][];
  const t = target.arraySync() as number[][][][];
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let r = 0; r < 28; r++) for (let col = 0; col < 28; col++) s += (gz[i][r][col][0] - t[i][r][col][0]) ** 2;
    assert.ok(Math.abs(got[i] - s / 784) < 1e-5, `image ${i}: ${got[i]} vs ${s / 784}`);
  }
  tf.dispose([z, y, x, target]);
  dispose(nets);
});

test('edit: pixel and feature optimisation lower their distance from E(x); none is G(E(x), y₀); tensors flat across edits', () => {
  const { nets, config } = freshNets(21);
  const run = { config, data: data.info };
  const n = 6;
  // Images G can make (the untrained E is far from their z): each optimisation has somewhere to go.
  const from = [0, 1, 2, 3, 4, 2];
  const images = tf.tidy(() => nets.generator.apply([latents(new Rng(8), n, 8), oneHotLabels(from, 5)], { training: false }) as tf.Tensor4D);
  // A fixed identity embedding: 4×4 average pooling (coarse layout), differentiable like any FR network.
  const fr = (t: tf.Tensor4D) => tf.reshape(tf.avgPool(t, 4, 4, 'valid'), [t.shape[0], -1]) as tf.Tensor2D;
  const count = tf.memory().numTensors;
  const none = editImages(nets, run, { images, from, to: [0, 4], identity: 'none' });
  const pixel = editImages(nets, run, { images, from, to: [0, 4], identity: 'pixel', steps: 40, lr: 0.05 });
  const feature = editImages(nets, run, { images, from, to: [2], identity: 'feature', identityNet: fr, steps: 40, lr: 0.05 });
  assert.equal(tf.memory().numTensors, count, 'edits leak no tensor');
  assert.deepEqual(none.loss, { initial: 0, final: 0 });
  assert.ok(pixel.loss.final < 0.5 * pixel.loss.initial, `pixel loss ${pixel.loss.initial} → ${pixel.loss.final}`);
  assert.ok(feature.loss.final < 0.5 * feature.loss.initial, `feature loss ${feature.loss.initial} → ${feature.loss.final}`);
  // 'none' reconstructs with E's z: G(E(x), y₀) computed directly.
  const direct = tf.tidy(() => nets.generator.apply([nets.extra![AGE_ENCODER].apply(images) as tf.Tensor, oneHotLabels(from, 5)], { training: false }) as tf.Tensor).dataSync();
  assert.ok(none.reconstructions.every((v, i) => Math.abs(v - direct[i]) < 1e-5));
  // The feature objective at z* equals the reported final loss.
  const zStar = tf.tensor2d(feature.z, [n, 8]);
  const y0 = oneHotLabels(from, 5);
  const objective = featureObjective(nets.generator, images, y0, fr);
  const v = tf.tidy(() => tf.mean(objective(zStar)).dataSync()[0]);
  objective.dispose();
  assert.ok(Math.abs(v - feature.loss.final) < 1e-5, `${v} vs ${feature.loss.final}`);
  assert.equal(pixel.edits.length, 2);
  assert.equal(pixel.edits[0].length, n * 784);
  assert.throws(() => editImages(nets, run, { images, to: [5], identity: 'none' }), /bin 5 is not one of the run's 5 bins \(0–4: w1, w2, w3, w4, w5\)/);
  assert.throws(() => editImages(nets, run, { images, to: [1], identity: 'feature' }), /--identity feature needs an identity network/);
  tf.dispose([images, zStar, y0]);
  dispose(nets);
});
