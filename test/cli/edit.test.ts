import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { fails, ok } from './helpers.js';
import { binIndex, editCommand, type EditOptions } from '../../src/cli/edit.js';

/** A grey PNG of a horizontal bar `width` pixels thick, bright on black as MNIST. */
const bar = (side: number, top: number, width: number) =>
  sharp(Buffer.from(Uint8Array.from({ length: side * side }, (_, i) => { const x = i % side, y = Math.floor(i / side); return y >= top && y < top + width && x >= 4 && x < side - 4 ? 255 : 0; })), { raw: { width: side, height: side, channels: 1 } }).toColourspace('b-w').png().toBuffer();

test('binIndex: a bin by name or index; anything else names the valid bins', () => {
  const bins = ['thin', 'medium', 'thick'];
  assert.equal(binIndex('medium', bins, '--to'), 1);
  assert.equal(binIndex('2', bins, '--to'), 2);
  assert.throws(() => binIndex('thickk', bins, '--to'), /unknown --to bin 'thickk' \(did you mean 'thick'\?\); valid: thin, medium, thick \(or 0–2, or all\)/);
  assert.throws(() => binIndex('3', bins, '--from'), /valid: thin, medium, thick \(or 0–2\)/);
});

test('ganforge edit: train agecgan on folder:DIR --ordinal, edit to one bin and to all; bad input exits 2 with a message', async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-edit-cli-'));
  try {
    const data = path.join(tmp, 'bars');
    for (const [bin, width] of [['1-thin', 2], ['2-mid', 4], ['10-thick', 7]] as const) {
      await fs.mkdir(path.join(data, bin), { recursive: true });
      for (let i = 0; i < 6; i++) await fs.writeFile(path.join(data, bin, `${i}.png`), await bar(28, 4 + 3 * i, width));
    }
    const run = path.join(tmp, 'run');
    await ok(['train', 'agecgan', '--data', `folder:${data}`, '--ordinal', '--steps', '2', '--width', '4', '--latent-dim', '8', '--batch-size', '6', '--sample-every', '0', '--checkpoint-every', '0', '--out', run], tmp);
    const image = path.join(tmp, 'digit.png');
    await fs.writeFile(image, await bar(28, 10, 3));

    const all = path.join(tmp, 'all.png');
    const r = await ok(['edit', run, image, '--to', 'all', '--identity', 'pixel', '--steps', '3', '--out', all], tmp);
    assert.match(r.stderr, /the image, then 1-thin, 2-mid, 10-thick/);
    const meta = await sharp(all).metadata();
    assert.deepEqual([meta.width, meta.height], [4 * 28 + 5 * 2, 28 + 2 * 2], 'a row: the image and 3 bins, padded');

    const one = path.join(tmp, 'one.png');
    const big = path.join(tmp, 'big.png');
    await fs.writeFile(big, await bar(40, 15, 4));
    const f = await ok(['edit', run, big, '--to', '10-thick', '--identity', 'feature', '--steps', '2', '--from', '2-mid', '--out', one], tmp);
    assert.match(f.stderr, /40×40; the run makes 28×28 images, so it is resized/);
    assert.match(f.stderr, /feature loss .* in ganforge-mnist-cnn/);
    const m1 = await sharp(one).metadata();
    assert.deepEqual([m1.width, m1.height, m1.channels], [28, 28, 1]);
    await fails(['edit', run, image, '--to', 'thicker', '--out', one], tmp, /unknown --to bin 'thicker'.*valid: 1-thin, 2-mid, 10-thick/);
    // Checked in this process (each spawn of the CLI costs seconds): the same function the command runs.
    const edit = (img: string, opts: Partial<EditOptions>) => editCommand(run, img, { to: 'all', identity: 'feature', out: one, ...opts });
    await assert.rejects(edit(image, { identity: 'faces' }), /unknown --identity mode 'faces'; valid: none, pixel, feature/);
    const text = path.join(tmp, 'notes.png');
    await fs.writeFile(text, 'not a picture');
    await assert.rejects(edit(text, { identity: 'none' }), /'.*notes\.png' is not an image sharp can read/);
    await assert.rejects(edit(path.join(tmp, 'missing.png'), {}), /does not exist/);
    await assert.rejects(edit(image, { identity: 'pixel', identityNet: tmp }), /--identity-net .* with --identity pixel it would not be used/);
    await assert.rejects(edit(image, { out: path.join(tmp, 'x.jpg') }), /--out must end in \.png/);
    await assert.rejects(edit(image, { steps: 0 }), /--steps must be at least 1/);
    await assert.rejects(edit(image, { identityNet: path.join(tmp, 'no-net') }), /--identity-net .*no-net: no model.json there/);

    // A run of a family that declares no attribute edit: the same checkpoint, its family renamed.
    const state = path.join(run, 'checkpoints', (await fs.readFile(path.join(run, 'checkpoints', 'latest'), 'utf8')).trim(), 'state.json');
    const saved = JSON.parse(await fs.readFile(state, 'utf8')) as { config: { model: string } };
    await fs.writeFile(state, JSON.stringify({ ...saved, config: { ...saved.config, model: 'cgan' } }));
    await fails(['edit', run, image, '--identity', 'none', '--out', one], tmp, /edit needs a run of a family with an attribute edit \(agecgan\); .* is a cgan run/);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});
