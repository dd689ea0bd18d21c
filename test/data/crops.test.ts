import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BatchStream } from '../../src/data/batches.js';
import { isCropSampler, readStoredImage, type CropSampler } from '../../src/data/crops.js';
import { downscale } from '../../src/data/degrade.js';
import { roundBytes } from '../../src/data/derived.js';
import { loadData } from '../../src/data/registry.js';
import type { ArraySource, DataSource } from '../../src/data/types.js';
import { Rng } from '../../src/util/rng.js';
import { tmp, writeImage } from './image_fixtures.js';

/** Three images of different sizes and random pixels, so a window identifies its image and place. */
const SIZES = [[20, 31], [16, 16], [40, 24]];
function pattern([h, w, c]: number[], seed: number): Uint8Array {
  const rng = new Rng(seed);
  return Uint8Array.from({ length: h * w * c }, () => rng.int(256));
}
let dir = '';

before(async () => {
  process.env.GANFORGE_CACHE = await tmp('ganforge-crops-cache-');
  dir = await tmp('ganforge-crops-');
  await Promise.all(SIZES.map(([h, w], i) => writeImage(join(dir, `im${i}.png`), pattern([h, w, 3], 17 * i), [h, w, 3])));
});

const quiet = { log: () => {} };
const bytes = (x: Float32Array): Uint8Array => Uint8Array.from(x, (v) => Math.round((v + 1) * 127.5));

/** Where a crop came from: an image and corner whose window (mirrored or not) equals it, by exhaustive search. */
function findWindow(crop: Uint8Array, size: number): { image: number; flip: boolean } | undefined {
  for (let i = 0; i < SIZES.length; i++) {
    const [h, w] = SIZES[i];
    const img = pattern([h, w, 3], 17 * i);
    for (const flip of [false, true]) {
      for (let oy = 0; oy + size <= h; oy++) {
        for (let ox = 0; ox + size <= w; ox++) {
          let same = true;
          for (let y = 0; same && y < size; y++) {
            for (let x = 0; same && x < size; x++) {
              const sx = flip ? ox + size - 1 - x : ox + x;
              for (let k = 0; k < 3; k++) if (crop[(y * size + x) * 3 + k] !== img[((oy + y) * w + sx) * 3 + k]) { same = false; break; }
            }
          }
          if (same) return { image: i, flip };
        }
      }
    }
  }
  return undefined;
}

test('folder --random-crop: every example is a window of one image at its own size, flips included', async () => {
  const src = await loadData(`folder:${dir}`, { randomCrop: true, imageSize: 12, ...quiet });
  assert.ok(isCropSampler(src));
  assert.deepEqual(src.info.shape, [12, 12, 3]);
  assert.deepEqual((src as CropSampler).crops.store.images.map((im) => [im.h, im.w]), SIZES);
  const stored = readStoredImage((src as CropSampler).crops.store, 2);
  assert.deepEqual(stored.values, pattern([40, 24, 3], 34));
  const x = src.sample(40, new Rng(3)).values;
  const seen = new Set<string>();
  for (let i = 0; i < 40; i++) {
    const found = findWindow(bytes(x.subarray(i * 432, (i + 1) * 432)), 12);
    assert.ok(found, `crop ${i} is no window of any image`);
    seen.add(`${found.image}${found.flip}`);
  }
  assert.ok(seen.size >= 5, `images and flips drawn: ${[...seen]}`);
  await assert.rejects(loadData(`folder:${dir}`, { randomCrop: true, imageSize: 17, ...quiet }), /smaller than the 17 px crop.*im1, 16×16/);
  await assert.rejects(loadData(`folder:${dir}`, { randomCrop: true, stream: 'on', ...quiet }), /--random-crop .*--stream on does not apply/);
});

/** Batches 0..n-1 of a stream, as raw arrays. */
function drain(s: BatchStream, n: number): { x: Float32Array; input?: Float32Array }[] {
  return Array.from({ length: n }, () => {
    const r = s.nextRaw();
    return { x: r.x, input: r.input };
  });
}

async function checkResume(src: DataSource): Promise<void> {
  const straight = new BatchStream(src, { batchSize: 4, seed: 11 });
  const all = drain(straight, 6);
  const first = new BatchStream(src, { batchSize: 4, seed: 11 });
  drain(first, 2);
  const saved = JSON.parse(JSON.stringify(first.state()));
  const resumed = new BatchStream(src, { batchSize: 4, seed: 99 });
  resumed.restore(saved);
  assert.deepEqual(drain(resumed, 4), all.slice(2));
  for (const s of [straight, first, resumed]) s.close();
}

test('random crops resume exactly from a saved stream state', async () => {
  await checkResume(await loadData(`folder:${dir}`, { randomCrop: true, imageSize: 8, ...quiet }));
});

test('lowres: over random crops degrades each draw: input = downscale(target) exactly, noise and JPEG resume exactly', async () => {
  const clean = await loadData(`lowres:folder:${dir}`, { randomCrop: true, imageSize: 12, degrade: { scale: 4 }, ...quiet });
  assert.equal(clean.kind, 'sampler');
  assert.deepEqual([clean.info.shape, clean.info.input!.shape], [[12, 12, 3], [3, 3, 3]]);
  const { values, input } = (clean as Extract<DataSource, { kind: 'sampler' }>).sample(6, new Rng(1));
  for (let i = 0; i < 6; i++) {
    const hr = bytes(values.subarray(i * 432, (i + 1) * 432));
    assert.deepEqual(bytes(input!.subarray(i * 27, (i + 1) * 27)), roundBytes(downscale(hr, [12, 12, 3], 4, 'bicubic')));
  }
  const noisy = await loadData(`lowres:folder:${dir}`, { randomCrop: true, imageSize: 8, degrade: { scale: 2, noise: 5, jpeg: 70 }, ...quiet });
  assert.ok(noisy.notices!.some((m) => /noise σ 5\/255, JPEG q 70 of random 8 px crops/.test(m)));
  await checkResume(noisy);
  const up = await loadData(`lowres:folder:${dir}`, { randomCrop: true, imageSize: 8, degrade: { scale: 2 }, upsampleInput: true, ...quiet });
  assert.deepEqual(up.info.input!.shape, [8, 8, 3]);
  await assert.rejects(loadData(`lowres:folder:${dir}`, { randomCrop: true, imageSize: 10, degrade: { scale: 4 }, ...quiet }), /crop --image-size 10 must be divisible by --scale 4/);
});

test('the test split of a cropped folder is one fixed centre crop per image', async () => {
  const a = (await loadData(`folder:${dir}`, { randomCrop: true, imageSize: 16, split: 'test', ...quiet })) as ArraySource;
  assert.equal(a.kind, 'array');
  assert.deepEqual([a.count, a.info.shape], [3, [16, 16, 3]]);
  const [h, w] = SIZES[0];
  const img = pattern([h, w, 3], 0);
  const [oy, ox] = [(h - 16) >> 1, (w - 16) >> 1];
  for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) for (let k = 0; k < 3; k++) assert.equal(a.values[(y * 16 + x) * 3 + k], img[((oy + y) * w + ox + x) * 3 + k]);
});
