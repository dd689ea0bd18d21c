import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-layers'; // registers gradients for tf.grad / optimizer.minimize in Node
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.js';
import { trainChecked } from './train_checked.js';
import { getModel } from '../../src/models/registry.js';
import { resolveConfig, type RunConfig } from '../../src/gan/config.js';
import { latents } from '../../src/gan/sampling.js';
import { disposeState, runStep, type StepState } from '../../src/gan/training_step.js';
import { loadModel, saveModel } from '../../src/gan/model_io.js';
import { loadData } from '../../src/data/registry.js';
import type { DataSource } from '../../src/data/types.js';
import { ENCODER } from '../../src/models/bigan.js';
import { SpectralConv2D, SpectralDense } from '../../src/nn/spectral_norm.js';
import { Rng } from '../../src/util/rng.js';
import { discriminatorOf } from '../../src/gan/family.js';

await initBackend({ quiet: true });

const train = (name: string, source: DataSource, overrides: Partial<RunConfig>, steps: number) => trainChecked(name, source, overrides, steps);

const ring8 = await loadData('toy:ring8');
const images = await loadData('fashion-mnist', { limit: 32 });

/** ũ of every spectral layer of a model, flattened. */
const us = (m: tfl.LayersModel) =>
  m.layers.filter((l: tfl.layers.Layer) => l instanceof SpectralDense || l instanceof SpectralConv2D).map((l: tfl.layers.Layer) => Array.from(l.getWeights()[l.getWeights().length - 1].dataSync()));

test('sngan: paper defaults (hinge, Adam 2e-4, β (0, 0.9), n_dis 5) and every weight layer of D spectrally normalised', () => {
  const image = { name: 'x', kind: 'image' as const, shape: [28, 28, 1] };
  const d = getModel('sngan').defaults(image);
  assert.deepEqual([d.loss, d.lrG, d.lrD, d.beta1, d.beta2, d.nCritic], ['hinge', 2e-4, 2e-4, 0, 0.9, 5]);
  const config = resolveConfig(d, { model: 'sngan', width: 4, latentDim: 8 });
  const nets = getModel('sngan').build(image, config, new Rng(0));
  const weighted = discriminatorOf(nets).layers.filter((l) => l.getWeights().length > 0);
  assert.deepEqual(weighted.map((l) => l.getClassName()), [...Array(7).fill('SpectralConv2D'), 'SpectralDense']);
  nets.generator.dispose();
  discriminatorOf(nets).dispose();
});

test('sngan trains on toy:ring8 and on 28×28 images without NaN or leaks; ũ moves each step', () => {
  const toy = train('sngan', ring8, { batchSize: 32, hidden: 32, latentDim: 8, nCritic: 2 }, 4);
  const u0 = us(discriminatorOf(toy.state.nets));
  assert.equal(u0.length, 3);
  runStep(toy.state);
  assert.notDeepEqual(us(discriminatorOf(toy.state.nets)), u0, 'power iteration did not update ũ');
  disposeState(toy.state);
  const img = train('sngan', images, { width: 4, batchSize: 8, latentDim: 8, nCritic: 2 }, 3);
  assert.ok(img.stats.every((s) => (s.lossD ?? NaN) >= 0), 'hinge loss of D is non-negative');
  disposeState(img.state);
});

test("sngan's D round-trips through a checkpoint save/load with its ũ", async () => {
  const { state } = train('sngan', ring8, { batchSize: 32, hidden: 16, latentDim: 8, nCritic: 1 }, 2);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-sngan-'));
  try {
    await saveModel(discriminatorOf(state.nets), path.join(dir, 'discriminator'));
    const loaded = await loadModel(path.join(dir, 'discriminator'));
    assert.deepEqual(us(loaded), us(discriminatorOf(state.nets)));
    const x = tf.randomNormal([5, 2], 0, 1, 'float32', 3);
    const [a, b] = [discriminatorOf(state.nets), loaded].map((m) => m.apply(x, { training: true }) as tf.Tensor);
    assert.deepEqual(b.dataSync(), a.dataSync());
    tf.dispose([x, a, b]);
    loaded.dispose();
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
    disposeState(state);
  }
});

test('bigan trains on toy:ring8 and on 28×28 images without NaN or leaks; D scores (x, z) pairs; E is nets.extra.encoder', () => {
  const toy = train('bigan', ring8, { batchSize: 32, hidden: 32 }, 4);
  const e = toy.state.nets.extra?.[ENCODER];
  assert.ok(e, 'no encoder');
  assert.deepEqual(e.outputs[0].shape, [null, 2]);
  assert.equal(discriminatorOf(toy.state.nets).inputs.length, 2);
  disposeState(toy.state);
  const img = train('bigan', images, { width: 4, batchSize: 8, latentDim: 8 }, 3);
  assert.deepEqual(img.state.nets.extra![ENCODER].outputs[0].shape, [null, 8]);
  disposeState(img.state);
});

test('bigan refuses --n-critic other than 1', () => {
  const family = getModel('bigan');
  assert.match(family.check(ring8.info, resolveConfig(family.defaults(ring8.info), { nCritic: 5 })) ?? '', /n-critic/);
});

/** Mean over latent dimensions of the Pearson correlation between z and E(G(z)). */
function inversionCorrelation(state: StepState, n: number): number {
  const L = state.config.latentDim;
  const z = latents(new Rng(3), n, L);
  const ez = tf.tidy(() => (state.nets.extra![ENCODER].apply(state.nets.generator.apply(z, { training: false }) as tf.Tensor) as tf.Tensor).dataSync());
  const zz = z.dataSync();
  z.dispose();
  let total = 0;
  for (let k = 0; k < L; k++) {
    let sa = 0, sb = 0, sab = 0, saa = 0, sbb = 0;
    for (let i = 0; i < n; i++) {
      const a = zz[i * L + k], b = ez[i * L + k];
      sa += a; sb += b; sab += a * b; saa += a * a; sbb += b * b;
    }
    const cov = sab / n - (sa / n) * (sb / n);
    total += cov / Math.sqrt((saa / n - (sa / n) ** 2) * (sbb / n - (sb / n) ** 2));
  }
  return total / L;
}

test('bigan learns to invert G on toy:ring8: corr(z, E(G(z))) rises from ~0 to > 0.5 in 400 steps', () => {
  // Measured (seeds 1, 2): untrained −0.09; after 300 steps 0.75 / 0.75; after 500 steps 0.90.
  const { state } = train('bigan', ring8, { batchSize: 64, hidden: 64 }, 2);
  const before = inversionCorrelation(state, 400);
  for (let i = 2; i < 400; i++) runStep(state);
  const after = inversionCorrelation(state, 400);
  assert.ok(Math.abs(before) < 0.3, `untrained correlation ${before}`);
  assert.ok(after > 0.5, `correlation after 400 steps ${after} (before ${before})`);
  disposeState(state);
});
