import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { drawMask, exampleMasks, holeArea, maskOptionsOf, maskedInputs, readMask, readMaskFolder, rectMask, strokeMask } from '../../src/data/masks.js';
import { loadDerived } from '../../src/data/derived.js';
import type { ArraySource } from '../../src/data/types.js';
import { Rng } from '../../src/util/rng.js';
import { UserError } from '../../src/util/errors.js';
import { pattern, tmp, writeImage } from './image_fixtures.js';

/** 4-connected components of the hole pixels. */
function components(m: Uint8Array, h: number, w: number): number {
  const seen = new Uint8Array(m.length);
  let count = 0;
  for (let s = 0; s < m.length; s++) {
    if (!m[s] || seen[s]) continue;
    count++;
    const stack = [s];
    seen[s] = 1;
    while (stack.length) {
      const p = stack.pop()!;
      const [y, x] = [Math.floor(p / w), p % w];
      for (const [dy, dx] of [[1, 0], [-1, 0], [0, 1], [0, -1]]) {
        const [yy, xx] = [y + dy, x + dx];
        const q = yy * w + xx;
        if (yy >= 0 && yy < h && xx >= 0 && xx < w && m[q] && !seen[q]) {
          seen[q] = 1;
          stack.push(q);
        }
      }
    }
  }
  return count;
}

test('rect masks are one full rectangle with sides ¼–½ of the image', () => {
  const rng = new Rng(1);
  for (let t = 0; t < 50; t++) {
    const m = rectMask(rng, 32, 24);
    const ps = [...m.keys()].filter((p) => m[p]);
    const ys = ps.map((p) => Math.floor(p / 24));
    const xs = ps.map((p) => p % 24);
    const [hh, hw] = [Math.max(...ys) - Math.min(...ys) + 1, Math.max(...xs) - Math.min(...xs) + 1];
    assert.equal(ps.length, hh * hw);
    assert.ok(hh >= 8 && hh <= 16 && hw >= 6 && hw <= 12, `${hh}×${hw}`);
  }
});

test('stroke masks: thick connected strokes (1–4), neither empty nor full, varied, reproducible from a seed', () => {
  const rng = new Rng(2);
  const areas: number[] = [];
  for (let t = 0; t < 100; t++) {
    const m = strokeMask(rng, 64, 64);
    const area = holeArea(m);
    areas.push(area);
    assert.ok(area > 0 && area < 64 * 64, `area ${area}`);
    const k = components(m, 64, 64);
    assert.ok(k >= 1 && k <= 4, `${k} strokes`);
    // A brush at 64 px is at least 3 px wide: some hole pixel has all 8 neighbours in the hole.
    let interior = false;
    for (let y = 1; y < 63 && !interior; y++) for (let x = 1; x < 63 && !interior; x++) {
      let all = true;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) all &&= m[(y + dy) * 64 + x + dx] === 1;
      interior = all;
    }
    assert.ok(interior, 'strokes are thicker than a line');
    assert.equal(components(rectMask(new Rng(t), 64, 64), 64, 64), 1);
  }
  const mean = areas.reduce((a, b) => a + b, 0) / areas.length / 4096;
  assert.ok(mean > 0.03 && mean < 0.5, `mean hole fraction ${mean.toFixed(3)}`);
  assert.ok(new Set(areas).size > 50, 'masks vary');
  assert.deepEqual(strokeMask(new Rng(9), 32, 32), strokeMask(new Rng(9), 32, 32));
  // mixed draws both kinds
  const rngMixed = new Rng(3);
  const kinds = Array.from({ length: 40 }, () => {
    const m = drawMask('mixed', rngMixed, 32, 32);
    const ps = [...m.keys()].filter((p) => m[p]);
    const ys = ps.map((p) => Math.floor(p / 32));
    const xs = ps.map((p) => p % 32);
    return ps.length === (Math.max(...ys) - Math.min(...ys) + 1) * (Math.max(...xs) - Math.min(...xs) + 1) ? 'rect' : 'strokes';
  });
  assert.ok(kinds.includes('rect') && kinds.includes('strokes'), kinds.join(','));
});

test('per-example masks are the same on every call; maskedInputs fills the hole and appends the mask channel', () => {
  assert.deepEqual(exampleMasks(5, 16, 16, 'strokes', 7), exampleMasks(5, 16, 16, 'strokes', 7));
  assert.notDeepEqual(exampleMasks(5, 16, 16, 'strokes', 7)[1], exampleMasks(5, 16, 16, 'strokes', 7)[2]);
  const img = Uint8Array.of(10, 20, 30, 40); // 2×2×1
  const out = maskedInputs(img, 1, [2, 2, 1], () => Uint8Array.of(0, 1, 1, 0));
  assert.deepEqual([...out], [10, 0, 128, 255, 128, 255, 40, 0]);
});

test('mask files: white = hole, stretched to the image; folders validated with the flag named', async () => {
  const dir = await tmp('ganforge-masks-');
  const white = new Uint8Array(8 * 8).fill(0);
  for (let y = 0; y < 4; y++) for (let x = 0; x < 8; x++) white[y * 8 + x] = 255; // top half
  await writeImage(join(dir, 'good', 'a.png'), white, [8, 8, 1]);
  const m = await readMask(join(dir, 'good', 'a.png'), 16, 4);
  assert.deepEqual([...m], Array.from({ length: 64 }, (_, p) => (p < 32 ? 1 : 0)));
  assert.equal((await readMaskFolder(join(dir, 'good'), 16, 16)).length, 1);
  await writeImage(join(dir, 'full', 'f.png'), new Uint8Array(64).fill(255), [8, 8, 1]);
  await assert.rejects(readMaskFolder(join(dir, 'full'), 8, 8), (e: Error) => e instanceof UserError && /--masks .*f\.png is all white/.test(e.message));
  await assert.rejects(readMaskFolder(join(dir, 'none'), 8, 8), /--masks .*not a readable folder/);
  // masked: data takes its holes from the folder
  const values = pattern([16, 16, 3], 1);
  const src: ArraySource = { kind: 'array', count: 1, values, info: { name: 'mem', kind: 'image', shape: [16, 16, 3], count: 1 } };
  const derived = await loadDerived('masked', 'mem', async () => src, { masks: { kind: 'rect', dir: join(dir, 'good') } });
  const mask = Array.from({ length: 256 }, (_, p) => derived.inputs!.values[p * 4 + 3]);
  assert.deepEqual(mask, Array.from({ length: 256 }, (_, p) => (p < 128 ? 255 : 0)));
});

test('--mask-kind and --masks: validated against the data, errors name the flag', () => {
  assert.equal(maskOptionsOf({ data: 'mnist', maskKind: 'rect', masks: '' }), undefined);
  assert.deepEqual(maskOptionsOf({ data: 'masked:mnist', maskKind: 'strokes', masks: '' }), { kind: 'strokes' });
  assert.deepEqual(maskOptionsOf({ data: 'masked:mnist', maskKind: 'rect', masks: 'm' }), { kind: 'rect', dir: 'm' });
  assert.throws(() => maskOptionsOf({ data: 'mnist', maskKind: 'strokes', masks: '' }), /--mask-kind .*masked:mnist/);
  assert.throws(() => maskOptionsOf({ data: 'mnist', maskKind: 'rect', masks: 'm' }), /--masks .*masked:mnist/);
  assert.throws(() => maskOptionsOf({ data: 'masked:mnist', maskKind: 'mixed', masks: 'm' }), /drop --mask-kind/);
  assert.throws(() => maskOptionsOf({ data: 'masked:mnist', maskKind: 'circles', masks: '' }), /--mask-kind/);
});
