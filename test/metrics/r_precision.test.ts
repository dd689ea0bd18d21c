// R-precision (src/metrics/r_precision.ts) on features built so that the answer is known: perfect retrieval,
// a decoy that always beats the true caption, captions of the image's own example (never decoys), the rate
// expected when a decoy is drawn only sometimes, and chance level on random features.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.js';
import { rPrecision, rPrecisionEncoders, rPrecisionFromFeatures } from '../../src/metrics/r_precision.js';
import { saveEncoders } from '../../src/text/encoder_folder.js';
import { trainTextEncoders } from '../../src/text/run_encoders.js';
import { UserError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { squares } from '../text/squares.js';

await initBackend({ quiet: true });

const D = 8;
/** Unit vector along axis k, scaled. */
const axis = (k: number, scale = 1) => Array.from({ length: D }, (_, i) => (i === k % D ? scale : 0));

test('R-precision: the true caption always nearest → 1; a decoy of another example always nearer → a miss', () => {
  // 100 captions, one per example; image i was drawn from caption i and points exactly at it.
  const n = 100;
  const sentences = new Float32Array(n * D), images = new Float32Array(n * D);
  const rng = new Rng(1);
  for (let j = 0; j < n; j++) sentences.set(rng.normals(D), j * D);
  images.set(sentences);
  const owner = Int32Array.from({ length: n }, (_, j) => j);
  const trueIndex = Int32Array.from({ length: n }, (_, i) => i);
  const perfect = rPrecisionFromFeatures(images, sentences, D, trueIndex, owner, { seed: 2 });
  assert.equal(perfect.mean, 1);
  assert.equal(perfect.std, 0);
  assert.equal(perfect.draws.length, 10);

  // Images 0..49 point at caption i exactly; images 50..99 point 60° away from theirs and exactly at caption
  // (i + 1) mod 100, a caption of another example. With 99 others in the pool every draw holds that decoy.
  const shifted = new Float32Array(n * D);
  for (let i = 0; i < n; i++) shifted.set(i < 50 ? sentences.subarray(i * D, (i + 1) * D) : sentences.subarray(((i + 1) % n) * D, ((i + 1) % n + 1) * D), i * D);
  const half = rPrecisionFromFeatures(shifted, sentences, D, trueIndex, owner, { seed: 2 });
  assert.equal(half.mean, 0.5);
});

test("R-precision: another caption of the image's own example is never a mismatch", () => {
  // Example e has captions 2e and 2e+1, identical vectors along axis e; image e was drawn from caption 2e.
  const examples = 120;
  const sentences = new Float32Array(2 * examples * D);
  const owner = new Int32Array(2 * examples);
  for (let e = 0; e < examples; e++) {
    // Distinct directions per example: axis e mod D, rotated in its plane by e (examples sharing an axis differ).
    const v = axis(e, 1).map((x, k) => x * Math.cos(e) + (k === (e + 1) % D ? Math.sin(e) : 0));
    sentences.set(v, 2 * e * D);
    sentences.set(v, (2 * e + 1) * D);
    owner[2 * e] = owner[2 * e + 1] = e;
  }
  const images = new Float32Array(examples * D);
  for (let e = 0; e < examples; e++) images.set(sentences.subarray(2 * e * D, (2 * e + 1) * D), e * D);
  const trueIndex = Int32Array.from({ length: examples }, (_, e) => 2 * e);
  const r = rPrecisionFromFeatures(images, sentences, D, trueIndex, owner, { seed: 3 });
  assert.equal(r.mean, 1, 'the twin caption (same cosine) was drawn as a mismatch');
});

test('R-precision: the rate over draws matches its exact expectation (hypergeometric), and random features give chance', () => {
  // Image i is its own caption's direction plus noise, so a few other captions may be nearer to it: with m_i of
  // the 199 other captions at least as near, a draw of 99 misses them all with probability
  // C(199 − m_i, 99) / C(199, 99) = Π_{t<99} (199 − m_i − t) / (199 − t).
  const n = 200;
  const rng = new Rng(4);
  const sentences = rng.normals(n * D);
  const images = sentences.map((x) => x + 0.9 * rng.normal());
  const owner = Int32Array.from({ length: n }, (_, j) => j);
  const trueIndex = Int32Array.from({ length: n }, (_, i) => i);
  const cos = (i: number, j: number) => {
    let ab = 0, aa = 0, bb = 0;
    for (let k = 0; k < D; k++) {
      const a = images[i * D + k], b = sentences[j * D + k];
      ab += a * b; aa += a * a; bb += b * b;
    }
    return ab / Math.sqrt(aa * bb);
  };
  let expected = 0;
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const own = cos(i, i);
    const m = owner.filter((j) => j !== i && cos(i, j) >= own).length;
    ms.push(m);
    let p = 1;
    for (let t = 0; t < 99; t++) p *= Math.max(0, 199 - m - t) / (199 - t);
    expected += p / n;
  }
  assert.ok(ms.some((m) => m === 0) && ms.some((m) => m > 0 && m < 5), 'the case mixes sure hits and chancy ones');
  const draws = 50;
  const r = rPrecisionFromFeatures(images, sentences, D, trueIndex, owner, { draws, seed: 5 });
  const sd = 0.5 / Math.sqrt(n * draws); // bound on the sd of the mean of draws
  assert.ok(Math.abs(r.mean - expected) < 4 * sd, `R-precision ${r.mean} vs expected ${expected} (±${(4 * sd).toFixed(4)})`);
  assert.ok(r.std > 0, 'draws differ');

  const noise = new Rng(6);
  const chance = rPrecisionFromFeatures(noise.normals(n * D), noise.normals(n * D), D, trueIndex, owner, { draws: 20, seed: 7 });
  assert.ok(Math.abs(chance.mean - 0.01) < 0.012, `random features: ${chance.mean} ≈ 1/100`);
});

test('R-precision: too few captions of other examples is an error that says so', () => {
  const owner = Int32Array.from({ length: 50 }, (_, j) => j);
  assert.throws(() => rPrecisionFromFeatures(new Float32Array(D), new Float32Array(50 * D), D, Int32Array.of(0), owner), (e: Error) => e instanceof UserError && /only 49 captions/.test(e.message));
});

test('R-precision end to end: evaluation encoders from a folder, images and captions embedded; the model\'s own encoders are refused', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-rprec-'));
  const source = squares(16, 4); // 64 examples, 128 captions
  const spec = { embedDim: 16, featureDim: 16 };
  const { encoders, info } = trainTextEncoders(source, { data: 'test:squares', steps: 1, batchSize: 8, seed: 1, spec }, () => {});
  await saveEncoders(path.join(dir, 'judge'), encoders, info);
  const judge = await rPrecisionEncoders({ given: path.join(dir, 'judge') });
  assert.match(judge.name, /DAMSM encoders .*judge \(seed 1, 1 steps on test:squares\)/);
  const values = Float32Array.from(source.values, (v) => v / 127.5 - 1);
  const trueIndex = Int32Array.from({ length: 64 }, (_, i) => 2 * i);
  const before = tf.memory().numTensors;
  const r = rPrecision(judge, { values, n: 64, shape: [16, 16, 3] }, { texts: source.captions!.texts, owner: source.captions!.owner }, trueIndex, { candidates: 20, draws: 3 });
  assert.equal(tf.memory().numTensors, before);
  assert.equal(r.images, 64);
  assert.equal(r.candidates, 20);
  assert.ok(r.mean >= 0 && r.mean <= 1);
  assert.equal(r.encoder, judge.name);
  await assert.rejects(rPrecisionEncoders({ given: path.join(dir, 'judge'), modelEncoder: encoders.text }), /the ones the model was trained with/);
  for (const m of [encoders.text, encoders.image, judge.encoders.text, judge.encoders.image]) m.dispose();
  await fs.rm(dir, { recursive: true, force: true });
});
