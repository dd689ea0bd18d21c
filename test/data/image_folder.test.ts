import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadImageFolder } from '../../src/data/image_folder.js';
import { UserError } from '../../src/util/errors.js';

/** A solid-colour image file; format chosen by extension. */
async function solid(path: string, w: number, h: number, rgb: [number, number, number], grey = false): Promise<void> {
  let img = sharp({ create: { width: w, height: h, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } });
  if (grey) img = img.toColourspace('b-w');
  await (path.endsWith('.png') ? img.png() : img.jpeg({ quality: 95 })).toFile(path);
}

async function tmp(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'imgfolder-'));
}

test('class sub-folders become sorted labels; sizes follow the first image; junk files ignored', async () => {
  const dir = await tmp();
  await mkdir(join(dir, 'b_red'));
  await mkdir(join(dir, 'a_blue'));
  await mkdir(join(dir, 'empty_class'));
  await solid(join(dir, 'a_blue', '1.png'), 8, 6, [0, 0, 255]);
  await solid(join(dir, 'a_blue', '2.jpg'), 16, 12, [0, 0, 255]);
  await solid(join(dir, 'b_red', '1.PNG'), 20, 20, [255, 0, 0]);
  await writeFile(join(dir, 'b_red', 'notes.txt'), 'not an image');
  await writeFile(join(dir, 'b_red', '.hidden.png'), 'ignored');
  const src = await loadImageFolder(dir);
  assert.deepEqual(src.info.classNames, ['a_blue', 'b_red']);
  assert.equal(src.info.numClasses, 2);
  assert.equal(src.count, 3);
  assert.deepEqual(src.info.shape, [6, 8, 3]); // first image (a_blue/1.png) sets the size
  // Round-robin order: a_blue/1, b_red/1, a_blue/2.
  assert.deepEqual([...src.labels!], [0, 1, 0]);
  const px = (i: number) => [...src.values.subarray(i * 6 * 8 * 3, i * 6 * 8 * 3 + 3)];
  assert.deepEqual(px(0), [0, 0, 255]);
  const red = px(1);
  assert.ok(red[0] > 240 && red[1] < 15 && red[2] < 15, `red pixel ${red}`);
  assert.equal(src.skipped, 0);
});

test('explicit size and channels; greyscale defaults to 1 channel; no labels for loose files', async () => {
  const dir = await tmp();
  await solid(join(dir, 'a.png'), 10, 10, [100, 100, 100], true);
  await solid(join(dir, 'b.jpg'), 30, 20, [200, 50, 50]);
  const grey = await loadImageFolder(dir);
  assert.deepEqual(grey.info.shape, [10, 10, 1]);
  assert.equal(grey.labels, undefined);
  assert.equal(grey.info.numClasses, undefined);
  assert.equal(grey.values[0], 100);
  const rgb = await loadImageFolder(dir, { imageSize: 4, channels: 3 });
  assert.deepEqual(rgb.info.shape, [4, 4, 3]);
  assert.equal(rgb.values.length, 2 * 4 * 4 * 3);
  assert.deepEqual([...rgb.values.subarray(0, 3)], [100, 100, 100]);
  const one = await loadImageFolder(dir, { imageSize: [3, 5], limit: 1 });
  assert.equal(one.count, 1);
  assert.deepEqual(one.info.shape, [3, 5, 1]);
});

test('corrupt image: error naming it, or skipped with skipBad', async () => {
  const dir = await tmp();
  await solid(join(dir, 'a.png'), 4, 4, [1, 2, 3]);
  await solid(join(dir, 'c.png'), 4, 4, [1, 2, 3]);
  await writeFile(join(dir, 'b.jpg'), Buffer.from('this is not a jpeg'));
  await assert.rejects(loadImageFolder(dir), (e: unknown) => e instanceof UserError && e.message.includes(join(dir, 'b.jpg')) && /skipBad/.test(e.message));
  const src = await loadImageFolder(dir, { skipBad: true });
  assert.equal(src.count, 2);
  assert.equal(src.skipped, 1);
  assert.deepEqual(src.skippedFiles, [join(dir, 'b.jpg')]);
  assert.deepEqual(src.files, [join(dir, 'a.png'), join(dir, 'c.png')]);
  // A corrupt first file is skipped too, and the size comes from the next one.
  const dir2 = await tmp();
  await writeFile(join(dir2, 'a.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));
  await solid(join(dir2, 'b.png'), 5, 7, [9, 9, 9]);
  const s2 = await loadImageFolder(dir2, { skipBad: true });
  assert.deepEqual([s2.count, s2.skipped, ...s2.info.shape], [1, 1, 7, 5, 3]);
});

test('missing, empty and ambiguous folders are UserErrors naming the path', async () => {
  const dir = await tmp();
  await assert.rejects(loadImageFolder(join(dir, 'nope')), (e: unknown) => e instanceof UserError && e.message.includes(join(dir, 'nope')));
  await writeFile(join(dir, 'readme.txt'), 'x');
  await assert.rejects(loadImageFolder(dir), (e: unknown) => e instanceof UserError && e.message.includes(dir) && /no images/.test(e.message));
  await solid(join(dir, 'loose.png'), 2, 2, [0, 0, 0]);
  await mkdir(join(dir, 'cls'));
  await solid(join(dir, 'cls', 'x.png'), 2, 2, [0, 0, 0]);
  await assert.rejects(loadImageFolder(dir), /both/);
});
