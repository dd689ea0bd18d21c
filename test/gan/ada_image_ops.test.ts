// ADA's image-space groups (src/gan/tricks/ada_image_ops.ts, --ada-pipe bgcf/bgcfn/bgcfnc): the filter bank in
// closed form (the bands sum to the identity, each passes its own frequencies), the band filter against a per-pixel
// loop, noise and cutout pixel for pixel, the draws per pipe, gradients by finite differences, and no aten fallback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.js';
import { resolveConfig, validatePartialConfig } from '../../src/gan/config.js';
import { IDENTITY_DRAW, applyAda, drawAda, type AdaDraw } from '../../src/gan/tricks/ada.js';
import { CUTOUT_SIZE, FILTER_BANK, FILTER_TAPS } from '../../src/gan/tricks/ada_image_ops.js';
import { Rng } from '../../src/util/rng.js';
import { backends, close, finiteDifferences, randn } from '../nn/style_helpers.js';

await initBackend({ quiet: true });
const aten = backends().includes('aten') ? ((await import('tfjs-backend-aten' as string)) as { atenFallbackKernels(): string[] }) : null;

const draw = (d: Partial<AdaDraw>): AdaDraw => ({ ...IDENTITY_DRAW, ...d });
const HALF = (FILTER_TAPS - 1) / 2;

/** |Σₜ f[t]·e^{−iω(t − half)}|: a zero-phase filter's (real) frequency response at ω. */
function response(f: readonly number[], omega: number): number {
  return f.reduce((s, v, t) => s + v * Math.cos(omega * (t - HALF)), 0);
}

/** Index k continued by mirroring about the end samples, walked one step at a time. */
function mirror(k: number, n: number): number {
  let i = 0, dir = Math.sign(k);
  for (let s = 0; s < Math.abs(k); s++) {
    if (i + dir < 0 || i + dir > n - 1) dir = -dir;
    i += dir;
  }
  return i;
}

test('the filter bank: four zero-phase bands that sum to the identity, each passing its own octave', () => {
  assert.equal(FILTER_BANK.length, 4);
  for (let t = 0; t < FILTER_TAPS; t++) {
    const sum = FILTER_BANK.reduce((s, band) => s + band[t], 0);
    assert.ok(Math.abs(sum - (t === HALF ? 1 : 0)) < 1e-12, `tap ${t}: Σ bands = ${sum}`);
    for (const band of FILTER_BANK) assert.ok(Math.abs(band[t] - band[FILTER_TAPS - 1 - t]) < 1e-12, 'symmetric taps');
  }
  // DC goes through the lowest band only, Nyquist through the highest only.
  close(FILTER_BANK.map((b) => response(b, 0)), [1, 0, 0, 0], 1e-12, 'responses at ω = 0');
  close(FILTER_BANK.map((b) => response(b, Math.PI)), [0, 0, 0, 1], 1e-12, 'responses at ω = π');
  // Each band is the largest of the four in the middle of its octave.
  const middles = [Math.PI / 16, (3 * Math.PI) / 16, (3 * Math.PI) / 8, (3 * Math.PI) / 4];
  middles.forEach((omega, k) => {
    const r = FILTER_BANK.map((b) => Math.abs(response(b, omega)));
    assert.equal(r.indexOf(Math.max(...r)), k, `band ${k} leads at ω = ${omega.toFixed(3)}: ${r.map((v) => v.toFixed(3))}`);
  });
});

test('band filtering = a per-pixel loop of the separable filter with mirrored edges; DC and Nyquist in closed form', () => {
  const [b, h, w, c] = [2, 6, 9, 3];
  const x = randn([b, h, w, c], 3);
  const gains = [[1.7, 0.6, 1.2, 0.3], [0.5, 1, 2.1, 1.4]];
  const y = applyAda(x as tf.Tensor4D, gains.map((g) => draw({ bandGains: g })));
  const xs = x.dataSync(), ys = y.dataSync();
  const filt = gains.map((g) => Array.from({ length: FILTER_TAPS }, (_, t) => g.reduce((s, v, k) => s + v * FILTER_BANK[k][t], 0)));
  const want = new Float32Array(xs.length);
  for (let n = 0; n < b; n++) {
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        for (let ch = 0; ch < c; ch++) {
          let s = 0;
          for (let u = 0; u < FILTER_TAPS; u++) {
            for (let v = 0; v < FILTER_TAPS; v++) {
              s += filt[n][u] * filt[n][v] * xs[((n * h + mirror(i + u - HALF, h)) * w + mirror(j + v - HALF, w)) * c + ch];
            }
          }
          want[((n * h + i) * w + j) * c + ch] = s;
        }
      }
    }
  }
  close(ys, want, 1e-4, 'filtered images');
  // A constant image keeps its shape and scales by g₀² (rows, then columns); a checkerboard by g₃².
  const g = [1.5, 0.7, 0.9, 0.4];
  const flat = applyAda(tf.fill([1, 8, 8, 1], 0.5) as tf.Tensor4D, [draw({ bandGains: g })]);
  close(flat.dataSync(), new Float32Array(64).fill(0.5 * g[0] ** 2), 1e-5, 'constant');
  const board = tf.tensor4d(Array.from({ length: 64 }, (_, k) => ((Math.floor(k / 8) + k) % 2 ? -0.5 : 0.5)), [1, 8, 8, 1]);
  close(applyAda(board, [draw({ bandGains: g })]).dataSync(), tf.mul(board, g[3] ** 2).dataSync(), 1e-5, 'checkerboard');
  tf.dispose([x, y, flat, board]);
});

test('noise adds σ·N(0, 1) from the drawn seed; cutout zeroes a half-side square about the drawn centre', () => {
  const x = randn([2, 8, 8, 3], 5);
  const y = applyAda(x as tf.Tensor4D, [draw({ noise: { std: 0.3, seed: 11 } }), draw({})]);
  const e = new Rng(11).normals(8 * 8 * 3);
  const diff = tf.sub(y, x).dataSync();
  close(diff.subarray(0, 192), e.map((v) => 0.3 * v), 1e-6, 'noise of example 0');
  close(diff.subarray(192), new Float32Array(192), 0, 'example 1 untouched');

  const cut = applyAda(x as tf.Tensor4D, [draw({ cutout: [0.5, 0.5] }), draw({ cutout: [0, 0.9] })]).dataSync();
  const xs = x.dataSync();
  for (let n = 0; n < 2; n++) {
    for (let i = 0; i < 8; i++) {
      for (let j = 0; j < 8; j++) {
        // Example 0: rows and columns 2–5 (centres 0.3125 … 0.6875 within ¼ of ½); example 1: rows 0–1 ((i + ½)/8 < ¼)
        // and columns 5–7 ((j + ½)/8 > 0.65; the square runs past the right edge).
        const inside = n === 0 ? i >= 2 && i <= 5 && j >= 2 && j <= 5 : i <= 1 && j >= 5;
        for (let ch = 0; ch < 3; ch++) {
          const k = ((n * 8 + i) * 8 + j) * 3 + ch;
          assert.ok(cut[k] === (inside ? 0 : xs[k]), `example ${n} (${i}, ${j}): ${cut[k]}`); // −0 counts as 0
        }
      }
    }
  }
  assert.equal(CUTOUT_SIZE, 0.5);
  tf.dispose([x, y]);
});

test('draws per pipe: bgc never filters, adds noise or cuts; the image-space groups come after bgc for each example', () => {
  const only = (pipe: Parameters<typeof drawAda>[5]) => drawAda(new Rng(7), 64, 16, 16, 1, pipe);
  const plain = (d: AdaDraw) => d.bandGains.every((g) => g === 1) && d.noise.std === 0 && d.cutout === null;
  assert.ok(only('bgc').every(plain));
  const filtered = only('filter');
  assert.ok(filtered.every((d) => d.bandGains.some((g) => g !== 1) && d.noise.std === 0 && d.cutout === null && d.rot === 0 && d.brightness === 0));
  assert.ok(only('noise').every((d) => d.noise.std > 0 && d.bandGains.every((g) => g === 1)));
  assert.ok(only('cutout').every((d) => d.cutout !== null));
  // At p = 1 every band is drawn: gains composed from four independent lognormal draws, renormalised.
  assert.ok(filtered.every((d) => d.bandGains.every((g) => g > 0 && g !== 1)));
  // Example 0 draws its bgc part first, so it matches bgc's example 0 at the same seed.
  const [a] = drawAda(new Rng(9), 4, 16, 16, 0.7, 'bgc');
  const [b] = drawAda(new Rng(9), 4, 16, 16, 0.7, 'bgcfnc');
  assert.deepEqual({ ...b, bandGains: a.bandGains, noise: a.noise, cutout: a.cutout }, a);
  // At p = 0.3 about 30 % of examples get a cutout.
  const share = drawAda(new Rng(3), 4000, 16, 16, 0.3, 'cutout').filter((d) => d.cutout !== null).length / 4000;
  assert.ok(Math.abs(share - 0.3) < 0.03, `cutout share ${share}`);
});

test('gradients through filter, noise and cutout match finite differences; no aten fallback, no leaked tensors', () => {
  const before = aten?.atenFallbackKernels() ?? [];
  const draws = [draw({ bandGains: [1.3, 0.8, 1.1, 0.6], noise: { std: 0.2, seed: 4 }, cutout: [0.4, 0.6] }), draw({ bandGains: [0.9, 1.2, 0.7, 1.5] })];
  const v = tf.variable(randn([2, 8, 8, 3], 8));
  const weights = randn([2, 8, 8, 3], 9);
  const loss = () => tf.tidy(() => tf.sum(tf.mul(tf.square(applyAda(v as unknown as tf.Tensor4D, draws)), weights)).dataSync()[0]);
  const start = tf.memory().numTensors;
  const grad = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.square(applyAda(x as tf.Tensor4D, draws)), weights)))(v));
  const coords = [0, 17, 100, 200, 333, 383];
  close(coords.map((i) => grad.dataSync()[i]), finiteDifferences(loss, v, coords), 2e-2, 'dL/dx');
  grad.dispose();
  assert.equal(tf.memory().numTensors, start, 'tensors flat');
  if (aten) assert.deepEqual(aten.atenFallbackKernels().filter((k) => !before.includes(k)), [], 'kernels on the CPU fallback');
  tf.dispose([v, weights]);
});

test('--ada-pipe is validated at the edge and needs --ada-target', () => {
  assert.throws(() => validatePartialConfig({ adaPipe: 'bgcx' } as never, 'flags'), /--ada-pipe/);
  assert.throws(() => resolveConfig({ adaPipe: 'bgcf' }), /--ada-pipe bgcf .* needs --ada-target/);
  assert.equal(resolveConfig({ adaTarget: 0.6, adaPipe: 'bgcfnc' }).adaPipe, 'bgcfnc');
  assert.equal(resolveConfig().adaPipe, 'bgc');
});
