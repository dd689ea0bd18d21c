import { test } from 'node:test';
import assert from 'node:assert/strict';
import '@tensorflow/tfjs-layers'; // registers gradients for tf.grad / optimizer.minimize in Node
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.js';
import { trainChecked } from './train_checked.js';
import { MODELS, getModel } from '../../src/models/registry.js';
import { resolveConfig, resolveFamilyConfig, type RunConfig } from '../../src/gan/config.js';
import type { StepStats } from '../../src/gan/step.js';
import { generate, latents, oneHotLabels } from '../../src/gan/sampling.js';
import { disposeOptimizers } from '../../src/gan/optimizers.js';
import { disposeState, freshState, runStep } from '../../src/gan/training_step.js';
import { loadData } from '../../src/data/registry.js';
import { RING8 } from '../../src/data/toy2d.js';
import type { DataSource } from '../../src/data/types.js';
import type { GanFamily, GanNetworks } from '../../src/gan/family.js';
import { Rng } from '../../src/util/rng.js';
import { discriminatorOf } from '../../src/gan/family.js';

await initBackend({ quiet: true });

/** Train `family` for `steps` steps the way the trainer does (trainChecked); returns the nets, stats and config. */
function train(family: GanFamily, source: DataSource, overrides: Partial<RunConfig>, steps: number) {
  const { state, stats, config } = trainChecked(family, source, overrides, steps);
  disposeOptimizers(state.optimizers);
  return { nets: state.nets, stats, config };
}

function dispose(nets: GanNetworks) {
  nets.generator.dispose();
  discriminatorOf(nets).dispose();
}

function assertFinite(name: string, stats: StepStats[]) {
  stats.forEach((s, i) => {
    for (const [k, v] of Object.entries({ ...s, ...s.extra })) if (typeof v === 'number') assert.ok(Number.isFinite(v), `${name} step ${i + 1}: ${k} = ${v}`);
  });
}

const ring8 = await loadData('toy:ring8');
const small = { batchSize: 32, hidden: 32, latentDim: 8 };

for (const name of ['wgan', 'wgan-gp', 'lsgan', 'cgan']) {
  test(`${name} trains a few steps on toy:ring8 without NaN and without leaking tensors`, () => {
    const { nets, stats } = train(getModel(name), ring8, small, 4);
    assertFinite(name, stats);
    dispose(nets);
  });
}

test('wgan-gp trains on 28×28 images through its conv critic (second-order gradients through conv2d)', async () => {
  const source = await loadData('fashion-mnist', { limit: 32 });
  const { nets, stats, config } = train(getModel('wgan-gp'), source, { width: 4, batchSize: 8, latentDim: 8, nCritic: 2 }, 3);
  assertFinite('wgan-gp images', stats);
  assert.ok(stats.every((s) => (s.extra?.['reg/gp'] ?? -1) > 0), 'the penalty is reported and positive');
  assert.equal(config.gpWeight, 10);
  assert.ok(!discriminatorOf(nets).layers.some((l) => l.getClassName() === 'BatchNormalization'), 'critic has no batch norm');
  dispose(nets);
});

test('wgan keeps every critic weight within ±clip after each step', () => {
  const { nets, config } = train(getModel('wgan'), ring8, small, 2);
  const max = tf.tidy(() => Math.max(...discriminatorOf(nets).getWeights().map((w) => tf.max(tf.abs(w)).dataSync()[0])));
  assert.ok(max <= config.clipValue + 1e-7, `max |w| = ${max}`);
  assert.equal(config.optimizer, 'rmsprop');
  dispose(nets);
});

test('paper defaults: wgan-gp n_critic 5, λ 10, Adam β (0, 0.9); wgan RMSProp 5e-5, c 0.01; lsgan least squares', () => {
  const image = { name: 'x', kind: 'image' as const, shape: [28, 28, 1] };
  assert.deepEqual(
    (({ loss, nCritic, gpWeight, lrD, beta1, beta2 }) => ({ loss, nCritic, gpWeight, lrD, beta1, beta2 }))(getModel('wgan-gp').defaults(image) as RunConfig),
    { loss: 'wasserstein', nCritic: 5, gpWeight: 10, lrD: 1e-4, beta1: 0, beta2: 0.9 },
  );
  const w = getModel('wgan').defaults(image);
  assert.deepEqual([w.optimizer, w.lrD, w.clipValue, w.nCritic], ['rmsprop', 5e-5, 0.01, 5]);
  assert.equal(getModel('lsgan').defaults(image).loss, 'least-squares');
});

test('cgan: samples for class k land nearest mode k far more often than chance (1/8) after short training', () => {
  const { nets } = train(getModel('cgan'), ring8, { batchSize: 64, hidden: 64, latentDim: 8, lrG: 3e-3, lrD: 3e-3 }, 150);
  const n = 400;
  const classes = Array.from({ length: n }, (_, i) => i % 8);
  const z = latents(new Rng(9), n, 8);
  const y = oneHotLabels(classes, 8);
  const points = generate(nets.generator, z, 256, y); // [n, 2] flat
  tf.dispose([z, y]);
  let agree = 0;
  for (let i = 0; i < n; i++) {
    const d = RING8.centres.map(([cx, cy]) => (points[2 * i] - cx) ** 2 + (points[2 * i + 1] - cy) ** 2);
    if (d.indexOf(Math.min(...d)) === classes[i]) agree++;
  }
  assert.ok(agree / n > 0.5, `class agreement ${agree / n} (chance 0.125)`);
  dispose(nets);
});

test('cgan refuses unlabelled data, saying what to use', () => {
  assert.match(getModel('cgan').check({ name: 'folder:x', kind: 'image', shape: [32, 32, 3] }, resolveConfig()) ?? '', /labelled/);
});

test('every image family, built, trained 3 steps and disposed, leaves no tensor behind', async () => {
  const source = await loadData('fashion-mnist', { limit: 32 });
  for (const family of Object.values(MODELS)) {
    // Defaults may hold a family's own settings (srgan's content loss), so resolve against its table.
    const config = resolveFamilyConfig(family.settings ?? {}, family.defaults(source.info), { model: family.name, batchSize: 8, width: 4, hidden: 16, latentDim: 16, nCritic: 1 });
    if (family.check(source.info, config) !== null) continue;
    const before = tf.memory().numTensors;
    const state = freshState(family, source, config);
    for (let i = 0; i < 3; i++) runStep(state);
    disposeState(state);
    assert.equal(tf.memory().numTensors - before, 0, `${family.name} left tensors behind`);
  }
});
