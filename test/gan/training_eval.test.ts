import { test } from 'node:test';
import assert from 'node:assert/strict';
import '@tensorflow/tfjs-layers';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../../src/backend/index.js';
import { startRun, resumeRun } from '../../src/run.js';
import { readCheckpointState } from '../../src/gan/checkpoint.js';
import { MetricsLog } from '../../src/gan/run_folder.js';
import { UserError } from '../../src/util/errors.js';

await initBackend({ quiet: true });

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-eval-'));
test.after(() => fs.rm(tmp, { recursive: true, force: true }));

const TOY = { model: 'vanilla', data: 'toy:ring8', batchSize: 32, hidden: 16, latentDim: 8, sampleEvery: 0, checkpointEvery: 0, logEvery: 5 };

test('training-time evaluation keeps the best checkpoint and stops early after K evaluations without improvement', async () => {
  const out = path.join(tmp, 'early');
  const trainer = await startRun({ ...TOY, steps: 100, out, evalEvery: 5, earlyStop: 2 });
  // Scripted scores (lower is better): 5, 4, 6, 7 → best at the 2nd evaluation, stop at the 4th.
  const scores = [5, 4, 6, 7, 1];
  let calls = 0;
  trainer.parts.evaluator = { primary: 'eval/score', lowerIsBetter: true, evaluate: async () => ({ 'eval/score': scores[calls++] }) };
  const result = await trainer.train();
  trainer.dispose();
  assert.equal(calls, 4);
  assert.equal(result.step, 20);
  assert.equal(result.earlyStopped, true);
  const best = await readCheckpointState(path.join(out, 'checkpoints', 'best'));
  assert.equal(best.step, 10);
  assert.deepEqual(best.evalBest, { metric: 'eval/score', value: 4, step: 10, sinceBest: 0 });
  const logged = (await new MetricsLog(path.join(out, 'metrics.jsonl')).readAll()).filter((r) => 'eval/score' in r);
  assert.deepEqual(logged.map((r) => [r.step, r['eval/score']]), [[5, 5], [10, 4], [15, 6], [20, 7]]);
  // `latest` still names the step series, never 'best'.
  assert.equal((await fs.readFile(path.join(out, 'checkpoints', 'latest'), 'utf8')).trim(), 'step-000020');
});

test('the real evaluator logs eval/<metric> on toy data and the best score survives a resume', async () => {
  const out = path.join(tmp, 'toy');
  const trainer = await startRun({ ...TOY, steps: 10, out, evalEvery: 5, evalMetrics: 'modes,fid', evalCount: 400 });
  await trainer.train();
  trainer.dispose();
  const rows = (await new MetricsLog(path.join(out, 'metrics.jsonl')).readAll()).filter((r) => 'eval/modes' in r);
  assert.deepEqual(rows.map((r) => r.step), [5, 10]);
  for (const r of rows) {
    assert.ok(Number.isFinite(r['eval/fid']) && r['eval/fid'] >= 0);
    assert.ok(r['eval/modes/highQualityShare'] >= 0 && r['eval/modes/highQualityShare'] <= 1);
  }
  const saved = await readCheckpointState(path.join(out, 'checkpoints', 'step-000010'));
  assert.equal(saved.evalBest?.metric, 'eval/modes');
  const resumed = await resumeRun(out, { steps: 15 });
  assert.deepEqual(resumed.parts.evalBest, saved.evalBest);
  resumed.dispose();
});

test('an unknown evaluation metric is refused before training starts', async () => {
  await assert.rejects(startRun({ ...TOY, steps: 10, out: path.join(tmp, 'bad'), evalEvery: 5, evalMetrics: 'fdi' }), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match((e as Error).message, /fdi/);
    return true;
  });
  await assert.rejects(fs.access(path.join(tmp, 'bad')), 'nothing is written for a refused run');
});
