import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/backend/index.js';
import { MAIN, assertLoadable, metrics, sleep, tempDir } from './helpers.js';

// (test/cli/interrupt.test.ts covers a single Ctrl-C and the resume after it; this file covers SIGTERM and
// a second signal.)
await initBackend({ prefer: 'cpu', quiet: true });

const tmp = await tempDir('signals');
test.after(() => fs.rm(tmp, { recursive: true, force: true }));

function train(args: string[]) {
  const child = spawn(process.execPath, [MAIN, 'train', ...args, '--backend', 'cpu', '--steps', '100000', '--log-every', '1', '--sample-every', '0'], {
    cwd: tmp,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { child, done, stderr: () => stderr };
}

/** Wait until metrics.jsonl reaches `step` (training is under way), failing if the child exits first. */
async function waitForStep(run: string, step: number, c: ReturnType<typeof train>): Promise<void> {
  let exited = false;
  void c.done.then(() => (exited = true));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const log = await metrics(run);
    if (log.some((l) => (l.step as number) >= step)) return;
    assert.ok(!exited, `training exited early:\n${c.stderr()}`);
    assert.ok(Date.now() < deadline, `step ${step} not reached in 60 s`);
    await sleep(50);
  }
}

test('SIGTERM: the step finishes, a checkpoint at the step reached is written, exit 0', async () => {
  const run = path.join(tmp, 'term');
  const c = train(['vanilla', '--data', 'toy:ring8', '--hidden', '8', '--batch-size', '8', '--checkpoint-every', '1000', '--out', run]);
  await waitForStep(run, 3, c);
  c.child.kill('SIGTERM');
  const r = await c.done;
  assert.equal(r.code, 0, `exit ${r.code ?? r.signal}\n${c.stderr()}`);
  assert.match(c.stderr(), /SIGTERM: finishing this step and writing a checkpoint/);
  const log = await metrics(run);
  const { step } = await assertLoadable(run);
  assert.equal(step, log[log.length - 1].step, 'the checkpoint holds the last step logged');
  assert.ok(step >= 3 && step % 1000 !== 0, `a stop checkpoint, not a periodic one (step ${step})`);
});

test('two SIGINTs: exit 130 at once, and the newest complete checkpoint still loads', async () => {
  // DCGAN steps take a few hundred ms on cpu, so the second signal lands while the first is being honoured.
  const run = path.join(tmp, 'double');
  const c = train(['dcgan', '--data', 'fashion-mnist', '--data-limit', '64', '--width', '8', '--batch-size', '16', '--latent-dim', '16', '--checkpoint-every', '1', '--out', run]);
  await waitForStep(run, 2, c);
  c.child.kill('SIGINT');
  // Signals sent back to back can merge into one; send the second once the first has been seen.
  const deadline = Date.now() + 10_000;
  while (!/SIGINT: finishing this step/.test(c.stderr())) {
    assert.ok(Date.now() < deadline, `first SIGINT not acknowledged:\n${c.stderr()}`);
    await sleep(5);
  }
  const t0 = Date.now();
  c.child.kill('SIGINT');
  const r = await c.done;
  assert.equal(r.code, 130, `exit ${r.code ?? r.signal}\n${c.stderr()}`);
  assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms to exit`);
  // Step 2 was logged before its checkpoint was written, and the exit may cut that save short.
  const { step } = await assertLoadable(run);
  assert.ok(step >= 1, `checkpoint at step ${step}`);
});
