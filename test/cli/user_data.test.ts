// A user's own folder, as a new user would give it: class sub-folders of images of mixed sizes and formats.
// Bare paths are answered with the spec they meant, a batch larger than the data names the flag, `eval` on a
// folder run scores against that folder at the run's size without --ref, a damaged newest checkpoint names the
// earlier ones, a conditional run samples a class by its folder's name, and super-resolution crops read images in
// sub-folders too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { fails, ok } from './helpers.js';

const rgbImage = (w: number, h: number, seed: number) =>
  sharp(Buffer.from(Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 37 + seed * 101) % 256)), { raw: { width: w, height: h, channels: 3 } });

async function petsFolder(root: string): Promise<string> {
  const dir = path.join(root, 'pets');
  for (const [k, cls] of ['cats', 'dogs'].entries()) {
    await fs.mkdir(path.join(dir, cls), { recursive: true });
    for (let i = 0; i < 6; i++) {
      const img = rgbImage(45 + i, 61 - k, 10 * k + i);
      await (i % 2 ? img.jpeg() : img.png()).toFile(path.join(dir, cls, `im${i}.${i % 2 ? 'jpg' : 'png'}`));
    }
  }
  return dir;
}

test('a user folder: bare paths, batch size, eval without --ref, a damaged checkpoint, class names, SR crops below class folders', async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-userdata-'));
  try {
    const pets = await petsFolder(tmp);
    await fails(['train', 'dcgan', '--data', pets, '--steps', '1', '--out', path.join(tmp, 'x')], tmp, new RegExp(`did you mean 'folder:${pets}'`));
    await fails(['train', 'dcgan', '--data', `folder:${pets}`, '--image-size', '16', '--steps', '1', '--out', path.join(tmp, 'x')], tmp,
      /--batch-size 64 is larger than the 12 examples .*; pass --batch-size 12 or less/);

    const run = path.join(tmp, 'run');
    await ok(['train', 'dcgan', '--data', `folder:${pets}`, '--image-size', '16', '--batch-size', '4', '--steps', '2', '--sample-every', '0', '--out', run], tmp);
    const r = await ok(['eval', run, '--metrics', 'fid'], tmp);
    assert.match(r.stderr, new RegExp(`--ref defaults to the run's data: folder:${pets}`));
    // The whole folder, decoded at the run's 16 px as the samples are (the feature net then resizes both alike).
    assert.match(r.stdout, new RegExp(`reference  folder:${pets}, 12 \\(first 12\\), resize bilinear \\(half-pixel centres\\) 16×16→32×32`));
    assert.match(r.stdout, /generated .*, 12, resize bilinear \(half-pixel centres\) 16×16→32×32/);
    await fails(['eval', run, '--metrics', 'fid', '--count', '20'], tmp, /has 12 examples, fewer than --count 20/);

    // A damaged newest checkpoint (a truncated weights file) is named, with the earlier one to resume from; nothing is deleted.
    const latest = path.join(run, 'checkpoints', 'step-000002', 'generator', 'weights.bin');
    await fs.truncate(latest, 100);
    await fails(['resume', run, '--steps', '3'], tmp, /weights file holds 100 bytes.*\n.*earlier checkpoints of this run: step-000000; resume from one by its folder/);
    assert.equal((await fs.stat(latest)).size, 100, 'the damaged file is left as it was');
    await ok(['resume', path.join(run, 'checkpoints', 'step-000000'), '--steps', '3'], tmp);

    // A class-conditional run on the folder samples a class by its folder's name.
    const cond = path.join(tmp, 'cond');
    await ok(['train', 'cgan', '--data', `folder:${pets}`, '--image-size', '16', '--batch-size', '4', '--steps', '1', '--sample-every', '0', '--out', cond], tmp);
    await ok(['sample', cond, '--class', 'dogs', '--count', '2', '--out', path.join(tmp, 'dogs.npy')], tmp);
    await fails(['sample', cond, '--class', 'cows', '--count', '2', '--out', path.join(tmp, 'x.npy')], tmp, /--class cows: not one of this run's classes \(cats, dogs\)/);

    const sr = path.join(tmp, 'sr');
    await fails(['train', 'srresnet', '--data', `lowres:folder:${pets}`, '--steps', '1', '--out', sr], tmp, /--random-crop --image-size \d+ to train on crops/);
    const s = await ok(['train', 'srresnet', '--data', `lowres:folder:${pets}`, '--random-crop', '--image-size', '16', '--batch-size', '4', '--steps', '1',
      '--sample-every', '0', '--out', sr], tmp);
    assert.match(s.stderr, /12 images at their own size, random 16 px crops/);
    // translate --keep-size: a 47×61 photo comes back at its own aspect, ×4 (the run's factor), not at 64×64.
    const photo = path.join(pets, 'cats', 'im2.png');
    await ok(['translate', sr, photo, '--keep-size', '--out', path.join(tmp, 'keep')], tmp);
    const meta = await sharp(path.join(tmp, 'keep', 'im2.png')).metadata();
    assert.deepEqual([meta.width, meta.height], [4 * 47, 4 * 61]);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});
