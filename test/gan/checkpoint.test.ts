import { test } from 'node:test';
import assert from 'node:assert/strict';
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../../src/backend/index.js';
import { startRun, resumeRun } from '../../src/run.js';
import { loadCheckpoint, loadGenerator, resolveCheckpoint } from '../../src/gan/checkpoint.js';
import { generate, latents } from '../../src/gan/sampling.js';
import { UserError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { discriminatorOf } from '../../src/gan/family.js';

await initBackend({ quiet: true });

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-ckpt-'));
test.after(() => fs.rm(tmp, { recursive: true, force: true }));

async function rejectsUser(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected a UserError, got ${e}`);
    assert.match(e.message, pattern);
    return true;
  });
}

const TINY = { dataLimit: 64, batchSize: 16, width: 8, latentDim: 16, sampleEvery: 0, logEvery: 1 };

test('save → load gives identical generator outputs; the folder is in TF.js layers format', async () => {
  const out = path.join(tmp, 'run');
  const trainer = await startRun({ model: 'dcgan', data: 'fashion-mnist', steps: 3, checkpointEvery: 0, out, ...TINY });
  const result = await trainer.train();
  assert.equal(result.step, 3);
  assert.equal(result.stopped, false);
  const z = latents(new Rng(7), 8, 16);
  const before = generate(trainer.parts.nets.generator, z);
  trainer.dispose();

  const dir = await resolveCheckpoint(out);
  assert.equal(path.basename(dir), 'step-000003');
  const { generator, state } = await loadGenerator(out);
  assert.equal(state.step, 3);
  assert.equal(state.config.width, 8);
  const after = generate(generator, z);
  generator.dispose();
  z.dispose();
  assert.equal(after.length, 8 * 28 * 28);
  assert.deepEqual(after, before);

  // The layout tf.loadLayersModel('…/model.json') reads: modelTopology + a manifest pointing at weights.bin.
  for (const net of ['generator', 'discriminator']) {
    const modelJson = JSON.parse(await fs.readFile(path.join(dir, net, 'model.json'), 'utf8'));
    assert.equal(typeof modelJson.modelTopology, 'object');
    assert.equal(modelJson.format, 'layers-model');
    assert.equal(modelJson.weightsManifest.length, 1);
    assert.deepEqual(modelJson.weightsManifest[0].paths, ['weights.bin']);
    const specs = modelJson.weightsManifest[0].weights as { shape: number[]; dtype: string }[];
    const bytes = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * 4, 0);
    assert.equal((await fs.stat(path.join(dir, net, 'weights.bin'))).size, bytes);
  }
});

test('resume continues from the checkpoint with the optimizer state restored', async () => {
  const out = path.join(tmp, 'run');
  const ck = await loadCheckpoint(out);
  const moments = ck.optimizerWeights.g.length;
  assert.ok(moments > 1, 'Adam moments were saved');
  tf.dispose([...ck.optimizerWeights.g, ...ck.optimizerWeights.d].map((w) => w.tensor));
  ck.nets.generator.dispose();
  discriminatorOf(ck.nets).dispose();

  await rejectsUser(resumeRun(out), /already at step 3; pass --steps N with N > 3/);
  const trainer = await resumeRun(out, { steps: 5 });
  assert.equal(trainer.step, 3);
  const result = await trainer.train();
  trainer.dispose();
  assert.equal(result.step, 5);
  assert.equal(path.basename(await resolveCheckpoint(out)), 'step-000005');
  const steps = (await fs.readFile(path.join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l).step);
  assert.deepEqual(steps, [1, 2, 3, 4, 5]);
});

test('a moved run resumes where it is now, never into the folder it was trained in', async () => {
  const before = path.join(tmp, 'moved-from');
  const after = path.join(tmp, 'moved-to');
  const first = await startRun({ model: 'vanilla', data: 'toy:ring8', steps: 3, batchSize: 16, hidden: 8, latentDim: 4, sampleEvery: 0, logEvery: 1, out: before });
  await first.train();
  first.dispose();
  await fs.rename(before, after);
  // Through the run folder and through one of its checkpoint folders alike.
  for (const [target, steps] of [[after, 5], [path.join(after, 'checkpoints', 'step-000005'), 7]] as const) {
    const trainer = await resumeRun(target, { steps });
    assert.equal(path.resolve(trainer.run.dir), path.resolve(after));
    await trainer.train();
    trainer.dispose();
  }
  assert.equal(path.basename(await resolveCheckpoint(after)), 'step-000007');
  assert.equal(JSON.parse(await fs.readFile(path.join(after, 'config.json'), 'utf8')).out, after);
  await assert.rejects(fs.access(before), 'nothing was written to the old location');
});

test('startRun refuses an --out that already holds a run', async () => {
  await rejectsUser(startRun({ model: 'dcgan', data: 'fashion-mnist', steps: 3, out: path.join(tmp, 'run'), ...TINY }), /already holds a run/);
});

test('resolveCheckpoint gives clear errors for missing, non-run, checkpoint-less and incomplete folders', async () => {
  await rejectsUser(resolveCheckpoint(path.join(tmp, 'nope')), /does not exist/);
  const empty = path.join(tmp, 'empty');
  await fs.mkdir(empty);
  await rejectsUser(resolveCheckpoint(empty), /not a ganforge run folder/);

  const bare = path.join(tmp, 'bare');
  await fs.mkdir(bare);
  await fs.writeFile(path.join(bare, 'config.json'), '{}');
  await rejectsUser(resolveCheckpoint(bare), /no checkpoint yet/);

  // A checkpoint folder given directly, with its generator weights gone.
  const broken = path.join(tmp, 'broken');
  await fs.cp(await resolveCheckpoint(path.join(tmp, 'run')), broken, { recursive: true });
  assert.equal(await resolveCheckpoint(broken), broken);
  await fs.rm(path.join(broken, 'generator', 'weights.bin'));
  await rejectsUser(resolveCheckpoint(broken), /incomplete/);
});

test('a run folder whose newest checkpoint is incomplete falls back to the previous complete one', async () => {
  const run = path.join(tmp, 'run');
  const newest = await resolveCheckpoint(run); // step-000005
  await fs.rm(path.join(newest, 'optimizer-d.json'));
  assert.equal(path.basename(await resolveCheckpoint(run)), 'step-000003');
});
