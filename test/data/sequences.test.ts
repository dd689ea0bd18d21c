import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitScaling, rescale, sequenceSource, sinesSource, unscale, windowStarts, type Series } from '../../src/data/sequences.js';

const series = (rows: number[][], label?: number): Series => ({ values: Float64Array.from(rows.flat()), rows: rows.length, ...(label !== undefined ? { label } : {}) });

test('windowStarts: every start whose whole window fits, stride apart', () => {
  assert.deepEqual(windowStarts(10, 4, 3), [0, 3, 6]);
  assert.deepEqual(windowStarts(4, 4, 1), [0]);
  assert.deepEqual(windowStarts(3, 4, 1), []);
});

test('fitScaling: minmax maps each feature onto [0, 1], standard to mean 0 and variance 1; rescale and unscale invert', () => {
  const s = [series([[1, 10], [3, 20]]), series([[2, 40]])];
  const mm = fitScaling(s, ['a', 'b'], 'minmax');
  assert.deepEqual(mm, { kind: 'minmax', offset: [1, 10], scale: [2, 30] });
  const st = fitScaling(s, ['a', 'b'], 'standard');
  assert.ok(Math.abs(st.offset[0] - 2) < 1e-12 && Math.abs(st.scale[0] - Math.sqrt(2 / 3)) < 1e-12);
  const x = Float32Array.from([1, 10, 3, 40]);
  assert.deepEqual([...rescale(x.slice(), mm)], [0, 0, 1, 1]);
  const back = unscale(rescale(x.slice(), st), st);
  back.forEach((v, i) => assert.ok(Math.abs(v - x[i]) < 1e-4));
});

test('fitScaling: a constant column is refused by name, pointing at --columns', () => {
  assert.throws(() => fitScaling([series([[1, 5], [2, 5]])], ['a', 'flat'], 'minmax'), /'flat' is constant \(value 5\).*--columns/);
});

test('sequenceSource: windows of T rows with the stride, scaled, labels per series; a window past the longest series is refused', () => {
  const a = series([[0, 0], [1, 10], [2, 20], [3, 30], [4, 40]], 1);
  const b = series([[0, 0], [4, 40]], 0); // shorter than a window: left out with a notice
  const src = sequenceSource([a, b], { name: 't', features: ['x', 'y'], window: 3, stride: 2, scaling: 'minmax', classNames: ['lo', 'hi'] });
  assert.equal(src.count, 2);
  assert.deepEqual(src.info.shape, [3, 2]);
  assert.equal(src.info.kind, 'sequence');
  assert.deepEqual([...src.labels!], [1, 1]);
  assert.deepEqual([...src.values], [0, 0, 0.25, 0.25, 0.5, 0.5, 0.5, 0.5, 0.75, 0.75, 1, 1]);
  assert.match(src.notices!.join(), /1 of 2 series are shorter than --window 3/);
  assert.throws(() => sequenceSource([a], { name: 't', features: ['x', 'y'], window: 6, stride: 1, scaling: 'minmax' }), /--window 6 is longer than the series \(5 rows\)/);
});

test("sines: TimeGAN's 24 × 5 sines in [0, 1] after the fixed scaling, a different draw for the test split", () => {
  const train = sinesSource({ count: 50 });
  assert.deepEqual(train.info.shape, [24, 5]);
  const v = train.values as Float32Array;
  assert.ok(v.every((x) => x >= 0 && x <= 1));
  // Each feature is sin(η t + θ) with η, θ ≤ 0.1: in original units it starts at sin(θ) ∈ [0, 0.0998].
  const original = unscale(v.slice(), train.info.sequence!.scaling);
  for (let n = 0; n < 50; n++) assert.ok(original[n * 120] >= 0 && original[n * 120] < 0.1);
  const test2 = sinesSource({ count: 50, split: 'test' });
  assert.notDeepEqual([...test2.values.slice(0, 10)], [...v.slice(0, 10)]);
});

test('sequenceSource: minmax windows of large values (volumes) end exactly at 0 and 1, scaled before rounding to float32', () => {
  // fround(987654321.987) = 987654336: rounded first, the maximum would scale to 1.00000002.
  const src = sequenceSource([series([[123456789.123], [987654321.987], [500000000]])], { name: 't', features: ['v'], window: 3, stride: 1, scaling: 'minmax' });
  const v = src.values as Float32Array;
  assert.equal(v[0], 0);
  assert.equal(v[1], 1);
  assert.ok(v[2] > 0 && v[2] < 1);
});
