import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.js';
import { startRun } from '../../src/run.js';
import { DivergenceError, type Trainer } from '../../src/gan/trainer.js';
import type { RunConfig } from '../../src/gan/config.js';
import { assertLoadable, metrics, tempDir } from './helpers.js';

await initBackend({ prefer: 'cpu', quiet: true });

const tmp = await tempDir('diverge');
test.after(() => fs.rm(tmp, { recursive: true, force: true }));

const TOY: Partial<RunConfig> = {
  model: 'vanilla', data: 'toy:ring8', hidden: 8, batchSize: 8, steps: 6, seed: 9, lrG: 1e-3, lrD: 1e-3,
  checkpointEvery: 2, keepCheckpoints: 2, sampleEvery: 0, logEvery: 1, maxRollbacks: 2, rollbackLrFactor: 0.5,
};

/** Write NaN into the first element of the generator's first weight, in place (as a blown-up update would). */
function poison(trainer: Trainer): void {
  const v = trainer.parts.nets.generator.trainableWeights[0].read() as tf.Variable;
  const values = v.dataSync().slice();
  values[0] = NaN;
  tf.tidy(() => v.assign(tf.tensor(values, v.shape, 'float32')));
}

/**
 * Run with `poisonAt(step, visit)` deciding, after each step's stats, whether to poison the generator.
 * Records the live tensor count at each visit of each step, to compare before and after a rollback.
 */
async function runPoisoned(name: string, config: Partial<RunConfig>, poisonAt: (step: number, visit: number) => boolean) {
  const out = path.join(tmp, name);
  const trainer = await startRun({ ...TOY, ...config, out });
  const visits = new Map<number, number>();
  const tensors = new Map<string, number>();
  trainer.stats.subscribe((step) => {
    const visit = (visits.get(step) ?? 0) + 1;
    visits.set(step, visit);
    tensors.set(`${step}#${visit}`, tf.memory().numTensors);
    if (poisonAt(step, visit)) poison(trainer);
  });
  const notices: string[] = [];
  trainer.stats.onNotice((m) => notices.push(m));
  return { out, trainer, tensors, notices, result: trainer.train().finally(() => trainer.dispose()) };
}

test('one NaN injection: one rollback with halved learning rates, config.json updated, no tensor leak, run completes', async () => {
  // Poisoned after step 3 (between checkpoints 2 and 4): step 4 computes NaN losses → back to step 2.
  const r = await runPoisoned('once', {}, (step, visit) => step === 3 && visit === 1);
  const done = await r.result;
  assert.deepEqual([done.step, done.stopped], [6, false]);

  const log = await metrics(r.out);
  const events = log.filter((l) => l.event === 'rollback');
  assert.equal(events.length, 1, JSON.stringify(events));
  const [e] = events;
  assert.equal(e.from, 4);
  assert.equal(e.step, 2);
  assert.match(String(e.reason), /loss\/[DG] = NaN/);
  assert.equal(e.lrG, 5e-4);
  assert.equal(e.lrD, 5e-4);
  // The log matches the weights: steps 1–2, the event, then 3–6 retrained (the poisoned 3 and 4 dropped).
  assert.deepEqual(log.map((l) => l.event ?? l.step), [1, 2, 'rollback', 3, 4, 5, 6]);
  assert.ok(log.filter((l) => l.step !== undefined && l.event === undefined).every((l) => Number.isFinite(l['loss/D']) && Number.isFinite(l['loss/G'])));
  assert.equal(r.notices.length, 1);
  assert.match(r.notices[0], /rolled back to step 2/);

  const config = JSON.parse(await fs.readFile(path.join(r.out, 'config.json'), 'utf8')) as RunConfig;
  assert.equal(config.lrG, 5e-4);
  assert.equal(config.lrD, 5e-4);
  const ck = await assertLoadable(r.out);
  assert.equal(ck.step, 6);

  // Same live tensors at step 3 before the rollback and at step 3 after it, and at the end of the run.
  assert.equal(r.tensors.get('3#2'), r.tensors.get('3#1'), `tensors: ${JSON.stringify(Object.fromEntries(r.tensors))}`);
  assert.equal(r.tensors.get('6#1'), r.tensors.get('1#1'), `tensors: ${JSON.stringify(Object.fromEntries(r.tensors))}`);
});

test('non-finite weights at checkpoint time roll back instead of being saved', async () => {
  // Poisoned after step 2, a checkpoint step: the step's own losses were finite, the weights are not.
  const r = await runPoisoned('at-checkpoint', {}, (step, visit) => step === 2 && visit === 1);
  assert.equal((await r.result).step, 6);
  const events = (await metrics(r.out)).filter((l) => l.event === 'rollback');
  assert.equal(events.length, 1);
  assert.equal(events[0].step, 0);
  assert.match(String(events[0].reason), /non-finite weights at checkpoint time/);
});

test('NaN after every rollback: DivergenceError after maxRollbacks, naming the checkpoint folder; the last good checkpoint stays', async () => {
  const r = await runPoisoned('always', {}, (step) => step === 3);
  await assert.rejects(r.result, (e: unknown) => {
    assert.ok(e instanceof DivergenceError, String(e));
    assert.match(e.message, /after 2 rollback\(s\)/);
    assert.ok(e.message.includes(path.join(r.out, 'checkpoints')), e.message);
    return true;
  });
  const events = (await metrics(r.out)).filter((l) => l.event === 'rollback');
  assert.deepEqual(events.map((l) => [l.lrG, l.lrD]), [[5e-4, 5e-4], [2.5e-4, 2.5e-4]]);
  assert.equal((await assertLoadable(r.out)).step, 2);
});

test('an exploding loss (--explode-loss tiny) rolls back like NaN and ends in DivergenceError', async () => {
  const r = await runPoisoned('explode', { explodeLoss: 1e-3, maxRollbacks: 1 }, () => false);
  await assert.rejects(r.result, (e: unknown) => {
    assert.ok(e instanceof DivergenceError, String(e));
    assert.match(e.message, /--explode-loss 0\.001/);
    return true;
  });
  const events = (await metrics(r.out)).filter((l) => l.event === 'rollback');
  assert.equal(events.length, 1);
  assert.match(String(events[0].reason), /> --explode-loss 0\.001/);
  assert.equal((await assertLoadable(r.out)).step, 0);
});

test("a family's extensive losses (VAE/GAN's sums over features) are held to NaN/Inf, not to --explode-loss", async () => {
  const out = path.join(tmp, 'vaegan');
  const trainer = await startRun({
    model: 'vaegan', data: 'fashion-mnist', dataLimit: 64, batchSize: 8, width: 8, latentDim: 8, steps: 2, seed: 1,
    checkpointEvery: 1, sampleEvery: 0, logEvery: 1, maxRollbacks: 0, explodeLoss: 100, out,
  } as Partial<RunConfig>);
  const seen: number[] = [];
  trainer.stats.subscribe((_step, s) => seen.push(Math.abs(s['loss/llike'] ?? NaN)));
  await trainer.train().finally(() => trainer.dispose());
  assert.ok(seen.length > 0 && seen.every((v) => v > 100), `L_llike ${seen} is above --explode-loss 100, yet no rollback ran`);
  assert.equal((await metrics(out)).filter((l) => l.event === 'rollback').length, 0);
});
