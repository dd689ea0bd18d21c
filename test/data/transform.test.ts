import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adaptImages } from '../../src/data/transform.js';
import type { ArraySource } from '../../src/data/types.js';

function src(values: number[], shape: [number, number, number]): ArraySource {
  return { kind: 'array', info: { name: 't', kind: 'image', shape, count: 1 }, count: 1, values: Uint8Array.from(values) };
}

test('adaptImages resizes bilinearly and converts channels', () => {
  const same = src([1, 2, 3, 4], [2, 2, 1]);
  assert.equal(adaptImages(same, {}), same);
  // Half-pixel centres: a 1×2 edge upsampled to 1×4 gives 0, 25%, 75%, 100% of the step.
  const up = adaptImages(src([0, 200], [1, 2, 1]), { imageSize: 4 });
  assert.deepEqual(up.info.shape, [4, 4, 1]);
  assert.deepEqual([...up.values.subarray(0, 4)], [0, 50, 150, 200]);
  const rgb = adaptImages(src([10, 20, 30, 40], [2, 2, 1]), { channels: 3 });
  assert.deepEqual([...rgb.values], [10, 10, 10, 20, 20, 20, 30, 30, 30, 40, 40, 40]);
  const grey = adaptImages(src([255, 0, 0], [1, 1, 3]), { channels: 1 });
  assert.deepEqual([...grey.values], [76]); // 0.299 · 255
  assert.throws(() => adaptImages(same, { imageSize: 0 }), /positive integer/);
});
