import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { fails, ok } from './helpers.js';

const TINY = ['--image-size', '32', '--steps', '4', '--width', '4', '--batch-size', '4', '--data-limit', '64', '--sample-every', '2', '--checkpoint-every', '0'];

test('pix2pix end to end: train on edges:fashion-mnist, translate files and a folder, a grid, eval on the test split; bad input exits 2', async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-translate-cli-'));
  try {
    const run = path.join(tmp, 'p2p');
    await ok(['train', 'pix2pix', '--data', 'edges:fashion-mnist', ...TINY, '--out', run], tmp);
    // The progress grid is input | output | target: 3 columns of 32 px with 2 px padding = 3·32 + 4·2 = 104 wide.
    const grid = await sharp(path.join(run, 'final.png')).metadata();
    assert.equal(grid.width, 104);

    // Inputs: a folder of two sketches at another size (48 px, resized with a notice) and one file.
    const inputs = path.join(tmp, 'sketches');
    await fs.mkdir(inputs);
    const sketch = (v: number) => sharp({ create: { width: 48, height: 48, channels: 3, background: { r: v, g: v, b: v } } }).png().toBuffer();
    await fs.writeFile(path.join(inputs, 'a.png'), await sketch(255));
    await fs.writeFile(path.join(inputs, 'b.png'), await sketch(10));
    const single = path.join(tmp, 'c.png');
    await fs.writeFile(single, await sketch(128));
    const out = path.join(tmp, 'out');
    const r = await ok(['translate', run, inputs, single, '--out', out, '--grid', path.join(tmp, 'grid.png')], tmp);
    assert.match(r.stderr, /resized 3 of 3 input\(s\) to 32×32/);
    assert.deepEqual((await fs.readdir(out)).sort(), ['a.png', 'b.png', 'c.png']);
    const meta = await sharp(path.join(out, 'a.png')).metadata();
    assert.deepEqual([meta.width, meta.height, meta.channels], [32, 32, 1]);
    assert.equal((await sharp(path.join(tmp, 'grid.png')).metadata()).width, 2 * 32 + 3 * 2, 'input | output');

    // --out as a .png file for one input; an output folder that would overwrite an input is refused, the input kept.
    await ok(['translate', run, single, '--out', path.join(tmp, 'one.png')], tmp);
    assert.equal((await sharp(path.join(tmp, 'one.png')).metadata()).width, 32);
    const before = await fs.readFile(path.join(inputs, 'a.png'));
    await fails(['translate', run, inputs, '--out', inputs], tmp, /--out .*sketches would overwrite the input .*a\.png; choose another folder/);
    assert.deepEqual(await fs.readFile(path.join(inputs, 'a.png')), before);
    await fails(['translate', run, inputs, '--out', path.join(tmp, 'two.png')], tmp, /names one file, but there are 2 inputs/);

    // eval: the test split's pairs, paired metrics and the classifier's accuracy on the outputs.
    const e = await ok(['eval', run, '--count', '32', '--metrics', 'l1,psnr,ssim,accuracy', '--json'], tmp);
    const { scores } = JSON.parse(e.stdout) as { scores: Record<string, number> };
    for (const k of ['l1', 'psnr', 'ssim', 'accuracy']) assert.ok(Number.isFinite(scores[k]), `${k} = ${scores[k]}`);
    assert.ok(scores.ssim <= 1 && scores.accuracy >= 0 && scores.accuracy <= 1);

    // Bad input: each exits 2 naming what to fix, and writes nothing new.
    await fs.writeFile(path.join(tmp, 'broken.png'), 'not an image');
    await fails(['translate', run, path.join(tmp, 'broken.png'), '--out', out], tmp, /cannot read image '.*broken\.png'/);
    await fails(['translate', run, single, '--out', out, '--direction', 'BtoA'], tmp, /--direction BtoA: pix2pix translates AtoB only/);
    const dc = path.join(tmp, 'dc');
    await ok(['train', 'dcgan', '--data', 'fashion-mnist', '--steps', '2', '--width', '4', '--batch-size', '8', '--data-limit', '32', '--out', dc], tmp);
    await fails(['translate', dc, single, '--out', out], tmp, /translate needs a translator run.*dcgan run/);
    await fails(['train', 'pix2pix', '--data', 'fashion-mnist', ...TINY, '--out', path.join(tmp, 'x')], tmp, /pix2pix consumes a image condition.*edges:SPEC/);
    await fails(['train', 'cgan', '--data', 'mnist', '--lambda-l1', '10', '--out', path.join(tmp, 'y')], tmp, /--lambda-l1 is a setting of pix2pix; cgan does not use it/);
    await fails(['train', 'pix2pix', '--data', 'edges:fashion-mnist', ...TINY, '--hidden', '8', '--out', path.join(tmp, 'z')], tmp, /--hidden: pix2pix does not use this setting/);
    for (const name of ['x', 'y', 'z']) assert.equal(await fs.stat(path.join(tmp, name)).catch(() => null), null, `no run folder ${name}`);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});

test('cyclegan end to end on unpaired:DIR: both directions translate; a DIR without trainB exits 2', async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-cyclegan-cli-'));
  try {
    const data = path.join(tmp, 'h2z');
    for (const [dir, colour] of [['trainA', 200], ['trainB', 40], ['testA', 200], ['testB', 40]] as const) {
      await fs.mkdir(path.join(data, dir), { recursive: true });
      for (let i = 0; i < 6; i++) {
        const png = await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: colour, g: (i * 40) % 255, b: 90 } } }).png().toBuffer();
        await fs.writeFile(path.join(data, dir, `${i}.png`), png);
      }
    }
    const run = path.join(tmp, 'cg');
    await ok(['train', 'cyclegan', '--data', `unpaired:${data}`, '--steps', '3', '--width', '4', '--batch-size', '2', '--pool-size', '2', '--out', run], tmp);
    for (const direction of ['AtoB', 'BtoA']) {
      const out = path.join(tmp, `out-${direction}`);
      await ok(['translate', run, path.join(data, 'testA'), '--out', out, '--direction', direction], tmp);
      assert.equal((await fs.readdir(out)).length, 6);
    }
    await fs.rm(path.join(data, 'trainB'), { recursive: true });
    await fails(['train', 'cyclegan', '--data', `unpaired:${data}`, '--steps', '3', '--out', path.join(tmp, 'x')], tmp, /trainB/);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});
