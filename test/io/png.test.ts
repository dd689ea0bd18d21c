import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { imageGrid, scatterPlot, toUint8Images } from '../../src/io/png.js';
import { RING8, mixtureSource } from '../../src/data/toy2d.js';
import { Rng } from '../../src/util/rng.js';

test('toUint8Images maps [-1, 1] to 0..255 with clamping and rounding', () => {
  assert.deepEqual([...toUint8Images(Float32Array.of(-1, 1, 0, -5, 5, NaN, 0.002))], [0, 255, 128, 0, 255, 0, 128]);
});

test('imageGrid: size, layout and pixel placement', async () => {
  const n = 5, h = 3, w = 4;
  for (const c of [1, 3]) {
    const imgs = new Uint8Array(n * h * w * c);
    for (let i = 0; i < n; i++) imgs.fill(10 * (i + 1), i * h * w * c, (i + 1) * h * w * c);
    const png = await imageGrid(imgs, n, h, w, c, { cols: 3, pad: 1 });
    assert.equal((await sharp(png).metadata()).channels, c); // grey grids are stored as grey PNGs
    const { data, info } = await sharp(png).toColourspace(c === 1 ? 'b-w' : 'srgb').raw().toBuffer({ resolveWithObject: true });
    assert.equal(info.width, 3 * w + 4);
    assert.equal(info.height, 2 * h + 3);
    assert.equal(info.channels, c);
    const at = (x: number, y: number) => data[(y * info.width + x) * c];
    assert.equal(at(0, 0), 255); // padding
    assert.equal(at(1, 1), 10); // image 0
    assert.equal(at(1 + (w + 1) * 2, 1), 30); // image 2, top right
    assert.equal(at(1 + (w + 1), 1 + h + 1), 50); // image 4, second row
    assert.equal(at(info.width - 2, info.height - 2), 255); // empty 6th cell
  }
});

test('scatterPlot draws a PNG of the requested size with samples, reference and centres', async () => {
  const pts = mixtureSource(RING8).sample(500, new Rng(0)).values;
  const png = await scatterPlot(pts, { size: 200, reference: pts, centres: RING8.centres });
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height, info.channels], [200, 200, 3]);
  let white = 0, red = 0;
  for (let i = 0; i < data.length; i += 3) {
    if (data[i] === 255 && data[i + 1] === 255 && data[i + 2] === 255) white++;
    if (data[i] === 214 && data[i + 1] === 39) red++;
  }
  assert.ok(white > 0.9 * 200 * 200, 'mostly white background');
  assert.ok(red > 8 * 5, 'eight crosses');
});
