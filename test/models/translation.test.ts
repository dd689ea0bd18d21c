import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.js';
import { getModel } from '../../src/models/registry.js';
import { resolveFamilyConfig, type RunConfig } from '../../src/gan/config.js';
import { disposeState, freshState, runStep, type StepState } from '../../src/gan/training_step.js';
import { sampleFamily } from '../../src/gan/sampling.js';
import { checkResumesExactly, movedAfterCut } from './resume_check.js';
import type { GanNetworks } from '../../src/gan/family.js';
import type { ArraySource } from '../../src/data/types.js';
import { ImagePool } from '../../src/models/cyclegan.js';
import { Rng } from '../../src/util/rng.js';
void disposeState;
import { UserError } from '../../src/util/errors.js';

await initBackend({ quiet: true });

/**
 * A paired toy task at `size` px: A is a grey image of a bright square at a random place, B the same square in
 * colour (red channel) on a dark background; unpaired, the B square is at an unrelated place.
 */
function squares(n: number, size: number, pairing: 'paired' | 'unpaired', seed = 1): ArraySource {
  const rng = new Rng(seed);
  const a = new Uint8Array(n * size * size);
  const b = new Uint8Array(n * size * size * 3);
  for (let i = 0; i < n; i++) {
    const draw = () => [rng.int(size - 6), rng.int(size - 6)];
    const [ya, xa] = draw();
    const [yb, xb] = pairing === 'paired' ? [ya, xa] : draw();
    for (let y = 0; y < 6; y++) for (let x = 0; x < 6; x++) {
      a[i * size * size + (ya + y) * size + xa + x] = 255;
      b[(i * size * size + (yb + y) * size + xb + x) * 3] = 255;
    }
  }
  return {
    kind: 'array', count: n, values: b,
    info: { name: `squares-${pairing}`, kind: 'image', shape: [size, size, 3], count: n, input: { shape: [size, size, 1], pairing, domains: ['grey', 'red'] } },
    inputs: { values: a, count: n },
  };
}

function configFor(model: string, source: ArraySource, overrides: Partial<RunConfig>): RunConfig {
  const family = getModel(model);
  return resolveFamilyConfig(family.settings ?? {}, family.defaults(source.info), { model, seed: 3, ...overrides } as Partial<RunConfig>);
}

/** `steps` steps; the tensor count must stay flat from step `flatFrom` on (after optimizer slots and full pools). */
function trainFor(state: StepState, steps: number, flatFrom = 2) {
  const stats = [];
  let settled = -1;
  for (let i = 0; i < steps; i++) {
    stats.push(runStep(state));
    if (i === flatFrom - 1) settled = tf.memory().numTensors;
  }
  assert.equal(tf.memory().numTensors, settled, `no tensors leak from step ${flatFrom} on`);
  for (const s of stats) {
    for (const [k, v] of Object.entries({ ...s, ...s.extra })) if (typeof v === 'number') assert.ok(Number.isFinite(v), `${k} = ${v}`);
  }
  return stats;
}

test('pix2pix: U-Net G and PatchGAN D train on pairs; L1 falls; sampling translates inputs; losses reported by name', () => {
  const source = squares(64, 32, 'paired');
  const config = configFor('pix2pix', source, { width: 8, batchSize: 4, steps: 200 });
  assert.equal(getModel('pix2pix').check(source.info, config), null);
  const state = freshState(getModel('pix2pix'), source, config);
  const stats = trainFor(state, 60);
  for (const name of ['loss/G_GAN', 'loss/G_L1']) assert.ok(name in stats[0].extra!, `${name} reported`);
  const early = stats.slice(0, 5).reduce((a, s) => a + s.extra!['loss/G_L1'], 0) / 5;
  const late = stats.slice(-5).reduce((a, s) => a + s.extra!['loss/G_L1'], 0) / 5;
  assert.ok(late < early * 0.85, `L1 falls: ${early.toFixed(3)} → ${late.toFixed(3)}`);
  // Sampling is translation: count inputs in, the same count of B-shaped outputs.
  const input = tf.tensor(Float32Array.from(source.inputs!.values.subarray(0, 3 * 32 * 32), (v) => v / 127.5 - 1), [3, 32, 32, 1]);
  const out = sampleFamily(getModel('pix2pix'), state.nets, { count: 3, seed: 0, input }, { config, data: source.info });
  assert.deepEqual([out.count, ...out.shape], [3, 32, 32, 3]);
  assert.throws(() => sampleFamily(getModel('pix2pix'), state.nets, { count: 3, seed: 0 }, { config, data: source.info }), UserError);
  input.dispose();
  disposeState(state);
});

test('pix2pix refuses unpaired data and a mis-sized image; cyclegan refuses identity loss across channel counts', () => {
  const unpaired = squares(8, 32, 'unpaired');
  assert.match(getModel('pix2pix').check(unpaired.info, configFor('pix2pix', unpaired, {}))!, /not paired.*cyclegan/);
  const odd = squares(8, 20, 'paired');
  assert.match(getModel('pix2pix').check(odd.info, configFor('pix2pix', odd, {}))!, /--image-size/);
  assert.match(getModel('cyclegan').check(unpaired.info, configFor('cyclegan', unpaired, {}))!, /--lambda-identity 0/);
  assert.equal(getModel('cyclegan').check(unpaired.info, configFor('cyclegan', unpaired, { lambdaIdentity: 0 } as Partial<RunConfig>)), null);
});

test('cyclegan: four networks, three players, pools fill to their size; G and F learn to reconstruct', () => {
  const source = squares(32, 32, 'unpaired');
  const config = configFor('cyclegan', source, { width: 8, batchSize: 2, steps: 100, lambdaIdentity: 0, poolSize: 5 } as Partial<RunConfig>);
  const state = freshState(getModel('cyclegan'), source, config);
  assert.deepEqual(Object.keys(state.nets.extra ?? {}).sort(), ['discriminator-a', 'generator-ba']);
  assert.deepEqual(Object.keys(state.optimizers.extra ?? {}), ['d-a']);
  const stats = trainFor(state, 30, 4); // the pools (5 images each, 2 per step) are full after step 3
  for (const name of ['loss/G_AB', 'loss/G_BA', 'loss/cycle_A', 'loss/cycle_B', 'loss/D_A', 'loss/D_B']) assert.ok(name in stats[0].extra!, `${name} reported`);
  const cyc = (s: (typeof stats)[number]) => s.extra!['loss/cycle_A'] + s.extra!['loss/cycle_B'];
  assert.ok(cyc(stats[29]) < cyc(stats[0]), `cycle loss falls: ${cyc(stats[0]).toFixed(3)} → ${cyc(stats[29]).toFixed(3)}`);
  const saved = state.familyState!.save();
  assert.deepEqual(saved.json, { a: 5, b: 5 }, 'each pool holds poolSize images');
  tf.dispose(saved.tensors.map((t) => t.tensor));
  disposeState(state);
});

test('the image pool: fills first, then returns the new image or a stored one, each with probability ½', () => {
  const pool = new ImagePool(4);
  const rng = new Rng(5);
  const img = (v: number) => tf.fill([1, 2, 2, 1], v);
  for (let i = 0; i < 4; i++) {
    const x = img(i);
    const out = pool.query(x, rng);
    assert.equal(out.dataSync()[0], i, 'while filling, D sees the new image');
    tf.dispose([x, out]);
  }
  let fromHistory = 0;
  for (let i = 0; i < 200; i++) {
    const x = img(100 + i);
    const out = pool.query(x, rng);
    if (out.dataSync()[0] !== 100 + i) fromHistory++;
    tf.dispose([x, out]);
  }
  assert.ok(fromHistory > 70 && fromHistory < 130, `about half from the history: ${fromHistory}/200`);
  assert.equal(pool.length, 4);
  pool.dispose();
});

test('cyclegan resumes bit-for-bit, pools included; pix2pix too (seeded dropout)', async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-translate-'));
  try {
    for (const model of ['cyclegan', 'pix2pix']) {
      const source = squares(16, 32, model === 'cyclegan' ? 'unpaired' : 'paired');
      const own = model === 'cyclegan' ? { lambdaIdentity: 0, poolSize: 3 } : {};
      const cfg = (out: string) => ({ model, width: 4, batchSize: 2, steps: 6, sampleEvery: 2, checkpointEvery: 3, logEvery: 1, out, ...own }) as Partial<RunConfig>;
      // Interrupted after step 3 (as Ctrl-C does), so the learning-rate schedule over 6 steps is the same.
      const numbers = (nets: GanNetworks) => ({ G: nets.generator.getWeights().map((w) => Array.from(w.dataSync())) });
      const r = await checkResumesExactly({ config: cfg, source, dir: tmp, name: model, cut: 3, steps: 6, numbers });
      assert.ok(movedAfterCut(r), `${model} moved after the cut (the comparison can fail)`);
      // The progress grid is the family's picture: input | output | target rows.
      assert.ok((await fs.readdir(path.join(tmp, `${model}-full`, 'samples'))).some((f) => f.endsWith('.png')));
    }
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});
