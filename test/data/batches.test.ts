import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { BatchStream } from '../../src/data/batches.js';
import { RING8, mixtureSource } from '../../src/data/toy2d.js';
import type { ArraySource } from '../../src/data/types.js';

before(async () => {
  await tf.setBackend('cpu');
});

/** 10 tiny 2×2×1 images whose pixels all equal 25·i, labelled i. */
function images(n = 10): ArraySource {
  const values = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) values.fill(25 * i, 4 * i, 4 * i + 4);
  return {
    kind: 'array',
    info: { name: 'tiny', kind: 'image', shape: [2, 2, 1], numClasses: n, count: n },
    count: n,
    values,
    labels: Int32Array.from({ length: n }, (_, i) => i),
  };
}

test('tensor batches: shapes, dtypes, [-1, 1] mapping, labels follow the images', () => {
  const s = new BatchStream(images(), { batchSize: 4, seed: 3 });
  const b = s.next();
  assert.deepEqual(b.x.shape, [4, 2, 2, 1]);
  assert.equal(b.x.dtype, 'float32');
  assert.equal(b.labels!.dtype, 'int32');
  const x = b.x.dataSync();
  const labels = b.labels!.dataSync();
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) assert.ok(Math.abs(x[4 * i + j] - ((25 * labels[i]) / 127.5 - 1)) < 1e-6);
  b.x.dispose();
  b.labels!.dispose();
  const ends = new BatchStream({ ...images(2), values: Uint8Array.of(0, 0, 0, 0, 255, 255, 255, 255) }, { batchSize: 2, shuffle: false }).nextRaw();
  assert.deepEqual([...ends.x], [-1, -1, -1, -1, 1, 1, 1, 1]);
});

test('every example exactly once per epoch, new order each epoch; dropLast off gives the remainder', () => {
  const s = new BatchStream(images(12), { batchSize: 4, seed: 5 });
  assert.equal(s.batchesPerEpoch, 3);
  const orders: number[][] = [];
  for (let e = 0; e < 3; e++) {
    const seen: number[] = [];
    for (let b = 0; b < 3; b++) seen.push(...s.nextRaw().labels!);
    assert.equal(s.epoch, e + 1);
    assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: 12 }, (_, i) => i));
    orders.push(seen);
  }
  assert.notDeepEqual(orders[0], orders[1]);
  const r = new BatchStream(images(10), { batchSize: 4, dropLast: false, seed: 1 });
  assert.deepEqual([4, 4, 2, 4].map(() => r.nextRaw().x.length / 4), [4, 4, 2, 4]);
  const d = new BatchStream(images(10), { batchSize: 4, seed: 1 });
  assert.deepEqual([0, 1, 2].map(() => d.nextRaw().labels!.length), [4, 4, 4]);
  assert.throws(() => new BatchStream(images(3), { batchSize: 4 }), /larger than/);
});

test('state/restore resumes the exact order, across epoch boundaries and through JSON', () => {
  for (const k of [0, 1, 2, 3, 4, 7]) {
    const a = new BatchStream(images(10), { batchSize: 3, seed: 11 });
    for (let i = 0; i < k; i++) a.nextRaw();
    const saved = JSON.parse(JSON.stringify(a.state()));
    const expected = Array.from({ length: 8 }, () => [...a.nextRaw().labels!]);
    const b = new BatchStream(images(10), { batchSize: 3, seed: 999 });
    b.nextRaw();
    b.restore(saved);
    const got = Array.from({ length: 8 }, () => [...b.nextRaw().labels!]);
    assert.deepEqual(got, expected, `after ${k} batches`);
  }
});

test('sampler sources: fresh draws each batch, resumable', () => {
  const a = new BatchStream(mixtureSource(RING8), { batchSize: 5, seed: 2 });
  const first = a.nextRaw();
  assert.equal(first.x.length, 10);
  assert.equal(a.batchesPerEpoch, undefined);
  const st = a.state();
  const next = a.nextRaw();
  assert.notDeepEqual([...next.x], [...first.x]);
  const b = new BatchStream(mixtureSource(RING8), { batchSize: 5 });
  b.restore(st);
  assert.deepEqual([...b.nextRaw().x], [...next.x]);
  const t = b.next();
  assert.deepEqual(t.x.shape, [5, 2]);
  t.x.dispose();
  t.labels?.dispose();
});

test('async iteration stops after `epochs`', async () => {
  const s = new BatchStream(images(10), { batchSize: 5, seed: 1, epochs: 2 });
  let n = 0;
  for await (const b of s) {
    n++;
    b.x.dispose();
    b.labels?.dispose();
  }
  assert.equal(n, 4);
});
