import { test } from 'node:test';
import assert from 'node:assert/strict';
import '@tensorflow/tfjs-layers'; // registers gradients for optimizer.minimize in Node
import * as tf from '@tensorflow/tfjs-core';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../../src/backend/index.js';
import { getModel } from '../../src/models/registry.js';
import { encode, reconstructionError, reconstructionPhase } from '../../src/models/aae.js';
import { resolveConfig, type RunConfig } from '../../src/gan/config.js';
import type { GanFamily } from '../../src/gan/family.js';
import { disposeState, freshState, runStep, type StepState } from '../../src/gan/training_step.js';
import { loadCheckpoint } from '../../src/gan/checkpoint.js';
import { startRun, resumeRun } from '../../src/run.js';
import { loadData } from '../../src/data/registry.js';
import type { ArraySource } from '../../src/data/types.js';
import { frechetDistance } from '../../src/metrics/fid.js';
import { gaussianStats } from '../../src/metrics/linalg.js';
import { discriminatorOf } from '../../src/gan/family.js';

await initBackend({ quiet: true });

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-aae-'));
test.after(() => fs.rm(tmp, { recursive: true, force: true }));

const aae = getModel('aae');
const images = (await loadData('fashion-mnist', { limit: 1024 })) as ArraySource;
const SMALL: Partial<RunConfig> = { model: 'aae', seed: 1, hidden: 128, batchSize: 64 };

/** 512 held-in images as floats in [-1, 1], the batches' scaling: [512, 28, 28, 1]. */
const probe = tf.tidy(() => tf.sub(tf.div(tf.tensor4d(images.values.subarray(0, 512 * 784), [512, 28, 28, 1], 'float32'), 127.5), 1));
test.after(() => probe.dispose());

function state(family: GanFamily): StepState {
  return freshState(family, images, resolveConfig(aae.defaults(images.info), SMALL));
}

const recon = (s: StepState) => tf.tidy(() => reconstructionError(s.nets, probe).dataSync()[0]);

/** Fréchet distance between a Gaussian fitted to the encoder's codes of the probe and the prior N(0, I). */
function distanceToPrior(s: StepState): number {
  const codes = encode(s.nets, probe); // [512, latentDim]
  const d = codes.shape[1];
  const identity = new Float64Array(d * d).map((_, i) => (i % (d + 1) === 0 ? 1 : 0));
  const fd = frechetDistance(gaussianStats(codes.dataSync() as Float32Array, codes.shape[0], d), { dim: d, count: Infinity, mean: new Float64Array(d), cov: identity });
  codes.dispose();
  return fd.fid;
}

test('aae: D scores latent codes, the decoder is G, the encoder lives in nets.extra; bad settings are refused', () => {
  const s = state(aae);
  assert.deepEqual(discriminatorOf(s.nets).inputs[0].shape, [null, 8], 'D sees z, not images');
  assert.deepEqual(s.nets.generator.inputs[0].shape, [null, 8]);
  assert.deepEqual(s.nets.generator.outputs[0].shape, [null, 28, 28, 1]);
  assert.deepEqual(s.nets.extra?.encoder.outputs[0].shape, [null, 8]);
  assert.ok(s.optimizers.extra?.reconstruction, 'the reconstruction phase has its own optimizer');
  disposeState(s);
  assert.match(aae.check(images.info, resolveConfig({ nCritic: 5 })) ?? '', /--n-critic/);
});

test('aae on Fashion-MNIST: no NaN, flat tensor count, reconstruction error falls, codes move far closer to N(0, I) than without the regularisation phase', () => {
  const s = state(aae);
  const before = recon(s);
  let afterStep2 = -1;
  for (let i = 0; i < 100; i++) {
    const stats = runStep(s);
    for (const [k, v] of Object.entries({ ...stats, ...stats.extra })) if (typeof v === 'number') assert.ok(Number.isFinite(v), `step ${i + 1}: ${k} = ${v}`);
    assert.ok(typeof stats.extra?.['loss/recon'] === 'number', 'recon loss is reported');
    // Optimizers create their slots on their first update; from step 2 on the count is flat.
    if (i === 1) afterStep2 = tf.memory().numTensors;
  }
  assert.equal(tf.memory().numTensors, afterStep2, 'tensors leaked between step 2 and step 100');
  const after = recon(s);
  // Measured (seeds 1, 2): 0.685 → 0.155 / 0.151.
  assert.ok(after < 0.5 * before, `reconstruction MSE ${before.toFixed(3)} → ${after.toFixed(3)}`);
  const aaeDistance = distanceToPrior(s);
  disposeState(s);

  // The same autoencoder, same seed and batches, with the reconstruction phase alone: its codes drift where
  // reconstruction puts them. Measured: Fréchet distance to N(0, I) ≈ 570 / 440 alone vs ≈ 15 / 10 with aae.
  const plain = state({ ...aae, step: (ctx) => ({ lossD: 0, lossG: 0, dReal: 0, dFake: 0, extra: { 'loss/recon': reconstructionPhase(ctx) } }) });
  for (let i = 0; i < 100; i++) runStep(plain);
  const plainDistance = distanceToPrior(plain);
  disposeState(plain);
  assert.ok(aaeDistance * 5 < plainDistance, `distance of codes to N(0, I): aae ${aaeDistance.toFixed(2)}, autoencoder alone ${plainDistance.toFixed(2)}`);
});

test('aae: train → checkpoint → resume keeps the encoder and the reconstruction optimizer (same weights as an uninterrupted run)', async () => {
  const tiny: Partial<RunConfig> = { model: 'aae', data: 'toy:ring8', batchSize: 32, hidden: 16, latentDim: 2, sampleEvery: 0, logEvery: 1, checkpointEvery: 0 };
  const straight = await startRun({ ...tiny, steps: 6, out: path.join(tmp, 'straight') });
  await straight.train();
  const want = straight.parts.nets.extra!.encoder.getWeights().map((w) => Array.from(w.dataSync()));
  straight.dispose();

  const out = path.join(tmp, 'split');
  const first = await startRun({ ...tiny, steps: 3, out });
  await first.train();
  first.dispose();
  const ck = await loadCheckpoint(out);
  assert.deepEqual(ck.state.extras, { nets: ['encoder'], optimizers: ['reconstruction'] });
  assert.ok(ck.optimizerWeights.reconstruction.length > 1, 'Adam moments of the reconstruction phase were saved');
  tf.dispose(Object.values(ck.optimizerWeights).flat().map((w) => w.tensor));
  for (const model of [ck.nets.generator, discriminatorOf(ck.nets), ...Object.values(ck.nets.extra ?? {})]) model.dispose();

  const resumed = await resumeRun(out, { steps: 6 });
  await resumed.train();
  const got = resumed.parts.nets.extra!.encoder.getWeights().map((w) => Array.from(w.dataSync()));
  resumed.dispose();
  // A fresh reconstruction optimizer (or a re-initialised encoder) would move the weights differently.
  assert.deepEqual(got, want);
});
