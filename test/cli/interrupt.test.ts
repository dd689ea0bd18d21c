import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readCheckpointState, resolveCheckpoint } from '../../src/gan/checkpoint.js';
import { ok, start } from './helpers.js';

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-sigint-'));
test.after(() => fs.rm(tmp, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function metricSteps(run: string): Promise<number[]> {
  const text = await fs.readFile(path.join(run, 'metrics.jsonl'), 'utf8').catch(() => '');
  // Only whole lines: the trainer may be appending one while we read.
  return text.split('\n').slice(0, -1).filter((l) => l.trim() !== '').map((l) => JSON.parse(l).step as number);
}

test('Ctrl-C finishes the step, checkpoints, exits 0, and resume continues from there', async () => {
  const run = path.join(tmp, 'run');
  const args = ['train', 'dcgan', '--width', '8', '--batch-size', '16', '--data-limit', '256', '--latent-dim', '16',
    '--steps', '100000', '--log-every', '1', '--checkpoint-every', '0', '--sample-every', '0', '--out', run];
  const { child, done } = start(args, tmp);
  let exited = false;
  void done.then(() => (exited = true));
  try {
    // Wait until training is under way (the first metrics line), so the signal lands mid-run.
    const deadline = Date.now() + 180_000;
    while ((await metricSteps(run)).length === 0) {
      if (exited) assert.fail(`training exited before the first step: ${(await done).stderr}`);
      assert.ok(Date.now() < deadline, 'no metrics line within 180 s');
      await sleep(100);
    }
    child.kill('SIGINT');
  } catch (e) {
    child.kill('SIGKILL'); // never leave a 100,000-step run behind a failed test
    throw e;
  }
  const r = await done;
  assert.equal(r.code, 0, `exit ${r.code} / ${r.signal}\n${r.stderr}`);
  assert.match(r.stderr, /SIGINT: finishing this step and writing a checkpoint/);
  assert.match(r.stderr, /stopped; continue with ganforge resume/);
  assert.ok(!r.stderr.includes('    at '), r.stderr);

  const state = await readCheckpointState(await resolveCheckpoint(run));
  const steps = await metricSteps(run);
  assert.ok(state.step >= 1 && state.step < 100000);
  assert.equal(steps[steps.length - 1], state.step, 'the checkpoint is at the last step reached');

  const target = state.step + 3;
  await ok(['resume', run, '--steps', String(target)], tmp);
  const info = await ok(['info', run], tmp);
  assert.match(info.stdout, new RegExp(`step\\s+${target} of ${target}`));
  const after = await metricSteps(run);
  assert.deepEqual(after.slice(-4), [state.step, state.step + 1, state.step + 2, target]);
});
