import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describeProtocol, formatScore, psnrWith, rgbToY, srProtocol, ssimWith } from '../../src/metrics/image_quality.js';
import { evaluateTranslation, formatTranslation } from '../../src/metrics/translation.js';
import { Rng } from '../../src/util/rng.js';
import { initBackend } from '../../src/backend/index.js';

await tf.setBackend('cpu');

/** n random 8-bit images [n, h, w, c] as ganforge holds them: level/127.5 − 1. */
function levels(n: number, h: number, w: number, c: number, seed: number, lo = 0, hi = 255): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n * h * w * c }, () => lo + rng.int(hi - lo + 1));
}
const toUnit = (v: Float32Array): Float32Array => v.map((x) => x / 127.5 - 1);

test("Y of known colours matches MATLAB's rgb2ycbcr (16–235)", () => {
  const colours = [[255, 255, 255], [0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255], [128, 64, 32]];
  const y = rgbToY(tf.tensor4d(colours.flat(), [1, 1, colours.length, 3]));
  const expected = colours.map(([r, g, b]) => 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255);
  assert.deepEqual(expected.slice(0, 5).map((v) => Math.round(v * 1000) / 1000), [235, 16, 81.481, 144.553, 40.966]);
  Array.from(y.dataSync()).forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-3, `Y ${v} vs ${expected[i]}`));
  y.dispose();
});

test('a constant offset of k levels gives PSNR 20·log10(255/k) on RGB and 20·log10(255²/(219 k)) on Y', () => {
  const [n, h, w, c, k] = [2, 16, 16, 3, 6];
  const a = levels(n, h, w, c, 1, 0, 200);
  const x = tf.tensor4d(toUnit(a), [n, h, w, c]);
  const y = tf.tensor4d(toUnit(a.map((v) => v + k)), [n, h, w, c]);
  const rgb = psnrWith(x, y);
  for (const v of rgb.values) assert.ok(Math.abs(v - 20 * Math.log10(255 / k)) < 1e-3, `RGB PSNR ${v}`);
  assert.equal(rgb.protocol, 'PSNR on RGB, no border crop, 0–255');
  const onY = psnrWith(x, y, srProtocol(4));
  // A grey shift of k moves Y by k·219/255; the peak stays 255 by convention.
  for (const v of onY.values) assert.ok(Math.abs(v - 20 * Math.log10(255 / ((k * 219) / 255))) < 1e-3, `Y PSNR ${v}`);
  assert.equal(onY.protocol, 'PSNR on Y (BT.601, 16–235), border 4 px cropped, 0–255, 8-bit rounded');
  // The number does not depend on the scale it is reported on.
  const unit = psnrWith(x, y, { peak: 1 });
  unit.values.forEach((v, i) => assert.ok(Math.abs(v - rgb.values[i]) < 1e-3));
  tf.dispose([x, y]);
});

test('the border crop removes exactly the cropped pixels from the error', () => {
  const [h, w, b, k] = [20, 24, 3, 10];
  const a = levels(1, h, w, 1, 2, 0, 200);
  const d = a.map((v, i) => {
    const [yy, xx] = [Math.floor(i / w), i % w];
    return yy < b || yy >= h - b || xx < b || xx >= w - b ? v + k : v;
  });
  const x = tf.tensor4d(toUnit(a), [1, h, w, 1]);
  const y = tf.tensor4d(toUnit(d), [1, h, w, 1]);
  const ring = h * w - (h - 2 * b) * (w - 2 * b);
  const [full] = psnrWith(x, y).values;
  assert.ok(Math.abs(full - 10 * Math.log10((255 * 255) / ((k * k * ring) / (h * w)))) < 1e-3, `PSNR ${full}`);
  assert.deepEqual(psnrWith(x, y, { border: b }).values, [Infinity]);
  assert.ok(ssimWith(x, y).values[0] < 1);
  assert.ok(Math.abs(ssimWith(x, y, { border: b }).values[0] - 1) < 1e-6);
  tf.dispose([x, y]);
});

test('8-bit rounding: outputs within half a level of the target measure as identical', () => {
  const a = levels(1, 12, 12, 3, 3);
  const x = tf.tensor4d(toUnit(a), [1, 12, 12, 3]);
  const y = tf.tensor4d(toUnit(a.map((v, i) => v + (i % 2 ? 0.4 : -0.4))), [1, 12, 12, 3]);
  assert.ok(Number.isFinite(psnrWith(x, y).values[0]));
  assert.deepEqual(psnrWith(x, y, { quantize: true }).values, [Infinity]);
  tf.dispose([x, y]);
});

test('SSIM of identical images is 1 under every protocol, and SSIM does not depend on the reporting scale', () => {
  const a = levels(2, 24, 24, 3, 4);
  const x = tf.tensor4d(toUnit(a), [2, 24, 24, 3]);
  const y = tf.tensor4d(toUnit(levels(2, 24, 24, 3, 5)), [2, 24, 24, 3]);
  for (const p of [{}, srProtocol(2), { channel: 'y' as const, peak: 1 as const }]) for (const v of ssimWith(x, x, p).values) assert.ok(Math.abs(v - 1) < 1e-5);
  const on255 = ssimWith(x, y, { channel: 'y' });
  const on1 = ssimWith(x, y, { channel: 'y', peak: 1 });
  on255.values.forEach((v, i) => assert.ok(Math.abs(v - on1.values[i]) < 1e-4));
  assert.match(formatScore(on255), /^-?\d\.\d{4} \(SSIM on Y \(BT\.601, 16–235\), no border crop, 0–255, 11×11 Gaussian σ 1\.5\)$/);
  assert.equal(describeProtocol('psnr', { channel: 'rgb', border: 2, input: [0, 1], peak: 1, quantize: false }), 'PSNR on RGB, border 2 px cropped, 0–1');
  tf.dispose([x, y]);
});

test('protocol errors name the option', () => {
  const x = tf.zeros([1, 8, 8, 3]) as tf.Tensor4D;
  assert.throws(() => psnrWith(x, x, { border: 4 }), /cropping 4 px/);
  assert.throws(() => psnrWith(x, x, { border: -1 }), /border/);
  assert.throws(() => psnrWith(x, x, { input: [1, 0] }), /input range/);
  x.dispose();
});

test('evaluateTranslation under a quality protocol gives psnrWith/ssimWith numbers and prints the protocol with them', () => {
  const x = tf.tensor4d(toUnit(levels(3, 20, 20, 3, 6)), [3, 20, 20, 3]);
  const y = tf.tensor4d(toUnit(levels(3, 20, 20, 3, 7)), [3, 20, 20, 3]);
  const r = evaluateTranslation(x, y, { quality: srProtocol(2) });
  const psnr = psnrWith(x, y, srProtocol(2));
  const ssim = ssimWith(x, y, srProtocol(2));
  assert.ok(Math.abs(r.psnr! - psnr.mean) < 1e-9 && Math.abs(r.ssim! - ssim.mean) < 1e-9);
  const text = formatTranslation(r);
  assert.ok(text.includes(`dB (${psnr.protocol})`) && text.includes(`(${ssim.protocol}, K1 0.01, K2 0.03)`), text);
  // Without a protocol nothing changes: PSNR on [-1, 1] with L = 2 is PSNR on RGB 0–255.
  const plain = evaluateTranslation(x, y);
  assert.ok(Math.abs(plain.psnr! - psnrWith(x, y).mean) < 1e-3 && plain.protocol.quality === undefined);
  tf.dispose([x, y]);
});

test('on the native backend (aten, when built): the protocol numbers match the cpu backend, without CPU fallbacks', async (t) => {
  const info = await initBackend({ quiet: true });
  if (info.name !== 'aten') return t.skip(`aten backend not available: ${info.detail}`);
  try {
    const a = toUnit(levels(2, 24, 20, 3, 8));
    const b = toUnit(levels(2, 24, 20, 3, 9));
    const measure = () => {
      const [x, y] = [tf.tensor4d(a, [2, 24, 20, 3]), tf.tensor4d(b, [2, 24, 20, 3])];
      const out = [...psnrWith(x, y, srProtocol(2)).values, ...ssimWith(x, y, srProtocol(2)).values];
      tf.dispose([x, y]);
      return out;
    };
    const aten = (await import('tfjs-backend-aten' as string)) as { atenFallbackKernels(): string[] };
    const before = aten.atenFallbackKernels();
    const native = measure();
    assert.deepEqual(aten.atenFallbackKernels().filter((k) => !before.includes(k)), [], 'kernels that fell back to the CPU');
    await tf.setBackend('cpu');
    measure().forEach((v, i) => assert.ok(Math.abs(v - native[i]) < 1e-3, `cpu ${v} vs aten ${native[i]}`));
  } finally {
    await tf.setBackend('cpu');
  }
});
