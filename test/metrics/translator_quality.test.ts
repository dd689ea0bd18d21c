// eval's PSNR/SSIM for translators: super-resolution test sets (inputs smaller by a whole factor) are scored
// with the SR convention (Y, border = scale, 0–255, 8-bit), other translators in RGB on [-1, 1].
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { qualityProtocolOf, scoreTranslator, type TranslatorTestSet } from '../../src/metrics/translator_eval.js';
import { psnrWith, srProtocol, ssimWith } from '../../src/metrics/image_quality.js';
import { evaluateTranslation } from '../../src/metrics/translation.js';

await tf.setBackend('cpu');

function set(inputSide: number, targetSide: number): TranslatorTestSet {
  return {
    name: 'fake',
    matched: 'index',
    inputs: tf.randomUniform([3, inputSide, inputSide, 3], -1, 1, 'float32', 1) as tf.Tensor4D,
    targets: tf.randomUniform([3, targetSide, targetSide, 3], -1, 1, 'float32', 2) as tf.Tensor4D,
  };
}

test('qualityProtocolOf: ×4 inputs → Y, border 4, 0–255, 8-bit; same-size or fractional → RGB on [-1, 1]', () => {
  const sr = set(8, 32);
  assert.deepEqual(qualityProtocolOf(sr).quality, srProtocol(4));
  assert.match(qualityProtocolOf(sr).psnr, /PSNR on Y \(BT\.601, 16–235\), border 4 px cropped, 0–255, 8-bit rounded/);
  for (const [i, t] of [[32, 32], [12, 32]]) {
    const other = set(i, t);
    assert.equal(qualityProtocolOf(other).quality, undefined, `${i} → ${t}`);
    tf.dispose([other.inputs, other.targets]);
  }
  tf.dispose([sr.inputs, sr.targets]);
});

test('scoreTranslator on a ×4 set: PSNR and SSIM are psnrWith/ssimWith under srProtocol(4), not the RGB figures', async () => {
  const sr = set(8, 32);
  const outputs = tf.tidy(() => tf.clipByValue(tf.add(sr.targets, tf.randomNormal(sr.targets.shape, 0, 0.1, 'float32', 3)), -1, 1)) as tf.Tensor4D;
  const sample = () => ({ values: outputs.dataSync() as Float32Array, count: 3, shape: [32, 32, 3] });
  const scores = await scoreTranslator(sample, sr, ['psnr', 'ssim']);
  const expected = { psnr: psnrWith(outputs, sr.targets, srProtocol(4)).mean, ssim: ssimWith(outputs, sr.targets, srProtocol(4)).mean };
  assert.ok(Math.abs(scores.psnr - expected.psnr) < 1e-4, `psnr ${scores.psnr} vs ${expected.psnr}`);
  assert.ok(Math.abs(scores.ssim - expected.ssim) < 1e-5, `ssim ${scores.ssim} vs ${expected.ssim}`);
  const rgb = evaluateTranslation(outputs, sr.targets, { metrics: 'psnr' }).psnr!;
  assert.ok(Math.abs(scores.psnr - rgb) > 0.1, `the SR protocol moves PSNR (RGB on [-1, 1] gives ${rgb})`);
  tf.dispose([sr.inputs, sr.targets, outputs]);
});
