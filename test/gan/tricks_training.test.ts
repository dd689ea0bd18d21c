import { test } from 'node:test';
import assert from 'node:assert/strict';
import '@tensorflow/tfjs-layers'; // registers gradients for tf.grad / optimizer.minimize in Node
import { initBackend } from '../../src/backend/index.js';
import { trainChecked } from '../models/train_checked.js';
import { getModel } from '../../src/models/registry.js';
import { resolveConfig, type RunConfig } from '../../src/gan/config.js';
import { disposeState, freshState, runStep } from '../../src/gan/training_step.js';
import { loadData } from '../../src/data/registry.js';
import type { DataSource } from '../../src/data/types.js';
import { EMA_GENERATOR, discriminatorOf } from '../../src/gan/family.js';
import { D_AVERAGE, G_AVERAGE } from '../../src/gan/tricks/index.js';

await initBackend({ quiet: true, prefer: 'cpu' });

/** Every trick at once (DiffAugment only where the data are images). */
const ALL_TRICKS: Partial<RunConfig> = {
  labelSmoothing: 0.1, instanceNoise: 0.1, instanceNoiseSteps: 4, featureMatching: 1, minibatchDiscrimination: 4, minibatchStddev: 4,
  historicalAveraging: 1e-3, historicalAveragingG: 1e-3, emaDecay: 0.99, gradClip: 1, nCritic: 2,
};

/** A few trainer steps with every trick on (see trainChecked: finite stats, flat tensor count). */
function trainWithTricks(model: string, source: DataSource, overrides: Partial<RunConfig>, steps: number) {
  return trainChecked(model, source, { seed: 2, steps: 50, ...ALL_TRICKS, ...overrides }, steps);
}

test('vanilla on toy:ring8 trains with every trick on (no DiffAugment: points), reporting each trick', async () => {
  const ring8 = await loadData('toy:ring8');
  const { state, stats } = trainWithTricks('vanilla', ring8, { batchSize: 16, hidden: 16, latentDim: 4 }, 5);
  const sigmas = stats.map((s) => s.extra?.['trick/noise-sigma'] ?? NaN);
  [0.1, 0.075, 0.05, 0.025, 0].forEach((v, i) => assert.ok(Math.abs(sigmas[i] - v) < 1e-9, `σ at step ${i}: ${sigmas}`));
  for (const key of ['trick/feature-matching', 'trick/hist-avg-d', 'trick/hist-avg-g', 'trick/grad-norm-d', 'trick/grad-norm-g']) {
    assert.ok(stats.every((s) => typeof s.extra?.[key] === 'number'), `${key} reported`);
  }
  // G's first update sees G at its initial weights (D's second critic update already saw a moved D).
  assert.equal(stats[0].extra?.['trick/hist-avg-g'], 0, 'no history yet at the first step');
  assert.ok(stats[4].extra!['trick/hist-avg-d'] > 0, 'weights moved away from their average');
  assert.deepEqual(Object.keys(state.nets.extra ?? {}).sort(), [D_AVERAGE, EMA_GENERATOR, G_AVERAGE].sort());
  disposeState(state);
});

test('dcgan (width 4) on 28×28 images trains with every trick on, DiffAugment included', async () => {
  const source = await loadData('fashion-mnist', { limit: 32 });
  const { state } = trainWithTricks('dcgan', source, { width: 4, batchSize: 8, latentDim: 8, diffAugment: 'translation,cutout,color' }, 3);
  const classes = discriminatorOf(state.nets).layers.map((l) => l.getClassName());
  assert.ok(classes.includes('MinibatchDiscrimination') && classes.includes('MinibatchStddev'), classes.join(', '));
  disposeState(state);
});

test('with every trick off the step is unchanged: no extra networks, no trick stats', async () => {
  const ring8 = await loadData('toy:ring8');
  const family = getModel('vanilla');
  const config = resolveConfig(family.defaults(ring8.info), { model: 'vanilla', batchSize: 16, hidden: 16, latentDim: 4 });
  const state = freshState(family, ring8, config);
  const s = runStep(state);
  assert.equal(state.nets.extra, undefined);
  assert.equal(s.extra, undefined);
  disposeState(state);
});
