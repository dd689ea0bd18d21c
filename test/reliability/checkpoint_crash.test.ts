import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/backend/index.js';
import { startRun } from '../../src/run.js';
import { readCheckpointState, resolveCheckpoint, saveCheckpoint } from '../../src/gan/checkpoint.js';
import { RunFolder } from '../../src/gan/run_folder.js';
import type { Trainer } from '../../src/gan/trainer.js';
import { assertLoadable, listFiles, tempDir } from './helpers.js';

await initBackend({ prefer: 'cpu', quiet: true });

const tmp = await tempDir('crash');
test.after(() => fs.rm(tmp, { recursive: true, force: true }));

class Crash extends Error {}

/**
 * Simulated power cut: the N-th file-system change made through fs.promises throws instead of happening
 * (checkpoint.ts, model_io.ts and util/fs.ts all go through that one object). An `open` for writing
 * first creates the file empty, as a crash right after open would leave it; an `rm` of a folder may first
 * delete one chosen file of it, as a recursive delete cut short would.
 */
const MUTATORS = ['mkdir', 'rm', 'rename', 'open', 'writeFile', 'appendFile', 'unlink', 'copyFile'] as const;
const original = Object.fromEntries(MUTATORS.map((m) => [m, fs[m]])) as Record<(typeof MUTATORS)[number], (...a: unknown[]) => Promise<unknown>>;
let ops = 0;
let crashAt = Infinity;
let rmVictim: number | undefined;
/** The folder an `rm` was deleting when the crash hit it (undefined when the crash hit another call). */
let rmCrashTarget: string | undefined;

function arm(n: number, victim?: number): void {
  ops = 0;
  crashAt = n;
  rmVictim = victim;
  if (n !== Infinity) rmCrashTarget = undefined; // disarming keeps the record of what was being deleted
}
for (const m of MUTATORS) {
  (fs as unknown as Record<string, unknown>)[m] = async (...args: unknown[]) => {
    if (m === 'open' && !/[wa+]/.test(String(args[1] ?? 'r'))) return original.open(...args); // reads are not changes
    if (++ops === crashAt) {
      if (m === 'open') await ((await original.open(args[0], 'w')) as { close(): Promise<void> }).close();
      if (m === 'rm') {
        const target = String(args[0]);
        const files = await listFiles(target).catch(() => [] as string[]);
        rmCrashTarget = target;
        if (rmVictim !== undefined && files[rmVictim]) await original.unlink(path.join(target, files[rmVictim]));
      }
      throw new Crash(`crash at ${m} #${ops}`);
    }
    return original[m](...args);
  };
}
test.after(() => Object.assign(fs, original));

async function baseline(keep: number, tag: string): Promise<{ trainer: Trainer; pristine: string; run: string }> {
  const run = path.join(tmp, `run-${tag}`);
  const trainer = await startRun({ model: 'vanilla', data: 'toy:ring8', hidden: 8, batchSize: 8, steps: 2, seed: 3, checkpointEvery: 1, keepCheckpoints: keep, sampleEvery: 0, out: run });
  await trainer.train();
  const pristine = `${run}-pristine`;
  await fs.cp(run, pristine, { recursive: true });
  return { trainer, pristine, run };
}

/**
 * Save step `step` into a run whose newest checkpoint is step 2, crashing at every file-system change in
 * turn (and, where that change is a folder delete, after each single file of it is gone). After every
 * crash the run must still resolve to a loadable step-NNNNNN checkpoint: step 2 or the new one.
 */
async function crashEverywhere(keep: number, step: number): Promise<number> {
  const { trainer, pristine, run } = await baseline(keep, `keep${keep}-step${step}`);
  const state = await readCheckpointState(await resolveCheckpoint(run));
  let cases = 0;
  try {
    for (let n = 1; ; n++) {
      // First pass at this point decides whether it is a folder delete (then try each victim file).
      const victims: (number | undefined)[] = [undefined];
      for (let v = 0; v < victims.length; v++) {
        await fs.rm(run, { recursive: true, force: true });
        await fs.cp(pristine, run, { recursive: true });
        arm(n, victims[v]);
        let crashed = false;
        try {
          await saveCheckpoint(new RunFolder(run), trainer.parts.nets, trainer.parts.optimizers, { ...state, step }, keep);
        } catch (e) {
          if (!(e instanceof Crash)) throw e;
          crashed = true;
        } finally {
          arm(Infinity);
        }
        if (!crashed) {
          console.log(`keep ${keep}, step ${step}: ${cases} crash states checked`);
          return cases; // n is past the last change: the save completed
        }
        cases++;
        if (v === 0 && rmCrashTarget !== undefined) {
          const count = (await listFiles(rmCrashTarget).catch(() => [])).length;
          for (let i = 0; i < count; i++) victims.push(i);
        }
        const where = `keep ${keep}, saving step ${step}, crash point ${n}${victims[v] === undefined ? '' : ` (after deleting file #${victims[v]})`}`;
        const got = await assertLoadable(run).catch((e: Error) => assert.fail(`${where}: ${e.message}`));
        assert.ok(got.step === 2 || got.step === step, `${where}: resolved step ${got.step}`);
      }
    }
  } finally {
    trainer.dispose();
  }
}

test('a crash at any point of saveCheckpoint leaves a loadable checkpoint (new step, keep 1)', async () => {
  // keep 1 is the hardest case: the previous checkpoint is the only one until the new one is in place.
  const n = await crashEverywhere(1, 3);
  assert.ok(n > 20, `crash states tried: ${n}`);
});

test('a crash while re-saving the newest step (end of train after a periodic save) leaves a loadable checkpoint', async () => {
  const n = await crashEverywhere(1, 2);
  assert.ok(n > 20, `crash states tried: ${n}`);
});

test('a newest checkpoint missing any one of its files (a delete cut short) is passed over, not half-read', async () => {
  const { trainer, pristine, run } = await baseline(2, 'partial');
  trainer.dispose();
  const newest = path.join(run, 'checkpoints', 'step-000002');
  const files = await listFiles(newest);
  assert.equal(files.length, 9);
  for (const f of files) {
    await fs.rm(run, { recursive: true, force: true });
    await fs.cp(pristine, run, { recursive: true });
    await fs.unlink(path.join(newest, f));
    const got = await assertLoadable(run).catch((e: Error) => assert.fail(`without ${f}: ${e.message}`));
    assert.equal(got.step, 1, `without ${f}`);
  }
});
