import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rm, writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import sharp from 'sharp';
import { BatchStream, mirrorImage, type RawBatch } from '../../src/data/batches.js';
import { loadData } from '../../src/data/registry.js';
import { loadFolderData, shouldStream } from '../../src/data/stream_folder.js';
import { type ArraySource, type DataSource, type StreamSource } from '../../src/data/types.js';
import { parseColour } from '../../src/util/colour.js';
import { UserError } from '../../src/util/errors.js';
import { pattern, tmp, writeImage } from './image_fixtures.js';

before(async () => {
  await tf.setBackend('cpu');
});

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function folder(): Promise<string> {
  const d = await tmp('ganforge-stream-');
  dirs.push(d);
  return d;
}

const SHAPE = [6, 5, 3];

/**
 * 3 classes of 7, 5 and 6 distinct 6×5 RGB images, plus the odd ones a real folder has: one grey, one
 * with alpha, one of another size. Returns the folder.
 */
async function classFolder(): Promise<string> {
  const dir = await folder();
  const counts = [7, 5, 6];
  for (let k = 0; k < counts.length; k++) {
    for (let i = 0; i < counts[k]; i++) await writeImage(join(dir, `c${k}`, `img${String(i).padStart(2, '0')}.png`), pattern(SHAPE, 31 * k + 5 * i), SHAPE);
  }
  await writeImage(join(dir, 'c0', 'zgrey.png'), pattern([6, 5, 1], 9), [6, 5, 1]);
  await sharp(Buffer.from(pattern([6, 5, 4], 77)), { raw: { width: 5, height: 6, channels: 4 } }).png().toFile(join(dir, 'c1', 'alpha.png'));
  await writeImage(join(dir, 'c2', 'big.png'), pattern([12, 10, 3], 3), [12, 10, 3]);
  return dir;
}

async function both(dir: string, opts: Parameters<typeof loadFolderData>[1] = {}): Promise<[ArraySource, StreamSource]> {
  const mem = await loadFolderData(dir, { ...opts, stream: 'off' });
  const str = await loadFolderData(dir, { ...opts, stream: 'on', threads: 2 });
  assert.equal(mem.kind, 'array');
  assert.equal(str.kind, 'stream');
  return [mem as ArraySource, str as StreamSource];
}

const raw = (b: RawBatch) => ({ x: Array.from(b.x), labels: Array.from(b.labels ?? []), indices: Array.from(b.indices ?? []) });

test('streamed folder = the same folder in memory: info, order, pixels and labels over three epochs', async () => {
  const [mem, str] = await both(await classFolder());
  assert.deepEqual(str.info, mem.info);
  assert.equal(str.count, 21);
  assert.deepEqual([...str.labels!], [...mem.labels!]);
  // Both count the odd files alike, in one notice.
  const counted = 'resized 1 of 21 images to 6×5; converted 1 grey images to RGB; composited 1 images with alpha on #ffffff';
  assert.ok(mem.notices!.some((n) => n.endsWith(counted)), String(mem.notices));
  assert.ok(str.notices!.some((n) => n.endsWith(counted)), String(str.notices));
  assert.ok(str.notices!.some((n) => /streaming 21 images from disk \(--stream on\)/.test(n)));
  const a = new BatchStream(mem, { batchSize: 4, seed: 7 });
  const b = new BatchStream(str, { batchSize: 4, seed: 7, prefetch: 3, threads: 2 });
  try {
    for (let i = 0; i < 16; i++) assert.deepEqual(raw(b.nextRaw()), raw(a.nextRaw()), `batch ${i}`);
    assert.equal(b.epoch, a.epoch);
    assert.equal(a.epoch, 3);
  } finally {
    b.close();
  }
});

test('streamed resume mid-epoch: a new stream restored from state() continues with the same batches', async () => {
  const [, str] = await both(await classFolder());
  const a = new BatchStream(str, { batchSize: 4, seed: 3, prefetch: 4, threads: 2 });
  const b = new BatchStream(str, { batchSize: 4, seed: 99, prefetch: 2, threads: 1 });
  try {
    for (let i = 0; i < 3; i++) a.nextRaw();
    const saved = a.state(); // batches 3..6 are drawn ahead already; the state is that of batch 3
    assert.equal(saved.cursor, 12);
    b.restore(saved);
    const expected = Array.from({ length: 9 }, () => raw(a.nextRaw()));
    assert.deepEqual(Array.from({ length: 9 }, () => raw(b.nextRaw())), expected);
    // Restoring the stream that has batches in flight drops them and replays from the saved point.
    a.restore(saved);
    assert.deepEqual(raw(a.nextRaw()), expected[0]);
  } finally {
    a.close();
    b.close();
  }
});

test('streamed and sharded over 2 ranks: the slices put together are the whole batch, the states agree', async () => {
  const [, str] = await both(await classFolder());
  const whole = new BatchStream(str, { batchSize: 6, seed: 5, threads: 1 });
  const ranks = [0, 1].map((rank) => new BatchStream(str, { batchSize: 6, seed: 5, threads: 1, shard: { rank, count: 2 } }));
  try {
    for (let i = 0; i < 7; i++) {
      const full = raw(whole.nextRaw());
      const parts = ranks.map((r) => raw(r.nextRaw()));
      assert.deepEqual(parts.flatMap((p) => p.x), full.x, `batch ${i}`);
      assert.deepEqual(parts.flatMap((p) => p.indices), full.indices);
      assert.deepEqual(parts.flatMap((p) => p.labels), full.labels);
      assert.deepEqual(ranks[1].state(), ranks[0].state());
      assert.deepEqual(ranks[0].state(), whole.state());
    }
  } finally {
    [whole, ...ranks].forEach((s) => s.close());
  }
});

test('the prefetch queue is bounded: exactly `prefetch` batches drawn ahead, each one decode job', async () => {
  const [, str] = await both(await classFolder());
  const s = new BatchStream(str, { batchSize: 2, seed: 1, prefetch: 3, threads: 2 });
  try {
    assert.equal(s.prefetched, 0, 'nothing is decoded before the first batch is asked for');
    for (let i = 0; i < 25; i++) {
      s.nextRaw();
      assert.equal(s.prefetched, 3, `after batch ${i}`);
      assert.equal(s.decoding, 3, 'decode jobs in flight = batches ahead');
    }
  } finally {
    s.close();
  }
});

test('a file whose pixels are corrupt behind a readable header: a UserError naming it when its batch is drawn', async () => {
  const dir = await folder();
  for (let i = 0; i < 6; i++) await writeImage(join(dir, `ok${i}.png`), pattern(SHAPE, i), SHAPE);
  // Cut short inside the image data: the header (signature, IHDR, the start of IDAT) reads, the pixels do not.
  await writeImage(join(dir, 'cut.png'), pattern(SHAPE, 50), SHAPE);
  const whole = await readFile(join(dir, 'cut.png'));
  await writeFile(join(dir, 'cut.png'), whole.subarray(0, whole.length - 20));
  const str = (await loadFolderData(dir, { stream: 'on', threads: 1 })) as StreamSource;
  assert.equal(str.count, 7);
  const s = new BatchStream(str, { batchSize: 7, seed: 0, threads: 1 });
  try {
    assert.throws(() => s.nextRaw(), (e: unknown) => e instanceof UserError && e.message.includes(join(dir, 'cut.png')) && /remove or replace/.test(e.message));
  } finally {
    s.close();
  }
});

test('a file whose header is unreadable: named when the folder is opened, or skipped and counted like in memory', async () => {
  const dir = await folder();
  for (let i = 0; i < 5; i++) await writeImage(join(dir, `ok${i}.png`), pattern(SHAPE, i), SHAPE);
  await writeFile(join(dir, 'junk.png'), Buffer.from('not an image at all'));
  await assert.rejects(loadFolderData(dir, { stream: 'on', threads: 1 }), (e: unknown) => e instanceof UserError && e.message.includes(join(dir, 'junk.png')) && /skip-bad/.test(e.message));
  const [mem, str] = await both(dir, { skipBad: true });
  assert.deepEqual([str.count, str.skipped], [5, 1]);
  assert.deepEqual([mem.count, mem.skipped], [5, 1]);
  const a = new BatchStream(mem, { batchSize: 2, seed: 4 });
  const b = new BatchStream(str, { batchSize: 2, seed: 4, threads: 1 });
  try {
    for (let i = 0; i < 5; i++) assert.deepEqual(raw(b.nextRaw()), raw(a.nextRaw()));
  } finally {
    b.close();
  }
});

test('alpha is composited on the chosen background: a hand-computed pixel, in memory and streamed', async () => {
  const dir = await folder();
  // Pixel 0: half-transparent (alpha 128) teal-ish; pixel 1: fully transparent.
  await sharp(Buffer.from([10, 200, 60, 128, 90, 90, 90, 0]), { raw: { width: 2, height: 1, channels: 4 } }).png().toFile(join(dir, 'a.png'));
  await sharp(Buffer.from([1, 2, 3, 255, 4, 5, 6, 255]), { raw: { width: 2, height: 1, channels: 4 } }).png().toFile(join(dir, 'b.png'));
  const bg = parseColour('#ff0080');
  const expected = [10, 200, 60].map((v, k) => v * (128 / 255) + bg[k] * (1 - 128 / 255)); // 131.9, 100.4, 93.9
  for (const src of await both(dir, { background: bg })) {
    const s = new BatchStream(src, { batchSize: 2, shuffle: false, threads: 1 });
    try {
      const x = Array.from(s.nextRaw().x, (v) => Math.round((v + 1) * 127.5));
      for (let k = 0; k < 3; k++) assert.ok(Math.abs(x[k] - expected[k]) <= 1, `${src.kind} channel ${k}: ${x[k]} vs ${expected[k].toFixed(1)}`);
      assert.deepEqual(x.slice(3, 6), bg, 'a transparent pixel takes the background');
      assert.deepEqual(x.slice(6), [1, 2, 3, 4, 5, 6], 'opaque pixels are untouched');
    } finally {
      s.close();
    }
  }
  assert.throws(() => parseColour('#ff00'), /--background '#ff00' is not a colour/);
  assert.deepEqual([parseColour('white'), parseColour('#f80'), parseColour('000000')], [[255, 255, 255], [255, 136, 0], [0, 0, 0]]);
});

/** n distinct 3×4 RGB images, labelled by index. */
function tiny(n: number, xflip: boolean): ArraySource {
  const shape = [3, 4, 3];
  const per = 36;
  const values = new Uint8Array(n * per);
  for (let i = 0; i < n; i++) values.set(pattern(shape, 11 * i), i * per);
  return { kind: 'array', info: { name: 't', kind: 'image', shape, count: n }, count: n, values, labels: Int32Array.from({ length: n }, (_, i) => i), xflip };
}

test('xflip: an epoch holds every image once as stored and once mirrored; seeded, reproducible and resumable', () => {
  const n = 6;
  const src = tiny(n, true);
  const s = new BatchStream(src, { batchSize: 4, seed: 2 });
  assert.equal(s.batchesPerEpoch, 3);
  const seen = new Map<number, string[]>();
  const mirrored = new Uint8Array(36);
  for (let b = 0; b < 3; b++) {
    const r = s.nextRaw();
    r.indices!.forEach((idx, i) => {
      const got = Array.from(r.x.subarray(i * 36, (i + 1) * 36), (v) => Math.round((v + 1) * 127.5));
      const stored = Array.from(src.values.subarray(idx * 36, (idx + 1) * 36));
      mirrorImage(src.values as Uint8Array, idx * 36, [3, 4, 3], mirrored);
      const kind = got.join() === stored.join() ? 'stored' : got.join() === Array.from(mirrored).join() ? 'mirrored' : 'neither';
      seen.set(idx, [...(seen.get(idx) ?? []), kind]);
      assert.equal(r.labels![i], idx, 'a mirrored image keeps its label');
    });
  }
  // 12 of the 12 positions: each image once each way (the epoch has no remainder to drop).
  for (let i = 0; i < n; i++) assert.deepEqual(seen.get(i)!.sort(), ['mirrored', 'stored'], `image ${i}`);
  // Seeded: the same seed gives the same batches, another seed another order.
  const again = new BatchStream(tiny(n, true), { batchSize: 4, seed: 2 });
  const other = new BatchStream(tiny(n, true), { batchSize: 4, seed: 3 });
  const first = new BatchStream(tiny(n, true), { batchSize: 4, seed: 2 });
  assert.deepEqual(raw(again.nextRaw()), raw(first.nextRaw()));
  assert.notDeepEqual(raw(other.nextRaw()), raw(new BatchStream(tiny(n, true), { batchSize: 4, seed: 2 }).nextRaw()));
  // Resumable across an epoch boundary.
  const state = again.state();
  const expected = Array.from({ length: 5 }, () => raw(again.nextRaw()));
  const resumed = new BatchStream(tiny(n, true), { batchSize: 4, seed: 0 });
  resumed.restore(state);
  assert.deepEqual(Array.from({ length: 5 }, () => raw(resumed.nextRaw())), expected);
});

test('xflip on a streamed folder equals xflip in memory, and refuses translation data', async () => {
  const [mem, str] = await both(await classFolder());
  const a = new BatchStream({ ...mem, xflip: true }, { batchSize: 5, seed: 8 });
  const b = new BatchStream({ ...str, xflip: true }, { batchSize: 5, seed: 8, threads: 2 });
  try {
    assert.equal(b.batchesPerEpoch, 8); // 42 positions
    for (let i = 0; i < 10; i++) assert.deepEqual(raw(b.nextRaw()), raw(a.nextRaw()), `batch ${i}`);
  } finally {
    b.close();
  }
  const t = tiny(4, true);
  const paired: ArraySource = { ...t, info: { ...t.info, input: { shape: [3, 4, 3], pairing: 'paired', domains: ['A', 'B'] } }, inputs: { values: t.values as Uint8Array, count: 4 } };
  assert.throws(() => new BatchStream(paired, { batchSize: 2 }), /--xflip mirrors targets only/);
});

test('loadData: --stream auto keeps a small folder in memory, on streams it, on refuses data that is not a folder', async () => {
  const dir = await classFolder();
  const auto: DataSource = await loadData(`folder:${dir}`, { stream: 'auto' });
  assert.equal(auto.kind, 'array');
  const on = await loadData(`folder:${dir}`, { stream: 'on', xflip: true });
  assert.equal(on.kind, 'stream');
  assert.equal((on as StreamSource).xflip, true);
  assert.equal((await loadData(`folder:${dir}`)).kind, 'array', 'a library caller gets memory unless it asks');
  await assert.rejects(loadData('toy:ring8', { stream: 'on' }), /--stream on streams folder:PATH data/);
  // auto: over a quarter of memory streams; on and off decide alone.
  const gib = 2 ** 30;
  assert.deepEqual([shouldStream('auto', 4 * gib, 16 * gib), shouldStream('auto', 4 * gib + 1, 16 * gib)], [false, true]);
  assert.deepEqual([shouldStream('on', 1, 16 * gib), shouldStream('off', 64 * gib, 16 * gib)], [true, false]);
});
