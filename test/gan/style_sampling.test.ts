// The generic sampling paths of families with a truncation trick or a style space: truncated z (BigGAN's
// form), w pulled toward the mean, and the style-mixing grid, checked against direct computations on a
// StyleSpace small enough to compute by hand; and the bad-input messages of --truncation and --mix-layers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.js';
import { broadcastW, checkTruncation, latents, styleSample, truncateW, truncatedLatents } from '../../src/gan/sampling.js';
import { parseMixLayers, parseSeedList, styleMixGrid } from '../../src/gan/style_mixing.js';
import type { GanFamily } from '../../src/gan/family.js';
import { UserError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { FAKE, fakeStyleSpace } from './fake_style_space.js';

await initBackend({ quiet: true, prefer: 'cpu' });

const take = (t: tf.Tensor): Float32Array => { const v = Float32Array.from(t.dataSync()); t.dispose(); return v; };
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

test('truncated z: within [−2ψ, 2ψ], reproducible per seed, and ψ = 1 still within [−2, 2]', () => {
  for (const psi of [1, 0.5, 0.1]) {
    const v = take(truncatedLatents(new Rng(3), 500, 16, psi));
    assert.ok(v.every((x) => Math.abs(x) <= 2 * psi + 1e-6), `ψ = ${psi}`);
    assert.deepEqual(Array.from(v.slice(0, 20)), Array.from(take(truncatedLatents(new Rng(3), 500, 16, psi)).slice(0, 20)));
    // Not collapsed: the spread is near that of a N(0,1) truncated at 2 (σ ≈ 0.88), times ψ.
    const sd = Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);
    assert.ok(Math.abs(sd / psi - 0.88) < 0.05, `σ/ψ = ${sd / psi}`);
  }
});

test('w truncation: ψ = 1 leaves w, ψ = 0 gives the mean, ψ = ½ the midpoint', () => {
  const w = tf.tensor2d([[1, 2, 3, 4], [-1, 0, 1, 2]]);
  const mean = tf.tensor2d([[0.5, 0.5, 0.5, 0.5]]);
  assert.ok(maxDiff(take(truncateW(w, mean, 1)), w.dataSync()) < 1e-6);
  assert.ok(maxDiff(take(truncateW(w, mean, 1e-9)), [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]) < 1e-6);
  assert.ok(maxDiff(take(truncateW(w, mean, 0.5)), [0.75, 1.25, 1.75, 2.25, -0.25, 0.25, 0.75, 1.25]) < 1e-6);
  tf.dispose([w, mean]);
});

test('styleSample: z from the seed → mapping → truncation → the same w at every input → synthesis', () => {
  const space = fakeStyleSpace();
  const before = tf.memory().numTensors;
  const got = styleSample(space, { count: 5, seed: 11, truncation: 0.6 }, undefined, 2); // chunks of 2
  const want = take(tf.tidy(() => {
    const w = truncateW(space.mapping(latents(new Rng(11), 5, FAKE.zDim)), space.meanW(), 0.6);
    // Chunks draw their noise from seed + offset, so compare noise-free images plus each chunk's draw.
    return tf.concat([0, 2, 4].map((start) => space.synthesis(broadcastW(tf.slice(w, [start, 0], [Math.min(2, 5 - start), -1]), FAKE.numWs), { noise: 'random', seed: 11 + start })));
  }));
  assert.ok(maxDiff(got, want) < 1e-5, `max diff ${maxDiff(got, want)}`);
  assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
  space.dispose();
});

test('style-mixing grid: blank corner, column and row images, and at (r, c) the row\'s w+ with the chosen inputs from the column', () => {
  const space = fakeStyleSpace();
  const rows = [1, 2], cols = [5, 6, 7];
  const before = tf.memory().numTensors;
  const grid = styleMixGrid(space, { rows, cols, layers: [1, 2] }, [2, 2, 1]);
  assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
  assert.equal(grid.count, 12);
  assert.equal(grid.cols, 4);
  const cell = (i: number) => grid.values.slice(i * 4, (i + 1) * 4);
  const wOf = (seed: number) => take(space.mapping(latents(new Rng(seed), 1, FAKE.zDim)));
  // Every cell shares one noise map drawn from the first row seed.
  const noise = [tf.tensor4d(new Rng(rows[0]).normals(FAKE.side ** 2), [1, FAKE.side, FAKE.side, 1])];
  const image = (perInput: Float32Array[]) => take(space.synthesis(tf.tensor3d(perInput.flatMap((w) => Array.from(w)), [1, FAKE.numWs, FAKE.wDim]), { noise }));
  assert.deepEqual(Array.from(cell(0)), [1, 1, 1, 1], 'blank corner');
  for (const [c, seed] of cols.entries()) assert.ok(maxDiff(cell(1 + c), image([wOf(seed), wOf(seed), wOf(seed)])) < 1e-5, `top row ${c}`);
  for (const [r, rs] of rows.entries()) {
    assert.ok(maxDiff(cell((r + 1) * 4), image([wOf(rs), wOf(rs), wOf(rs)])) < 1e-5, `left column ${r}`);
    for (const [c, cs] of cols.entries()) {
      // inputs 1–2 from the column, input 0 (coarse) from the row
      assert.ok(maxDiff(cell((r + 1) * 4 + 1 + c), image([wOf(rs), wOf(cs), wOf(cs)])) < 1e-5, `cell ${r},${c}`);
    }
  }
  tf.dispose(noise);
  space.dispose();
});

test('bad input: --truncation outside (0, 1] or on a model without the trick, --mix-layers outside the network, bad seeds', () => {
  const withTrick = { name: 'stylish', truncation: 'w' } as GanFamily;
  const without = { name: 'dcgan' } as GanFamily;
  assert.throws(() => checkTruncation(withTrick, 0), (e: Error) => e instanceof UserError && /\(0, 1\]/.test(e.message));
  assert.throws(() => checkTruncation(withTrick, 1.5), /\(0, 1\]/);
  assert.throws(() => checkTruncation(without, 0.7), /dcgan has none/);
  checkTruncation(withTrick, 1);
  checkTruncation(without, undefined);
  const space = { numWs: 6, resolutions: [4, 4, 8, 8, 16, 16] };
  assert.deepEqual(parseMixLayers('0-3', space), [0, 3]);
  assert.deepEqual(parseMixLayers('4', space), [4, 4]);
  assert.throws(() => parseMixLayers('2-6', space), /outside the network: the network has 6 style inputs, 0–5 \(resolutions 4, 4, 8, 8, 16, 16\)/);
  assert.throws(() => parseMixLayers('3-1', space), /outside/);
  assert.throws(() => parseMixLayers('coarse', space), /a-b/);
  assert.deepEqual(parseSeedList('1, 2,3', '--style-mix'), [1, 2, 3]);
  assert.throws(() => parseSeedList('1,x', '--style-mix ROW_SEEDS'), /--style-mix ROW_SEEDS takes comma-separated integer seeds/);
});
