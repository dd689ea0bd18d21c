import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { backendReport, initBackend } from '../../src/backend/index.js';

/** Runs fn with GANFORGE_BACKEND set (or unset) and restores the previous value. */
async function withEnv<T>(value: string | undefined, fn: () => Promise<T>): Promise<T> {
  const prev = process.env.GANFORGE_BACKEND;
  if (value === undefined) delete process.env.GANFORGE_BACKEND; else process.env.GANFORGE_BACKEND = value;
  try { return await fn(); } finally {
    if (prev === undefined) delete process.env.GANFORGE_BACKEND; else process.env.GANFORGE_BACKEND = prev;
  }
}

test("prefer: 'cpu' selects the cpu backend with fast kernels and one notice line", async () => {
  const lines: string[] = [];
  const info = await withEnv(undefined, () => initBackend({ prefer: 'cpu', log: (l) => lines.push(l) }));
  assert.equal(info.name, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  assert.equal(lines.length, 1);
  assert.match(lines[0], /using the JS cpu backend/);
  assert.notEqual(tf.getKernel(tf.Conv2DBackpropFilter, 'cpu').kernelFunc.name, 'conv2DBackpropFilter');
});

test('GANFORGE_BACKEND=cpu overrides the auto default; quiet silences the notice', async () => {
  const lines: string[] = [];
  const info = await withEnv('cpu', () => initBackend({ log: (l) => lines.push(l) }));
  assert.equal(info.name, 'cpu');
  assert.match(lines[0] ?? '', /GANFORGE_BACKEND=cpu/);
  const quiet: string[] = [];
  await withEnv('cpu', () => initBackend({ quiet: true, log: (l) => quiet.push(l) }));
  assert.deepEqual(quiet, []);
});

test('auto falls back to cpu with a single notice when ATen is unavailable', async () => {
  const lines: string[] = [];
  const info = await withEnv('auto', () => initBackend({ log: (l) => lines.push(l) }));
  if (info.name === 'aten') return; // the native package is built here: nothing to fall back from
  assert.equal(tf.getBackend(), 'cpu');
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^ganforge: native backend unavailable \(.+\); using the JS cpu backend \(slow\)\. Run npm run setup/);
});

test("prefer: 'aten' throws a clear error when ATen is unavailable", async () => {
  try {
    const info = await initBackend({ prefer: 'aten', quiet: true });
    assert.equal(info.name, 'aten');
  } catch (err) {
    assert.match((err as Error).message, /native ATen backend was requested .* unavailable: .*npm run setup/);
  }
});

test('an invalid GANFORGE_BACKEND is rejected', async () => {
  await assert.rejects(withEnv('gpu', () => initBackend({ quiet: true })), /GANFORGE_BACKEND='gpu'/);
});

test('backendReport describes the active backend', async () => {
  await initBackend({ prefer: 'cpu', quiet: true });
  const lines = await backendReport();
  assert.ok(lines.includes('active backend: cpu'));
  assert.ok(lines.some((l) => /^native backend: unavailable|^libtorch: /.test(l)));
  assert.ok(lines.some((l) => l.startsWith('fallback: JS cpu backend')));
});
