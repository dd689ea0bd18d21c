import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { decodeNpy, encodeNpy } from '../../src/io/npy.js';
import { fails, ok } from './helpers.js';

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-encode-'));
test.after(() => fs.rm(tmp, { recursive: true, force: true }));

/** Tiny networks on 64 Fashion-MNIST images so training takes seconds. */
const TINY = ['--width', '4', '--batch-size', '16', '--data-limit', '64', '--latent-dim', '8'];

async function pngSize(file: string): Promise<[number, number]> {
  const png = await fs.readFile(file);
  assert.equal(png.toString('latin1', 12, 16), 'IHDR', `${file} is not a PNG`);
  return [png.readUInt32BE(16), png.readUInt32BE(20)]; // width, height
}

async function writeImages(dir: string, n: number, side: number): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  for (let i = 0; i < n; i++) {
    const pixels = Buffer.alloc(side * side, (i * 60) % 256);
    await sharp(pixels, { raw: { width: side, height: side, channels: 1 } }).png().toFile(path.join(dir, `img${i}.png`));
  }
}

test('train bigan → encode a .npy of images and an image folder: z.npy float32 [N, latent] and a reconstruction grid', async () => {
  const run = path.join(tmp, 'bigan');
  await ok(['train', 'bigan', '--steps', '6', ...TINY, '--out', run], tmp);
  await ok(['sample', run, '--count', '5', '--out', 'images.npy'], tmp); // uint8 [5, 28, 28, 1]

  await ok(['encode', run, 'images.npy', '--out', 'z.npy'], tmp);
  const z = decodeNpy(await fs.readFile(path.join(tmp, 'z.npy')));
  assert.equal(z.dtype, 'float32');
  assert.deepEqual(z.shape, [5, 8]);
  assert.ok(Array.from(z.data).every(Number.isFinite));
  // Default --recon: next to --out; originals above reconstructions: 2 rows of 5 tiles of 28 px with 2 px padding.
  assert.deepEqual(await pngSize(path.join(tmp, 'z-recon.png')), [5 * 28 + 6 * 2, 2 * 28 + 3 * 2]);

  const folder = path.join(tmp, 'folder');
  await writeImages(folder, 3, 28);
  await ok(['encode', run, folder, '--out', 'out/zf.npy', '--recon', 'out/r.png'], tmp);
  assert.deepEqual(decodeNpy(await fs.readFile(path.join(tmp, 'out/zf.npy'))).shape, [3, 8]);
  assert.deepEqual(await pngSize(path.join(tmp, 'out/r.png')), [3 * 28 + 4 * 2, 2 * 28 + 3 * 2]);
});

test('sngan trains, resumes (its spectral layers load back) and is refused by encode; bad inputs exit 2 with a message', async () => {
  const sn = path.join(tmp, 'sngan');
  await ok(['train', 'sngan', '--steps', '2', '--n-critic', '1', ...TINY, '--out', sn], tmp);
  await ok(['resume', sn, '--steps', '3'], tmp);
  const bigan = path.join(tmp, 'bigan'); // trained by the test above
  await writeImages(path.join(tmp, 'big'), 2, 32);
  await fs.writeFile(path.join(tmp, 'rgb.npy'), encodeNpy(new Uint8Array(2 * 28 * 28 * 3), [2, 28, 28, 3]));
  await Promise.all([
    fails(['encode', sn, 'images.npy', '--out', 'n.npy'], tmp, /no 'encoder' network.*ganforge train bigan/),
    fails(['encode', bigan, 'big', '--out', 'n.npy'], tmp, /32×32.*trained on 28×28; resize/),
    fails(['encode', bigan, 'rgb.npy', '--out', 'n.npy'], tmp, /rgb\.npy holds uint8 \[2, 28, 28, 3\]; the run needs \[N, 28, 28, 1\]/),
    fails(['encode', bigan, 'nosuch.npy', '--out', 'n.npy'], tmp, /not found: nosuch\.npy/),
    fails(['encode', bigan, 'images.npy', '--out', 'z.png'], tmp, /--out must end in \.npy/),
  ]);
});
