import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baselineScores, diffusionFill, holeL1, holePsnr, inpaintingScores, meanFill } from '../../src/metrics/inpainting.js';

/** A hole: the rectangle [y0, y1) × [x0, x1) of an h×w image. */
function box(h: number, w: number, y0: number, y1: number, x0: number, x1: number): Uint8Array {
  return Uint8Array.from({ length: h * w }, (_, p) => (Math.floor(p / w) >= y0 && Math.floor(p / w) < y1 && p % w >= x0 && p % w < x1 ? 1 : 0));
}

test('hole L1 and PSNR count the hole only; whole-image ones every pixel; closed forms', () => {
  // 2×2×1 images differing by 0.5 in the hole (pixels 0, 1) and by 0.1 outside.
  const a = [0.5, 0.5, 0.1, 0.1];
  const b = [0, 0, 0, 0];
  const hole = [1, 1, 0, 0];
  assert.equal(holeL1(a, b, hole, 1), 0.5);
  assert.ok(Math.abs(holeL1(a, b, undefined, 1) - 0.3) < 1e-12);
  assert.ok(Math.abs(holePsnr(a, b, hole, 1) - 10 * Math.log10(4 / 0.25)) < 1e-9);
  assert.ok(Math.abs(holePsnr(a, b, undefined, 1, 1) - 10 * Math.log10(1 / ((0.25 * 2 + 0.01 * 2) / 4))) < 1e-9);
  assert.equal(holePsnr(b, b, hole, 1), Infinity);
  const s = inpaintingScores([...a, ...b], [...b, ...b], [hole, hole], [2, 2, 1]);
  assert.equal(s.holeL1, 0.25);
});

test('mean fill: exact on a constant image; the hole holds the known pixels’ mean per channel', () => {
  const [h, w, c] = [6, 5, 3];
  const image = Float32Array.from({ length: h * w * c }, (_, i) => [0.2, -0.4, 0.9][i % 3]);
  const hole = box(h, w, 1, 4, 1, 3);
  assert.deepEqual(meanFill(image, hole, c), image);
  const ramp = Float32Array.from({ length: 4 }, (_, i) => i); // 2×2×1, 0 1 2 3
  assert.deepEqual([...meanFill(ramp, [0, 0, 0, 1], 1)], [0, 1, 2, 1]);
  assert.throws(() => meanFill(ramp, [1, 1, 1, 1], 1), /no known pixel/);
});

test('diffusion fill reproduces a linear ramp (harmonic) exactly, in every channel; a constant too', () => {
  const [h, w, c] = [20, 24, 2];
  const image = new Float32Array(h * w * c);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    image[(y * w + x) * c] = 0.03 * x - 0.05 * y + 0.2;
    image[(y * w + x) * c + 1] = -0.02 * x + 0.01 * y;
  }
  const hole = box(h, w, 4, 15, 5, 19);
  const filled = diffusionFill(image, hole, [h, w, c], { tol: 1e-9 });
  let worst = 0;
  for (let i = 0; i < image.length; i++) worst = Math.max(worst, Math.abs(filled[i] - image[i]));
  assert.ok(worst < 1e-5, `max error ${worst}`);
  // The mean fill does not reproduce the ramp: the oracle tells the two apart.
  const mean = meanFill(image, hole, c);
  assert.ok(holeL1(mean, image, hole, c) > 0.05);
  // A constant stays constant, also where the hole touches the image's edge.
  const flat = new Float32Array(h * w).fill(0.7);
  const edge = box(h, w, 0, 10, 0, 10);
  assert.ok(diffusionFill(flat, edge, [h, w, 1]).every((v) => Math.abs(v - 0.7) < 1e-6));
});

test('diffusion fill: each hole pixel is the mean of its neighbours (the discrete Laplace equation) on a non-harmonic image', () => {
  const [h, w] = [9, 9];
  const image = Float32Array.from({ length: h * w }, (_, p) => Math.sin(p) * 0.8);
  const hole = box(h, w, 2, 7, 3, 6);
  const u = diffusionFill(image, hole, [h, w, 1], { tol: 1e-10 });
  for (let p = 0; p < h * w; p++) {
    if (!hole[p]) {
      assert.equal(u[p], image[p]);
      continue;
    }
    const avg = (u[p - w] + u[p + w] + u[p - 1] + u[p + 1]) / 4;
    assert.ok(Math.abs(u[p] - avg) < 1e-6, `pixel ${p}: ${u[p]} vs ${avg}`);
  }
  const scores = baselineScores(image, [hole], [h, w, 1]);
  assert.ok(scores.diffusion.l1 < scores.diffusion.holeL1, 'whole-image L1 is diluted by the exact known pixels');
});
