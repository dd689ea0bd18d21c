// ADA (src/gan/tricks/ada.ts): each augmentation against a direct per-pixel computation, the whole pipeline
// against a loop implementation, finite-difference gradients, the controller's p in closed form, the settings'
// validation, and a few training steps (p moves, tensors flat, no aten fallback, p survives checkpoint/resume).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '@tensorflow/tfjs-layers'; // registers gradients for tf.grad / optimizer.minimize in Node
import * as tf from '@tensorflow/tfjs-core';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../../src/backend/index.js';
import { resolveConfig, validatePartialConfig } from '../../src/gan/config.js';
import { IDENTITY_DRAW, colourMatrix, type AdaDraw } from '../../src/gan/tricks/ada.js';
import { SYM6 } from '../../src/gan/tricks/ada_resample.js';
import {
  AdaController, StepTricks, TrickState, adaAugment, applyAda, createTrickState, drawAda, trickProblem,
} from '../../src/gan/tricks/index.js';
import { leastSquares, nonSaturating } from '../../src/gan/losses.js';
import { trainChecked } from '../models/train_checked.js';
import { disposeState } from '../../src/gan/training_step.js';
import { loadData } from '../../src/data/registry.js';
import { readCheckpointState, resolveCheckpoint } from '../../src/gan/checkpoint.js';
import { resumeRun, startRun } from '../../src/run.js';
import { getModel } from '../../src/models/registry.js';
import { checkHonoured } from '../../src/gan/settings.js';
import { Rng } from '../../src/util/rng.js';
import { backends, close, randn } from '../nn/style_helpers.js';

await initBackend({ quiet: true });
const aten = backends().includes('aten') ? ((await import('tfjs-backend-aten' as string)) as { atenFallbackKernels(): string[] }) : null;

const draw = (d: Partial<AdaDraw>): AdaDraw => ({ ...IDENTITY_DRAW, ...d });

/** Index k of 0..n−1 continued by mirroring about the end samples, walked step by step (…, 1, 0, 1, …, n−1, n−2, …). */
function reflect(k: number, n: number): number {
  let i = 0, dir = 1;
  for (let s = 0; s < Math.abs(k); s++) {
    if (n > 1 && (i + dir * Math.sign(k) < 0 || i + dir * Math.sign(k) > n - 1)) dir = -dir;
    if (n > 1) i += dir * Math.sign(k);
  }
  return i;
}

type M3 = number[]; // row-major 3×3 on homogeneous (y, x, 1)
const mul3 = (a: M3, b: M3): M3 => [0, 1, 2].flatMap((i) => [0, 1, 2].map((j) => a[i * 3] * b[j] + a[i * 3 + 1] * b[3 + j] + a[i * 3 + 2] * b[6 + j]));
const apply3 = (m: M3, y: number, x: number): [number, number] => [m[0] * y + m[1] * x + m[2], m[3] * y + m[4] * x + m[5]];
function invert3(m: M3): M3 {
  const [a, b, c, d, e, f, g, h, k] = m;
  const det = a * (e * k - f * h) - b * (d * k - f * g) + c * (d * h - e * g);
  return [e * k - f * h, c * h - b * k, b * f - c * e, f * g - d * k, a * k - c * g, c * d - a * f, d * h - e * g, b * g - a * h, a * e - b * d].map((v) => v / det);
}

/**
 * The geometric part as the forward map of source (y, x) to output, composed as matrices in the paper's order about
 * the centre: isotropic scale, rotation, anisotropic scale (x by a, y by 1/a), rotation, fractional translation. A
 * rotation by θ maps (y, x) ↦ (y cos θ − x sin θ, y sin θ + x cos θ) (counter-clockwise as displayed, y down).
 */
function geometricForward(d: AdaDraw, h: number, w: number): M3 {
  const cy = (h - 1) / 2, cx = (w - 1) / 2;
  const shift = (ty: number, tx: number): M3 => [1, 0, ty, 0, 1, tx, 0, 0, 1];
  const scale = (sy: number, sx: number): M3 => [sy, 0, 0, 0, sx, 0, 0, 0, 1];
  const rotate = (t: number): M3 => [Math.cos(t), -Math.sin(t), 0, Math.sin(t), Math.cos(t), 0, 0, 0, 1];
  const steps = [shift(-cy, -cx), scale(d.scale, d.scale), rotate(d.preRotation), scale(1 / d.aniso, d.aniso), rotate(d.postRotation), shift(cy + d.fy, cx + d.fx)];
  return steps.reduce((m, step) => mul3(step, m));
}

/** x [B, H, W, C] as nested arrays x[b][i][j][c]. */
function nested(x: tf.Tensor): number[][][][] {
  return x.arraySync() as number[][][][];
}

const isGeometricIdentity = (d: AdaDraw) => d.scale === 1 && d.preRotation === 0 && d.aniso === 1 && d.postRotation === 0 && d.fx === 0 && d.fy === 0;

/** Where output pixel (i, j) of the blit (rotation, flip, integer translation) reads its source, for real (i, j). */
function blitInverse(d: AdaDraw, n: number, w: number, i: number, j: number): [number, number] {
  const a = i - d.ty, t = j - d.tx, b = d.flip ? w - 1 - t : t;
  switch (d.rot) {
    case 0: return [a, b];
    case 1: return [b, n - 1 - a];
    case 2: return [n - 1 - a, w - 1 - b];
    default: return [n - 1 - b, a];
  }
}

/**
 * The authors' anti-aliased resampling written out per output pixel: the source upsampled 2× through the Symlet-6
 * filter (continued by reflection up to one side beyond each edge, zeros past that), read bilinearly where the
 * inverse maps each 2× sample's position, filtered and decimated. Sample k of a 2× grid sits at (k + a − m)/2, with m
 * the filter's centroid and a its rounding: where linear content is reproduced exactly.
 */
function filteredSample(img: number[][][], src: (i: number, j: number) => [number, number], i: number, j: number, c: number): number {
  const n = img.length, w = img[0].length, taps = SYM6.length;
  const m = SYM6.reduce((s, v, k) => s + k * v, 0), a = Math.round(m);
  const pos = (k: number) => (k + a - m) / 2, at = (s: number) => 2 * s - a + m;
  const up = (r: number, q: number): number => {
    if (r < Math.floor(at(-(n - 1))) || r > Math.ceil(at(2 * (n - 1))) || q < Math.floor(at(-(w - 1))) || q > Math.ceil(at(2 * (w - 1)))) return 0;
    let v = 0;
    for (let y = Math.ceil((r + a - taps + 1) / 2); 2 * y <= r + a; y++) {
      for (let x = Math.ceil((q + a - taps + 1) / 2); 2 * x <= q + a; x++) v += 4 * SYM6[r - 2 * y + a] * SYM6[q - 2 * x + a] * img[reflect(y, n)][reflect(x, w)][c];
    }
    return v;
  };
  let out = 0;
  for (let s = 0; s < taps; s++) {
    for (let t = 0; t < taps; t++) {
      const [sy, sx] = src(pos(2 * i - a + s), pos(2 * j - a + t));
      const ry = at(sy), rx = at(sx), fy = Math.floor(ry), fx = Math.floor(rx), ty = ry - fy, tx = rx - fx;
      const warped = (1 - ty) * (1 - tx) * up(fy, fx) + (1 - ty) * tx * up(fy, fx + 1) + ty * (1 - tx) * up(fy + 1, fx) + ty * tx * up(fy + 1, fx + 1);
      out += SYM6[s] * SYM6[t] * warped;
    }
  }
  return out;
}

/**
 * The pipeline written out per pixel, as a second implementation. Geometry: an example whose draw moves by whole
 * pixels reads rotation by index arithmetic, then flip, then translation (reflect-continued); any other is resampled
 * through filteredSample, the blit composed into the inverse map, or with 'bilinear' from the four blitted pixels
 * around each point. Then each colour step by its own formula in the paper's order.
 */
function reference(x: number[][][][], draws: AdaDraw[], resample: 'sym6' | 'bilinear' = 'sym6'): number[][][][] {
  return x.map((img, b) => {
    const d = draws[b];
    const resampled = !isGeometricIdentity(d);
    const n = img.length, w = img[0].length, ch = img[0][0].length;
    const rot = (i: number, j: number): number[] => {
      switch (d.rot) {
        case 0: return img[i][j];
        case 1: return img[j][n - 1 - i];
        case 2: return img[n - 1 - i][w - 1 - j];
        default: return img[n - 1 - j][i];
      }
    };
    // The flipped, translated image, continued by reflection for any integer (i, j).
    const moved = (i: number, j: number): number[] => {
      const jj = reflect(j - d.tx, w);
      return rot(reflect(i - d.ty, n), d.flip ? w - 1 - jj : jj);
    };
    const inverse = invert3(geometricForward(d, n, w));
    const src = (i: number, j: number) => {
      const [ci, cj] = apply3(inverse, i, j);
      return blitInverse(d, n, w, ci, cj);
    };
    const out: number[][][] = [];
    for (let i = 0; i < n; i++) {
      out.push([]);
      for (let j = 0; j < w; j++) {
        // Plain bilinear: the four blitted pixels around the point where the geometric part's inverse sends (i, j).
        const [ci, cj] = apply3(inverse, i, j);
        const fi = Math.floor(ci), fj = Math.floor(cj), ti = ci - fi, tj = cj - fj;
        const bilinear = (c: number) =>
          (1 - ti) * (1 - tj) * moved(fi, fj)[c] + (1 - ti) * tj * moved(fi, fj + 1)[c] + ti * (1 - tj) * moved(fi + 1, fj)[c] + ti * tj * moved(fi + 1, fj + 1)[c];
        let px = [0, 1, 2].slice(0, ch).map((c) => (!resampled ? moved(i, j)[c] : resample === 'sym6' ? filteredSample(img, src, i, j, c) : bilinear(c)));
        const grey = ch === 1;
        let rgb = grey ? [px[0], px[0], px[0]] : px;
        const mean = (v: number[]) => (v[0] + v[1] + v[2]) / 3;
        rgb = rgb.map((v) => v + d.brightness);
        rgb = rgb.map((v) => v * d.contrast);
        if (d.lumaFlip) rgb = rgb.map((v, _, a) => v - 2 * mean(a));
        if (d.hue !== 0) {
          // Rodrigues about the unit grey axis u: v cos θ + (u × v) sin θ + u (u·v)(1 − cos θ)
          const [r, g, bl] = rgb, s = 1 / Math.sqrt(3), cos = Math.cos(d.hue), sin = Math.sin(d.hue);
          const uxv = [s * (bl - g), s * (r - bl), s * (g - r)]; // u × (r, g, b)
          const m = mean(rgb);
          rgb = [0, 1, 2].map((c) => rgb[c] * cos + uxv[c] * sin + m * (1 - cos));
        }
        if (d.saturation !== 1) rgb = rgb.map((v, _, a) => mean(a) + d.saturation * (v - mean(a)));
        px = grey ? [mean(rgb)] : rgb;
        out[i].push(px);
      }
    }
    return out;
  });
}

const flat = (a: number[][][][]) => Float32Array.from(a.flat(3));

for (const backend of backends()) {
  test(`[${backend}] each augmentation at p = 1 with fixed draws equals its direct computation`, async () => {
    await tf.setBackend(backend);
    const x = randn([4, 6, 6, 3], 1) as tf.Tensor4D;
    const xs = nested(x);
    // x-flip: tf.reverse along W, exactly.
    const flipped = applyAda(x, [0, 1, 2, 3].map(() => draw({ flip: true })));
    assert.deepEqual(flipped.dataSync(), tf.reverse(x, 2).dataSync(), 'flip = reverse along W');
    // rotations by k·90°: out[i][j] = x[j][n−1−i] for k = 1, etc.; one batch with k = 0..3 per example.
    const rots = [0, 1, 2, 3].map((k) => draw({ rot: k as AdaDraw['rot'] }));
    assert.deepEqual(applyAda(x, rots).dataSync(), flat(reference(xs, rots)), 'rot90 per example');
    assert.deepEqual(Array.from(applyAda(x, rots).dataSync().slice(6 * 6 * 3, 6 * 6 * 3 + 3)), xs[1][0][5], 'k = 1: out[0][0] = x[0][n−1]');
    // integer translation, continued by reflection about the edge pixels
    const moves = [draw({ tx: 2 }), draw({ ty: -3 }), draw({ tx: -1, ty: 1 }), draw({ tx: 5, ty: -5 })];
    assert.deepEqual(applyAda(x, moves).dataSync(), flat(reference(xs, moves)), 'translation');
    const row = applyAda(tf.tensor4d([0, 1, 2, 3, 4, 5], [1, 1, 6, 1]), [draw({ tx: 2 })]).dataSync();
    assert.deepEqual(Array.from(row), [2, 1, 0, 1, 2, 3], 'a shift right by 2 reflects about the first pixel');
    // scaling by 1 is the identity, exactly
    assert.deepEqual(applyAda(x, [0, 1, 2, 3].map(() => draw({ scale: 1 }))).dataSync(), x.dataSync(), 'scale 1');
    // Fractional geometry runs through the 2× filtered resampling, which reproduces linear content exactly: on ramps,
    // away from the edges (where the reflected continuation bends the ramp within the filter's reach), out = the ramp
    // at the source point.
    const side = 25, c4 = 12; // centre pixel 12
    const rampY = tf.tensor4d(Array.from({ length: side * side }, (_, k) => Math.floor(k / side)), [1, side, side, 1]);
    const rampX = tf.tensor4d(Array.from({ length: side * side }, (_, k) => k % side), [1, side, side, 1]);
    const grid = (f: (i: number, j: number) => number) => Array.from({ length: side * side }, (_, k) => f(Math.floor(k / side), k % side));
    const near = (v: number) => v >= 5 && v <= side - 6; // read points whose filters stay inside the image
    const where = (a: ArrayLike<number>, keep: (i: number, j: number) => boolean) => Array.from(a).filter((_, k) => keep(Math.floor(k / side), k % side));
    const onRamp = (got: tf.Tensor, want: (i: number, j: number) => number, keep: (i: number, j: number) => boolean, what: string) =>
      close(Float32Array.from(where(got.dataSync(), keep)), where(grid(want), keep), 1e-4, what);
    // scaling by 2 reads (i − c)/2 + c
    onRamp(applyAda(rampX, [draw({ scale: 2 })]), (_, j) => (j - c4) / 2 + c4, () => true, 'x ramp scaled by 2');
    // anisotropic 0.8: content 0.8× as wide and 1.25× as tall, so y reads 0.8·(i − c) and x reads (j − c)/0.8
    onRamp(applyAda(rampY, [draw({ aniso: 0.8 })]), (i) => c4 + 0.8 * (i - c4), (i) => near(c4 + 0.8 * (i - c4)), 'anisotropic on the vertical ramp');
    onRamp(applyAda(rampX, [draw({ aniso: 1.25 })]), (_, j) => c4 + (j - c4) / 1.25, (_, j) => near(c4 + (j - c4) / 1.25), 'anisotropic on the horizontal ramp');
    // fractional translation right by 0.25: out[i][j] = j − 0.25
    onRamp(applyAda(rampX, [draw({ fx: 0.25 })]), (_, j) => j - 0.25, (_, j) => near(j), 'fractional translation');
    // rotation by 0.3 rad: x reads c + cos θ·(j − c) − sin θ·(i − c); inside the disc whose sources stay inside
    const theta = 0.3, inDisc = (i: number, j: number) => (i - c4) ** 2 + (j - c4) ** 2 <= 49;
    onRamp(applyAda(rampX, [draw({ preRotation: theta })]), (i, j) => c4 + Math.cos(theta) * (j - c4) - Math.sin(theta) * (i - c4), inDisc, 'rotation by 0.3 rad');
    // a quarter turn before the anisotropic scaling and one back after it, on the same ramp: the composition signs
    onRamp(applyAda(rampX, [draw({ preRotation: Math.PI / 2, postRotation: -Math.PI / 2, aniso: 0.8 })]), (_, j) => c4 + 0.8 * (j - c4), (_, j) => near(c4 + 0.8 * (j - c4)), 'turn, stretch, turn back');
    // The filter is orthogonal to its even shifts: in a resampled batch, examples that stay put or move by whole
    // pixels come out exactly (within the reflected margin), including fractional-translation draws of whole pixels.
    const mixed = [draw({ fx: 0.5, scale: 1.2 }), draw({}), draw({ tx: 2, ty: -1 }), draw({ fx: 1, fy: -1 })];
    const exact = [draw({}), draw({}), draw({ tx: 2, ty: -1 }), draw({ tx: 1, ty: -1 })];
    close(applyAda(x, mixed).dataSync().slice(6 * 6 * 3), applyAda(x, exact).dataSync().slice(6 * 6 * 3), 1e-5, 'whole-pixel moves in a resampled batch');
    // every geometric augmentation at once against the per-pixel reference
    const all = [draw({ scale: 1.3, preRotation: 0.4, aniso: 0.7, postRotation: -1.1, fx: 0.6, fy: -1.2, flip: true, tx: 1 }), draw({ rot: 3, postRotation: 2.5, fy: 0.3 }),
      draw({ scale: 0.6, aniso: 1.4 }), draw({})];
    close(applyAda(x, all).dataSync(), flat(reference(xs, all)), 1e-5, 'geometric set');
    tf.dispose([rampY, rampX]);
    // colour, per pixel: brightness adds, contrast multiplies, luma flip subtracts twice the mean, saturation
    // scales the distance from the mean, hue by 2π/3 about the grey axis permutes (r, g, b) → (b, r, g)
    const px = xs.map((img) => img.flat(1)); // [B][H·W][3]
    const perPixel = (d: Partial<AdaDraw>, f: (rgb: number[]) => number[]) =>
      close(applyAda(x, [0, 1, 2, 3].map(() => draw(d))).dataSync(), px.flatMap((p) => p.flatMap(f)), 1e-5, JSON.stringify(d));
    const mean = (v: number[]) => (v[0] + v[1] + v[2]) / 3;
    perPixel({ brightness: 0.3 }, (v) => v.map((u) => u + 0.3));
    perPixel({ contrast: 1.7 }, (v) => v.map((u) => u * 1.7));
    perPixel({ lumaFlip: true }, (v) => v.map((u) => u - 2 * mean(v)));
    perPixel({ saturation: 0.25 }, (v) => v.map((u) => mean(v) + 0.25 * (u - mean(v))));
    perPixel({ hue: (2 * Math.PI) / 3 }, ([r, g, b]) => [b, r, g]);
    perPixel({ hue: Math.PI / 5 }, (v) => Array.from(flat(reference([[[v]]], [draw({ hue: Math.PI / 5 })]))));
    // grey images: the mean of the three channels after the colour map (hue and saturation leave grey alone)
    const grey = randn([2, 3, 3, 1], 2) as tf.Tensor4D;
    const gd = [draw({ brightness: -0.2, contrast: 0.5, hue: 1, saturation: 3 }), draw({ lumaFlip: true })];
    const gs = nested(grey).map((img) => img.flat(2));
    close(applyAda(grey, gd).dataSync(), [...gs[0].map((v) => (v - 0.2) * 0.5), ...gs[1].map((v) => -v)], 1e-5, 'grey');
    tf.dispose([x, flipped, grey]);
  });

  test(`[${backend}] random draws at p = 1 equal the per-pixel loop; p = 0 is the identity`, async () => {
    await tf.setBackend(backend);
    for (const [shape, seed] of [[[6, 8, 8, 3], 3], [[5, 7, 7, 1], 4]] as const) {
      const x = randn([...shape], seed) as tf.Tensor4D;
      const draws = drawAda(new Rng(seed), shape[0], shape[1], shape[2], 1);
      assert.ok(draws.every((d) => d.scale !== 1 && d.contrast !== 1 && d.hue !== 0), 'p = 1 turns every augmentation on');
      close(applyAda(x, draws).dataSync(), flat(reference(nested(x), draws)), 1e-4, `pipeline on [${shape}]`);
      close(applyAda(x, draws, 'bilinear').dataSync(), flat(reference(nested(x), draws, 'bilinear')), 1e-4, `bilinear pipeline on [${shape}]`);
      assert.equal(adaAugment(x, 0, new Rng(1)), x, 'p = 0: x itself');
      assert.ok(drawAda(new Rng(1), 4, 8, 8, 0).every((d) => JSON.stringify(d) === JSON.stringify(IDENTITY_DRAW)));
      x.dispose();
    }
    // Non-square images: no quarter turns are drawn, the rest applies.
    const wide = randn([6, 6, 8, 3], 11) as tf.Tensor4D;
    const wideDraws = drawAda(new Rng(12), 6, 6, 8, 1);
    assert.ok(wideDraws.every((d) => d.rot % 2 === 0), 'rot 0 or 2 on 6×8');
    close(applyAda(wide, wideDraws).dataSync(), flat(reference(nested(wide), wideDraws)), 1e-4, 'pipeline on [6,6,8,3]');
    wide.dispose();
    // At p = 0.3 about 30% of the examples get each augmentation.
    const many = drawAda(new Rng(5), 4000, 32, 32, 0.3);
    const share = many.filter((d) => d.scale !== 1).length / many.length;
    assert.ok(Math.abs(share - 0.3) < 0.03, `share scaled ${share}`);
    const shifts = many.filter((d) => d.tx !== 0).map((d) => Math.abs(d.tx));
    assert.ok(Math.max(...shifts) === 4, 'translation up to ⅛ of 32 pixels');
    // Arbitrary rotation twice at 1 − √(1 − p) each: at least one with probability p.
    const rotated = many.filter((d) => d.preRotation !== 0 || d.postRotation !== 0).length / many.length;
    assert.ok(Math.abs(rotated - 0.3) < 0.03, `share rotated ${rotated}`);
    const fractions = many.filter((d) => d.fx !== 0).map((d) => d.fx / 32);
    const fracStd = Math.sqrt(fractions.reduce((a, v) => a + v * v, 0) / fractions.length);
    assert.ok(Math.abs(fracStd - 0.125) < 0.015, `fractional translation std ${fracStd} of the side`);
  });

  test(`[${backend}] the filtered resampling does not alias: content shrunk past the Nyquist rate fades instead of folding`, async () => {
    await tf.setBackend(backend);
    // Columns cos(2π·0.42·j): below the Nyquist rate (0.5 cycles a pixel). Scaled by ½ they would be 0.84 cycles a
    // pixel, which a grid cannot hold: band-limited resampling removes them, while point-wise bilinear sampling folds
    // them into a false wave of 1 − 0.84 = 0.16 cycles a pixel. Measured away from the edges.
    const side = 33; // odd: the centre is a pixel, so bilinear reads whole pixels and folds at full amplitude
    const wave = (j: number) => Math.cos(2 * Math.PI * 0.42 * j);
    const x = tf.tensor4d(Array.from({ length: side * side }, (_, k) => wave(k % side)), [1, side, side, 1]);
    const rms = (v: ArrayLike<number>) => {
      let s = 0, n = 0;
      for (let k = 0; k < v.length; k++) if (Math.floor(k / side) >= 8 && Math.floor(k / side) < 25 && k % side >= 8 && k % side < 25) { s += v[k] ** 2; n++; }
      return Math.sqrt(s / n);
    };
    const filtered = rms(applyAda(x, [draw({ scale: 0.5 })]).dataSync());
    // --ada-resample bilinear reads whole pixels 2(j − c) + c here: the folded wave, at full amplitude.
    const bilinear = rms(applyAda(x, [draw({ scale: 0.5 })], 'bilinear').dataSync());
    assert.ok(bilinear > 0.5, `bilinear sampling folds the wave back (rms ${bilinear})`);
    assert.ok(filtered < 0.1 * bilinear, `the filtered resampling removes it: rms ${filtered} against bilinear's ${bilinear}`);
    // Content the grid can hold passes: a wave of 0.1 cycles a pixel scaled by ½ keeps its amplitude (rms ≈ 1/√2).
    const slow = tf.tensor4d(Array.from({ length: side * side }, (_, k) => Math.cos(2 * Math.PI * 0.1 * (k % side))), [1, side, side, 1]);
    const kept = rms(applyAda(slow, [draw({ scale: 0.5 })]).dataSync());
    assert.ok(Math.abs(kept - Math.SQRT1_2) < 0.1, `a representable wave keeps its amplitude: rms ${kept}`);
    tf.dispose([x, slow]);
  });

  test(`[${backend}] the pipeline's gradient in x matches finite differences`, async () => {
    await tf.setBackend(backend);
    const x = randn([3, 6, 6, 3], 6) as tf.Tensor4D;
    const w = randn([3, 6, 6, 3], 7);
    const draws = drawAda(new Rng(8), 3, 6, 6, 1);
    const f = (xx: tf.Tensor) => tf.sum(tf.mul(applyAda(xx as tf.Tensor4D, draws), w));
    const g = tf.grad(f)(x);
    const gv = g.dataSync();
    const xv = x.dataSync();
    const eps = 1e-2;
    const rng = new Rng(9);
    for (let k = 0; k < 12; k++) {
      const i = rng.int(xv.length);
      const at = (delta: number) => tf.tidy(() => {
        const v = Float32Array.from(xv);
        v[i] += delta;
        return f(tf.tensor4d(v, x.shape)).dataSync()[0];
      });
      const fd = (at(eps) - at(-eps)) / (2 * eps);
      assert.ok(Math.abs(fd - gv[i]) <= 2e-3 * Math.max(1, Math.abs(fd)), `∂f/∂x[${i}]: grad ${gv[i]}, finite difference ${fd}`);
    }
    tf.dispose([x, w, g]);
  });
}

test('the colour matrix composes brightness, contrast, luma flip, hue and saturation in order', () => {
  // brightness then contrast: (v + b)·c, so the offset is b·c
  const m = colourMatrix(draw({ brightness: 0.5, contrast: 2 }));
  assert.deepEqual([m[0], m[3], m[5], m[7]], [2, 1, 2, 1]);
  // hue by 2π/3 three times is the identity; a full turn too
  const h = colourMatrix(draw({ hue: 2 * Math.PI }));
  [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0].forEach((v, i) => assert.ok(Math.abs(h[i] - v) < 1e-12, `hue 2π [${i}] = ${h[i]}`));
});

test("the controller's p follows the closed form on synthetic sign sequences", () => {
  // B = 16, interval 4, kimg 0.256: each adjustment moves p by 4·16/256 = ¼ (exact in binary).
  const ada = new AdaController({ target: 0.6, interval: 4, kimg: 0.256, batchSize: 16 });
  const rts = [0.9, 1, 0.7, 0.2, 0.6, 1, 1, 1, 1, -1];
  // p_k = clamp(p_{k−1} + ¼·sign(r_k − 0.6), 0, 1)
  const want: number[] = [];
  let p = 0;
  for (const rt of rts) want.push((p = Math.min(1, Math.max(0, p + 0.25 * Math.sign(rt - 0.6)))));
  assert.deepEqual(want, [0.25, 0.5, 0.75, 0.5, 0.5, 0.75, 1, 1, 1, 0.75]);
  const got: number[] = [];
  for (const rt of rts) {
    for (let s = 0; s < 4; s++) {
      assert.equal(ada.p, got.at(-1) ?? 0, 'p holds within an interval');
      ada.observe(rt * 16, 16); // r_t of 16 outputs per step, the same each step of the interval
      ada.endStep();
    }
    got.push(ada.p);
    assert.equal(ada.rt, rt);
  }
  assert.deepEqual(got, want);
  // The paper's speed: with its defaults p takes 500k images to go from 0 to 1.
  const paper = new AdaController({ target: 0.6, interval: 4, kimg: 500, batchSize: 64 });
  let steps = 0;
  while (paper.p < 1) {
    paper.observe(64, 64);
    paper.endStep();
    steps++;
  }
  assert.ok(Math.abs(steps * 64 - 500_000) <= 4 * 64, `${steps * 64} images to reach p = 1`);
  // A group's totals decide (the reduce hook): this rank alone would lower p, the group raises it.
  const ranked = new AdaController({ target: 0.6, interval: 1, kimg: 0.016, batchSize: 16 });
  ranked.observe(-8, 8);
  ranked.endStep(() => [14, 16]);
  assert.equal(ranked.p, 1);
  assert.equal(ranked.rt, 14 / 16);
  // The state round-trips through JSON exactly, mid-interval included; undefined restores the fresh state.
  const a = new AdaController({ target: 0.6, interval: 3, kimg: 0.1, batchSize: 10 });
  for (let s = 0; s < 4; s++) {
    a.observe(7, 10);
    a.endStep();
  }
  const b = new AdaController(a.opts);
  b.restore(JSON.parse(JSON.stringify(a.save())));
  assert.deepEqual(b.save(), a.save());
  // The second interval counts the sum saved mid-interval: r_t = (7 + 9 + 9)/30, and p rises again.
  for (const c of [a, b]) {
    c.observe(9, 10);
    c.endStep();
    c.observe(9, 10);
    c.endStep();
  }
  assert.equal(b.p, a.p);
  assert.equal(b.rt, 25 / 30, 'the saved mid-interval sum counts');
  assert.ok(Math.abs(a.p - 0.6) < 1e-12, `p after two adjustments of +0.3: ${a.p}`);
  b.restore(undefined);
  assert.equal(b.p, 0);
  assert.throws(() => b.restore({ p: 'x' }), /ADA's saved state is malformed/);
});

test("the step's tricks read sign(D(x)) where D's loss takes the real outputs (least squares: about ½)", () => {
  const config = resolveConfig({ adaTarget: 0.6, adaInterval: 2, adaKimg: 0.004, batchSize: 4, loss: 'least-squares' });
  const tricks = createTrickState(config)!;
  const real = tf.tensor2d([[0.9], [0.7], [0.2], [0.6]]); // minus ½: + + − + → Σ sign = 2
  const fake = tf.tensor2d([[0], [0], [0], [0]]);
  const stats: Record<string, number>[] = [];
  for (let step = 0; step < 2; step++) {
    const st = new StepTricks(config, step, new Rng(1), { tricks });
    const loss = st.discriminatorLoss(leastSquares);
    assert.equal(loss.d(real, fake).dataSync()[0], leastSquares.d(real, fake).dataSync()[0], 'the loss itself is unchanged');
    stats.push(st.finish());
  }
  // r_t = 4/8 = 0.5 < 0.6: p stays at 0 (clamped) after the interval; with logits centred at 0 it would be 1.
  assert.deepEqual(stats, [{ 'aug/p': 0 }, { 'aug/p': 0, 'aug/rt': 0.5 }]);
  const ns = createTrickState({ ...config, loss: 'non-saturating' })!;
  for (let step = 0; step < 2; step++) {
    const st = new StepTricks({ ...config, loss: 'non-saturating' }, step, new Rng(1), { tricks: ns });
    tf.dispose(st.discriminatorLoss(nonSaturating).d(real, fake));
    st.finish();
  }
  assert.equal(ns.ada!.rt, 1);
  assert.equal(ns.ada!.p, 1, '2 steps × 4 images / 4 images: p goes 0 → 1 in one adjustment');
  tf.dispose([real, fake]);
  assert.throws(() => new StepTricks(config, 0, new Rng(1)), /no trick state/);
});

test('ADA settings are validated at the edge, errors naming the flags', () => {
  assert.throws(() => validatePartialConfig({ adaTarget: 1 }, 'flags'), /--ada-target/);
  assert.throws(() => validatePartialConfig({ adaTarget: -0.1 }, 'flags'), /--ada-target/);
  assert.throws(() => validatePartialConfig({ adaInterval: 0 }, 'flags'), /--ada-interval/);
  assert.throws(() => validatePartialConfig({ adaInterval: 2.5 }, 'flags'), /--ada-interval/);
  assert.throws(() => validatePartialConfig({ adaKimg: 0 }, 'flags'), /--ada-kimg/);
  assert.throws(() => resolveConfig({ adaTarget: 0.6, diffAugment: 'color' }), /--ada-target and --diff-augment/);
  assert.throws(() => resolveConfig({ adaTarget: 0.6, loss: 'wasserstein' }), /--ada-target .* --loss wasserstein/);
  assert.throws(() => resolveConfig({ adaTarget: 0.6, loss: 'relativistic-average' }), /--loss relativistic-average/);
  const d = resolveConfig();
  assert.throws(() => validatePartialConfig({ adaP: 1.5 }, 'flags'), /--ada-p/);
  assert.throws(() => resolveConfig({ adaP: 0.2 }), /--ada-p 0.2 .* needs --ada-target/);
  assert.throws(() => validatePartialConfig({ adaResample: 'bicubic' } as never, 'flags'), /--ada-resample/);
  assert.throws(() => resolveConfig({ adaResample: 'bilinear' }), /--ada-resample bilinear .* needs --ada-target/);
  assert.equal(resolveConfig({ adaTarget: 0.6, adaResample: 'bilinear' }).adaResample, 'bilinear');
  assert.deepEqual([d.adaTarget, d.adaInterval, d.adaKimg, d.adaP, d.adaResample], [0, 4, 500, 0, 'sym6']);
  assert.equal(createTrickState(d), undefined, 'off by default: no trick state');
  const on = resolveConfig({ adaTarget: 0.6 });
  assert.match(trickProblem({ name: 'toy:ring8', kind: 'points', shape: [2] }, on) ?? '', /--ada-target augments images/);
  assert.match(trickProblem({ name: 'wide', kind: 'image', shape: [8, 16, 3] }, on) ?? '', /square images/);
  assert.match(trickProblem({ name: 'rgba', kind: 'image', shape: [8, 8, 4] }, on) ?? '', /4 channels/);
  assert.equal(trickProblem({ name: 'ok', kind: 'image', shape: [8, 8, 3] }, on), null);
});

test('families that honour DiffAugment honour ADA; the rest refuse it by name', async () => {
  const images = await loadData('fashion-mnist', { limit: 8 });
  for (const model of ['dcgan', 'acgan', 'infogan', 'bigan']) checkHonoured(getModel(model), images.info, { adaTarget: 0.6, adaKimg: 1 });
  assert.throws(() => checkHonoured(getModel('aae'), images.info, { adaTarget: 0.6 }), /--ada-target: aae does not use/);
});

test('dcgan and acgan train with ADA: p moves by the rule and is reported, tensors stay flat, no aten fallback kernels', async () => {
  await tf.setBackend(backends().at(-1)!); // aten where it is built
  const source = await loadData('fashion-mnist', { limit: 32 });
  for (const model of ['dcgan', 'acgan']) {
    const before = aten?.atenFallbackKernels() ?? [];
    // From p = ½, each adjustment (every 2 steps of 8 images, over 64 images) moves p by ¼: augmentation stays on.
    const { state, stats } = trainChecked(model, source, {
      width: 4, batchSize: 8, latentDim: 8, adaTarget: 0.6, adaInterval: 2, adaKimg: 0.064, adaP: 0.5, r1Gamma: model === 'dcgan' ? 1 : 0,
    }, 6);
    const ps = stats.map((s) => s.extra?.['aug/p']);
    const rts = stats.map((s) => s.extra?.['aug/rt']);
    const next = (p: number, rt: number) => Math.min(1, Math.max(0, p + 0.25 * Math.sign(rt - 0.6)));
    const p1 = next(0.5, rts[1]!);
    const p2 = next(p1, rts[3]!);
    assert.deepEqual(ps, [0.5, 0.5, p1, p1, p2, p2], `${model}: p by sign(r_t − target), r_t = ${rts}`);
    assert.equal(rts[0], undefined, 'no r_t before the first interval ends');
    assert.equal(state.tricks!.ada!.p, next(p2, rts[5]!));
    if (model === 'dcgan') assert.ok(stats.every((s) => (s.extra?.['reg/r1'] ?? 0) > 0), 'R1 on the augmented reals');
    if (aten && tf.getBackend() === 'aten') {
      assert.deepEqual(aten.atenFallbackKernels().filter((k) => !before.includes(k)), [], `${model}: kernels that ran on the CPU fallback`);
    }
    disposeState(state);
  }
});

test('p is checkpointed and a resumed run continues from it', async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-ada-'));
  try {
    const cfg = {
      model: 'dcgan', data: 'fashion-mnist', dataLimit: 32, width: 4, batchSize: 8, latentDim: 8, steps: 5, sampleEvery: 0,
      checkpointEvery: 0, logEvery: 1, adaTarget: 0.6, adaInterval: 2, adaKimg: 0.064, adaP: 0.5, out: path.join(tmp, 'run'),
    };
    const trainer = await startRun(cfg);
    await trainer.train();
    const saved = (await readCheckpointState(await resolveCheckpoint(cfg.out))).tricks as { ada: { p: number; steps: number } };
    assert.deepEqual(saved.ada, trainer.parts.tricks!.ada!.save(), 'state.json holds the controller as it ended');
    assert.equal(saved.ada.steps, 1, 'mid-interval: one step of the next interval seen');
    trainer.dispose();
    const resumed = await resumeRun(cfg.out, { steps: 6 });
    assert.deepEqual(resumed.parts.tricks!.ada!.save(), saved.ada);
    resumed.dispose();
    const fresh = new TrickState(resolveConfig({ adaTarget: 0.6 }));
    fresh.restore({ ada: saved.ada });
    assert.deepEqual(fresh.save(), { ada: saved.ada });
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});
