import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyTiled, tileStarts, type PlainImage } from '../../src/data/tiles.js';
import { Rng } from '../../src/util/rng.js';

/** The oracle for a pixel-wise fn: nearest-neighbour ×s upscale of the whole image at once. */
function nearest(img: PlainImage, s: number): PlainImage {
  const { h, w, c } = img;
  const values = new Float32Array(h * s * w * s * c);
  for (let y = 0; y < h * s; y++) {
    for (let x = 0; x < w * s; x++) {
      for (let k = 0; k < c; k++) values[(y * w * s + x) * c + k] = img.values[(Math.floor(y / s) * w + Math.floor(x / s)) * c + k];
    }
  }
  return { values, h: h * s, w: w * s, c };
}

function randomImage(h: number, w: number, c: number, seed: number): PlainImage {
  const rng = new Rng(seed);
  return { values: Float32Array.from({ length: h * w * c }, () => rng.uniform() * 2 - 1), h, w, c };
}

test('tile starts cover the axis with whole tiles sharing at least the overlap', () => {
  assert.deepEqual(tileStarts(10, 16, 4), [0]);
  assert.deepEqual(tileStarts(40, 16, 4), [0, 12, 24]);
  assert.deepEqual(tileStarts(41, 16, 4), [0, 12, 24, 25]);
});

test('tiled nearest-neighbour upscale equals the untiled one exactly (seams blend equal values)', () => {
  for (const [h, w, tile, overlap, s] of [[37, 53, 16, 4, 3], [20, 20, 8, 0, 2], [9, 31, 8, 7, 4], [5, 5, 16, 4, 2]]) {
    const img = randomImage(h, w, 3, h * w);
    const tiled = applyTiled(img, { tile, overlap, scale: s }, (t) => nearest(t, s));
    const whole = nearest(img, s);
    assert.deepEqual([tiled.h, tiled.w, tiled.c], [whole.h, whole.w, whole.c]);
    assert.deepEqual(tiled.values, whole.values, `${h}×${w} tile ${tile} overlap ${overlap} ×${s}`);
  }
});

test('seams are feathered: constant tiles blend linearly across the shared strip', () => {
  // One row of two 8-wide tiles over a 12-wide image share 4 columns; tile q outputs the constant q.
  let calls = 0;
  const out = applyTiled({ values: new Float32Array(12), h: 1, w: 12, c: 1 }, { tile: 8, overlap: 4, scale: 1 }, (t) => ({ ...t, values: new Float32Array(t.values.length).fill(calls++) }));
  const expected = [0, 0, 0, 0, 0.125, 0.375, 0.625, 0.875, 1, 1, 1, 1];
  assert.deepEqual(Array.from(out.values), expected);
});

test('a 4000×3000 image is processed in tile-sized calls with one band of accumulators', () => {
  const [h, w, tile] = [3000, 4000, 256];
  const img: PlainImage = { values: new Uint8Array(h * w * 3), h, w, c: 3 };
  for (let i = 0; i < img.values.length; i++) img.values[i] = (i * 7919) % 251;
  let largest = 0;
  let calls = 0;
  const out = applyTiled(img, { tile, overlap: 16, scale: 1 }, (t) => {
    largest = Math.max(largest, t.h * t.w);
    calls++;
    return { values: Float32Array.from(t.values), h: t.h, w: t.w, c: t.c };
  });
  assert.ok(largest <= tile * tile, `fn saw ${largest} pixels`);
  assert.equal(calls, tileStarts(h, tile, 16).length * tileStarts(w, tile, 16).length);
  for (let i = 0; i < out.values.length; i += 9973) assert.equal(out.values[i], img.values[i]);
});

test('tile options are validated with the name of the option', () => {
  const img = randomImage(4, 4, 1, 1);
  assert.throws(() => applyTiled(img, { tile: 8, overlap: 8, scale: 1 }, (t) => t), /overlap/);
  assert.throws(() => applyTiled(img, { tile: 0, overlap: 0, scale: 1 }, (t) => t), /tile must/);
  assert.throws(() => applyTiled(img, { tile: 8, overlap: 0, scale: 1.5 }, (t) => t), /scale/);
});
