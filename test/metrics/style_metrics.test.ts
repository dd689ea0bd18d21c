// Perceptual path length, projection and its noise regulariser, checked on a StyleSpace small enough to
// compute by hand (test/gan/fake_style_space.ts): closed forms where the space is linear, and descent
// where it is not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/backend/index.js';
import { latents } from '../../src/gan/sampling.js';
import { perceptualPathLength, percentile, slerp } from '../../src/metrics/ppl.js';
import { PerceptualDistance } from '../../src/metrics/perceptual.js';
import { noiseRegularisation, projectImage } from '../../src/metrics/projection.js';
import { Rng } from '../../src/util/rng.js';
import { FAKE, fakeStyleSpace } from '../gan/fake_style_space.js';

await initBackend({ quiet: true, prefer: 'cpu' });

test('noise regulariser: 4 for a constant 16×16 map (two scales, x and y), near 0 for white noise', () => {
  assert.ok(Math.abs(tf.tidy(() => noiseRegularisation([tf.ones([1, 16, 16, 1])])).dataSync()[0] - 4) < 1e-5);
  const white = tf.tensor4d(new Rng(1).normals(128 * 128), [1, 128, 128, 1]);
  const r = tf.tidy(() => noiseRegularisation([white])).dataSync()[0];
  white.dispose();
  assert.ok(r < 1e-3, `white noise: ${r}`);
});

test('slerp: unit-norm paths from a to b, t = 0 and 1 at the ends', () => {
  const a = tf.tensor2d([[3, 0, 0], [0, 2, 2]]), b = tf.tensor2d([[0, 5, 0], [1, 0, 0]]);
  const at = (t: number) => tf.tidy(() => slerp(a, b, tf.fill([2, 1], t))).arraySync();
  const close = (x: number[][], y: number[][]) => x.flat().every((v, i) => Math.abs(v - y.flat()[i]) < 1e-5);
  assert.ok(close(at(0), [[1, 0, 0], [0, Math.SQRT1_2, Math.SQRT1_2]]));
  assert.ok(close(at(1), [[0, 1, 0], [1, 0, 0]]));
  assert.ok(close(at(0.5), [[Math.SQRT1_2, Math.SQRT1_2, 0], [Math.SQRT1_2, 0.5, 0.5]]));
  tf.dispose([a, b]);
});

test('PPL in W of a linear synthesis: d/ε² = ‖(w₂ − w₁)·ΣA‖² whatever ε, under a squared pixel distance', () => {
  const space = fakeStyleSpace();
  const pixels = { name: 'pixels', weightsSha256: '-', distance: (a: tf.Tensor4D, b: tf.Tensor4D) => tf.sum(tf.square(tf.sub(a, b)), [1, 2, 3]) as tf.Tensor1D };
  const count = 40;
  // The same draws as perceptualPathLength ('end' sampling: no t draws; a noise seed, then z₁ and z₂ per batch).
  const rng = new Rng(5);
  rng.nextUint32();
  const want = tf.tidy(() => {
    const w1 = space.mapping(latents(rng, count, FAKE.zDim));
    const w2 = space.mapping(latents(rng, count, FAKE.zDim));
    const img = (w: tf.Tensor2D) => space.synthesis(tf.tile(tf.expandDims(w, 1), [1, FAKE.numWs, 1]) as tf.Tensor3D, { noise: 'zero' });
    return tf.sum(tf.square(tf.sub(img(w2), img(w1))), [1, 2, 3]); // ε = 1: exact for a linear map
  }).dataSync();
  const sorted = Array.from(want).sort((a, b) => a - b);
  const kept = Array.from(want).filter((v) => v >= percentile(sorted, 1) && v <= percentile(sorted, 99));
  const expected = kept.reduce((s, v) => s + v, 0) / kept.length;
  const before = tf.memory().numTensors;
  for (const epsilon of [1e-2, 1e-4]) {
    const r = perceptualPathLength(space, pixels as unknown as PerceptualDistance, { count, seed: 5, epsilon, batch: count });
    assert.ok(Math.abs(r.ppl - expected) < 2e-2 * expected, `ε = ${epsilon}: ${r.ppl} vs ${expected}`);
    assert.equal(r.kept, kept.length);
  }
  assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
  space.dispose();
});

test('projection descends the perceptual distance to a target the space can make (w+ and w), leaving no tensor behind', async () => {
  const space = fakeStyleSpace();
  const distance = await PerceptualDistance.load();
  const wStar = tf.tensor3d(new Rng(9).normals(FAKE.numWs * FAKE.wDim).map((v) => 0.5 * v), [1, FAKE.numWs, FAKE.wDim]);
  const target = space.synthesis(wStar, { noise: 'zero' });
  const start = tf.tidy(() => distance.distance(space.synthesis(tf.tile(tf.expandDims(space.meanW(), 1), [1, FAKE.numWs, 1]) as tf.Tensor3D, { noise: 'zero' }), target)).dataSync()[0];
  const before = tf.memory().numTensors;
  const r = projectImage(space, distance, target, { steps: 100, seed: 1, wPlus: true, snapshots: [0, 50] });
  assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
  assert.deepEqual(r.latent.shape, [1, FAKE.numWs, FAKE.wDim]);
  assert.deepEqual(r.snapshots.map((s) => s.step), [0, 50]);
  assert.ok(r.distance < 0.2 * start, `distance ${r.distance} from ${start}`);
  const w = projectImage(space, distance, target, { steps: 20, seed: 1 });
  assert.deepEqual(w.latent.shape, [1, FAKE.wDim], 'one w unless w+');
  tf.dispose([wStar, target]);
  distance.dispose();
  space.dispose();
});
