import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CheckpointState } from '../../src/gan/checkpoint.js';
import { checkpointManifest, manifestFolders } from '../../src/studio/manifest.js';
import { MODELS } from '../../src/models/registry.js';
import { startStudio } from '../../src/studio/server.js';
import { rawGet } from './helpers.js';

// The manifest comes from the family's declarations and the data info; these states are what checkpoints hold.
const state = (model: string, data: object, extras?: object) =>
  ({ format: 'ganforge-checkpoint', version: 1, step: 7, config: { model, latentDim: 16 }, data, extras }) as unknown as CheckpointState;
const FASHION = { name: 'fashion-mnist', kind: 'image', shape: [28, 28, 1], numClasses: 10, classNames: ['t-shirt', 'trouser'] };
const PAIRED = { name: 'edges:x', kind: 'image', shape: [32, 32, 3], input: { shape: [32, 32, 1], pairing: 'paired', domains: ['edges', 'x'] } };
const UNPAIRED = { name: 'unpaired:a,b', kind: 'image', shape: [32, 32, 3], input: { shape: [32, 32, 1], pairing: 'unpaired', domains: ['a', 'b'] } };

test('manifest: noise families sample G (or its EMA copy); class families carry their classes', () => {
  const dcgan = checkpointManifest(state('dcgan', FASHION), '/r/checkpoints/step-000007');
  assert.deepEqual([dcgan.condition, dcgan.latentDim, dcgan.shapes, dcgan.numClasses, dcgan.generator, dcgan.trainingMode, dcgan.checkpoint], ['none', 16, { output: [28, 28, 1] }, 0, 'generator', false, 'step-000007']);
  assert.equal(dcgan.directions, undefined);
  assert.equal(checkpointManifest(state('dcgan', FASHION, { nets: ['generator-ema'] }), '/c').generator, 'generator-ema');
  const cgan = checkpointManifest(state('cgan', FASHION), '/c');
  assert.deepEqual([cgan.condition, cgan.numClasses, cgan.classNames], ['class', 10, ['t-shirt', 'trouser']]);
});

test('manifest: translators declare their directions, generator folders, shapes and training mode', () => {
  const p2p = checkpointManifest(state('pix2pix', PAIRED), '/c');
  assert.deepEqual([p2p.condition, p2p.latentDim, p2p.trainingMode, p2p.domains], ['image', 0, true, ['edges', 'x']]);
  assert.deepEqual(p2p.shapes, { output: [32, 32, 3], input: [32, 32, 1] });
  assert.deepEqual(p2p.directions, { AtoB: { generator: 'generator', input: [32, 32, 1], output: [32, 32, 3] } });
  const cg = checkpointManifest(state('cyclegan', UNPAIRED), '/c');
  assert.deepEqual(cg.directions?.BtoA, { generator: 'generator-ba', input: [32, 32, 3], output: [32, 32, 1] });
  assert.deepEqual(manifestFolders(cg), ['generator', 'generator-ba']);
});

test('manifest: truncation in z is declared for the page; truncation in w waits for the style section', () => {
  for (const [name, family] of Object.entries(MODELS)) {
    if (family.condition === 'image' || family.condition === 'text') continue; // text runs need captioned data
    const m = checkpointManifest(state(name, FASHION), '/c');
    assert.equal(m.truncation, family.truncation === 'z' ? 'z' : undefined, name);
    assert.equal(m.style, undefined, `${name}: the style section needs the networks (style_export.ts)`);
  }
});

test('manifest: 2-D point runs cannot run in the browser', () => {
  assert.throws(() => checkpointManifest(state('dcgan', { name: 'toy:ring8', kind: 'points', shape: [2] }), '/c'), /2-D points/);
});

test('studio serves only the generator folders a checkpoint manifest names', async (t) => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-manifest-'));
  t.after(() => fs.rm(tmp, { recursive: true, force: true }));
  const run = path.join(tmp, 'runs', 'cg');
  const ckpt = path.join(run, 'checkpoints', 'step-000007');
  for (const net of ['generator', 'generator-ba', 'discriminator', 'discriminator-a']) {
    await fs.mkdir(path.join(ckpt, net), { recursive: true });
    await fs.writeFile(path.join(ckpt, net, 'model.json'), `{"net":"${net}"}`);
  }
  await fs.writeFile(path.join(ckpt, 'state.json'), JSON.stringify(state('cyclegan', UNPAIRED)));
  await fs.writeFile(path.join(run, 'config.json'), JSON.stringify({ model: 'cyclegan', data: UNPAIRED.name, steps: 7 }));
  const web = path.join(tmp, 'web');
  await fs.mkdir(web);
  const studio = await startStudio({ runs: path.join(tmp, 'runs'), port: 0, webDir: web });
  t.after(() => studio.close());
  const port = (studio.app.server.address() as { port: number }).port;
  const get = (net: string) => rawGet(port, `/api/runs/cg/checkpoints/step-000007/${net}/model.json`);
  assert.equal((await get('generator-ba')).body, '{"net":"generator-ba"}');
  assert.equal((await get('generator')).status, 200);
  for (const net of ['discriminator', 'discriminator-a', '..', 'state.json']) assert.equal((await get(net)).status, 404, net);
  assert.equal((await get('style/mapping')).status, 404, 'no style space, no halves');
  const detail = JSON.parse((await rawGet(port, '/api/runs/cg')).body) as { condition: string; diversity: unknown[] };
  assert.deepEqual([detail.condition, detail.diversity], ['image', []]);
});
