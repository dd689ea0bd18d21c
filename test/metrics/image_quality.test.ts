import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { l1PerImage, psnrPerImage, ssimPerImage } from '../../src/metrics/image_quality.js';
import { TRANSLATION_METRIC_NAMES, evaluateTranslation, formatTranslation, translationResultJson } from '../../src/metrics/translation.js';
import { initBackend } from '../../src/backend/index.js';
import { UserError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';

await tf.setBackend('cpu');

/**
 * The oracle: SSIM written from the paper as direct loops in float64. For each valid 11×11 position and
 * channel, Gaussian-weighted (2-D weights exp(−r²/2σ²), normalised) means, variances and covariance, then
 * eq. 13; the mean over positions and channels.
 */
function ssimOracle(x: Float32Array, y: Float32Array, h: number, w: number, c: number, L: number, luminanceOnly = false): number {
  const win = 11, half = 5, sigma = 1.5;
  const wts: number[] = [];
  for (let i = 0; i < win; i++) for (let j = 0; j < win; j++) wts.push(Math.exp(-((i - half) ** 2 + (j - half) ** 2) / (2 * sigma * sigma)));
  const total = wts.reduce((a, b) => a + b, 0);
  const c1 = (0.01 * L) ** 2, c2 = (0.03 * L) ** 2;
  let sum = 0, count = 0;
  for (let ch = 0; ch < c; ch++) {
    for (let r = 0; r + win <= h; r++) {
      for (let q = 0; q + win <= w; q++) {
        let mx = 0, my = 0, xx = 0, yy = 0, xy = 0;
        for (let i = 0; i < win; i++) {
          for (let j = 0; j < win; j++) {
            const k = wts[i * win + j] / total;
            const o = ((r + i) * w + (q + j)) * c + ch;
            mx += k * x[o]; my += k * y[o]; xx += k * x[o] * x[o]; yy += k * y[o] * y[o]; xy += k * x[o] * y[o];
          }
        }
        const sx = xx - mx * mx, sy = yy - my * my, sxy = xy - mx * my;
        const lum = (2 * mx * my + c1) / (mx * mx + my * my + c1);
        sum += luminanceOnly ? lum : lum * ((2 * sxy + c2) / (sx + sy + c2));
        count++;
      }
    }
  }
  return sum / count;
}

const uniform = (rng: Rng, len: number, lo = -1, hi = 1) => Float32Array.from({ length: len }, () => lo + (hi - lo) * rng.uniform());
const values = (f: () => tf.Tensor) => { const t = f(); const v = Array.from(t.dataSync()); t.dispose(); return v; };

test('SSIM matches a direct loop implementation on random images (grey and RGB, odd sizes, correlated pairs)', () => {
  const rng = new Rng(5);
  for (const [n, h, w, c] of [[2, 16, 13, 1], [3, 12, 19, 3], [1, 11, 11, 3]]) {
    const len = n * h * w * c;
    const a = uniform(rng, len);
    // Correlated target: a blend of the output and fresh noise, so SSIM lands mid-range rather than near 0.
    const b = Float32Array.from(a, (v) => Math.max(-1, Math.min(1, 0.7 * v + 0.3 * (2 * rng.uniform() - 1))));
    const got = values(() => ssimPerImage(tf.tensor4d(a, [n, h, w, c]), tf.tensor4d(b, [n, h, w, c]), 2));
    const per = h * w * c;
    for (let i = 0; i < n; i++) {
      const want = ssimOracle(a.subarray(i * per, (i + 1) * per), b.subarray(i * per, (i + 1) * per), h, w, c, 2);
      assert.ok(Math.abs(got[i] - want) < 2e-5, `[${n},${h},${w},${c}] image ${i}: ${got[i]} vs oracle ${want}`);
      assert.ok(want > 0.2 && want < 0.95, `test pair should be mid-range, got ${want}`);
    }
  }
});

test('closed forms: identical → SSIM 1, PSNR ∞, L1 0; constant offset δ → PSNR 10·log10(L²/δ²), L1 δ', () => {
  const rng = new Rng(6);
  const shape: [number, number, number, number] = [3, 16, 16, 3];
  const a = uniform(rng, 3 * 16 * 16 * 3, -0.8, 0.8);
  const x = tf.tensor4d(a, shape);
  assert.deepEqual(values(() => psnrPerImage(x, x, 2)), [Infinity, Infinity, Infinity]);
  assert.deepEqual(values(() => l1PerImage(x, x)), [0, 0, 0]);
  for (const s of values(() => ssimPerImage(x, x, 2))) assert.ok(Math.abs(s - 1) < 1e-6, `SSIM(x, x) = ${s}`);
  const delta = 0.125; // a power of two, so x + δ is exact in float32 on this range
  const y = tf.add(x, delta) as tf.Tensor4D;
  for (const p of values(() => psnrPerImage(x, y, 2))) assert.ok(Math.abs(p - 10 * Math.log10(4 / delta ** 2)) < 1e-4, `PSNR ${p}`);
  for (const v of values(() => l1PerImage(x, y))) assert.ok(Math.abs(v - delta) < 1e-6, `L1 ${v}`);
  // On [0, 1] with L = 1 the same pair is the same PSNR: the offset and the range both halve.
  const half = (t: tf.Tensor) => tf.div(tf.add(t, 1), 2) as tf.Tensor4D;
  for (const p of values(() => psnrPerImage(half(x), half(y), 1))) assert.ok(Math.abs(p - 10 * Math.log10(4 / delta ** 2)) < 1e-3);
  tf.dispose([x, y]);
});

test('SSIM of a constant shift is its luminance term alone: (2μ(μ+δ)+C1)/(μ²+(μ+δ)²+C1) per window', () => {
  const L = 2, c1 = (0.01 * L) ** 2, delta = 0.25;
  // Constant images: every window has μ = a, so SSIM is exactly the luminance term at a.
  for (const a of [-0.5, 0, 0.3]) {
    const x = tf.fill([1, 12, 12, 1], a) as tf.Tensor4D;
    const y = tf.fill([1, 12, 12, 1], a + delta) as tf.Tensor4D;
    const want = (2 * a * (a + delta) + c1) / (a * a + (a + delta) ** 2 + c1);
    const [got] = values(() => ssimPerImage(x, y, L));
    assert.ok(Math.abs(got - want) < 2e-6, `a=${a}: ${got} vs ${want}`);
    tf.dispose([x, y]);
  }
  // A textured image and its shifted copy: σy = σx and σxy = σx², so the contrast-structure factor is 1 and
  // SSIM is the mean over windows of the luminance term at each window's Gaussian mean.
  const rng = new Rng(7);
  const a = uniform(rng, 20 * 20, 0.2, 0.8);
  const x = tf.tensor4d(a, [1, 20, 20, 1]);
  const y = tf.add(x, delta) as tf.Tensor4D;
  const [got] = values(() => ssimPerImage(x, y, L));
  const shifted = Float32Array.from(a, (v) => v + delta);
  const luminance = ssimOracle(a, shifted, 20, 20, 1, L, true);
  assert.ok(Math.abs(got - luminance) < 2e-5 && got < 0.95 && got > 0.85, `${got} vs luminance term ${luminance}`);
  tf.dispose([x, y]);
});

test('symmetry and bounds: swapping outputs and targets changes nothing; SSIM in [-1, 1], PSNR and L1 ≥ 0', () => {
  const rng = new Rng(8);
  const shape: [number, number, number, number] = [4, 14, 15, 3];
  const len = 4 * 14 * 15 * 3;
  const x = tf.tensor4d(uniform(rng, len), shape);
  const y = tf.tensor4d(uniform(rng, len), shape);
  const neg = tf.neg(y) as tf.Tensor4D;
  for (const f of [l1PerImage, (p: tf.Tensor4D, q: tf.Tensor4D) => psnrPerImage(p, q, 2), (p: tf.Tensor4D, q: tf.Tensor4D) => ssimPerImage(p, q, 2)]) {
    const ab = values(() => f(x, y));
    const ba = values(() => f(y, x));
    ab.forEach((v, i) => assert.ok(Math.abs(v - ba[i]) < 1e-6, `${f.name}: ${v} vs ${ba[i]}`));
  }
  for (const s of [...values(() => ssimPerImage(x, y, 2)), ...values(() => ssimPerImage(y, neg, 2))]) assert.ok(s >= -1 && s <= 1, `SSIM ${s}`);
  // A ±a checkerboard against its negative: every Gaussian-weighted local mean is ≈ 0 (the window's
  // alternating sum is ~1e-10), so luminance is C1/C1 = 1, σ² = a², σxy = −a², SSIM = (C2 − 2a²)/(C2 + 2a²).
  const a = 0.5, c2 = (0.03 * 2) ** 2;
  const board = tf.tensor4d(Float32Array.from({ length: 16 * 16 }, (_, i) => (((i >> 4) + i) % 2 ? a : -a)), [1, 16, 16, 1]);
  const [anti] = values(() => ssimPerImage(board, tf.neg(board) as tf.Tensor4D, 2));
  assert.ok(Math.abs(anti - (c2 - 2 * a * a) / (c2 + 2 * a * a)) < 1e-5, `SSIM(board, −board) = ${anti}`);
  board.dispose();
  for (const v of [...values(() => psnrPerImage(x, y, 2)), ...values(() => l1PerImage(x, y))]) assert.ok(v >= 0);
  tf.dispose([x, y, neg]);
});

test('evaluateTranslation: means, protocol, identical pairs out of the PSNR mean, JSON keeps Infinity', () => {
  const rng = new Rng(9);
  const shape: [number, number, number, number] = [5, 16, 16, 3];
  const t = uniform(rng, 5 * 16 * 16 * 3, -0.9, 0.9);
  const o = Float32Array.from(t, (v, i) => (i < 16 * 16 * 3 ? v : v + 0.05)); // image 0 identical, 1–4 offset
  const targets = tf.tensor4d(t, shape);
  const outputs = tf.tensor4d(o, shape);
  const r = evaluateTranslation(outputs, targets, { batchSize: 2 }); // chunks of 2: exercises the chunking
  assert.equal(r.identicalPairs, 1);
  assert.ok(Math.abs(r.psnr! - 10 * Math.log10(4 / 0.05 ** 2)) < 1e-3, `psnr ${r.psnr}`);
  assert.ok(Math.abs(r.l1! - (4 * 0.05) / 5) < 1e-6, `l1 ${r.l1}`);
  assert.equal(r.perImage.ssim!.length, 5);
  assert.deepEqual(r.protocol.range, [-1, 1]);
  assert.equal(r.protocol.dataRange, 2);
  assert.equal(r.protocol.count, 5);
  assert.equal(r.protocol.ssim.window, 11);
  const json = JSON.parse(translationResultJson(r)) as { perImage: { psnr: unknown[] }; psnr: number };
  assert.equal(json.perImage.psnr[0], 'Infinity');
  assert.equal(json.psnr, r.psnr);
  assert.match(formatTranslation(r), /1 identical pairs left out/);
  // All pairs identical: the mean is +Infinity, written as such.
  const same = evaluateTranslation(targets, targets, { metrics: 'psnr' });
  assert.equal(same.psnr, Infinity);
  assert.equal(same.ssim, undefined);
  assert.match(translationResultJson(same), /"psnr":"Infinity"/);
  // uint8 sets are mapped to [-1, 1]; the caller's tensors are not disposed.
  const u8 = { values: Uint8Array.from({ length: 2 * 12 * 12 }, (_, i) => i % 256), n: 2, h: 12, w: 12, c: 1 };
  assert.ok(Math.abs(evaluateTranslation(u8, u8).ssim! - 1) < 1e-6);
  assert.equal(outputs.isDisposed, false);
  assert.deepEqual(TRANSLATION_METRIC_NAMES, ['l1', 'psnr', 'ssim']);
  tf.dispose([outputs, targets]);
});

test('errors say what to change: small images for SSIM, mismatched shapes, unknown metric names', () => {
  const small = tf.zeros([1, 8, 8, 1]) as tf.Tensor4D;
  const err = (re: RegExp) => (e: unknown) => e instanceof UserError && re.test(e.message);
  assert.throws(() => evaluateTranslation(small, small), err(/at least 11×11.*8×8.*l1 and psnr/));
  assert.equal(evaluateTranslation(small, small, { metrics: 'l1,psnr' }).l1, 0);
  const other = tf.zeros([1, 8, 9, 1]) as tf.Tensor4D;
  assert.throws(() => evaluateTranslation(small, other), err(/differ in shape/));
  assert.throws(() => evaluateTranslation(small, small, { metrics: 'ssmi' }), err(/did you mean 'ssim'/));
  tf.dispose([small, other]);
});

test('memory: evaluateTranslation leaves no tensors behind', () => {
  const x = tf.randomUniform([3, 16, 16, 3], -1, 1) as tf.Tensor4D;
  const y = tf.randomUniform([3, 16, 16, 3], -1, 1) as tf.Tensor4D;
  const before = tf.memory().numTensors;
  evaluateTranslation(x, y, { batchSize: 2 });
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, y]);
});

test('on the native backend (aten, when built) the same numbers: SSIM against the oracle, PSNR against its closed form', async (t) => {
  const info = await initBackend({ quiet: true });
  if (info.name !== 'aten') return t.skip(`aten backend not available: ${info.detail}`);
  try {
    const rng = new Rng(10);
    const shape: [number, number, number, number] = [2, 24, 17, 3];
    const per = 24 * 17 * 3;
    const a = uniform(rng, 2 * per);
    const b = Float32Array.from(a, (v) => Math.max(-1, Math.min(1, 0.6 * v + 0.4 * (2 * rng.uniform() - 1))));
    const r = evaluateTranslation(tf.tensor4d(a, shape), tf.tensor4d(b, shape));
    assert.equal(r.protocol.backend, 'aten');
    for (let i = 0; i < 2; i++) {
      const want = ssimOracle(a.subarray(i * per, (i + 1) * per), b.subarray(i * per, (i + 1) * per), 24, 17, 3, 2);
      assert.ok(Math.abs(r.perImage.ssim![i] - want) < 2e-5, `aten SSIM ${r.perImage.ssim![i]} vs oracle ${want}`);
    }
    const x = tf.tensor4d(a, shape);
    for (const p of values(() => psnrPerImage(x, tf.add(x, 0.125) as tf.Tensor4D, 2))) assert.ok(Math.abs(p - 10 * Math.log10(4 / 0.125 ** 2)) < 1e-4);
    assert.deepEqual(values(() => psnrPerImage(x, x, 2)), [Infinity, Infinity]);
    x.dispose();
  } finally {
    await tf.setBackend('cpu');
  }
});
