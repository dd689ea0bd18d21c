import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { BatchStream, shardRange, type RawBatch } from '../../src/data/batches.js';
import { RING8, mixtureSource } from '../../src/data/toy2d.js';
import type { ArraySource, AugmentOptions, DataSource } from '../../src/data/types.js';
import { pattern } from './image_fixtures.js';

before(async () => {
  await tf.setBackend('cpu');
});

/** n distinct images [h, w, c], labelled by index, with inputs for translation when `pairing` is given. */
function source(n: number, shape: number[], opts: { pairing?: 'paired' | 'unpaired'; augment?: AugmentOptions } = {}): ArraySource {
  const per = shape.reduce((a, b) => a * b, 1);
  const values = new Uint8Array(n * per);
  for (let i = 0; i < n; i++) values.set(pattern(shape, 7 * i), i * per);
  const inputs = new Uint8Array(n * per);
  for (let i = 0; i < n; i++) inputs.set(pattern(shape, 1000 + 3 * i), i * per);
  return {
    kind: 'array',
    info: { name: 's', kind: 'image', shape, count: n, ...(opts.pairing ? { input: { shape, pairing: opts.pairing, domains: ['A', 'B'] } } : {}) },
    count: n,
    values,
    labels: Int32Array.from({ length: n }, (_, i) => i % 5),
    ...(opts.pairing ? { inputs: { values: inputs, count: n } } : {}),
    ...(opts.augment ? { augment: opts.augment } : {}),
  };
}

const concat = (parts: (Float32Array | Int32Array | undefined)[]) => parts.flatMap((p) => Array.from(p ?? []));

/**
 * The ranks' slices of every batch, put together, are the batch one process draws, and every rank's stream
 * is in the same state afterwards (so rank 0's checkpoint resumes any of them).
 */
function checkShards(make: () => DataSource, batchSize: number, ranks: number, batches = 7): void {
  const whole = new BatchStream(make(), { batchSize, seed: 4 });
  const shards = Array.from({ length: ranks }, (_, rank) => new BatchStream(make(), { batchSize, seed: 4, shard: { rank, count: ranks } }));
  for (let k = 0; k < batches; k++) {
    const full: RawBatch = whole.nextRaw();
    const parts = shards.map((s) => s.nextRaw());
    assert.deepEqual(parts.map((p) => p.x.length), parts.map(() => full.x.length / ranks), 'every rank gets an equal share');
    assert.ok(concat(parts.map((p) => p.x)).every((v, i) => v === full.x[i]), `batch ${k}: x slices differ from the whole batch`);
    assert.deepEqual(concat(parts.map((p) => p.labels)), Array.from(full.labels ?? []));
    assert.deepEqual(concat(parts.map((p) => p.indices)), Array.from(full.indices ?? []));
    if (full.input) assert.ok(concat(parts.map((p) => p.input)).every((v, i) => v === full.input![i]), `batch ${k}: input slices differ`);
    for (const s of shards) assert.deepEqual(s.state(), whole.state(), 'a rank’s stream state equals the single stream’s');
  }
}

test('sharded batches: images over several epochs, 2 and 4 ranks', () => {
  checkShards(() => source(12, [2, 3, 1]), 4, 2, 9);
  checkShards(() => source(12, [2, 3, 1]), 8, 4, 5);
});

test('sharded batches: paired and unpaired translation data with crop and flip draw the same numbers on every rank', () => {
  const augment = { loadSize: 6, flip: true };
  checkShards(() => source(10, [4, 4, 3], { pairing: 'paired', augment }), 4, 2);
  checkShards(() => source(10, [4, 4, 3], { pairing: 'unpaired', augment }), 4, 2);
  checkShards(() => source(10, [4, 4, 3], { pairing: 'unpaired' }), 6, 3);
});

test('sharded batches: samplers (toy mixtures) slice one global draw', () => {
  checkShards(() => mixtureSource(RING8), 8, 2);
});

test('sharded batches: a global batch that does not split evenly is refused, naming --batch-size', () => {
  assert.throws(() => new BatchStream(source(12, [2, 2, 1]), { batchSize: 5, shard: { rank: 0, count: 2 } }), /--batch-size 5 .*multiple of the 2 ranks/);
  assert.deepEqual(shardRange(10, { rank: 1, count: 2 }), [5, 10]);
  assert.deepEqual(shardRange(10, undefined), [0, 10]);
});
