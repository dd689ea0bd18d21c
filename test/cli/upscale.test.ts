// `ganforge upscale` on a tiny srresnet run: the factor and channels come from the run, one tile of the trained
// size reproduces `ganforge translate` exactly, any image size comes out ×scale, and bad input is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { fails, ok } from './helpers.js';

const greyPng = (w: number, h: number, f: (x: number, y: number) => number) =>
  sharp(Buffer.from(Uint8Array.from({ length: w * h }, (_, i) => f(i % w, Math.floor(i / w)))), { raw: { width: w, height: h, channels: 1 } })
    .toColourspace('b-w').png().toBuffer();

async function pixels(file: string): Promise<{ data: Buffer; width: number; height: number; channels: number }> {
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: (await sharp(file).metadata()).channels! }; // raw() widens grey to RGB
}

test('ganforge upscale: ×4 from the run, one trained-size tile = translate, any size tiled, bad input exits 2', async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-upscale-'));
  try {
    const run = path.join(tmp, 'run');
    await ok(['train', 'srresnet', '--data', 'lowres:fashion-mnist', '--image-size', '32', '--steps', '3', '--batch-size', '4', '--data-limit', '32',
      '--sample-every', '0', '--out', run], tmp);

    // An 8×8 image, the run's input size: upscale with one 8-px tile is translate's output, byte for byte.
    const small = path.join(tmp, 'small.png');
    await fs.writeFile(small, await greyPng(8, 8, (x, y) => (x * 29 + y * 17) % 256));
    await ok(['upscale', run, small, '--out', path.join(tmp, 'up'), '--tile', '8', '--overlap', '0'], tmp);
    await ok(['translate', run, small, '--out', path.join(tmp, 'tr')], tmp);
    const [up, tr] = [await pixels(path.join(tmp, 'up', 'small.png')), await pixels(path.join(tmp, 'tr', 'small.png'))];
    assert.deepEqual([up.width, up.height, up.channels], [32, 32, 1], 'grey in, grey out, ×4');
    assert.deepEqual(up.data, tr.data, 'the same generator on the same input');

    // An image of another size and shape, tiled with overlaps: ×4 on each side.
    const wide = path.join(tmp, 'wide.png');
    await fs.writeFile(wide, await greyPng(50, 19, (x, y) => (x * 7 + y * 11) % 256));
    const r = await ok(['upscale', run, wide, '--out', path.join(tmp, 'up'), '--tile', '16', '--overlap', '4'], tmp);
    assert.match(r.stderr, /wide\.png \(50×19\) → .*\(200×76\)/);
    const big = await pixels(path.join(tmp, 'up', 'wide.png'));
    assert.deepEqual([big.width, big.height, big.channels], [200, 76, 1]);

    // An image smaller than half a tile is edge-padded to it: the result is the top-left of the upscaled padded image.
    const tiny = path.join(tmp, 'tiny.png');
    const tinyPixel = (x: number, y: number) => (x * 41 + y * 23 + 7) % 256;
    await fs.writeFile(tiny, await greyPng(5, 3, tinyPixel));
    const padded = path.join(tmp, 'padded.png');
    await fs.writeFile(padded, await greyPng(16, 16, (x, y) => tinyPixel(Math.min(x, 4), Math.min(y, 2))));
    await ok(['upscale', run, tiny, padded, '--out', path.join(tmp, 'up'), '--tile', '16', '--overlap', '0'], tmp);
    const [t, p] = [await pixels(path.join(tmp, 'up', 'tiny.png')), await pixels(path.join(tmp, 'up', 'padded.png'))];
    assert.deepEqual([t.width, t.height], [20, 12]);
    const k = p.data.length / (64 * 64); // bytes per pixel as raw() decodes it
    const corner = Buffer.concat(Array.from({ length: 12 }, (_, y) => p.data.subarray(y * 64 * k, (y * 64 + 20) * k)));
    assert.deepEqual(t.data, corner, 'edge padding, then the crop');

    // Refusals: a file that is not an image, an overlap of half the tile or more, a run that is not super-resolution.
    const junk = path.join(tmp, 'junk.png');
    await fs.writeFile(junk, 'not an image');
    await fails(['upscale', run, junk, '--out', path.join(tmp, 'x')], tmp, /junk\.png is not an image/);
    await fails(['upscale', run, wide, '--out', path.join(tmp, 'x'), '--tile', '16', '--overlap', '8'], tmp, /--overlap must be/);
    const gan = path.join(tmp, 'gan');
    await ok(['train', 'dcgan', '--data', 'fashion-mnist', '--steps', '1', '--batch-size', '4', '--data-limit', '8', '--sample-every', '0', '--out', gan], tmp);
    await fails(['upscale', gan, wide, '--out', path.join(tmp, 'x')], tmp, /upscale needs a super-resolution run/);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});
