import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { loadCheckpoint, type LoadedCheckpoint } from '../../src/gan/checkpoint.js';
import { UserError } from '../../src/util/errors.js';
import { discriminatorOf } from '../../src/gan/family.js';

/** dist/test/reliability/ → dist/src/cli/main.js and the compiled fixtures beside this file. */
const HERE = path.dirname(fileURLToPath(import.meta.url));
export const MAIN = path.resolve(HERE, '../../src/cli/main.js');
export const FIXTURES = path.join(HERE, 'fixtures');

export async function tempDir(tag: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `ganforge-rel-${tag}-`));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every file below `dir` as sorted relative paths (folders left out). */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string) => {
    for (const e of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) await walk(r);
      else out.push(r);
    }
  };
  await walk('');
  return out.sort();
}

/** Free what loadCheckpoint allocated. */
export function disposeCheckpoint(ck: LoadedCheckpoint): void {
  ck.nets.generator.dispose();
  discriminatorOf(ck.nets).dispose();
  tf.dispose([...ck.optimizerWeights.g, ...ck.optimizerWeights.d].map((w) => w.tensor));
}

/**
 * Load the checkpoint a run folder resolves to and check it is usable: a complete folder (never a temp
 * one), and a generator whose output on a few latents is finite. Returns the step.
 */
export async function assertLoadable(run: string): Promise<{ step: number; dir: string }> {
  const ck = await loadCheckpoint(run);
  try {
    // A published checkpoint, or one moved aside while a same-step save replaced it; never a temp folder.
    assert.match(path.basename(ck.dir), /^(step-\d{6}|\.old-step-\d{6}-\d+)$/, `resolved to ${ck.dir}`);
    const latentDim = ck.state.config.latentDim;
    const finite = tf.tidy(() => {
      const y = ck.nets.generator.predict(tf.randomNormal([4, latentDim], 0, 1, 'float32', 1)) as tf.Tensor;
      return tf.all(tf.isFinite(y)).dataSync()[0] === 1;
    });
    assert.ok(finite, `generator of ${ck.dir} gives non-finite output`);
    return { step: ck.state.step, dir: ck.dir };
  } finally {
    disposeCheckpoint(ck);
  }
}

export async function rejectsUser(p: Promise<unknown> | (() => unknown), pattern: RegExp): Promise<void> {
  const run = typeof p === 'function' ? async () => p() : () => p;
  await assert.rejects(run, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected a UserError, got ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
    assert.match(e.message, pattern);
    return true;
  });
}

/** metrics.jsonl lines, parsed. */
export async function metrics(run: string): Promise<Record<string, unknown>[]> {
  const text = await fs.readFile(path.join(run, 'metrics.jsonl'), 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}
