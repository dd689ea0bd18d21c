import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Augmenter } from '../../src/data/augment.js';
import { BatchStream, type RawBatch } from '../../src/data/batches.js';
import { resizeImages } from '../../src/data/transform.js';
import type { ArraySource, AugmentOptions } from '../../src/data/types.js';
import { pattern } from './image_fixtures.js';

before(async () => {
  await tf.setBackend('cpu');
});

/** n images [h, w, c] where image i is pattern(i): every pixel and every image distinct. */
function images(n: number, shape: number[], seed = 0): Uint8Array {
  const per = shape.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(n * per);
  for (let i = 0; i < n; i++) out.set(pattern(shape, seed + 11 * i), i * per);
  return out;
}

function translation(o: { n: number; m?: number; shape: number[]; inShape?: number[]; pairing: 'paired' | 'unpaired'; same?: boolean; augment?: AugmentOptions }): ArraySource {
  const inShape = o.inShape ?? o.shape;
  const m = o.m ?? o.n;
  const values = images(o.n, o.shape);
  return {
    kind: 'array',
    info: { name: 't', kind: 'image', shape: o.shape, count: o.n, input: { shape: inShape, pairing: o.pairing, domains: ['A', 'B'] } },
    count: o.n,
    values,
    labels: Int32Array.from({ length: o.n }, (_, i) => i),
    inputs: { values: o.same ? values.slice() : images(m, inShape, 5), count: m },
    ...(o.augment ? { augment: o.augment } : {}),
  };
}

/** uint8 → the batch's float mapping. */
const f = (v: number): number => Math.fround(v / 127.5 - 1);

test('paired batches: input i is the stored input of example i; tensors carry its shape', () => {
  const src = translation({ n: 10, shape: [3, 4, 3], inShape: [3, 4, 1], pairing: 'paired' });
  const s = new BatchStream(src, { batchSize: 4, seed: 1 });
  const raw = s.nextRaw();
  assert.deepEqual([...raw.inputIndices!], [...raw.indices!]);
  raw.indices!.forEach((idx, i) => {
    for (let j = 0; j < 12; j++) assert.equal(raw.input![i * 12 + j], f(src.inputs!.values[idx * 12 + j]));
    for (let j = 0; j < 36; j++) assert.equal(raw.x[i * 36 + j], f(src.values[idx * 36 + j]));
  });
  const b = s.next();
  assert.deepEqual([b.x.shape, b.input!.shape, b.labels!.shape], [[4, 3, 4, 3], [4, 3, 4, 1], [4]]);
  tf.dispose([b.x, b.input!, b.labels!]);
});

test('unpaired batches: inputs drawn independently of targets, every input reachable', () => {
  const src = translation({ n: 12, m: 7, shape: [2, 2, 1], pairing: 'unpaired' });
  const s = new BatchStream(src, { batchSize: 4, seed: 3 });
  const seen = new Array(7).fill(0);
  const joint = new Map<string, number>();
  for (let k = 0; k < 300; k++) {
    const raw = s.nextRaw();
    raw.inputIndices!.forEach((j, i) => {
      seen[j]++;
      joint.set(`${raw.indices![i]},${j}`, 1);
      for (let p = 0; p < 4; p++) assert.equal(raw.input![i * 4 + p], f(src.inputs!.values[j * 4 + p]));
    });
  }
  // 1,200 uniform draws over 7 inputs: each ≈ 171; a fixed pairing would see one input per target only.
  assert.ok(seen.every((c) => c > 120 && c < 230), `input counts ${seen}`);
  assert.ok(joint.size > 12 * 7 * 0.9, `only ${joint.size} of 84 (target, input) combinations seen`);
});

test('Augmenter equals "upscale to loadSize, crop, mirror" done the long way', () => {
  const shape = [5, 6, 3];
  const img = pattern(shape, 9);
  const opts = { loadSize: 8, flip: true };
  const aug = new Augmenter([5, 6], opts, 'test');
  assert.deepEqual(aug.loaded, [8, 10]); // the short side (5) becomes 8, the other keeps the aspect
  // The oracle: resize the whole image to 8×10 with the shared resizer, then slice and mirror.
  const oracleBig = resizeImages(img, 1, shape, [8, 10, 3]);
  for (const flip of [false, true]) {
    for (let oy = 0; oy <= 3; oy++) {
      for (let ox = 0; ox <= 4; ox++) {
        const out = new Float32Array(5 * 6 * 3);
        aug.apply(img, 0, 3, { oy, ox, flip }, out, 0);
        for (let y = 0; y < 5; y++) for (let x = 0; x < 6; x++) for (let k = 0; k < 3; k++) {
          const sx = ox + (flip ? 5 - x : x);
          assert.equal(out[(y * 6 + x) * 3 + k], f(oracleBig[((oy + y) * 10 + sx) * 3 + k]), `oy ${oy} ox ${ox} flip ${flip}`);
        }
      }
    }
  }
  assert.throws(() => new Augmenter([5, 6], { loadSize: 4 }, 'tiny'), /loadSize.*≥ the image size 5 of tiny/);
});

test('paired augmentation crops and flips target and input identically (B = A gives x = input)', () => {
  const src = translation({ n: 6, shape: [8, 8, 3], pairing: 'paired', same: true, augment: { loadSize: 11, flip: true } });
  const s = new BatchStream(src, { batchSize: 3, seed: 7 });
  const plain = new BatchStream({ ...src, augment: undefined }, { batchSize: 3, seed: 7 });
  let changed = 0;
  for (let k = 0; k < 20; k++) {
    const raw = s.nextRaw();
    assert.deepEqual([...raw.x], [...raw.input!]);
    const p = plain.nextRaw();
    if (p.x.some((v, i) => v !== raw.x[i])) changed++;
  }
  assert.ok(changed >= 19, `augmentation changed only ${changed} of 20 batches`);
});

test('flip only: each example is the stored image or its mirror, both occur', () => {
  const shape = [3, 4, 1];
  const src: ArraySource = { kind: 'array', info: { name: 'p', kind: 'image', shape, count: 1 }, count: 1, values: pattern(shape, 0), augment: { flip: true } };
  const s = new BatchStream(src, { batchSize: 1, seed: 2 });
  const img = [...src.values].map(f);
  const mirror = [0, 1, 2].flatMap((y) => [3, 2, 1, 0].map((x) => img[y * 4 + x]));
  const kinds = new Set<string>();
  for (let k = 0; k < 40; k++) {
    const x = [...s.nextRaw().x];
    if (x.join() === img.join()) kinds.add('same');
    else if (x.join() === mirror.join()) kinds.add('mirror');
    else assert.fail(`neither the image nor its mirror: ${x}`);
  }
  assert.deepEqual([...kinds].sort(), ['mirror', 'same']);
});

test('exact resume: unpaired picks, crops and flips replay after state()/restore(), through JSON', () => {
  const make = () => translation({ n: 10, m: 6, shape: [6, 6, 3], pairing: 'unpaired', augment: { loadSize: 8, flip: true } });
  const key = (r: RawBatch) => [[...r.x], [...r.input!], [...r.indices!], [...r.inputIndices!]];
  for (const k of [0, 1, 3, 4, 7]) {
    const a = new BatchStream(make(), { batchSize: 3, seed: 13 });
    for (let i = 0; i < k; i++) a.nextRaw();
    const saved = JSON.parse(JSON.stringify(a.state()));
    const expected = Array.from({ length: 6 }, () => key(a.nextRaw()));
    const b = new BatchStream(make(), { batchSize: 3, seed: 99 });
    b.nextRaw();
    b.restore(saved);
    assert.deepEqual(Array.from({ length: 6 }, () => key(b.nextRaw())), expected, `after ${k} batches`);
  }
  // Same seed, same source → same batches; another seed → other picks.
  const one = new BatchStream(make(), { batchSize: 3, seed: 1 }).nextRaw();
  const two = new BatchStream(make(), { batchSize: 3, seed: 2 }).nextRaw();
  assert.notDeepEqual(key(one), key(two));
});

test('inconsistent translation sources are refused', () => {
  const src = translation({ n: 4, shape: [2, 2, 1], pairing: 'paired' });
  assert.throws(() => new BatchStream({ ...src, inputs: { values: new Uint8Array(3), count: 4 } }, { batchSize: 2 }), /inputs hold 3 bytes/);
  assert.throws(() => new BatchStream({ ...src, inputs: undefined }, { batchSize: 2 }), /given together/);
  const u = translation({ n: 4, shape: [2, 2, 1], inShape: [3, 3, 1], pairing: 'unpaired', augment: { flip: true } });
  assert.throws(() => new BatchStream(u, { batchSize: 2 }), /targets' size/);
});
