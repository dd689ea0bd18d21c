import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bicubicUpscale, checkDegrade, cubic, DEFAULT_DEGRADE, degrade, degradeSync, downscale, gaussianBlur, jpegRoundTrip, modcrop,
} from '../../src/data/degrade.js';
import { UserError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';

function random(n: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  return Uint8Array.from({ length: n }, () => rng.int(256));
}

/**
 * The oracle for the bicubic downscale: each output pixel as a direct 2-D sum over every input pixel,
 * weight k(Δy)·k(Δx) with k the cubic stretched by the scale, indices folded back symmetrically at the
 * border, normalised per axis (MATLAB's imresize with antialiasing, written out in float64).
 */
function bicubicDownOracle(v: Uint8Array, [h, w, c]: number[], s: number): Float64Array {
  const fold = (i: number, n: number): number => (i < 0 ? -i - 1 : i >= n ? 2 * n - 1 - i : i);
  const axis = (n: number, o: number): Map<number, number> => {
    const u = (o + 0.5) * s - 0.5;
    const m = new Map<number, number>();
    let sum = 0;
    for (let i = Math.floor(u - 2 * s) - 1; i <= Math.ceil(u + 2 * s) + 1; i++) {
      const k = cubic((u - i) / s) / s;
      sum += k;
      const j = fold(i, n);
      m.set(j, (m.get(j) ?? 0) + k);
    }
    for (const [j, k] of m) m.set(j, k / sum);
    return m;
  };
  const out = new Float64Array((h / s) * (w / s) * c);
  for (let y = 0; y < h / s; y++) {
    for (let x = 0; x < w / s; x++) {
      const ay = axis(h, y);
      const ax = axis(w, x);
      for (let k = 0; k < c; k++) {
        let acc = 0;
        for (const [i, wy] of ay) for (const [j, wx] of ax) acc += wy * wx * v[(i * w + j) * c + k];
        out[(y * (w / s) + x) * c + k] = acc;
      }
    }
  }
  return out;
}

test('area downscale is the mean of every s×s block', () => {
  const [h, w, c, s] = [8, 12, 3, 4];
  const v = random(h * w * c, 1);
  const got = downscale(v, [h, w, c], s, 'area');
  for (let y = 0; y < h / s; y++) {
    for (let x = 0; x < w / s; x++) {
      for (let k = 0; k < c; k++) {
        let sum = 0;
        for (let dy = 0; dy < s; dy++) for (let dx = 0; dx < s; dx++) sum += v[((y * s + dy) * w + x * s + dx) * c + k];
        assert.ok(Math.abs(got[(y * (w / s) + x) * c + k] - sum / (s * s)) < 1e-4);
      }
    }
  }
});

test('antialiased bicubic downscale equals the direct 2-D imresize sum, keeps constants and reproduces ramps', () => {
  for (const s of [2, 4]) {
    const [h, w, c] = [16, 24, 3];
    const v = random(h * w * c, s);
    const got = downscale(v, [h, w, c], s, 'bicubic');
    const want = bicubicDownOracle(v, [h, w, c], s);
    got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) < 1e-3, `×${s} pixel ${i}: ${g} vs ${want[i]}`));
  }
  const flat = downscale(new Uint8Array(32 * 32).fill(77), [32, 32, 1], 4, 'bicubic');
  for (const f of flat) assert.ok(Math.abs(f - 77) < 1e-4);
  // f(x) = x: away from the border the output at column o is the input coordinate (o + ½)s − ½ it is centred on.
  const ramp = Uint8Array.from({ length: 4 * 64 }, (_, i) => i % 64);
  const down = downscale(ramp, [4, 64, 1], 4, 'bicubic');
  for (let o = 3; o < 13; o++) assert.ok(Math.abs(down[o] - ((o + 0.5) * 4 - 0.5)) < 1e-4, `ramp ${o}: ${down[o]}`);
});

test('bicubic upscale: identity at ×1, exact at input centres for ×3, constants and ramps kept', () => {
  const [h, w, c] = [5, 7, 3];
  const v = random(h * w * c, 9);
  assert.deepEqual(Array.from(bicubicUpscale(v, [h, w, c], 1)), Array.from(v));
  const up3 = bicubicUpscale(v, [h, w, c], 3);
  // Output 3i + 1 sits on input i, where Keys' kernel is 1 at 0 and 0 at every other integer.
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) assert.ok(Math.abs(up3[((3 * y + 1) * 3 * w + 3 * x + 1) * c + k] - v[(y * w + x) * c + k]) < 1e-3);
  const ramp = Float32Array.from({ length: 16 }, (_, i) => i);
  const up4 = bicubicUpscale(ramp, [1, 16, 1], 4);
  for (let o = 8; o < 56; o++) assert.ok(Math.abs(up4[o] - ((o + 0.5) / 4 - 0.5)) < 1e-4, `ramp ${o}: ${up4[o]}`);
});

test('Gaussian blur: an interior impulse becomes the normalised Gaussian, constants stay', () => {
  const [n, sigma] = [21, 1.5];
  const v = new Float32Array(n * n);
  v[10 * n + 10] = 1000;
  const b = gaussianBlur(v, [n, n, 1], sigma);
  const r = Math.ceil(3 * sigma);
  let z = 0;
  for (let i = -r; i <= r; i++) z += Math.exp(-(i * i) / (2 * sigma * sigma));
  for (const [dy, dx] of [[0, 0], [1, 2], [-3, 0], [4, 4]]) {
    const want = (1000 * Math.exp(-(dy * dy + dx * dx) / (2 * sigma * sigma))) / (z * z);
    assert.ok(Math.abs(b[(10 + dy) * n + 10 + dx] - want) < 1e-3, `(${dy}, ${dx})`);
  }
  for (const f of gaussianBlur(new Float32Array(64).fill(9), [8, 8, 1], 2)) assert.ok(Math.abs(f - 9) < 1e-4);
});

test('noise has the asked σ in 0–255 units and replays from the same rng state', () => {
  const hr = { values: new Uint8Array(256 * 256).fill(128), h: 256, w: 256, c: 1 };
  const spec = { ...DEFAULT_DEGRADE, scale: 2, noise: 10 };
  const a = degradeSync(hr, spec, new Rng(5));
  const diffs = Array.from(a.values, (v) => v - 128);
  const mean = diffs.reduce((s, d) => s + d, 0) / diffs.length;
  const sd = Math.sqrt(diffs.reduce((s, d) => s + (d - mean) ** 2, 0) / diffs.length);
  assert.ok(Math.abs(mean) < 0.2 && Math.abs(sd - 10) < 0.3, `mean ${mean}, σ ${sd}`);
  assert.deepEqual(degradeSync(hr, spec, new Rng(5)).values, a.values);
  assert.notDeepEqual(degradeSync(hr, spec, new Rng(6)).values, a.values);
  assert.deepEqual([a.h, a.w, a.c], [128, 128, 1]);
});

test('JPEG round trips: shape kept, error grows as quality falls', async () => {
  const [h, w] = [32, 48];
  const v = Uint8Array.from({ length: h * w * 3 }, (_, i) => Math.round(128 + 100 * Math.sin(i / 37)));
  const mse = (a: Uint8Array) => a.reduce((s, x, i) => s + (x - v[i]) ** 2, 0) / a.length;
  const q95 = await jpegRoundTrip({ values: v, h, w, c: 3 }, 95);
  const q10 = await jpegRoundTrip({ values: v, h, w, c: 3 }, 10);
  assert.deepEqual([q95.h, q95.w, q95.c, q95.values.length], [h, w, 3, v.length]);
  assert.ok(mse(q10.values) > 2 * mse(q95.values), `mse q10 ${mse(q10.values)} vs q95 ${mse(q95.values)}`);
  const grey = await degrade({ values: new Uint8Array(64 * 64).fill(90), h: 64, w: 64, c: 1 }, { ...DEFAULT_DEGRADE, jpeg: 50 }, new Rng(0));
  assert.deepEqual([grey.h, grey.w, grey.c], [16, 16, 1]);
  for (const g of grey.values) assert.ok(Math.abs(g - 90) <= 1);
});

test('modcrop keeps the top-left part whose sides divide by the scale', () => {
  const v = random(7 * 10 * 3, 4);
  const m = modcrop({ values: v, h: 7, w: 10, c: 3 }, 4);
  assert.deepEqual([m.h, m.w], [4, 8]);
  for (let y = 0; y < 4; y++) assert.deepEqual(Array.from(m.values.subarray(y * 24, (y + 1) * 24)), Array.from(v.subarray(y * 30, y * 30 + 24)));
  const same = { values: v, h: 7, w: 10, c: 3 };
  assert.equal(modcrop(same, 1), same);
});

test('degradation settings are refused with the name of the flag', () => {
  const bad: [Partial<typeof DEFAULT_DEGRADE>, RegExp][] = [[{ scale: 3 }, /--scale/], [{ blur: -1 }, /--blur/], [{ noise: 300 }, /--noise/], [{ jpeg: 0 }, /--jpeg/], [{ downsample: 'nearest' as 'area' }, /--downsample/]];
  for (const [b, re] of bad) assert.throws(() => checkDegrade({ ...DEFAULT_DEGRADE, ...b }), (e: unknown) => e instanceof UserError && re.test((e as Error).message));
  assert.throws(() => downscale(new Uint8Array(36), [6, 6, 1], 4, 'area'), /divisible/);
});
