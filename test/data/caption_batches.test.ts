import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { BatchStream } from '../../src/data/batches.js';
import { captionSet } from '../../src/data/tokenizer.js';
import type { ArraySource } from '../../src/data/types.js';
import { UserError } from '../../src/util/errors.js';

before(async () => {
  await tf.setBackend('cpu');
});

/** n images 1×1×1 of value i, example i captioned "item i" once and, when i is odd, also "odd item i" and "item i again". */
function captioned(n = 12): ArraySource {
  const texts: string[] = [];
  const owner: number[] = [];
  for (let i = 0; i < n; i++) {
    const own = i % 2 === 1 ? [`item w${i}`, `odd item w${i}`, `item w${i} again`] : [`item w${i}`];
    for (const t of own) (texts.push(t), owner.push(i));
  }
  const { captions, info } = captionSet(texts, Int32Array.from(owner), 4);
  return {
    kind: 'array',
    info: { name: 'captioned', kind: 'image', shape: [1, 1, 1], count: n, text: info },
    count: n,
    values: Uint8Array.from({ length: n }, (_, i) => i),
    captions,
  };
}

/** The raw rows of `count` batches: example index, then the caption's tokens and length. */
function draw(s: BatchStream, count: number): { indices: number[]; tokens: number[]; lengths: number[] }[] {
  return Array.from({ length: count }, () => {
    const r = s.nextRaw();
    return { indices: [...r.indices!], tokens: [...r.tokens!], lengths: [...r.lengths!] };
  });
}

test('each example of a batch carries one of its own captions, as tensors [B, maxLen] and [B]', () => {
  const src = captioned();
  const caps = src.captions!;
  const s = new BatchStream(src, { batchSize: 5, seed: 1 });
  for (const b of draw(s, 6)) {
    b.indices.forEach((ex, i) => {
      const row = b.tokens.slice(i * 4, i * 4 + 4);
      const own = [...caps.owner.keys()].filter((j) => caps.owner[j] === ex).map((j) => [...caps.tokens.subarray(j * 4, j * 4 + 4)]);
      assert.ok(own.some((o) => o.join() === row.join()), `example ${ex} got a caption not its own: ${row}`);
    });
  }
  const t = s.next();
  assert.deepEqual(t.text!.tokens.shape, [5, 4]);
  assert.equal(t.text!.tokens.dtype, 'int32');
  assert.deepEqual(t.text!.lengths.shape, [5]);
  tf.dispose([t.x, t.text!.tokens, t.text!.lengths]);
});

test('caption draws are uniform among an example\'s captions', () => {
  const src = captioned(4);
  const s = new BatchStream(src, { batchSize: 4, seed: 7 });
  const counts = new Map<string, number>();
  for (const b of draw(s, 600)) {
    b.indices.forEach((ex, i) => {
      if (ex !== 1) return;
      const key = b.tokens.slice(i * 4, i * 4 + 4).join();
      counts.set(key, (counts.get(key) ?? 0) + 1);
    });
  }
  assert.equal(counts.size, 3);
  // 600 draws of 3 equally likely captions: each 200 ± 4.5σ (σ ≈ 11.5).
  for (const n of counts.values()) assert.ok(Math.abs(n - 200) < 52, `counts ${[...counts.values()]}`);
});

test('the same seed draws the same captions; another seed others', () => {
  const a = draw(new BatchStream(captioned(), { batchSize: 4, seed: 3 }), 9);
  const b = draw(new BatchStream(captioned(), { batchSize: 4, seed: 3 }), 9);
  const c = draw(new BatchStream(captioned(), { batchSize: 4, seed: 4 }), 9);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('state/restore resumes caption draws exactly, across an epoch boundary', () => {
  const first = new BatchStream(captioned(), { batchSize: 5, seed: 11 });
  draw(first, 3); // 12 examples, 2 batches an epoch: this crosses into the second epoch
  const saved = JSON.parse(JSON.stringify(first.state()));
  const expected = draw(first, 7);
  const resumed = new BatchStream(captioned(), { batchSize: 5, seed: 999 });
  draw(resumed, 1);
  resumed.restore(saved);
  assert.deepEqual(draw(resumed, 7), expected);
});

test('an example without a caption, and captions without info.text, are errors', () => {
  const src = captioned(3);
  const owner = Int32Array.from(src.captions!.owner, (o) => (o === 2 ? 1 : o));
  assert.throws(() => new BatchStream({ ...src, captions: { ...src.captions!, owner } }, { batchSize: 2 }), (e: unknown) => e instanceof UserError && /example 2 has no caption/.test((e as Error).message));
  assert.throws(() => new BatchStream({ ...src, info: { ...src.info, text: undefined } }, { batchSize: 2 }), UserError);
});
