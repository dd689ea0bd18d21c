import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadDerived, roundBytes } from '../../src/data/derived.js';
import { edgeMaps } from '../../src/data/edge_map.js';
import { loadData } from '../../src/data/registry.js';
import { bicubicUpscale, downscale } from '../../src/data/degrade.js';
import type { ArraySource } from '../../src/data/types.js';
import type { SpecLoader } from '../../src/data/unpaired.js';
import { UserError } from '../../src/util/errors.js';
import { example, pattern, tmp, writeImage } from './image_fixtures.js';

/** A loader that serves one in-memory source whatever the spec, so derived data can be checked exactly. */
function serve(src: ArraySource): SpecLoader {
  return async () => src;
}

function source(values: Uint8Array, shape: number[], n: number, labels = true): ArraySource {
  return {
    kind: 'array',
    info: { name: 'mem', kind: 'image', shape, count: n, ...(labels ? { numClasses: 2, classNames: ['even', 'odd'] } : {}) },
    count: n,
    values,
    ...(labels ? { labels: Int32Array.from({ length: n }, (_, i) => i % 2) } : {}),
    names: Array.from({ length: n }, (_, i) => `n${i}`),
  };
}

/** A 16×16 image: a bright square on rows/columns lo..hi (inclusive) on a dark ground. */
function square(c: number, lo = 4, hi = 11, fg = [230, 40, 40], bg = [10, 10, 120]): Uint8Array {
  const img = new Uint8Array(16 * 16 * c);
  for (let y = 0; y < 16; y++) {
    for (let x = 0; x < 16; x++) {
      const inside = y >= lo && y <= hi && x >= lo && x <= hi;
      for (let k = 0; k < c; k++) img[(y * 16 + x) * c + k] = c === 1 ? (inside ? 200 : 20) : (inside ? fg : bg)[k];
    }
  }
  return img;
}

test('edges: a square gives dark one-pixel lines on white along its border, nothing elsewhere', () => {
  for (const c of [1, 3]) {
    const e = edgeMaps(square(c), 1, [16, 16, c]);
    const lines: [number, number][] = [];
    for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) if (e[y * 16 + x] === 0) lines.push([y, x]); else assert.equal(e[y * 16 + x], 255);
    // The square's outline lies between pixel 3|4 and 11|12: every line pixel is within one pixel of it.
    const nearBorder = ([y, x]: [number, number]): boolean => {
      const ring = (v: number): boolean => v >= 3 && v <= 12;
      const onSide = (v: number): boolean => v === 3 || v === 4 || v === 11 || v === 12;
      return ring(y) && ring(x) && (onSide(y) || onSide(x));
    };
    assert.ok(lines.every(nearBorder), `off-border lines at ${lines.filter((p) => !nearBorder(p)).join(' ')}`);
    // Each of the four sides is drawn along (almost) its whole length.
    const side = (f: (y: number, x: number) => boolean): number => lines.filter(([y, x]) => f(y, x)).length;
    assert.ok(side((y, x) => (y === 3 || y === 4) && x >= 5 && x <= 10) >= 6, `top side, c=${c}`);
    assert.ok(side((y, x) => (y === 11 || y === 12) && x >= 5 && x <= 10) >= 6, `bottom side, c=${c}`);
    assert.ok(side((y, x) => (x === 3 || x === 4) && y >= 5 && y <= 10) >= 6, `left side, c=${c}`);
    assert.ok(side((y, x) => (x === 11 || x === 12) && y >= 5 && y <= 10) >= 6, `right side, c=${c}`);
    assert.ok(lines.length <= 4 * 10, `lines are not thin: ${lines.length} pixels`);
  }
  assert.ok(edgeMaps(new Uint8Array(64).fill(90), 1, [8, 8, 1]).every((v) => v === 255), 'a flat image is blank paper');
});

test('edges:SPEC pairs the sketch with the image, keeps labels and names; BtoA swaps', async () => {
  const values = new Uint8Array([...square(3), ...square(3, 2, 13)]);
  const src = await loadDerived('edges', 'mem', serve(source(values, [16, 16, 3], 2)));
  assert.deepEqual(src.info.input, { shape: [16, 16, 1], pairing: 'paired', domains: ['edges', 'mem'] });
  assert.deepEqual([src.info.name, src.info.numClasses, [...src.labels!], src.names], ['edges:mem', 2, [0, 1], ['n0', 'n1']]);
  assert.equal(src.values, values);
  assert.deepEqual(example(src.inputs!.values, [16, 16, 1], 1), [...edgeMaps(square(3, 2, 13), 1, [16, 16, 3])]);
  const back = await loadDerived('edges', 'mem', serve(source(values, [16, 16, 3], 2)), { direction: 'BtoA' });
  assert.deepEqual([back.info.shape, back.info.input!.shape, back.info.input!.domains], [[16, 16, 1], [16, 16, 3], ['mem', 'edges']]);
});

test('gray: luma of colour images; grey data (1 channel or R = G = B) is refused', async () => {
  const red = new Uint8Array(4 * 3).fill(0).map((_, i) => (i % 3 === 0 ? 255 : 0));
  const g = await loadDerived('gray', 'mem', serve(source(red, [2, 2, 3], 1)));
  assert.deepEqual([...g.inputs!.values], [76, 76, 76, 76]); // BT.601: 0.299 · 255
  const refuse = (e: unknown): boolean => e instanceof UserError && /greyscale/.test(e.message) && e.message.includes('gray:mem');
  await assert.rejects(loadDerived('gray', 'mem', serve(source(new Uint8Array(4), [2, 2, 1], 1))), refuse);
  await assert.rejects(loadDerived('gray', 'mem', serve(source(new Uint8Array(12).fill(9), [2, 2, 3], 1))), refuse);
  await assert.rejects(loadData('gray:mnist', { limit: 4 }), /gray:mnist: mnist is greyscale/);
});

test('masked: one rectangular mid-grey hole per example, the same on every load, and the hole as a 4th channel', async () => {
  const shape = [16, 16, 3];
  const n = 6;
  const values = new Uint8Array(n * 768);
  for (let i = 0; i < n; i++) values.set(pattern(shape, i), i * 768);
  const a = await loadDerived('masked', 'mem', serve(source(values, shape, n)));
  const b = await loadDerived('masked', 'mem', serve(source(values, shape, n)));
  assert.deepEqual(a.info.input!.shape, [16, 16, 4]);
  assert.deepEqual(a.inputs!.values, b.inputs!.values);
  const boxes = new Set<string>();
  for (let i = 0; i < n; i++) {
    const inp = example(a.inputs!.values, [16, 16, 4], i);
    const img = example(values, shape, i);
    const hole: [number, number][] = [];
    for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) {
      const p = y * 16 + x;
      const mask = inp[p * 4 + 3];
      assert.ok(mask === 0 || mask === 255, 'the mask channel is binary');
      if (mask === 255) {
        hole.push([y, x]);
        assert.deepEqual([...inp.slice(p * 4, p * 4 + 3)], [128, 128, 128]);
      } else {
        assert.deepEqual([...inp.slice(p * 4, p * 4 + 3)], [...img.slice(p * 3, p * 3 + 3)]);
      }
    }
    const ys = hole.map(([y]) => y);
    const xs = hole.map(([, x]) => x);
    const [hh, hw] = [Math.max(...ys) - Math.min(...ys) + 1, Math.max(...xs) - Math.min(...xs) + 1];
    assert.equal(hole.length, hh * hw, 'the hole is a full rectangle');
    assert.ok(hh >= 4 && hh <= 8 && hw >= 4 && hw <= 8, `hole ${hh}×${hw}`);
    boxes.add(`${Math.min(...ys)},${Math.min(...xs)},${hh},${hw}`);
  }
  assert.ok(boxes.size >= n - 1, 'holes differ between examples');
});

test('lowres: the input is the target / scale, area blocks exact, bicubic as downscale(); sizes not divisible are refused', async () => {
  // 8×8 grey image of four constant 4×4 blocks: the ×4 area downscale is exactly the block values.
  const img = new Uint8Array(64);
  for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) img[y * 8 + x] = [10, 50, 90, 250][(y >> 2) * 2 + (x >> 2)];
  const area = await loadDerived('lowres', 'mem', serve(source(img, [8, 8, 1], 1)), { degrade: { downsample: 'area' } });
  assert.deepEqual([...area.inputs!.values], [10, 50, 90, 250]);
  assert.deepEqual([area.info.input!.shape, area.info.shape], [[2, 2, 1], [8, 8, 1]]);
  const two = pattern([8, 8, 3], 5);
  const bic = await loadDerived('lowres', 'mem', serve(source(two, [8, 8, 3], 1)), { degrade: { scale: 2 } });
  assert.deepEqual([...bic.inputs!.values], [...roundBytes(downscale(two, [8, 8, 3], 2, 'bicubic'))]);
  // Same-size translators get the input bicubic-upscaled back with the same kernel.
  const up = await loadDerived('lowres', 'mem', serve(source(two, [8, 8, 3], 1)), { degrade: { scale: 2 }, upsampleInput: true });
  assert.deepEqual(up.info.input!.shape, [8, 8, 3]);
  assert.deepEqual([...up.inputs!.values], [...roundBytes(bicubicUpscale(bic.inputs!.values, [4, 4, 3], 2))]);
  await assert.rejects(loadDerived('lowres', 'mem', serve(source(new Uint8Array(36), [6, 6, 1], 1))), /divisible by --scale 4.*6×6/);
  await assert.rejects(loadDerived('lowres', 'mem', serve(source(img, [8, 8, 1], 1)), { degrade: { scale: 3 } }), /--scale must be one of 2, 4, 8/);
});

test('lowres: noise is fixed per example across loads; JPEG applies; degradation flags are refused for other data', async () => {
  const n = 3;
  const imgs = new Uint8Array(n * 16 * 16 * 3);
  for (let i = 0; i < n; i++) imgs.set(pattern([16, 16, 3], 40 * i), i * 768);
  const opts = { degrade: { noise: 8, jpeg: 60 } };
  const a = await loadDerived('lowres', 'mem', serve(source(imgs, [16, 16, 3], n)), opts);
  const b = await loadDerived('lowres', 'mem', serve(source(imgs, [16, 16, 3], n)), opts);
  assert.deepEqual(a.inputs!.values, b.inputs!.values);
  const clean = await loadDerived('lowres', 'mem', serve(source(imgs, [16, 16, 3], n)));
  assert.notDeepEqual(a.inputs!.values, clean.inputs!.values);
  assert.ok(a.notices!.some((m) => /noise σ 8\/255, JPEG q 60/.test(m)), a.notices!.join('; '));
  await assert.rejects(loadData('mnist', { degrade: { scale: 2 } }), /lowres:/);
  await assert.rejects(loadDerived('edges', 'mem', serve(source(imgs, [16, 16, 3], n)), { upsampleInput: true }), /lowres: data only/);
});

test('derived specs through loadData: folder bases, test split of the base, points refused', async () => {
  const dir = await tmp();
  await writeImage(join(dir, 'train', 'sq.png'), square(3), [16, 16, 3]);
  await writeImage(join(dir, 'test', 'sq.png'), square(3, 2, 13), [16, 16, 3]);
  const src = (await loadData(`edges:folder:${join(dir, 'train')}`)) as ArraySource;
  assert.equal(src.info.name, `edges:folder:${join(dir, 'train')}`);
  assert.deepEqual([...src.inputs!.values], [...edgeMaps(square(3), 1, [16, 16, 3])]);
  const fm = (await loadData('lowres:mnist', { split: 'test', limit: 3, imageSize: 32 })) as ArraySource;
  assert.deepEqual([fm.count, fm.info.shape, fm.info.input!.shape, fm.info.numClasses], [3, [32, 32, 1], [8, 8, 1], 10]);
  await assert.rejects(loadData('masked:toy:ring8'), /not image data/);
});
