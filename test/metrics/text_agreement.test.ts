import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { fashionCaptionData, garmentSentences } from '../../src/data/fashion_captions.js';
import { loadClassifierNet, type FeatureNetwork } from '../../src/metrics/features.js';
import { agreementSentences, attributeDirection, classAgreement, textAgreement } from '../../src/metrics/text_agreement.js';

await tf.setBackend('cpu');

test('classAgreement: argmax against the wanted class, rows without a class word left out', () => {
  // 3 classes; argmaxes 2, 0, 1, 1.
  const logits = Float32Array.from([0, 1, 5, 9, 1, 1, 0, 3, 2, -1, 0, -2]);
  assert.deepEqual(classAgreement(logits, 3, [2, 0, 0, -1]), { agreement: 2 / 3, counted: 3 });
  assert.ok(Number.isNaN(classAgreement(logits, 3, [-1, -1, -1, -1]).agreement));
});

test('attributeDirection: closed form on flat images of known level', () => {
  // Row i: an image whose left half is level v_i (above the foreground threshold) and right half background.
  const sentences = ['a dark small bag', 'a light small bag', 'a light large bag', 'a medium large bag', 'a red heart'];
  const levels = [60, 200, 220, 140, 250];
  const halves = [0.5, 0.5, 0.75, 0.75, 1];
  const h = 4;
  const w = 4;
  const values = new Float32Array(sentences.length * h * w).fill(-1);
  levels.forEach((v, i) => {
    for (let y = 0; y < h; y++) for (let x = 0; x < w * halves[i]; x++) values[i * 16 + y * w + x] = v / 127.5 - 1;
  });
  const d = attributeDirection({ values, n: 5, h, w, c: 1 }, sentences);
  const near = (a: number, b: number) => Math.abs(a - b) < 1e-5;
  assert.ok(near(d.brightness.dark, 60 / 255) && near(d.brightness.light, 210 / 255) && near(d.brightness.gap, 150 / 255), JSON.stringify(d));
  assert.deepEqual([d.brightness.nDark, d.brightness.nLight, d.size.nSmall, d.size.nLarge], [1, 2, 2, 2]);
  assert.ok(near(d.size.small, 0.5) && near(d.size.large, 0.75) && near(d.size.gap, 0.25));
});

test('agreementSentences: every class × dark/light × small/large', () => {
  const s = agreementSentences(2);
  assert.equal(s.length, 80);
  assert.equal(s[0], 'a dark small top');
  assert.equal(s[3], 'a light large top');
  assert.equal(new Set(s).size, 40);
});

test('oracle: real test images scored with their own first sentence give the classifier\'s accuracy and a positive brightness and size direction', async () => {
  const { source, attributes } = await fashionCaptionData({ split: 'test', limit: 200 });
  const sentences = attributes.map((a) => garmentSentences(a)[0]);
  const images = { values: source.values as Uint8Array, n: source.count, h: 28, w: 28, c: 1 };
  const net = await loadClassifierNet('fashion-mnist');
  // The shipped classifier runs once (the tfjs CPU backend is slow); the score reads the same embedding.
  const embedding = net.embed(images);
  const score = textAgreement(images, sentences, { info: net.info, embed: () => embedding } as unknown as FeatureNetwork);
  const { logits } = embedding;
  let hits = 0;
  for (let i = 0; i < source.count; i++) {
    const row = [...logits!.subarray(i * 10, i * 10 + 10)];
    if (row.indexOf(Math.max(...row)) === source.labels![i]) hits++;
  }
  net.dispose();
  assert.equal(score.classCounted, 200);
  assert.equal(score.classAgreement, hits / 200);
  assert.ok(score.classAgreement > 0.8, `${score.classAgreement}`);
  assert.ok(score.brightness.gap > 0.15, JSON.stringify(score.brightness));
  assert.ok(score.size.gap > 0.03, JSON.stringify(score.size));
  // Swapping the words swaps the sign: the score reads the sentence, not the image alone.
  const swapped = attributeDirection(images, sentences.map((s) => s.replace(/\bdark\b/, 'LIGHT').replace(/\blight\b/, 'dark').replace('LIGHT', 'light')));
  assert.ok(Math.abs(swapped.brightness.gap + score.brightness.gap) < 1e-9);
});
