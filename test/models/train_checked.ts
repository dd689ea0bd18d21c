import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { getModel } from '../../src/models/registry.js';
import type { RunConfig } from '../../src/gan/config.js';
import { familyConfig } from '../../src/gan/settings.js';
import type { StepStats } from '../../src/gan/step.js';
import { freshState, runStep, type StepState } from '../../src/gan/training_step.js';
import type { DataSource } from '../../src/data/types.js';
import type { GanFamily } from '../../src/gan/family.js';

/**
 * `steps` steps of a model exactly as `ganforge train` runs them (seed 1 unless overridden). Asserts that the
 * family accepts the data, that every reported number is finite, and that the tensor count stays flat from
 * step 2 on (optimizers create their slot variables on each player's first update).
 */
export function trainChecked(model: GanFamily | string, source: DataSource, overrides: Partial<RunConfig>, steps: number): { state: StepState; stats: StepStats[]; config: RunConfig } {
  const family = typeof model === 'string' ? getModel(model) : model;
  const config = familyConfig(family, source.info, { model: family.name, seed: 1, ...overrides });
  assert.equal(family.check(source.info, config), null);
  const state = freshState(family, source, config);
  const stats: StepStats[] = [];
  let afterStep2 = -1;
  for (let i = 0; i < steps; i++) {
    stats.push(runStep(state));
    if (i === 1) afterStep2 = tf.memory().numTensors;
  }
  assert.equal(tf.memory().numTensors, afterStep2, `${family.name}: tensors leaked between step 2 and step ${steps}`);
  stats.forEach((s, i) => {
    for (const [k, v] of Object.entries({ ...s, ...s.extra })) if (typeof v === 'number') assert.ok(Number.isFinite(v), `${family.name} step ${i + 1}: ${k} = ${v}`);
  });
  return { state, stats, config };
}
