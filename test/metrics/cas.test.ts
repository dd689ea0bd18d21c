import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../../src/backend/index.js';
import { loadFashionMnist } from '../../src/data/fashion_mnist.js';
import { writeNpy } from '../../src/io/npy.js';
import * as tf from '@tensorflow/tfjs-core';
import { balancedSubset, classificationAccuracyScore, concatLabelled, subsetByClass, testAccuracy } from '../../src/metrics/cas.js';
import { toUnitRange, type LabelledImages } from '../../src/metrics/tstr.js';
import { formatResult, type MetricResult } from '../../src/metrics/evaluate.js';
import { Rng } from '../../src/util/rng.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const evalCli = (...args: string[]) => spawnSync(process.execPath, [cli, 'eval', ...args], { encoding: 'utf8' });
const dir = await mkdtemp(join(tmpdir(), 'ganforge-cas-'));
test.after(() => rm(dir, { recursive: true, force: true }));

await initBackend({ quiet: true });
// Small enough to run in about a minute on a busy CPU; at 100 steps the baseline is ≈ 0.78 (2,000 test images).
const PER_CLASS = 50;
const STEPS = 100;
const train = await loadFashionMnist({ split: 'train', limit: 3000 });
const test10k = await loadFashionMnist({ split: 'test', limit: 2000 });
const shape = [28, 28, 1];
const testSet: LabelledImages = { values: toUnitRange(test10k.values as Uint8Array), labels: test10k.labels!, count: test10k.count, shape };
// The baseline's real set is the first PER_CLASS of each class; the oracle "generator" returns other real images.
const first = balancedSubset(train.values as Uint8Array, train.labels!, shape, PER_CLASS, 10);
const later: LabelledImages = (() => {
  // 200 of each class, grouped by class; keep the second hundred of each.
  const two = subsetByClass(train.values as Uint8Array, train.labels!, shape, new Array(10).fill(2 * PER_CLASS));
  const keep = Array.from({ length: two.count }, (_, i) => i).filter((i) => i % (2 * PER_CLASS) >= PER_CLASS);
  const values = new Float32Array(keep.length * 784);
  keep.forEach((i, j) => values.set(two.values.subarray(i * 784, (i + 1) * 784), j * 784));
  return { values, labels: Int32Array.from(keep, (i) => two.labels[i]), count: keep.length, shape };
})();

test('subsets: balanced, grouped by class, disjoint when asked to be', () => {
  assert.equal(first.count, 500);
  assert.deepEqual(Array.from(first.labels.subarray(45, 55)), [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
  assert.equal(later.count, 500);
  for (let k = 0; k < 10; k++) assert.equal(later.labels.filter((y) => y === k).length, PER_CLASS);
  const a = first.values.subarray(0, 784).join(), b = later.values.subarray(0, 784).join();
  assert.notEqual(a, b, 'the oracle generator draws images the baseline never saw');
  const both = concatLabelled(first, later);
  assert.equal(both.count, 1000);
  assert.equal(both.labels[500], later.labels[0]);
  assert.throws(() => balancedSubset(train.values as Uint8Array, train.labels!, shape, 5000, 10), /images of class 0, fewer than the 5000 asked for/);
});

test('CAS oracles: real labelled images score about the real baseline; shuffled labels score about chance', () => {
  const real = classificationAccuracyScore(later, first, testSet, { seed: 3, steps: STEPS, classes: 10 });
  assert.ok(real.baseline > 0.6, `the classifier learns from 500 real images: ${real.baseline}`);
  assert.ok(Math.abs(real.cas - real.baseline) < 0.06, `CAS of real images ${real.cas} vs baseline ${real.baseline}`);
  assert.equal(real.casPerClass.length, 10);
  const labels = Int32Array.from(later.labels);
  new Rng(1).shuffle(labels);
  const shuffled = classificationAccuracyScore({ ...later, labels }, first, testSet, { seed: 3, steps: STEPS, classes: 10 });
  assert.ok(shuffled.cas < 0.2, `CAS with shuffled labels ${shuffled.cas} (chance 0.1)`);
  assert.equal(shuffled.baseline, real.baseline, 'same seed, steps and real set: the same baseline');
});

test('tensors: training and testing the CAS classifier leaves none behind', () => {
  const tiny = { ...first, count: 20, values: first.values.subarray(0, 20 * 784), labels: first.labels.subarray(0, 20) };
  testAccuracy(tiny, testSet, { seed: 0, steps: 2, classes: 10 }); // tfjs-layers keeps a few tensors once per process
  const before = tf.memory().numTensors;
  testAccuracy(tiny, testSet, { seed: 0, steps: 3, classes: 10 });
  assert.equal(tf.memory().numTensors, before);
});

test('eval --metrics cas on a labelled .npy (as augment writes): protocol, baseline, and bad input', async () => {
  const n = later.count;
  const bytes = Uint8Array.from(later.values, (v) => Math.round((v + 1) * 127.5));
  await writeNpy(join(dir, 'real.npy'), bytes, [n, 28, 28, 1]);
  await writeNpy(join(dir, 'real.labels.npy'), later.labels, [n]);
  // Half the library test's steps: this path trains and tests on the whole 10,000-image test split.
  const r = evalCli(join(dir, 'real.npy'), '--metrics', 'cas', '--ref', 'fashion-mnist:test', '--cas-steps', String(STEPS / 2), '--json');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { metric: string; values: Record<string, number>; protocol: Record<string, unknown> };
  assert.equal(out.metric, 'cas');
  assert.ok(Math.abs(out.values.cas - out.values.realBaseline) < 0.08, `CAS ${out.values.cas} vs baseline ${out.values.realBaseline}`);
  assert.equal(out.protocol.generatedCount, n);
  assert.equal(out.protocol.referenceCount, 10_000);
  assert.match(String(out.protocol.protocol), new RegExp(`Adam.*${STEPS / 2} steps of 64 \\(CAS's default is 2000\\)`));
  assert.match(String(out.protocol.baseline), /fashion-mnist:train, the first 50 of each class/);
  const text = formatResult(out as unknown as MetricResult);
  assert.match(text, /^CAS [\d.]+ \(real-data baseline [\d.]+\); per class \[/);
  assert.match(text, /\n {2}protocol {3}classifier 3 × \(3×3 conv/);

  await writeNpy(join(dir, 'nolabels.npy'), bytes, [n, 28, 28, 1]);
  const missing = evalCli(join(dir, 'nolabels.npy'), '--metrics', 'cas', '--ref', 'fashion-mnist:test');
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /nolabels\.labels\.npy \(int32 \[500\], as ganforge augment writes\) is missing/);
  await writeNpy(join(dir, 'short.npy'), bytes, [n, 28, 28, 1]);
  await writeNpy(join(dir, 'short.labels.npy'), later.labels.subarray(0, 10), [10]);
  const short = evalCli(join(dir, 'short.npy'), '--metrics', 'cas', '--ref', 'fashion-mnist:test');
  assert.equal(short.status, 2);
  assert.match(short.stderr, /labels must be int32 \[500\].*got int32 \[10\]/);
  const ref = evalCli(join(dir, 'real.npy'), '--metrics', 'cas', '--ref', 'toy:ring8');
  assert.equal(ref.status, 2);
  assert.match(ref.stderr, /--ref fashion-mnist:test \| mnist:test \(got 'toy:ring8'\)/);
  const steps = evalCli(join(dir, 'real.npy'), '--metrics', 'fid', '--ref', 'fashion-mnist:test', '--cas-steps', '5');
  assert.equal(steps.status, 2);
  assert.match(steps.stderr, /--cas-steps goes with --metrics cas/);
});
