import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { binOf, mnistThicknessEdges, quantileEdges, strokeThickness, thicknesses, thin } from '../../src/data/thickness.js';
import { binOrder } from '../../src/data/ordinal.js';
import { EMOJI_AGE_BINS, loadEmojiAge } from '../../src/data/emoji_age.js';
import { loadData } from '../../src/data/registry.js';
import type { ArraySource } from '../../src/data/types.js';

/** A 28×28 ink-on-black image with the pixels `on(x, y)` set to 255. */
function draw(on: (x: number, y: number) => boolean, side = 28): Uint8Array {
  return Uint8Array.from({ length: side * side }, (_, i) => (on(i % side, Math.floor(i / side)) ? 255 : 0));
}

test('strokeThickness: a straight stroke of width w measures about w, a ring and an L as well; no ink is 0', () => {
  for (const w of [1, 2, 3, 4, 5, 6]) {
    const bar = strokeThickness(draw((x, y) => x >= 4 && x < 24 && y >= 10 && y < 10 + w), 28, 28); // horizontal, length 20
    const col = strokeThickness(draw((x, y) => y >= 3 && y < 25 && x >= 8 && x < 8 + w), 28, 28); // vertical, length 22
    const ell = strokeThickness(draw((x, y) => (x >= 4 && x < 4 + w && y >= 4 && y < 24) || (y >= 24 - w && y < 24 && x >= 4 && x < 24)), 28, 28);
    assert.ok(Math.abs(bar - w) < 0.05 && Math.abs(col - w) < 0.05, `straight strokes of width ${w}: ${bar}, ${col}`);
    assert.ok(Math.abs(ell - w) <= 0.2 * w, `L of width ${w}: measured ${ell.toFixed(2)}`);
  }
  // A ring of width 3: the skeleton is its centre circle, the ratio 3 again.
  const ring = strokeThickness(draw((x, y) => { const r = Math.hypot(x - 13.5, y - 13.5); return r >= 6 && r < 9; }), 28, 28);
  assert.ok(Math.abs(ring - 3) < 0.6, `ring of width 3: ${ring}`);
  assert.equal(strokeThickness(new Uint8Array(28 * 28), 28, 28), 0);
  // Monotone in the width, so quantile bins order digits by it.
  const widths = [1, 2, 3, 4, 5, 6, 7].map((w) => strokeThickness(draw((x, y) => x >= 4 && x < 24 && y >= 10 && y < 10 + w), 28, 28));
  for (let i = 1; i < widths.length; i++) assert.ok(widths[i] > widths[i - 1], `width ${i + 1} > width ${i}: ${widths}`);
});

test('thin: a filled 5×20 bar becomes a one-pixel line along its middle row, 5 shorter', () => {
  const skeleton = thin(draw((x, y) => x >= 4 && x < 24 && y >= 10 && y < 15).map((v) => (v ? 1 : 0)), 28, 28);
  const rows = new Set<number>();
  let n = 0;
  skeleton.forEach((v, i) => { if (v) (rows.add(Math.floor(i / 28)), n++); });
  assert.deepEqual([...rows], [12], 'the middle row');
  assert.equal(n, 20 - 5, 'it stops w/2 short of each end');
});

test('quantile bins: equal counts, edges between them, binOf counts the edges at or below', () => {
  const xs = Array.from({ length: 100 }, (_, i) => i);
  const edges = quantileEdges(xs, 5);
  assert.deepEqual(edges, [20, 40, 60, 80]);
  const counts = [0, 0, 0, 0, 0];
  for (const x of xs) counts[binOf(x, edges)]++;
  assert.deepEqual(counts, [20, 20, 20, 20, 20]);
  assert.equal(binOf(-5, edges), 0);
  assert.equal(binOf(1e9, edges), 4);
  assert.throws(() => quantileEdges([1, 2], 5), /2 examples cannot fill 5 bins/);
});

test('binOrder: by numeric prefix when every name has one (2 before 10), else by name', () => {
  const numeric = ['10-adult', '2-child', '0-baby', '65-older'];
  assert.deepEqual(binOrder(numeric).map((i) => numeric[i]), ['0-baby', '2-child', '10-adult', '65-older']);
  const named = ['b_young', 'a_baby', 'c_old'];
  assert.deepEqual(binOrder(named).map((i) => named[i]), ['a_baby', 'b_young', 'c_old']);
  const mixed = ['10', 'old', '2'];
  assert.deepEqual(binOrder(mixed).map((i) => mixed[i]), ['10', '2', 'old']);
});

test('folder:PATH --ordinal: sub-folders become bins by numeric prefix, labels renumbered; refused for other data', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-ordinal-'));
  try {
    const bins = { '10-old': 200, '2-young': 100, '0-baby': 0 };
    for (const [name, grey] of Object.entries(bins)) {
      await fs.mkdir(path.join(dir, name));
      for (const i of [0, 1]) {
        await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: grey, g: grey, b: grey } } }).png().toFile(path.join(dir, name, `${i}.png`));
      }
    }
    const src = (await loadData(`folder:${dir}`, { ordinal: true })) as ArraySource;
    assert.deepEqual(src.info.classNames, ['0-baby', '2-young', '10-old']);
    assert.equal(src.info.ordinal, true);
    const per = 8 * 8 * 3;
    for (let i = 0; i < src.count; i++) {
      assert.equal(src.values[i * per], [0, 100, 200][src.labels![i]], `example ${i}: its pixels belong to its bin`);
    }
    assert.ok(src.notices?.some((n) => /0-baby < 2-young < 10-old \(by numeric prefix\)/.test(n)));
    const plain = (await loadData(`folder:${dir}`)) as ArraySource;
    assert.equal(plain.info.ordinal, undefined);
    await assert.rejects(loadData('mnist', { ordinal: true, limit: 4 }), /--ordinal orders the sub-folders of folder:PATH/);
    const loose = path.join(dir, '0-baby');
    await assert.rejects(loadData(`folder:${loose}`, { ordinal: true }), /--ordinal needs a folder whose sub-folders are the bins/);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('emoji-age: baby < child < adult < older, each image labelled by its code point, three artists, skin tones', async () => {
  const src = await loadEmojiAge({ imageSize: 16, log: () => {} });
  assert.deepEqual(src.info.classNames, ['baby', 'child', 'adult', 'older']);
  assert.equal(src.info.ordinal, true);
  assert.deepEqual(src.info.shape, [16, 16, 3]);
  const artists = new Set<string>();
  src.names!.forEach((name, i) => {
    const [artist, key] = name.split('/');
    artists.add(artist);
    const base = key.split('-')[0];
    assert.equal(EMOJI_AGE_BINS[src.labels![i]].codePoints.includes(base), true, `${name} in bin ${src.labels![i]}`);
  });
  assert.deepEqual([...artists].sort(), ['fluent', 'openmoji', 'twemoji']);
  for (let b = 0; b < 4; b++) assert.ok(src.labels!.filter((l) => l === b).length >= 10, `bin ${b} has images`);
  assert.ok(src.names!.some((n) => n.endsWith('-1f3ff')), 'skin tones present');
  const test = await loadEmojiAge({ imageSize: 16, split: 'test', log: () => {} });
  const keys = (s: ArraySource) => new Set(s.names!.map((n) => n.split('/')[1]));
  const trainKeys = keys(src);
  assert.ok([...keys(test)].every((k) => !trainKeys.has(k)), 'an emoji is in one split for every artist');
});

test('mnist-thickness: five quantile bins of the training digits, each example binned by its own thickness, digits kept as names', async () => {
  const src = (await loadData('mnist-thickness', { split: 'test', limit: 300 })) as ArraySource;
  const mnist = (await loadData('mnist', { split: 'test', limit: 300 })) as ArraySource;
  assert.deepEqual(src.info.classNames, ['thinnest', 'thin', 'medium', 'thick', 'thickest']);
  assert.equal(src.info.ordinal, true);
  assert.deepEqual(src.names, Array.from(mnist.labels!, String));
  const edges = await mnistThicknessEdges();
  assert.equal(edges.length, 4);
  for (let i = 1; i < 4; i++) assert.ok(edges[i] > edges[i - 1], `edges rise: ${edges}`);
  const measured = thicknesses(src.values as Uint8Array, src.count, 28, 28);
  measured.forEach((m, i) => assert.equal(src.labels![i], binOf(m, edges), `example ${i}`));
  const counts = [0, 1, 2, 3, 4].map((b) => src.labels!.filter((l) => l === b).length);
  assert.ok(counts.every((k) => k > 30 && k < 100), `test digits spread over the training quantiles: ${counts}`);
});
