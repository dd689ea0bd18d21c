import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadFashionMnist } from '../../src/data/fashion_mnist.js';
import { writeNpy } from '../../src/io/npy.js';
import { loadReference, resolveNet, samplesFromNpy } from '../../src/metrics/evaluate.js';
import { parseMetrics } from '../../src/metrics/registry.js';
import { UserError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'eval', ...args], { encoding: 'utf8' });
const N = 200;

const dir = await mkdtemp(join(tmpdir(), 'ganforge-eval-'));
// Real images the reference does not contain (the reference is test[:N]; these are test[1000:1000+N]).
const test10k = await loadFashionMnist({ split: 'test', limit: 1000 + N });
await writeNpy(join(dir, 'real.npy'), (test10k.values as Uint8Array).slice(1000 * 784, (1000 + N) * 784), [N, 28, 28, 1]);
const rng = new Rng(0);
await writeNpy(join(dir, 'noise.npy'), Float32Array.from({ length: N * 784 }, () => 2 * rng.uniform() - 1), [N, 28, 28, 1]);

test('eval CLI: real Fashion-MNIST images score a small FID, noise a large one; protocol in every JSON line', () => {
  const real = run(join(dir, 'real.npy'), '--ref', 'fashion-mnist:test', '--count', String(N), '--metrics', 'fid,kid,is,prdc,classes', '--kid-subsets', '10', '--json');
  assert.equal(real.status, 0, real.stderr);
  const lines = real.stdout.trim().split('\n').map((l) => JSON.parse(l) as { metric: string; values: Record<string, number>; protocol: Record<string, unknown> });
  assert.deepEqual(lines.map((l) => l.metric), ['fid', 'kid', 'is', 'prdc', 'classes']);
  const p = lines[0].protocol;
  assert.equal(p.featureNet, 'ganforge-fashion-mnist-cnn');
  assert.match(String(p.weightsSha256), /^[0-9a-f]{12}$/);
  assert.equal(p.reference, 'fashion-mnist:test');
  assert.equal(p.referenceCount, N);
  assert.equal(p.generatedCount, N);
  assert.equal(p.generatedResize, 'none');
  assert.equal(p.seed, 0);
  const noise = run(join(dir, 'noise.npy'), '--ref', 'fashion-mnist:test', '--count', String(N), '--metrics', 'fid,prdc');
  assert.equal(noise.status, 0, noise.stderr);
  const fidReal = lines[0].values.fid;
  const fidNoise = Number(/^fid fid=([\d.e+]+)/m.exec(noise.stdout)?.[1]);
  assert.match(noise.stdout, /network +ganforge-fashion-mnist-cnn layer features \(128-d\), weights sha256 [0-9a-f]{12}/);
  // The scale depends on the network's weights: with the shipped 90.24 % net, real 9.9 vs noise 180.7 (18×).
  assert.ok(fidNoise > 10 * fidReal, `FID real ${fidReal} vs noise ${fidNoise}`);
  assert.ok(lines[3].values.precision > 0.5, `precision of real images ${lines[3].values.precision}`);
  assert.ok(lines[2].values.is > 3, `IS of real images ${lines[2].values.is}`);
});

test('eval CLI: bad input exits 2 with a message naming what to change', () => {
  const tooFew = run(join(dir, 'real.npy'), '--ref', join(dir, 'real.npy'), '--count', String(N + 1));
  assert.equal(tooFew.status, 2);
  assert.match(tooFew.stderr, /fewer than --count 201; lower --count to at most 200/);
  const metric = run(join(dir, 'real.npy'), '--ref', 'fashion-mnist:test', '--metrics', 'fid,kdi');
  assert.equal(metric.status, 2);
  assert.match(metric.stderr, /unknown metric 'kdi' \(did you mean 'kid'\?\)/);
});

test('bad samples, references, metrics and networks are UserErrors with the fix in the message', async () => {
  const err = (re: RegExp) => (e: unknown) => e instanceof UserError && re.test(e.message);
  assert.throws(() => samplesFromNpy({ dtype: 'uint8', shape: [4, 1, 28, 28], data: new Uint8Array(4 * 784) }, 's.npy'), err(/channels-first.*transpose/));
  assert.throws(() => samplesFromNpy({ dtype: 'int32', shape: [1, 2, 2, 1], data: new Int32Array(4) }, 's.npy'), err(/int32.*uint8/));
  assert.throws(() => samplesFromNpy({ dtype: 'float32', shape: [1, 2, 2, 1], data: Float32Array.of(0, 255, 3, 4) }, 's.npy'), err(/\[-1, 1\].*uint8/));
  assert.throws(() => samplesFromNpy({ dtype: 'float32', shape: [1, 2, 2, 1], data: Float32Array.of(0, NaN, 0, 0) }, 's.npy'), err(/NaN/));
  assert.throws(() => samplesFromNpy({ dtype: 'float32', shape: [3, 5], data: new Float32Array(15) }, 's.npy'), err(/neither images nor 2-D points/));
  await assert.rejects(loadReference('fashion-mnist:test', 10_001, 0), err(/10000 examples, fewer than --count 10001/));
  await assert.rejects(loadReference('cifar10', 10, 0), err(/unknown dataset 'cifar10'.*folder:PATH/));
  await assert.rejects(loadReference('edges:mnist', 10, 0), err(/unknown reference 'edges:mnist'/));
  assert.throws(() => parseMetrics('fid,modes', 'image'), err(/2-D toy mixtures/));
  assert.throws(() => parseMetrics('is', 'points'), err(/does not apply to 2-D points/));
  await assert.rejects(resolveNet({ net: 'incepton-v3' }, { c: 3 }, 'x.npy'), err(/did you mean 'inception-v3'/));
  const saved = process.env.GANFORGE_INCEPTION_WEIGHTS;
  delete process.env.GANFORGE_INCEPTION_WEIGHTS;
  await assert.rejects(resolveNet({ net: 'inception-v3' }, { c: 3 }, 'x.npy'), err(/--inception-weights FILE.*--net cifar10/));
  if (saved !== undefined) process.env.GANFORGE_INCEPTION_WEIGHTS = saved;
});
