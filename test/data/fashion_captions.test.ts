import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BRIGHTNESS_WORDS, FASHION_BINS, FASHION_CLASS_WORDS, SIZE_WORDS, fashionBins, fashionCaptionData, garmentAttributes, garmentSentences, measureGarment, sentenceAttributes,
} from '../../src/data/fashion_captions.js';
import { loadFashionMnist } from '../../src/data/fashion_mnist.js';
import { loadData } from '../../src/data/registry.js';
import type { ArraySource } from '../../src/data/types.js';

test('measureGarment: mean level of the foreground and its area, uint8 or [-1, 1] floats, channels averaged', () => {
  // 4 pixels: background 0, 10 (under the threshold), 100, 200.
  const bytes = Uint8Array.from([0, 10, 100, 200]);
  assert.deepEqual(measureGarment(bytes, 0, [2, 2, 1]), { brightness: 150 / 255, area: 0.5 });
  const floats = Float32Array.from(bytes, (v) => v / 127.5 - 1);
  const m = measureGarment(floats, 0, [2, 2, 1]);
  assert.ok(Math.abs(m.brightness - 150 / 255) < 1e-5 && m.area === 0.5);
  const rgb = Uint8Array.from([0, 0, 0, 90, 110, 100]); // second pixel's mean 100
  assert.deepEqual(measureGarment(rgb, 0, [1, 2, 3]), { brightness: 100 / 255, area: 0.5 });
  assert.deepEqual(measureGarment(new Uint8Array(4), 0, [2, 2, 1]), { brightness: 0, area: 0 });
});

test('bins: per-class thirds of brightness and median area; sentences name the class, the bins, and read back', () => {
  const measures = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6].map((b, i) => ({ brightness: b, area: i / 10 }));
  const bins = fashionBins(measures, Int32Array.from([7, 7, 7, 7, 7, 7]));
  assert.deepEqual(bins.brightness[7], [0.3, 0.5]);
  assert.equal(bins.area[7], 0.3);
  assert.deepEqual(measures.map((m) => garmentAttributes(m, 7, bins).brightness), [0, 0, 1, 1, 2, 2]);
  assert.deepEqual(measures.map((m) => garmentAttributes(m, 7, bins).size), [0, 0, 0, 1, 1, 1]);
  assert.deepEqual(garmentSentences({ label: 7, brightness: 0, size: 0 }), ['a dark small sneaker', 'this is a sneaker, dark in colour', 'a small sneaker in a dark shade', 'a picture of a dark sneaker']);
  assert.equal(garmentSentences({ label: 9, brightness: 2, size: 1 })[1], 'this is an ankle boot, light in colour');
  for (let label = 0; label < FASHION_CLASS_WORDS.length; label++) {
    for (let brightness = 0; brightness < BRIGHTNESS_WORDS.length; brightness++) {
      for (let size = 0; size < SIZE_WORDS.length; size++) {
        const [first, ...rest] = garmentSentences({ label, brightness, size });
        assert.deepEqual(sentenceAttributes(first), { label, brightness, size });
        for (const s of rest) assert.equal(sentenceAttributes(s).label, label, s);
      }
    }
  }
  assert.deepEqual(sentenceAttributes('a red heart'), { label: -1 });
});

test('captions:fashion-mnist: 4 sentences per image from its label and measured bins; test split shares the training bins and vocabulary', async () => {
  const data = await fashionCaptionData({ limit: 300 });
  const src = data.source;
  assert.equal(src.count, 300);
  assert.deepEqual(src.info.shape, [28, 28, 1]);
  assert.equal(src.info.text!.maxPerExample, 4);
  assert.equal(src.captions!.texts.length, 1200);
  assert.equal(src.info.text!.maxLen, 8); // "this is an ankle boot, medium in colour"
  // Oracle: every sentence of image i names its label and the bins its own pixels measure to.
  for (let i = 0; i < src.count; i++) {
    const m = measureGarment(src.values as Uint8Array, i * 784, [28, 28, 1]);
    const want = garmentAttributes(m, src.labels![i], FASHION_BINS);
    assert.deepEqual(data.attributes[i], want);
    assert.deepEqual(sentenceAttributes(src.captions!.texts[4 * i]), want);
  }
  // Bins split every class about evenly (the thirds are of the 60,000 training images; here the first 300).
  const dark = data.attributes.filter((a) => a.brightness === 0).length;
  assert.ok(dark > 60 && dark < 140, `${dark} dark of 300`);
  const test = (await loadData('captions:fashion-mnist', { split: 'test', limit: 50, imageSize: 32, channels: 3 })) as ArraySource;
  assert.deepEqual(test.info.shape, [32, 32, 3]);
  assert.deepEqual(test.info.text!.vocab, src.info.text!.vocab);
  assert.equal(test.info.numClasses, 10);
  assert.ok(!test.notices!.some((n) => /<unk>/.test(n)));
});

test('FASHION_BINS are the bins of the 60,000 training images', async () => {
  const train = await loadFashionMnist({ split: 'train' });
  const measures = Array.from({ length: train.count }, (_, i) => measureGarment(train.values as Uint8Array, i * 784, [28, 28, 1]));
  assert.deepEqual(fashionBins(measures, train.labels!), FASHION_BINS);
});
