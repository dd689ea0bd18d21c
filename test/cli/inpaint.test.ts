import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import { fails, ok } from './helpers.js';
import { fillByTiles } from '../../src/cli/inpaint.js';
import type { SampleResult } from '../../src/gan/family.js';

const png = (w: number, h: number, c: 1 | 3, f: (x: number, y: number, k: number) => number) =>
  sharp(Buffer.from(Uint8Array.from({ length: w * h * c }, (_, i) => f(Math.floor(i / c) % w, Math.floor(i / c / w), i % c))), { raw: { width: w, height: h, channels: c } }).png().toBuffer();

async function raw(file: string): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

test('fillByTiles: every hole pixel filled once by its nearest tile, known pixels untouched, any size, small images padded', () => {
  // A fake generator that writes its tile's index into every pixel: shows which tile filled what.
  for (const [h, w] of [[32, 32], [50, 70], [20, 90], [12, 10]]) {
    const c = 1;
    const values = Float32Array.from({ length: h * w }, (_, p) => (p % 7) / 10);
    const hole = Uint8Array.from({ length: h * w }, (_, p) => (p % 3 === 0 ? 1 : 0));
    let calls = 0;
    const run = (input: tf.Tensor4D): SampleResult => {
      calls++;
      const [, s, , cin] = input.shape;
      assert.equal(cin, c + 1);
      const x = input.dataSync();
      // G's input: hole pixels grey and marked +1, every other pixel known (−1)
      for (let p = 0; p < s * s; p++) assert.ok(x[p * 2 + 1] === 1 ? Math.abs(x[p * 2] - 128 / 127.5 + 1) < 1e-6 : x[p * 2 + 1] === -1);
      return { values: new Float32Array(s * s).fill(-0.5 - calls / 100), count: 1, shape: [s, s, 1] };
    };
    const out = fillByTiles({ values, h, w, c }, hole, 16, run);
    for (let p = 0; p < h * w; p++) {
      if (hole[p]) assert.ok(out[p] < -0.5, `hole pixel ${p} of ${w}×${h} filled`);
      else assert.equal(out[p], values[p], `known pixel ${p} kept`);
    }
    assert.ok(calls <= Math.ceil((2 * Math.max(h, 16)) / 16) * Math.ceil((2 * Math.max(w, 16)) / 16));
  }
});

test('ganforge inpaint: train a tiny run on masked: data, fill an image of another size; bad input exits 2 and writes nothing', async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-inpaint-cli-'));
  try {
    const run = path.join(tmp, 'run');
    await ok(['train', 'inpaint', '--data', 'masked:fashion-mnist', '--mask-kind', 'strokes', '--image-size', '32', '--steps', '3', '--width', '4', '--batch-size', '4', '--data-limit', '32', '--sample-every', '0', '--checkpoint-every', '0', '--out', run], tmp);
    // eval reports the hole scores beside the two baselines
    const e = await ok(['eval', run, '--count', '8', '--metrics', 'hole-l1,hole-psnr', '--json'], tmp);
    const { scores } = JSON.parse(e.stdout) as { scores: Record<string, number> };
    for (const k of ['hole-l1', 'hole-psnr', 'mean-fill/hole-l1', 'diffusion-fill/hole-psnr']) assert.ok(Number.isFinite(scores[k]), `${k} = ${scores[k]}`);

    const image = path.join(tmp, 'photo.png');
    await fs.writeFile(image, await png(40, 24, 1, (x, y) => (x * 5 + y * 3) % 256)); // grey, as the fashion-mnist run's images
    const mask = path.join(tmp, 'mask.png');
    await fs.writeFile(mask, await png(40, 24, 1, (x, y) => (x >= 10 && x < 20 && y >= 5 && y < 15 ? 255 : 0)));
    const out = path.join(tmp, 'out.png');
    const r = await ok(['inpaint', run, image, '--mask', mask, '--out', out], tmp);
    assert.match(r.stderr, /filled 100 pixel\(s\) of 40×24/);
    const [a, b] = [await raw(image), await raw(out)];
    assert.deepEqual([b.width, b.height], [40, 24]);
    let inside = 0;
    for (let p = 0; p < 40 * 24; p++) {
      const [x, y] = [p % 40, Math.floor(p / 40)];
      const hole = x >= 10 && x < 20 && y >= 5 && y < 15;
      for (let k = 0; k < 3; k++) {
        if (!hole) assert.equal(b.data[p * 3 + k], a.data[p * 3 + k], `known pixel (${x}, ${y}) unchanged`);
        else if (b.data[p * 3 + k] !== a.data[p * 3 + k]) inside++;
      }
    }
    assert.ok(inside > 0, 'the hole changed');

    // An empty mask: a notice and the image unchanged.
    const empty = path.join(tmp, 'empty.png');
    await fs.writeFile(empty, await png(40, 24, 1, () => 0));
    const out2 = path.join(tmp, 'same.png');
    const r2 = await ok(['inpaint', run, image, '--mask', empty, '--out', out2], tmp);
    assert.match(r2.stderr, /no white pixel.*unchanged/);
    assert.deepEqual((await raw(out2)).data, a.data);

    const full = path.join(tmp, 'full.png');
    await fs.writeFile(full, await png(40, 24, 1, () => 255));
    const small = path.join(tmp, 'small.png');
    await fs.writeFile(small, await png(20, 12, 1, () => 255));
    await fs.writeFile(path.join(tmp, 'broken.png'), 'not an image');
    const bad = path.join(tmp, 'bad.png');
    await fails(['inpaint', run, image, '--mask', full, '--out', bad], tmp, /white everywhere: nothing of the image is known/);
    await fails(['inpaint', run, image, '--mask', small, '--out', bad], tmp, /--mask .*small\.png is 20×12, the image 40×24/);
    await fails(['inpaint', run, path.join(tmp, 'broken.png'), '--mask', mask, '--out', bad], tmp, /cannot read image '.*broken\.png'/);
    await fails(['inpaint', run, image, '--mask', mask, '--out', image], tmp, /--out .* is an input/);
    await fails(['inpaint', run, image, '--mask', mask, '--out', bad, '--feather', '3'], tmp, /unknown option '--feather'/);
    await fails(['train', 'inpaint', '--data', 'fashion-mnist', '--image-size', '32', '--steps', '1', '--out', path.join(tmp, 'x')], tmp, /masked:SPEC/);
    await fails(['train', 'pix2pix', '--data', 'edges:fashion-mnist', '--mask-kind', 'strokes', '--out', path.join(tmp, 'y')], tmp, /--mask-kind .*masked:/);
    assert.equal(await fs.stat(bad).catch(() => null), null, 'nothing written on error');
    assert.deepEqual((await raw(image)).data, a.data, 'the input is untouched');
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});
