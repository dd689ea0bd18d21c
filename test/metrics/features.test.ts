import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildClassifier } from '../../src/metrics/classifier.js';
import { loadUserNet, wrapModel } from '../../src/metrics/features.js';
import { inceptionWeightCount, inceptionWeightLayout, loadInceptionNet } from '../../src/metrics/inception.js';
import { saveModel } from '../../src/gan/model_io.js';
import { UserError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';

await tf.setBackend('cpu');

const images = (n: number, h: number, w: number, c: number, seed: number) => {
  const rng = new Rng(seed);
  return { values: Uint8Array.from({ length: n * h * w * c }, () => rng.int(256)), n, h, w, c };
};

test('classifier features are deterministic: same seed → same weights → same features; resize is recorded', () => {
  const meta = { name: 'test-net', weightsFile: '-', weightsSha256: '-' };
  const a = wrapModel(buildClassifier(7), 'features', 'logits', meta, 3);
  const b = wrapModel(buildClassifier(7), 'features', 'logits', meta, 5);
  const set = images(7, 28, 28, 1, 1);
  const ea = a.embed(set);
  const eb = b.embed(set);
  assert.equal(ea.features.length, 7 * 128);
  assert.equal(ea.logits!.length, 7 * 10);
  assert.deepEqual(ea.features, eb.features); // also independent of the batch size
  assert.deepEqual(ea.logits, eb.logits);
  assert.equal(ea.resize, 'none');
  assert.match(a.embed(images(2, 32, 32, 1, 2)).resize, /bilinear .*32×32→28×28/);
  assert.throws(() => a.embed(images(2, 28, 28, 3, 2)), (e: unknown) => e instanceof UserError && /RGB/.test(e.message) && /inception-v3/.test(e.message));
  a.dispose();
  b.dispose();
});

test('a user TF.js model read at a named layer; an unknown layer is a UserError with a hint', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'featnet-'));
  const model = buildClassifier(3);
  await saveModel(model, dir);
  const net = await loadUserNet(dir, 'flatten');
  assert.equal(net.info.featureDim, 3 * 3 * 64);
  assert.match(net.info.weightsSha256, /^[0-9a-f]{12}$/);
  assert.equal(net.embed(images(2, 28, 28, 1, 0)).features.length, 2 * 576);
  net.dispose();
  await assert.rejects(loadUserNet(dir, 'featurs'), (e: unknown) => e instanceof UserError && /did you mean 'features'/.test(e.message));
  await assert.rejects(loadUserNet(join(dir, 'nope'), 'x'), UserError);
});

test('Inception-v3: a random-weights file loads; pool3 is 2048-d, logits 1008, deterministic', async () => {
  const layout = inceptionWeightLayout();
  const count = inceptionWeightCount(layout);
  assert.ok(count > 23e6 && count < 25e6, `parameter count ${count}`);
  assert.equal(layout[0].torchName, 'Conv2d_1a_3x3.conv.weight');
  assert.deepEqual(layout[0].shape, [3, 3, 3, 32]);
  assert.equal(layout.at(-1)!.torchName, 'fc.bias');
  // Random weights: He-scaled conv kernels; BN γ = 1, β = 0, mean 0, variance 1 (so activations stay finite).
  const rng = new Rng(0);
  const data = new Float32Array(count);
  // Uniform with the He variance (cheaper to draw than normals for 24 M values).
  let o = 0;
  for (const p of layout) {
    const size = p.shape.reduce((a, b) => a * b, 1);
    const fanIn = p.shape.length === 4 ? p.shape[0] * p.shape[1] * p.shape[2] : p.shape[0];
    const kind = p.torchName.split('.').at(-1);
    for (let i = 0; i < size; i++) {
      data[o + i] = kind === 'weight' && p.shape.length > 1 ? (2 * rng.uniform() - 1) * Math.sqrt(6 / fanIn) : kind === 'weight' || kind === 'running_var' ? 1 : 0;
    }
    o += size;
  }
  const dir = await mkdtemp(join(tmpdir(), 'inception-'));
  const file = join(dir, 'inception.bin');
  await writeFile(file, new Uint8Array(data.buffer));
  const net = await loadInceptionNet(file, { inputSize: 75 });
  assert.equal(net.info.featureDim, 2048);
  assert.equal(net.info.classes, 1008);
  const set = images(1, 28, 28, 1, 9); // one image at the smallest input size keeps this test cheap
  const a = net.embed(set);
  const b = net.embed(set);
  assert.equal(a.features.length, 2048);
  assert.equal(a.logits!.length, 1008);
  assert.ok(a.features.every(Number.isFinite));
  assert.ok(a.features.some((v) => v !== 0));
  assert.deepEqual(a.features, b.features);
  assert.match(a.resize, /28×28→75×75, grey→RGB/);
  net.dispose();
  // A file of the wrong size names the expected size.
  await writeFile(file, new Uint8Array(400));
  await assert.rejects(loadInceptionNet(file, { inputSize: 75 }), (e: unknown) => e instanceof UserError && /float32 values/.test(e.message));
});
