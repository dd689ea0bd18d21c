// How translate, refine and the grid read a user's files: upright by EXIF orientation (a phone photo's), transparent
// pixels on the run's background (as training composited them), then resized to the run's size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { readImages } from '../../src/cli/translate.js';

test('readImages: EXIF orientation applied, alpha composited on the background, sizes counted after turning', async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-read-'));
  try {
    // A transparent red square: red only where alpha would be ignored.
    const clear = path.join(tmp, 'clear.png');
    await sharp(Buffer.alloc(4 * 4 * 4).fill(0).map((_, i) => (i % 4 === 0 ? 255 : 0)), { raw: { width: 4, height: 4, channels: 4 } }).png().toFile(clear);
    const onWhite = await readImages([clear], [4, 4, 3]);
    assert.ok(onWhite.values.every((v) => v === 1), 'white where transparent');
    const onBlack = await readImages([clear], [4, 4, 3], [0, 0, 0]);
    assert.ok(onBlack.values.every((v) => v === -1), 'black with a black background');
    assert.equal(onWhite.resized, 0);

    // 16 wide × 8 high, left half black, stored with orientation 6 (shown turned 90° clockwise): 8 wide × 16 high,
    // black on top.
    const turned = path.join(tmp, 'turned.jpg');
    const pixels = Buffer.from(Array.from({ length: 16 * 8 }, (_, i) => (i % 16 < 8 ? 0 : 255)));
    await sharp(pixels, { raw: { width: 16, height: 8, channels: 1 } }).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toFile(turned);
    const read = await readImages([turned], [16, 8, 1]);
    assert.equal(read.resized, 0, 'already the run\'s 16×8 once upright');
    const row = (r: number) => read.values.slice(r * 8, (r + 1) * 8);
    assert.ok(row(1).every((v) => v < -0.9) && row(14).every((v) => v > 0.9), `top ${row(1)} bottom ${row(14)}`);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});
