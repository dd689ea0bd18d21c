import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { join } from 'node:path';
import { BatchStream } from '../../src/data/batches.js';
import { loadData } from '../../src/data/registry.js';
import type { ArraySource } from '../../src/data/types.js';
import { UserError } from '../../src/util/errors.js';
import { example, pattern, solid, tmp, writeImage } from './image_fixtures.js';

before(async () => {
  await tf.setBackend('cpu');
});

test('unpaired:DIR reads trainA/trainB (testA/testB), brings A to B\'s size and channels, says so', async () => {
  const dir = await tmp();
  for (const n of ['a1', 'a2', 'a3']) await writeImage(join(dir, 'trainA', `${n}.png`), solid([4, 4, 1], 60), [4, 4, 1]);
  for (const [i, n] of ['b1', 'b2'].entries()) await writeImage(join(dir, 'trainB', `${n}.png`), pattern([6, 6, 3], i), [6, 6, 3]);
  await writeImage(join(dir, 'testA', 't.png'), solid([6, 6, 3], 1), [6, 6, 3]);
  await writeImage(join(dir, 'testB', 't.png'), solid([6, 6, 3], 2), [6, 6, 3]);
  const src = (await loadData(`unpaired:${dir}`)) as ArraySource;
  assert.deepEqual([src.count, src.inputs!.count], [2, 3]);
  assert.deepEqual(src.info.input, { shape: [6, 6, 3], pairing: 'unpaired', domains: ['A', 'B'] });
  assert.deepEqual([src.names, src.inputs!.names], [['b1', 'b2'], ['a1', 'a2', 'a3']]);
  assert.deepEqual(example(src.inputs!.values, [6, 6, 3], 2), Array(108).fill(60));
  assert.deepEqual(example(src.values as Uint8Array, [6, 6, 3], 1), [...pattern([6, 6, 3], 1)]);
  assert.match(src.notices!.join('\n'), /A images converted from 6×6×1 to 6×6×3 to match B/);
  const test = (await loadData(`unpaired:${dir}`, { split: 'test', direction: 'BtoA' })) as ArraySource;
  assert.deepEqual([test.values[0], test.inputs!.values[0], test.info.input!.domains], [1, 2, ['B', 'A']]);
  // Batches: independent inputs of the declared shape.
  const s = new BatchStream(src, { batchSize: 2, seed: 1 });
  const b = s.next();
  assert.deepEqual(b.input!.shape, [2, 6, 6, 3]);
  b.x.dispose();
  b.input!.dispose();
});

test('unpaired:DIR without trainB (or testA) is an error naming the folder', async () => {
  const dir = await tmp();
  await writeImage(join(dir, 'trainA', 'a.png'), solid([4, 4, 3], 1), [4, 4, 3]);
  const named = (p: string) => (e: unknown) => e instanceof UserError && e.message.includes(p) && /trainA, trainB/.test(e.message);
  await assert.rejects(loadData(`unpaired:${dir}`), named(join(dir, 'trainB')));
  await writeImage(join(dir, 'testB', 'b.png'), solid([4, 4, 3], 1), [4, 4, 3]);
  await assert.rejects(loadData(`unpaired:${dir}`, { split: 'test' }), named(join(dir, 'testA')));
  await assert.rejects(loadData(`unpaired:${join(dir, 'missing')}`), (e: unknown) => e instanceof UserError && e.message.includes(join(dir, 'missing')));
});

test('unpaired:SPEC_A,SPEC_B pairs two datasets, adapted to B; labels stay with the target', async () => {
  const dir = await tmp();
  await writeImage(join(dir, 'x', '1.png'), solid([4, 4, 1], 100), [4, 4, 1]);
  await writeImage(join(dir, 'y', '1.png'), solid([8, 8, 3], 7), [8, 8, 3]);
  const fy = `folder:${join(dir, 'y')}`;
  const fx = `folder:${join(dir, 'x')}`;
  const src = (await loadData(`unpaired:${fx},${fy}`)) as ArraySource;
  assert.deepEqual([src.info.shape, src.info.input!.shape, src.info.input!.domains], [[8, 8, 3], [8, 8, 3], [fx, fy]]);
  assert.ok(src.inputs!.values.every((v) => v === 100));
  // The test splits (10,000 each) load faster than the training sets.
  const fm = (await loadData('unpaired:mnist,fashion-mnist', { split: 'test', limit: 5, direction: 'BtoA', imageSize: 16 })) as ArraySource;
  assert.deepEqual([fm.count, fm.inputs!.count, fm.info.shape], [5, 5, [16, 16, 1]]);
  assert.deepEqual([fm.info.classNames![0], fm.info.input!.domains], ['0', ['fashion-mnist', 'mnist']]);
  await assert.rejects(loadData('unpaired:mnist,fashion-mnist,mnist'), /one comma/);
  await assert.rejects(loadData(`unpaired:${fx},toy:ring8`), /toy:ring8 is not image data/);
  await assert.rejects(loadData(`unpaired:${fx},edges:${fy}`), /already a translation dataset/);
});

test('loadSize/flip set augmentation on training data only', async () => {
  const dir = await tmp();
  await writeImage(join(dir, 'trainA', 'a.png'), solid([4, 4, 3], 1), [4, 4, 3]);
  await writeImage(join(dir, 'trainB', 'b.png'), solid([4, 4, 3], 2), [4, 4, 3]);
  await writeImage(join(dir, 'testA', 'a.png'), solid([4, 4, 3], 1), [4, 4, 3]);
  await writeImage(join(dir, 'testB', 'b.png'), solid([4, 4, 3], 2), [4, 4, 3]);
  const train = (await loadData(`unpaired:${dir}`, { loadSize: 6, flip: true })) as ArraySource;
  assert.deepEqual(train.augment, { loadSize: 6, flip: true });
  const test = (await loadData(`unpaired:${dir}`, { split: 'test', loadSize: 6, flip: true })) as ArraySource;
  assert.equal(test.augment, undefined);
  await assert.rejects(loadData('toy:ring8', { flip: true }), /image data only/);
});
