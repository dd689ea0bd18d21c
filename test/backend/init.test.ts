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

// A specifier that cannot resolve stands in for an unbuilt native package, whether or not it is built here.
const MISSING = 'ganforge-no-such-native-backend';

test('auto falls back to cpu with a single notice when ATen is unavailable', async () => {
  const lines: string[] = [];
  const info = await withEnv('auto', () => initBackend({ atenModule: MISSING, log: (l) => lines.push(l) }));
  assert.equal(info.name, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^ganforge: native backend unavailable \(.+\); using the JS cpu backend \(slow\)\. Run npm run setup/);
});

test("prefer: 'aten' throws a clear error when ATen is unavailable", async () => {
  await assert.rejects(initBackend({ prefer: 'aten', atenModule: MISSING, quiet: true }),
    /native ATen backend was requested .* unavailable: .*not built.*npm run setup/);
});

test("prefer: 'aten' / auto use the real package when it is built", async () => {
  const info = await initBackend({ quiet: true }).catch((e: Error) => e);
  assert.ok(!(info instanceof Error), String(info));
  if (info.name === 'aten') assert.equal(tf.getBackend(), 'aten');
  else assert.match(info.detail, /ganforge JS kernels/);
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

test("the cpu backend does not print TF.js's banner asking to install tfjs-node (ganforge's own line says what to do)", async () => {
  const { spawnSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const backendModule = fileURLToPath(new URL('../../src/backend/index.js', import.meta.url));
  const script = `import * as tf from '@tensorflow/tfjs-core'; const { initBackend } = await import(${JSON.stringify(backendModule)});` +
    `await initBackend({ prefer: 'cpu', quiet: true }); console.log('sum', tf.sum(tf.ones([3])).dataSync()[0]);`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: fileURLToPath(new URL('../../..', import.meta.url)), encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /sum 3/);
  assert.doesNotMatch(run.stdout + run.stderr, /tfjs-node/);
});
