import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import '@tensorflow/tfjs-layers'; // registers gradients for tf.grad / optimizer.minimize in Node
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.js';
import { getModel } from '../../src/models/registry.js';
import { codeLatents, drawCodes, infoganLayout, samplingLatents, CATEGORIES } from '../../src/models/infogan.js';
import { resolveConfig, type RunConfig } from '../../src/gan/config.js';
import { generate, latents, oneHotLabels } from '../../src/gan/sampling.js';
import { disposeState } from '../../src/gan/training_step.js';
import { loadData } from '../../src/data/registry.js';
import { RING8 } from '../../src/data/toy2d.js';
import type { DataSource } from '../../src/data/types.js';
import type { GanFamily } from '../../src/gan/family.js';
import { Rng } from '../../src/util/rng.js';
import { fails, ok } from '../cli/helpers.js';
import { trainChecked } from './train_checked.js';
import { discriminatorOf } from '../../src/gan/family.js';

await initBackend({ quiet: true });

const train = (family: GanFamily, source: DataSource, overrides: Partial<RunConfig>, steps: number) => trainChecked(family, source, overrides, steps);

/** Index of the ring8 centre nearest to point i of a flat [n, 2] array. */
function nearestMode(points: Float32Array, i: number): number {
  const d = RING8.centres.map(([cx, cy]) => (points[2 * i] - cx) ** 2 + (points[2 * i + 1] - cy) ** 2);
  return d.indexOf(Math.min(...d));
}

const ring8 = await loadData('toy:ring8');
const images = await loadData('fashion-mnist', { limit: 32 });
const smallToy = { batchSize: 32, hidden: 32, latentDim: 8 };
const smallImages = { width: 4, batchSize: 8 };

for (const name of ['acgan', 'infogan']) {
  test(`${name} trains a few steps on toy:ring8 and on 28×28 images without NaN and without leaking tensors`, () => {
    const toy = train(getModel(name), ring8, { ...smallToy, latentDim: name === 'infogan' ? 16 : 8 }, 4);
    disposeState(toy.state);
    const img = train(getModel(name), images, { ...smallImages, latentDim: name === 'infogan' ? 20 : 8 }, 3);
    const [out] = discriminatorOf(img.state.nets).outputs;
    assert.deepEqual(out.shape, name === 'acgan' ? [null, 1 + 10] : [null, 1 + 12], 'D: source logit plus the heads');
    disposeState(img.state);
  });
}

test('acgan and infogan train with the stabilising tricks on (label smoothing, instance noise, feature matching, grad clip)', () => {
  const tricks = { labelSmoothing: 0.1, instanceNoise: 0.1, featureMatching: 1, gradClip: 10 } as Partial<RunConfig>;
  for (const name of ['acgan', 'infogan']) {
    const { state, stats } = train(getModel(name), ring8, { ...smallToy, latentDim: 16, ...tricks }, 3);
    assert.ok(stats.every((st) => (st.extra?.['trick/feature-matching'] ?? -1) >= 0), `${name}: feature matching reported`);
    disposeState(state);
  }
});

test('paper defaults: acgan Adam(2e-4, β1 0.5); infogan 74 = 62 + 12 latents, lr D 2e-4 / G 1e-3', () => {
  const image = { name: 'x', kind: 'image' as const, shape: [28, 28, 1], numClasses: 10 };
  const a = getModel('acgan').defaults(image);
  assert.deepEqual([a.lrG, a.lrD, a.beta1], [2e-4, 2e-4, 0.5]);
  const i = getModel('infogan').defaults(image);
  assert.deepEqual([i.latentDim, i.lrD, i.lrG, i.beta1], [74, 2e-4, 1e-3, 0.5]);
  assert.deepEqual(infoganLayout(74), { noise: 62, categorical: 10, continuous: 2, catOffset: 62, contOffset: 72 });
  assert.match(getModel('acgan').check({ name: 'folder:x', kind: 'image', shape: [32, 32, 3] }, resolveConfig()) ?? '', /labelled/);
  assert.match(getModel('infogan').check(image, resolveConfig({ latentDim: 12 })) ?? '', /--latent-dim must exceed 12/);
});

test('acgan: samples for class k land nearest mode k far more often than chance (1/8) after short training', () => {
  const { state } = train(getModel('acgan'), ring8, { batchSize: 64, hidden: 64, latentDim: 8, lrG: 3e-3, lrD: 3e-3 }, 150);
  const n = 400;
  const classes = Array.from({ length: n }, (_, i) => i % 8);
  const z = latents(new Rng(9), n, 8);
  const y = oneHotLabels(classes, 8);
  const points = generate(state.nets.generator, z, 256, y); // [n, 2] flat
  tf.dispose([z, y]);
  let agree = 0;
  for (let i = 0; i < n; i++) if (nearestMode(points, i) === classes[i]) agree++;
  console.log(`acgan class agreement ${(agree / n).toFixed(3)} (chance 0.125)`);
  assert.ok(agree / n > 0.5, `class agreement ${agree / n} (chance 0.125)`);
  disposeState(state);
});

test('infogan: the categorical code changes G(z, c) and Q recovers it well above chance (1/10) after short training', () => {
  const { state, config } = train(getModel('infogan'), ring8, { batchSize: 64, hidden: 64, latentDim: 16, lrG: 3e-3, lrD: 3e-3 }, 120);
  const n = 400;
  const rng = new Rng(5);
  const codes = drawCodes(rng, n);
  const z = latents(rng, n, config.latentDim);
  const u = codeLatents(z, codes);
  // Same z and continuous codes, category shifted by one.
  const shifted = codeLatents(z, { cat: codes.cat.map((c) => (c + 1) % CATEGORIES), cont: codes.cont });
  const a = generate(state.nets.generator, u);
  const b = generate(state.nets.generator, shifted);
  let moved = 0;
  for (let i = 0; i < n; i++) moved += Math.hypot(a[2 * i] - b[2 * i], a[2 * i + 1] - b[2 * i + 1]);
  // For scale: ring8's modes sit on a circle of radius 2; typical sample spread is that size.
  console.log(`infogan mean |G(z, c) − G(z, c+1)| = ${(moved / n).toFixed(3)}`);
  assert.ok(moved / n > 0.1, `changing the category moves samples by ${moved / n} on average`);

  const out = tf.tidy(() => discriminatorOf(state.nets).apply(tf.tensor2d(a, [n, 2]), { training: false }) as tf.Tensor); // [n, 1 + 12]
  const predicted = tf.tidy(() => tf.argMax(tf.slice(out, [0, 1], [-1, CATEGORIES]), -1).dataSync());
  out.dispose();
  let right = 0;
  for (let i = 0; i < n; i++) if (predicted[i] === codes.cat[i]) right++;
  console.log(`infogan Q categorical accuracy ${(right / n).toFixed(3)} (chance 0.1)`);
  assert.ok(right / n > 0.3, `Q recovers the category for ${right / n} of samples (chance 0.1)`);
  tf.dispose([z, u, shifted]);
  disposeState(state);
});

test('infogan: G\'s code prior makes Gaussian categorical slots one-hot; sampling latents follow --code/--vary', () => {
  const family = getModel('infogan');
  const config = resolveConfig(family.defaults(ring8.info), { model: 'infogan', latentDim: 16, hidden: 8 });
  const nets = family.build(ring8.info, config, new Rng(0));
  const prior = nets.generator.getLayer('categorical_code');
  const z = latents(new Rng(3), 50, 16);
  const onehot = tf.tidy(() => (prior.apply(z) as tf.Tensor).arraySync() as number[][]); // the layer reads G's input u directly
  const slots = z.arraySync().map((row) => row.slice(4, 14));
  onehot.forEach((row, i) => {
    assert.ok(Math.abs(Math.max(...row) - 1) < 1e-3 && Math.abs(row.reduce((s, v) => s + v, 0) - 1) < 1e-3, `row ${i} is one-hot`);
    assert.equal(row.indexOf(Math.max(...row)), slots[i].indexOf(Math.max(...slots[i])), 'the category is the argmax of its slots');
  });

  const grid = samplingLatents(16, 0, 64, { code: ['cat=3'], vary: 'cont0' });
  assert.equal(grid.cols, 9);
  const rows = grid.z.arraySync();
  assert.equal(rows.length, 63, '⌊64 / 9⌋ rows of 9');
  assert.ok(rows.every((r) => r[4 + 3] === 1), 'every sample has cat = 3');
  assert.deepEqual(rows.slice(0, 9).map((r) => r[14]), [-2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2], 'cont0 sweeps along a row');
  assert.deepEqual(rows[0].slice(0, 4), rows[8].slice(0, 4), 'noise is fixed along a row');
  const byCat = samplingLatents(16, 0, 64, { vary: 'cont1' });
  assert.equal(byCat.z.shape[0], 10 * 9, 'one row per category when cat is free');
  assert.throws(() => samplingLatents(16, 0, 8, { code: ['dog=1'] }), /--code: unknown code 'dog'.*cat.*cont0/);
  assert.throws(() => samplingLatents(16, 0, 8, { code: ['cat=10'] }), /--code cat must be an integer in 0\.\.9/);
  assert.throws(() => samplingLatents(16, 0, 8, { code: ['cont0=x'] }), /--code cont0 needs a number/);
  assert.throws(() => samplingLatents(16, 0, 8, { vary: 'cont7' }), /--vary: unknown code 'cont7'/);
  tf.dispose([z, grid.z, byCat.z]);
  nets.generator.dispose();
  discriminatorOf(nets).dispose();
});

test('CLI: sample --code cat=3 --vary cont0 writes a PNG grid; bad codes and non-infogan runs exit 2', async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-infogan-'));
  try {
    const tiny = ['--steps', '3', '--batch-size', '8', '--data-limit', '64', '--sample-every', '0', '--checkpoint-every', '0'];
    const info = path.join(tmp, 'info');
    await ok(['train', 'infogan', '--data', 'fashion-mnist', ...tiny, '--width', '4', '--latent-dim', '20', '--out', info], tmp);
    await ok(['sample', info, '--code', 'cat=3', '--vary', 'cont0', '--out', 'sweep.png'], tmp);
    const png = await fs.readFile(path.join(tmp, 'sweep.png'));
    assert.deepEqual(png.subarray(0, 4), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    // 9 columns of 28 px with 2 px padding: 9·28 + 10·2 = 272 wide; ⌊64 / 9⌋ = 7 rows → 7·28 + 8·2 = 212 high.
    assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [272, 212]);
    await ok(['sample', info, '--count', '8', '--out', 'plain.png'], tmp);
    await fails(['sample', info, '--code', 'colour=2', '--out', 'x.png'], tmp, /--code: unknown code 'colour'.*cat \(0\.\.9\).*cont0, cont1/);
    await fails(['sample', info, '--code', 'cat=12', '--out', 'x.png'], tmp, /--code cat must be an integer in 0\.\.9, got 12/);
    await fails(['sample', info, '--vary', 'cont5', '--out', 'x.png'], tmp, /--vary: unknown code 'cont5'/);

    const ac = path.join(tmp, 'ac');
    await ok(['train', 'acgan', '--data', 'toy:ring8', ...tiny, '--hidden', '8', '--latent-dim', '4', '--out', ac], tmp);
    await ok(['sample', ac, '--class', '3', '--count', '16', '--out', 'c3.npy'], tmp);
    await fails(['sample', ac, '--code', 'cat=3', '--out', 'x.png'], tmp, /--code.*infogan.*acgan/);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});
