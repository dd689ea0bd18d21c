import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/backend/index.js';
import { Rng } from '../../src/util/rng.js';
import { FIXTURES, assertLoadable, sleep, tempDir } from './helpers.js';

await initBackend({ prefer: 'cpu', quiet: true });

const tmp = await tempDir('kill9');
test.after(() => fs.rm(tmp, { recursive: true, force: true }));

/** Start the trainer child; resolves `started` at its first finished step, `exited` when it is gone. */
function child(run: string) {
  const proc = spawn(process.execPath, [path.join(FIXTURES, 'train_forever.js'), run], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let steps = 0;
  proc.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('close', (code, signal) => resolve({ code, signal })));
  const started = new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      steps += d.toString().split('\n').filter((l) => l.startsWith('step ')).length;
      if (steps > 0) resolve();
    });
    void exited.then(({ code, signal }) => reject(new Error(`child exited (${code ?? signal}) before a step:\n${stderr}`)));
  });
  return { proc, started, exited, steps: () => steps };
}

test('SIGKILL at random moments during checkpointed training never leaves the run without a loadable checkpoint', async () => {
  const run = path.join(tmp, 'run');
  const rng = new Rng(2024); // seeded delays: a failure can be replayed
  const KILLS = 8;
  const seen = new Set<number>();
  let lastStep = -1;
  for (let i = 0; i < KILLS; i++) {
    const c = child(run);
    await c.started;
    // Every step is followed by a checkpoint (and each 3rd by a same-step re-save), taking tens of ms
    // here: delays up to 300 ms land before, inside and after saves.
    await sleep(Math.floor(rng.uniform() * 300));
    c.proc.kill('SIGKILL');
    const { signal } = await c.exited;
    assert.equal(signal, 'SIGKILL');
    const got = await assertLoadable(run).catch((e: Error) => assert.fail(`after kill ${i + 1}: ${e.message}`));
    assert.ok(got.step >= lastStep, `kill ${i + 1}: checkpoint went back from step ${lastStep} to ${got.step}`);
    lastStep = got.step;
    seen.add(got.step);
  }
  const left = (await fs.readdir(path.join(run, 'checkpoints'))).filter((n) => n.startsWith('.'));
  console.log(`${KILLS} kills; checkpoints resolved at steps ${[...seen].join(', ')}; leftover temp folders: ${left.length}`);
  assert.ok(lastStep >= 3, `training kept making progress across kills (reached step ${lastStep})`);
  // Each new writer removes the temp folders of dead ones: at most the last killed child's is left.
  assert.ok(left.filter((n) => n.startsWith('.tmp-')).length <= 1, `temp folders of dead writers are cleaned up: ${left.join(', ')}`);
});
