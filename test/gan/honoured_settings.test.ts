import { test } from 'node:test';
import assert from 'node:assert/strict';
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.js';
import { trainChecked } from '../models/train_checked.js';
import { MODELS, getModel } from '../../src/models/registry.js';
import { OPTIONAL_SETTINGS, flagOf } from '../../src/gan/config.js';
import { checkHonoured } from '../../src/gan/settings.js';
import { honouredSettings, discriminatorOf, type GanNetworks } from '../../src/gan/family.js';
import { disposeState, freshState } from '../../src/gan/training_step.js';
import { loadData } from '../../src/data/registry.js';
import { resolveConfig } from '../../src/gan/config.js';
import { UserError } from '../../src/util/errors.js';

await initBackend({ quiet: true });

const ring8 = await loadData('toy:ring8');
const images = await loadData('fashion-mnist', { limit: 64 });
const small = { batchSize: 16, hidden: 16, latentDim: 8 };

function dWeights(state: { nets: GanNetworks }): Float32Array[] {
  return discriminatorOf(state.nets).getWeights().map((w) => w.dataSync() as Float32Array);
}

// Each case below was a setting a family silently ignored (or misread); each is now honoured.

test('wgan --clip-value 0 turns clipping off (it used to set every D weight to 0)', () => {
  const { state } = trainChecked('wgan', ring8, { ...small, clipValue: 0 }, 2);
  const maxAbs = Math.max(...dWeights(state).map((w) => Math.max(...w.map(Math.abs))));
  assert.ok(maxAbs > 0.05, `with clipping off the critic keeps its initial scale (max |w| = ${maxAbs})`);
  disposeState(state);
});

test('sngan --r1-gamma adds the R1 penalty to its D updates', () => {
  const { state, stats } = trainChecked('sngan', ring8, { ...small, r1Gamma: 10 }, 2);
  assert.ok(stats.every((s) => (s.extra?.['reg/r1'] ?? 0) > 0), 'reg/r1 reported and positive');
  disposeState(state);
});

test('cgan --n-critic 5 --clip-value 0.01 makes five clipped D updates per step', () => {
  const { state, stats } = trainChecked('cgan', ring8, { ...small, nCritic: 5, clipValue: 0.01, loss: 'wasserstein' }, 2);
  // Five real batches per step: the stream advanced 2 × 5 batches.
  assert.equal(state.stream.state().cursor, 10);
  for (const w of dWeights(state)) assert.ok(w.every((v) => Math.abs(v) <= 0.01 + 1e-7), 'every D weight within ±0.01');
  assert.ok(stats.every((s) => s.extra?.['critic/w-dist'] !== undefined));
  disposeState(state);
});

test('wgan-gp honours R1 and R2 next to its gradient penalty', () => {
  const { state, stats } = trainChecked('wgan-gp', ring8, { ...small, r1Gamma: 1, r2Gamma: 1, nCritic: 2 }, 2);
  for (const s of stats) for (const name of ['reg/gp', 'reg/r1', 'reg/r2']) assert.ok((s.extra?.[name] ?? 0) > 0, `${name} reported`);
  disposeState(state);
});

test('bigan and aae G phases apply feature matching and gradient clipping; bigan also DiffAugment', () => {
  for (const model of ['bigan', 'aae']) {
    const { state, stats } = trainChecked(model, images, { batchSize: 8, width: 4, hidden: 16, latentDim: 8, featureMatching: 1, gradClip: 0.5 }, 2);
    for (const s of stats) {
      assert.ok((s.extra?.['trick/feature-matching'] ?? -1) >= 0, `${model}: feature matching reported`);
      assert.ok(s.extra?.['trick/grad-norm-g'] !== undefined, `${model}: G's gradient norm reported (clipping ran in the G phase)`);
    }
    disposeState(state);
  }
  // DiffAugment in bigan's G phase: with it on, G's loss differs from the same step without it.
  const lossG = (diffAugment: string) => {
    const { state, stats } = trainChecked('bigan', images, { batchSize: 8, width: 4, latentDim: 8, diffAugment }, 2);
    disposeState(state);
    return stats[0].lossG;
  };
  assert.notEqual(lossG('translation,cutout'), lossG(''));
});

test('a setting the family does not use is an error naming its flag', () => {
  const refuse = (model: string, given: Record<string, unknown>, flag: string) => {
    assert.throws(() => checkHonoured(getModel(model), images.info, given), (e: unknown) => e instanceof UserError && e.message.includes(flag) && e.message.includes(model));
  };
  refuse('acgan', { clipValue: 0.01 }, '--clip-value');
  refuse('aae', { diffAugment: 'translation' }, '--diff-augment');
  refuse('infogan', { gpWeight: 10 }, '--gp-weight');
  refuse('dcgan', { hidden: 64 }, '--hidden');
  refuse('vanilla', { width: 8 }, '--width');
  refuse('bigan', { nCritic: 5 }, '--n-critic');
  // Data decides too: DiffAugment is for images, so on 2-D points no family honours it.
  assert.throws(() => checkHonoured(getModel('dcgan'), ring8.info, { diffAugment: 'color' }), /--diff-augment/);
  // What a family honours it accepts.
  checkHonoured(getModel('wgan'), ring8.info, { clipValue: 0, hidden: 32, r1Gamma: 1 });
});

test('every family declares honoured settings from the optional list, and builds with each of them set', () => {
  for (const family of Object.values(MODELS)) {
    for (const data of [ring8.info, images.info]) {
      for (const key of honouredSettings(family, data)) assert.ok((OPTIONAL_SETTINGS as readonly string[]).includes(key), `${family.name}: ${flagOf(key)} is optional`);
    }
  }
});

test('a class-conditional family on unlabelled data is refused before anything is built', async () => {
  const folderless = { ...ring8, info: { ...ring8.info, numClasses: undefined, name: 'toy:unlabelled' } };
  const config = resolveConfig(getModel('cgan').defaults(ring8.info), { model: 'cgan', ...small });
  const before = tf.memory().numTensors;
  assert.throws(() => freshState(getModel('cgan'), folderless, config), (e: unknown) => e instanceof UserError && /consumes a class condition/.test((e as Error).message));
  assert.equal(tf.memory().numTensors, before, 'nothing was built');
});
