// The DAMSM loss (src/text/damsm.ts) against the paper's equations written out as plain loops in float64, on
// every backend: relevances, the four loss terms, and gradients by central differences of the loop version.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '@tensorflow/tfjs-layers'; // registers gradients for tf.grad in Node
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.js';
import { DAMSM_GAMMAS, damsmLoss, relevance, type DamsmGammas } from '../../src/text/damsm.js';
import { backends, close, normals } from '../nn/style_helpers.js';

await initBackend({ quiet: true });

/** A tiny case as plain arrays: B pairs, T words (some padded), R regions, D features. */
interface Case {
  b: number; t: number; r: number; d: number;
  words: number[]; mask: number[]; sentence: number[]; regions: number[]; global: number[];
}

function makeCase(seed: number): Case {
  const b = 3, t = 4, r = 5, d = 6;
  const lengths = [4, 2, 3];
  const mask = Array.from({ length: b * t }, (_, i) => (i % t < lengths[Math.floor(i / t)] ? 1 : 0));
  return {
    b, t, r, d, mask,
    words: [...normals(b * t * d, seed)], sentence: [...normals(b * d, seed + 1)],
    regions: [...normals(b * r * d, seed + 2)], global: [...normals(b * d, seed + 3)],
  };
}

const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);
const cos = (a: number[], b: number[]) => dot(a, b) / Math.max(Math.sqrt(dot(a, a)) * Math.sqrt(dot(b, b)), 1e-8);
const row = (x: number[], i: number, d: number) => x.slice(i * d, (i + 1) * d);

/** Eqs. 7–10 and 13 literally: R_w[n][m] and R_s[n][m] for image n, caption m. */
function referenceRelevance(c: Case, g: DamsmGammas): { words: number[][]; sentence: number[][] } {
  const words: number[][] = [], sentence: number[][] = [];
  for (let n = 0; n < c.b; n++) {
    words.push([]);
    sentence.push([]);
    const v = Array.from({ length: c.r }, (_, j) => row(c.regions, n * c.r + j, c.d));
    for (let m = 0; m < c.b; m++) {
      const len = c.mask.slice(m * c.t, (m + 1) * c.t).reduce((a, x) => a + x, 0);
      const e = Array.from({ length: len }, (_, i) => row(c.words, m * c.t + i, c.d));
      const s = e.map((ei) => v.map((vj) => dot(ei, vj))); // [len, R]
      // Eq. 8: normalise over the words for each region
      const sBar = s.map((si) => si.map((_, j) => Math.exp(si[j]) / s.reduce((acc, sk) => acc + Math.exp(sk[j]), 0)));
      let pooled = 0;
      for (let i = 0; i < len; i++) {
        // Eq. 9: attention of word i over the regions
        const z = sBar[i].reduce((acc, x) => acc + Math.exp(g.gamma1 * x), 0);
        const alpha = sBar[i].map((x) => Math.exp(g.gamma1 * x) / z);
        const ci = Array.from({ length: c.d }, (_, k) => alpha.reduce((acc, a, j) => acc + a * v[j][k], 0));
        pooled += Math.exp(g.gamma2 * cos(ci, e[i]));
      }
      words[n].push(Math.log(pooled) / g.gamma2); // Eq. 10
      sentence[n].push(cos(row(c.global, n, c.d), row(c.sentence, m, c.d)));
    }
  }
  return { words, sentence };
}

/** Eqs. 11–12 as means over the batch, both directions. */
function referencePair(rel: number[][], g3: number): number {
  const b = rel.length;
  let l1 = 0, l2 = 0;
  for (let i = 0; i < b; i++) {
    const overImages = rel.reduce((acc, r) => acc + Math.exp(g3 * r[i]), 0); // P(D_i | Q_i): caption i, images j
    const overCaptions = rel[i].reduce((acc, x) => acc + Math.exp(g3 * x), 0); // P(Q_i | D_i): image i, captions j
    l1 -= g3 * rel[i][i] - Math.log(overImages);
    l2 -= g3 * rel[i][i] - Math.log(overCaptions);
  }
  return (l1 + l2) / b;
}

function referenceLoss(c: Case, g: DamsmGammas): { words: number; sentence: number } {
  const rel = referenceRelevance(c, g);
  return { words: referencePair(rel.words, g.gamma3), sentence: referencePair(rel.sentence, g.gamma3) };
}

function tensors(c: Case) {
  return {
    words: tf.tensor3d(c.words, [c.b, c.t, c.d]), mask: tf.tensor2d(c.mask, [c.b, c.t]), sentence: tf.tensor2d(c.sentence, [c.b, c.d]),
    regions: tf.tensor3d(c.regions, [c.b, c.r, c.d]), global: tf.tensor2d(c.global, [c.b, c.d]),
  };
}

for (const backend of backends()) {
  test(`DAMSM relevances and loss equal the paper's equations as loops (${backend})`, async () => {
    await tf.setBackend(backend);
    const c = makeCase(1);
    for (const g of [DAMSM_GAMMAS, { gamma1: 4, gamma2: 5, gamma3: 10 }, { gamma1: 1, gamma2: 2, gamma3: 3 }]) {
      const expected = referenceRelevance(c, g);
      const f = tensors(c);
      const rel = relevance(f, g);
      close(rel.words.dataSync(), expected.words.flat(), 1e-4, `word relevance γ=${JSON.stringify(g)}`);
      close(rel.sentence.dataSync(), expected.sentence.flat(), 1e-5, 'sentence relevance');
      const loss = damsmLoss(f, g);
      const want = referenceLoss(c, g);
      close([loss.words.dataSync()[0], loss.sentence.dataSync()[0], loss.total.dataSync()[0]], [want.words, want.sentence, want.words + want.sentence], 1e-4, 'loss');
      tf.dispose([Object.values(f), Object.values(rel), Object.values(loss)]);
    }
  });

  test(`DAMSM: padding changes nothing, and relevance takes N images against M captions (${backend})`, async () => {
    await tf.setBackend(backend);
    const c = makeCase(2);
    const f = tensors(c);
    // Garbage in the padded word slots must not move any relevance.
    const noisy = c.words.map((w, i) => (c.mask[Math.floor(i / c.d)] ? w : w + 100));
    const g = tf.tensor3d(noisy, [c.b, c.t, c.d]);
    const a = relevance(f), b = relevance({ ...f, words: g });
    close(b.words.dataSync(), a.words.dataSync(), 1e-5, 'padded words');
    // 2 images against 3 captions = the first two rows of the square matrix.
    const two = relevance({ ...f, regions: tf.slice(f.regions, [0, 0, 0], [2, c.r, c.d]), global: tf.slice(f.global, [0, 0], [2, c.d]) });
    assert.deepEqual(two.words.shape, [2, 3]);
    close(two.words.dataSync(), a.words.dataSync().slice(0, 6), 1e-5, 'rectangular');
    tf.dispose([Object.values(f), g, Object.values(a), Object.values(b), Object.values(two)]);
  });

  test(`DAMSM loss gradients equal central differences of the loop version (${backend})`, async () => {
    await tf.setBackend(backend);
    const c = makeCase(3);
    const g = DAMSM_GAMMAS;
    const keys = ['words', 'sentence', 'regions', 'global'] as const;
    const f = tensors(c);
    const grads = tf.grads((w: tf.Tensor, s: tf.Tensor, r: tf.Tensor, gl: tf.Tensor) => damsmLoss({
      words: w as tf.Tensor3D, mask: f.mask, sentence: s as tf.Tensor2D, regions: r as tf.Tensor3D, global: gl as tf.Tensor2D,
    }).total)([f.words, f.sentence, f.regions, f.global]);
    keys.forEach((key, k) => {
      const analytic = grads[k].dataSync();
      const numeric = c[key].map((_, i) => {
        const h = 1e-5;
        const at = (delta: number) => {
          const moved = { ...c, [key]: c[key].map((v, j) => (j === i ? v + delta : v)) };
          const l = referenceLoss(moved, g);
          return l.words + l.sentence;
        };
        return (at(h) - at(-h)) / (2 * h);
      });
      close(analytic, numeric, 2e-3, `∂L/∂${key}`);
      // The check is only worth something if the gradient is not zero everywhere.
      assert.ok(numeric.some((x) => Math.abs(x) > 1e-3), `${key}: gradient is not trivially zero`);
    });
    tf.dispose([Object.values(f), grads]);
  });

  test(`DAMSM leaves no tensors behind (${backend})`, async () => {
    await tf.setBackend(backend);
    const f = tensors(makeCase(4));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const l = damsmLoss(f);
      tf.dispose(Object.values(l));
      tf.dispose(Object.values(relevance(f)));
    }
    assert.equal(tf.memory().numTensors, before);
    tf.dispose(Object.values(f));
  });
}
