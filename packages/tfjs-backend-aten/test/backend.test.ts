// Backend contract: errors, fallback, memory accounting, leaks, randomness, info.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { atenFallbackKernels, atenInfo, atenMemory, atenNativeKernels } from 'tfjs-backend-aten';
import { rand, setup, tf } from './helpers.js';

/** dist/test/ → the package root, where 'tfjs-backend-aten' resolves to itself. */
const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

before(async () => {
  await setup();
  await tf.setBackend('aten');
});

test('atenInfo reports the runtime', () => {
  const info = atenInfo();
  assert.match(info.libtorchVersion, /^\d+\.\d+/);
  assert.equal(info.device, process.env.GANFORGE_DEVICE ?? 'cpu');
  assert.ok(info.threads >= 1);
  console.log('atenInfo', info);
});

test('OpenBLAS runs as many threads as ATen: GANFORGE_THREADS=1 leaves no spinning BLAS worker', () => {
  const script = "import { registerAtenBackend, atenInfo } from 'tfjs-backend-aten'; registerAtenBackend(); console.log(JSON.stringify(atenInfo()));";
  const report = (threads: string | undefined) => {
    const env = { ...process.env };
    if (threads === undefined) delete env.GANFORGE_THREADS;
    else env.GANFORGE_THREADS = threads;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: PACKAGE_ROOT, env, encoding: 'utf8' });
    return JSON.parse(out) as { threads: number; blas: string; blasThreads: number };
  };
  const one = report('1');
  assert.equal(one.threads, 1);
  if (one.blasThreads === -1) return; // the BLAS behind libtorch is not OpenBLAS: no pool of its own to size
  assert.equal(one.blasThreads, 1, 'OpenBLAS keeps one worker per core unless told');
  const all = report(undefined);
  assert.equal(all.blasThreads, all.threads);
});

test('bad input raises a JS error naming the kernel, and the process survives', () => {
  const run = (name: string, inputs: tf.NamedTensorMap, attrs = {}) => tf.engine().runKernel(name, inputs, attrs);
  const a = tf.ones([2, 3]), b = tf.ones([4, 5]);
  assert.throws(() => run('BatchMatMul', { a, b }, { transposeA: false, transposeB: false }), /aten BatchMatMul: /);
  assert.throws(() => run('Add', { a, b }), /aten Add: /);
  assert.throws(() => run('Conv2D', { x: a, filter: b }, { strides: 1, pad: 'valid', dilations: 1 }), /aten Conv2D: /);
  assert.throws(() => run('Reshape', { x: a }, { shape: [7] }), /aten Reshape: /);
  assert.throws(() => run('GatherV2', { x: a, indices: tf.tensor1d([9], 'int32') }, { axis: 0, batchDims: 0 }), /aten GatherV2: /);
  // wrong dtype reaching a kernel
  const xi = tf.ones([1, 4, 4, 1], 'int32'), f = tf.ones([2, 2, 1, 1]);
  assert.throws(() => run('Conv2D', { x: xi, filter: f }, { strides: 1, pad: 'valid', dilations: 1 }), /aten Conv2D: /);
  tf.dispose([a, b, xi, f]);
  assert.deepEqual(Array.from(tf.add(tf.scalar(1), tf.scalar(2)).dataSync()), [3]);
});

test('kernels without a native implementation fall back to the CPU backend', () => {
  assert.ok(!atenNativeKernels().includes('Diag'));
  const d = tf.diag(tf.tensor1d([1, 2, 3]));
  assert.deepEqual(Array.from(d.dataSync()), [1, 0, 0, 0, 2, 0, 0, 0, 3]);
  d.dispose();
  assert.ok(atenFallbackKernels().includes('Diag'));
  // string tensors live in JS and work through fallbacks
  const s = tf.tensor(['x', 'y', 'z']);
  const r = tf.reshape(s, [3, 1]);
  assert.deepEqual(r.arraySync(), [['x'], ['y'], ['z']]);
  tf.dispose([s, r]);
});

test('tensor and native memory return to baseline after dispose', () => {
  const before = { js: tf.memory().numTensors, native: atenMemory() };
  const x = tf.tensor(rand([64, 64]), [64, 64]);
  const y = tf.tidy(() => tf.relu(tf.matMul(x, x)));
  assert.ok(atenMemory().nativeBytes >= before.native.nativeBytes + 2 * 64 * 64 * 4);
  tf.dispose([x, y]);
  assert.equal(tf.memory().numTensors, before.js);
  assert.deepEqual(atenMemory(), before.native);
});

test('a 10,000-op loop leaks neither tensors nor native memory', () => {
  const w = tf.variable(tf.tensor(rand([16, 16]), [16, 16]));
  const x = tf.tensor(rand([8, 16]), [8, 16]);
  const step = () => tf.tidy(() => {
    // 10 kernels per iteration, including a multi-output one and a variable update
    const h = tf.relu(tf.matMul(x, w));
    const [p, q] = tf.split(h, 2, 1);
    const s = tf.sum(tf.add(tf.mul(p, q), tf.scalar(0.5)));
    w.assign(tf.sub(w, tf.mul(tf.scalar(1e-6), tf.transpose(tf.reshape(tf.tile(tf.reshape(s, [1]), [256]), [16, 16])))));
  });
  for (let i = 0; i < 50; i++) step();  // warm-up
  const start = { numTensors: tf.memory().numTensors, ...atenMemory() };
  for (let i = 0; i < 1000; i++) step();
  const end = { numTensors: tf.memory().numTensors, ...atenMemory() };
  assert.deepEqual(end, start);
  console.log('after 10k ops', end);
  tf.dispose([w, x]);
});

test('Multinomial is seeded and in range', () => {
  const logits = tf.tensor2d([[0, 1, 2, 3], [3, 2, 1, 0]]);
  const a = tf.multinomial(logits, 50, 7), b = tf.multinomial(logits, 50, 7);
  assert.deepEqual(a.shape, [2, 50]);
  assert.equal(a.dtype, 'int32');
  assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
  assert.ok(Array.from(a.dataSync()).every((v) => v >= 0 && v < 4));
  tf.dispose([logits, a, b]);
});
