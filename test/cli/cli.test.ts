import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeNpy } from '../../src/io/npy.js';
import { MODEL_NAMES } from '../../src/models/registry.js';
import { defaultDecodeThreads, libuvPoolSize } from '../../src/data/decode_pool.js';
import { fails, ok } from './helpers.js';

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-cli-'));
test.after(() => fs.rm(tmp, { recursive: true, force: true }));

/** Tiny networks and data so each training command takes seconds. */
const TINY = ['--width', '8', '--batch-size', '16', '--data-limit', '256', '--latent-dim', '16'];
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

async function lastStep(run: string): Promise<number> {
  const lines = (await fs.readFile(path.join(run, 'metrics.jsonl'), 'utf8')).trim().split('\n');
  return JSON.parse(lines[lines.length - 1]).step;
}

test('train → sample (.npy, .png) → resume → info on dcgan / Fashion-MNIST', async () => {
  const run = path.join(tmp, 'D');
  await ok(['train', 'dcgan', '--preset', 'smoke', '--steps', '20', ...TINY, '--out', run], tmp);
  for (const f of ['config.json', 'metrics.jsonl', 'final.png', 'checkpoints/latest']) {
    assert.ok((await fs.stat(path.join(run, f))).isFile(), `${f} missing`);
  }
  const samples = (await fs.readdir(path.join(run, 'samples'))).filter((f) => /^step-\d+\.png$/.test(f));
  assert.ok(samples.length >= 1, 'no samples/step-*.png');
  assert.ok((await fs.readdir(path.join(run, 'checkpoints'))).includes('step-000020'));
  assert.equal(JSON.parse(await fs.readFile(path.join(run, 'config.json'), 'utf8')).width, 8);
  assert.equal(await lastStep(run), 20);

  await ok(['sample', run, '--count', '100', '--out', 'x.npy'], tmp);
  const npy = decodeNpy(await fs.readFile(path.join(tmp, 'x.npy')));
  assert.deepEqual(npy.shape, [100, 28, 28, 1]);
  assert.equal(npy.dtype, 'uint8');
  assert.equal(npy.data.length, 100 * 28 * 28);

  await ok(['sample', run, '--count', '16', '--out', 'grid.png'], tmp);
  const png = await fs.readFile(path.join(tmp, 'grid.png'));
  assert.deepEqual(png.subarray(0, 8), PNG_SIGNATURE);
  assert.equal(png.toString('latin1', 12, 16), 'IHDR');

  // What needs a truncation trick or a style space is refused, naming the model that has one.
  await fails(['sample', run, '--truncation', '0.7', '--out', 't.png'], tmp, /--truncation needs a model with a truncation trick .*dcgan has none/);
  await fails(['sample', run, '--style-mix', '1,2', '3', '--out', 'm.png'], tmp, /--style-mix needs a model with a style space .*dcgan has none/);
  await fails(['sample', run, '--mix-layers', '0-1', '--out', 'm.png'], tmp, /--mix-layers goes with --style-mix/);
  await fs.writeFile(path.join(tmp, 'face.png'), png);
  await fails(['project', run, 'face.png', '--out', 'proj'], tmp, /project needs a model with an intermediate latent w \(stylegan2\); dcgan has none/);
  await fails(['eval', run, '--metrics', 'ppl'], tmp, /ppl needs a model with an intermediate latent w/);

  await ok(['resume', run, '--steps', '40'], tmp);
  const info = await ok(['info', run], tmp);
  assert.match(info.stdout, /step\s+40 of 40/);
  assert.match(info.stdout, /model\s+dcgan/);
  assert.equal(await lastStep(run), 40);
});

test('train → sample on the toy ring gives float32 [N, 2] points', async () => {
  const run = path.join(tmp, 'P');
  await ok(['train', 'vanilla', '--data', 'toy:ring8', '--steps', '20', '--batch-size', '64', '--hidden', '16', '--latent-dim', '8', '--out', run], tmp);
  await ok(['sample', run, '--count', '50', '--out', 'p.npy'], tmp);
  const npy = decodeNpy(await fs.readFile(path.join(tmp, 'p.npy')));
  assert.deepEqual(npy.shape, [50, 2]);
  assert.equal(npy.dtype, 'float32');
  assert.ok(Array.from(npy.data).every(Number.isFinite));
  await ok(['sample', run, '--count', '50', '--out', 'p.png'], tmp);
  assert.deepEqual((await fs.readFile(path.join(tmp, 'p.png'))).subarray(0, 8), PNG_SIGNATURE);  // Sentences go to text-to-image runs only; --text-to needs one --text; --text-file must hold sentences.
  await fails(['sample', run, '--text', 'a red square', '--out', 'q.npy'], tmp, /--text: vanilla on toy:ring8 takes no text/);
  await fails(['sample', run, '--text-to', 'a blue square', '--out', 'q.npy'], tmp, /--text-to interpolates from a --text sentence/);
  await fs.writeFile(path.join(tmp, 'blank.txt'), '\n  \n');
  await fails(['sample', run, '--text-file', 'blank.txt', '--out', 'q.npy'], tmp, /--text-file blank\.txt holds no sentence/);
  await fails(['sample', run, '--text-file', 'missing.txt', '--out', 'q.npy'], tmp, /--text-file missing\.txt: cannot read it \(ENOENT\)/);
});

test('bad input exits 2 with a clear message and no stack trace', async () => {
  const empty = path.join(tmp, 'empty');
  await fs.mkdir(empty);
  const badImages = path.join(tmp, 'bad-images');
  await fs.mkdir(badImages);
  await fs.writeFile(path.join(badImages, 'broken.png'), 'this is not a png');
  const badConfig = path.join(tmp, 'bad.json');
  await fs.writeFile(badConfig, JSON.stringify({ stpes: 10 }));
  const out = ['--out', path.join(tmp, 'never')];

  await fails(['train', 'nosuch', ...out], tmp, new RegExp(`unknown model 'nosuch'.*valid: ${MODEL_NAMES.join(', ')}`));
  await fails(['train', 'dcgan', '--data', 'nosuch', ...out], tmp, /unknown dataset 'nosuch'.*fashion-mnist/);
  await fails(['train', 'dcgan', '--bogus', ...out], tmp, /unknown option '--bogus'/);
  await fails(['train', 'dcgan', '--steps', '0', ...out], tmp, /--steps/);
  await fails(['train', 'dcgan', '--steps', '-5', ...out], tmp, /--steps/);
  await fails(['train', 'dcgan', '--batch-size', 'abc', ...out], tmp, /--batch-size needs an integer, got 'abc'/);
  await fails(['train', 'dcgan', '--data', 'folder:/nonexistent/ganforge', ...out], tmp, /not found: \/nonexistent\/ganforge/);
  await fails(['train', 'dcgan', '--data', `folder:${empty}`, ...out], tmp, /no images found/);
  await fails(['train', 'dcgan', '--data', `folder:${badImages}`, ...out], tmp, /broken\.png/);
  await fails(['train', 'dcgan', '--config', badConfig, ...out], tmp, /'stpes'.*'steps'.*--steps/);
  await fails(['train', 'dcgan', '--config', path.join(tmp, 'missing.json'), ...out], tmp, /cannot read/);
  for (const cmd of ['info', 'resume', 'sample']) {
    const extra = cmd === 'sample' ? ['--out', 'y.npy'] : [];
    await fails([cmd, empty, ...extra], tmp, /not a ganforge run folder/);
  }
  await fails(['sample', path.join(tmp, 'nothing-here'), '--out', 'y.npy'], tmp, /does not exist/);
  await fails(['sample', empty, '--out', 'x.txt'], tmp, /--out must end in \.npy, \.png or \.csv/);
  await fails(['resume', empty, '--steps', 'many'], tmp, /--steps needs an integer/);
  const never = await fs.stat(path.join(tmp, 'never')).catch(() => undefined);
  assert.equal(never, undefined, 'a failed command left a run folder behind');
});

test('train refuses an --out that already holds a run and leaves it untouched', async () => {
  const run = path.join(tmp, 'R');
  await ok(['train', 'vanilla', '--data', 'toy:ring8', '--steps', '5', '--batch-size', '16', '--hidden', '8', '--log-every', '1', '--out', run], tmp);
  const before = await fs.readFile(path.join(run, 'config.json'), 'utf8');
  await fails(['train', 'vanilla', '--data', 'toy:ring8', '--steps', '9', '--hidden', '4', '--out', run], tmp, /already holds a run.*ganforge resume/);
  assert.equal(await fs.readFile(path.join(run, 'config.json'), 'utf8'), before);
  assert.equal(await lastStep(run), 5);
});

test('doctor: decode threads for streamed folders, and the libuv pool that bounds them', async () => {
  const cores = os.availableParallelism();
  const pool = libuvPoolSize();
  const r = await ok(['doctor'], os.tmpdir());
  assert.match(r.stdout, new RegExp(`image decode threads \\(streamed folders\\): ${Math.max(1, Math.min(pool, cores - 1))} \\(libuv pool ${pool}`));
});

test('defaultDecodeThreads: one per core but the training thread, at most libuv\'s pool, at least 1', () => {
  assert.deepEqual([defaultDecodeThreads(1, 4), defaultDecodeThreads(2, 4), defaultDecodeThreads(16, 4), defaultDecodeThreads(16, 16), defaultDecodeThreads(8, 64)], [1, 1, 4, 15, 7]);
});
