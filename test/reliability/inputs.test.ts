import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/backend/index.js';
import { loadImageFolder } from '../../src/data/image_folder.js';
import { loadData } from '../../src/data/registry.js';
import { loadIdxPair } from '../../src/data/idx_dataset.js';
import { encodeIdx } from '../../src/data/idx.js';
import { startRun } from '../../src/run.js';
import { validatePartialConfig } from '../../src/gan/config.js';
import { rejectsUser, tempDir } from './helpers.js';

await initBackend({ prefer: 'cpu', quiet: true });

const tmp = await tempDir('inputs');
test.after(() => fs.rm(tmp, { recursive: true, force: true }));
let folders = 0;
const folder = async () => {
  const d = path.join(tmp, `f${folders++}`);
  await fs.mkdir(d);
  return d;
};

/** A w×h image with `channels` channels of a gradient, encoded as `format`. */
function image(w: number, h: number, channels: 1 | 2 | 3 | 4, format: 'png' | 'jpeg', opts: { bits16?: boolean; palette?: boolean } = {}): Promise<Buffer> {
  const raw = Buffer.alloc(w * h * channels);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 37) % 256;
  let s = sharp(raw, { raw: { width: w, height: h, channels } });
  if (opts.bits16) s = s.toColourspace(channels === 1 ? 'grey16' : 'rgb16');
  return format === 'png' ? s.png({ palette: opts.palette }).toBuffer() : s.jpeg().toBuffer();
}

async function bad(kind: string): Promise<Buffer> {
  switch (kind) {
    case 'truncated png': return (await image(16, 16, 3, 'png')).subarray(0, 60);
    case 'truncated jpeg': return (await image(32, 32, 3, 'jpeg')).subarray(0, 200);
    case 'empty file': return Buffer.alloc(0);
    case 'text named .png': return Buffer.from('not an image at all\n');
    case 'png header then garbage': return Buffer.concat([(await image(8, 8, 3, 'png')).subarray(0, 33), Buffer.alloc(64, 0xab)]);
    default: throw new Error(kind);
  }
}

for (const kind of ['truncated png', 'truncated jpeg', 'empty file', 'text named .png', 'png header then garbage']) {
  test(`${kind}: UserError naming the file; with skipBad skipped and counted`, async () => {
    const dir = await folder();
    await fs.writeFile(path.join(dir, 'a.png'), await image(8, 8, 3, 'png'));
    const broken = path.join(dir, kind.includes('jpeg') ? 'b.jpg' : 'b.png');
    await fs.writeFile(broken, await bad(kind));
    await fs.writeFile(path.join(dir, 'c.png'), await image(8, 8, 3, 'png'));
    await rejectsUser(loadImageFolder(dir), new RegExp(`cannot read image ${broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    const src = await loadImageFolder(dir, { skipBad: true });
    assert.deepEqual([src.count, src.skipped, src.skippedFiles], [2, 1, [broken]]);
    assert.equal(src.values.length, 2 * 8 * 8 * 3);
  });
}

test('mixed sizes, channel counts and bit depths are resized and converted to one shape', async () => {
  const dir = await folder();
  // The first file (by name) sets the default: 12×10 RGB.
  await fs.writeFile(path.join(dir, '0-rgb.png'), await image(12, 10, 3, 'png'));
  await fs.writeFile(path.join(dir, '1-grey.png'), await image(5, 7, 1, 'png'));
  await fs.writeFile(path.join(dir, '2-grey-alpha.png'), await image(20, 20, 2, 'png'));
  await fs.writeFile(path.join(dir, '3-rgba.png'), await image(9, 30, 4, 'png'));
  await fs.writeFile(path.join(dir, '4-rgb16.png'), await image(12, 10, 3, 'png', { bits16: true }));
  await fs.writeFile(path.join(dir, '5-grey16.png'), await image(6, 6, 1, 'png', { bits16: true }));
  await fs.writeFile(path.join(dir, '6-palette.png'), await image(16, 8, 3, 'png', { palette: true }));
  await fs.writeFile(path.join(dir, '7-rgb.jpg'), await image(40, 24, 3, 'jpeg'));
  await fs.writeFile(path.join(dir, '8-grey.jpeg'), await image(3, 3, 1, 'jpeg'));
  // Not images: ignored without a word, whatever their content.
  await fs.writeFile(path.join(dir, 'notes.txt'), 'hello');
  await fs.writeFile(path.join(dir, '.DS_Store'), Buffer.alloc(10, 1));
  await fs.writeFile(path.join(dir, 'labels.csv'), 'a,b\n');
  await fs.mkdir(path.join(dir, '.hidden'));

  const src = await loadImageFolder(dir);
  assert.deepEqual(src.info.shape, [10, 12, 3]);
  assert.equal(src.count, 9);
  assert.equal(src.values.length, 9 * 10 * 12 * 3);
  // The 16-bit copy of the first image must come out as the same 8-bit pixels, not as raw 16-bit halves.
  const per = 10 * 12 * 3;
  const a = src.values.subarray(0, per);
  const b = src.values.subarray(4 * per, 5 * per);
  assert.ok(a.every((v, i) => Math.abs(v - b[i]) <= 1), '16-bit PNG scaled to 8 bits');
  const grey = await loadImageFolder(dir, { imageSize: 8, channels: 1 });
  assert.deepEqual([grey.count, ...grey.info.shape], [9, 8, 8, 1]);
  assert.equal(grey.values.length, 9 * 8 * 8);
  // Through loadData, as --data folder:PATH --image-size N does.
  const viaSpec = await loadData(`folder:${dir}`, { imageSize: 6 });
  assert.equal(viaSpec.kind, 'array');
  assert.deepEqual(viaSpec.info.shape, [6, 6, 3]);
});

test('a folder where no file decodes is a UserError naming the folder, with or without skipBad', async () => {
  const dir = await folder();
  await fs.writeFile(path.join(dir, 'a.png'), Buffer.alloc(0));
  await fs.writeFile(path.join(dir, 'b.jpg'), Buffer.from('xx'));
  await rejectsUser(loadImageFolder(dir), /cannot read image .*a\.png/);
  await rejectsUser(loadImageFolder(dir, { skipBad: true }), new RegExp(`none of the 2 image files in ${dir}`));
});

test('skipBad is a config key (--skip-bad) that reaches the folder loader', async () => {
  const dir = await folder();
  for (let i = 0; i < 4; i++) await fs.writeFile(path.join(dir, `img${i}.png`), await image(28, 28, 1, 'png'));
  await fs.writeFile(path.join(dir, 'img9.png'), await bad('truncated png'));
  const base = { model: 'dcgan', data: `folder:${dir}`, width: 8, batchSize: 2, latentDim: 8, steps: 1, sampleEvery: 0 };
  await rejectsUser(startRun({ ...base, out: path.join(tmp, 'strict') }), /img9\.png/);
  const trainer = await startRun({ ...base, skipBad: true, out: path.join(tmp, 'lenient') });
  assert.equal(trainer.data.count, 4);
  trainer.dispose();
  assert.deepEqual(validatePartialConfig({ skipBad: true }, 'x'), { skipBad: true });
  await rejectsUser(async () => validatePartialConfig({ skipBad: 'yes' }, '--config c.json'), /skipBad \(--skip-bad\)/);
});

test('idx pairs: label count, label range, dtype and truncation errors name the file', async () => {
  const dir = await folder();
  const write = async (name: string, bytes: Uint8Array) => {
    await fs.writeFile(path.join(dir, name), bytes);
    return path.join(dir, name);
  };
  const images = await write('img', encodeIdx({ dtype: 'uint8', shape: [4, 2, 2], data: new Uint8Array(16) }));
  const pair = (labelsPath: string, imagesPath = images) => loadIdxPair({ name: 't', imagesPath, labelsPath, classNames: ['a', 'b'] });
  const ok = await write('ok', encodeIdx({ dtype: 'uint8', shape: [4], data: Uint8Array.from([0, 1, 1, 0]) }));
  assert.equal((await pair(ok)).count, 4);

  await rejectsUser(pair(await write('few', encodeIdx({ dtype: 'uint8', shape: [3], data: new Uint8Array(3) }))), /4 images but .*few has 3 labels/);
  await rejectsUser(pair(await write('range', encodeIdx({ dtype: 'uint8', shape: [4], data: Uint8Array.from([0, 1, 2, 0]) }))), /range: label 2 at index 2 is outside 0\.\.1/);
  await rejectsUser(pair(await write('i32', encodeIdx({ dtype: 'int32', shape: [4], data: new Int32Array(4) }))), /i32: expected uint8 labels/);
  await rejectsUser(pair(await write('2d', encodeIdx({ dtype: 'uint8', shape: [2, 2], data: new Uint8Array(4) }))), /2d: expected uint8 labels \[N\]/);
  await rejectsUser(pair(await write('empty', new Uint8Array(0))), /empty: file is empty/);
  const gz = encodeIdx({ dtype: 'uint8', shape: [4], data: new Uint8Array(4) }, { gzip: true });
  await rejectsUser(pair(await write('cut.gz', gz.subarray(0, gz.length - 6))), /cut\.gz: gzip data is corrupt or truncated/);
  await rejectsUser(pair(ok, await write('imgcut', encodeIdx({ dtype: 'uint8', shape: [4, 2, 2], data: new Uint8Array(16) }).subarray(0, 20))), /imgcut: truncated/);
  await rejectsUser(pair(ok, await write('img2d', encodeIdx({ dtype: 'uint8', shape: [4, 4], data: new Uint8Array(16) }))), /img2d: expected uint8 images \[N, H, W\]/);
});

test('lowres: flags and --random-crop are config keys refused, with their flag names, for data they do not describe', async () => {
  const dir = await folder();
  for (let i = 0; i < 4; i++) await fs.writeFile(path.join(dir, `img${i}.png`), await image(32, 32, 3, 'png'));
  const base = { model: 'dcgan', data: `folder:${dir}`, width: 8, batchSize: 2, latentDim: 8, steps: 1, sampleEvery: 0, out: path.join(tmp, 'sr-flags') };
  await rejectsUser(startRun({ ...base, noise: 5, scale: 2 }), /--scale, --noise describe lowres: data.*use --data lowres:folder:/);
  await rejectsUser(startRun({ ...base, data: 'fashion-mnist', randomCrop: true }), /--random-crop reads folder:PATH/);
  await rejectsUser(startRun({ ...base, randomCrop: true, imageSize: 16, xflip: true }), /--xflip .*random crops, flipped at random already/);
  // pix2pix needs input and target of one size: lowres: alone is refused with the way out, --upsample-input is accepted.
  const { latentDim: _, ...common } = base;
  const sr = { ...common, model: 'pix2pix', data: `lowres:folder:${dir}`, scale: 2 };
  await rejectsUser(startRun(sr), /A 16×16×3 and B 32×32×3.*--upsample-input/);
  const trainer = await startRun({ ...sr, upsampleInput: true, out: path.join(tmp, 'sr-up') });
  assert.deepEqual(trainer.data.input!.shape, [32, 32, 3]);
  trainer.dispose();
  await rejectsUser(async () => validatePartialConfig({ downsample: 'nearest' }, 'x'), /downsample \(--downsample\)/);
});
