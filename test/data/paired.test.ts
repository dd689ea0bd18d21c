import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadData } from '../../src/data/registry.js';
import type { ArraySource } from '../../src/data/types.js';
import { UserError } from '../../src/util/errors.js';
import { example, pattern, solid, tmp, writeImage } from './image_fixtures.js';

const S = [6, 8, 3];

/** An error that is a UserError and whose message contains every one of `parts`. */
function names(...parts: string[]): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof UserError, `not a UserError: ${String(e)}`);
    for (const p of parts) assert.ok(e.message.includes(p), `'${e.message}' does not name ${p}`);
    return true;
  };
}

test('paired: matches A and B by name without extension, sorted; direction swaps the roles', async () => {
  const dir = await tmp();
  // Written out of order, with one partner in another format, so pairing cannot lean on listing order.
  for (const [name, seed] of [['c', 30], ['a', 10], ['b', 20]] as const) {
    await writeImage(join(dir, 'A', `${name}.png`), pattern(S, seed), S);
    await writeImage(join(dir, 'B', `${name}.png`), pattern(S, seed + 100), S);
  }
  const src = (await loadData(`paired:${dir}`)) as ArraySource;
  assert.equal(src.count, 3);
  assert.deepEqual(src.names, ['a', 'b', 'c']);
  assert.deepEqual(src.info.shape, S);
  assert.deepEqual(src.info.input, { shape: S, pairing: 'paired', domains: ['A', 'B'] });
  for (const [i, seed] of [10, 20, 30].entries()) {
    assert.deepEqual(example(src.inputs!.values, S, i), [...pattern(S, seed)]);
    assert.deepEqual(example(src.values as Uint8Array, S, i), [...pattern(S, seed + 100)]);
  }
  const back = (await loadData(`paired:${dir}`, { direction: 'BtoA' })) as ArraySource;
  assert.deepEqual(back.info.input!.domains, ['B', 'A']);
  assert.deepEqual(example(back.values as Uint8Array, S, 0), [...pattern(S, 10)]);
  assert.deepEqual(example(back.inputs!.values, S, 0), [...pattern(S, 110)]);
  await assert.rejects(loadData(`paired:${dir}`, { direction: 'AtoC' as 'AtoB' }), /AtoB or BtoA/);

  // Another extension on one side still pairs (JPEG, so compare loosely).
  await writeImage(join(dir, 'A', 'd.png'), solid(S, 200), S);
  await writeImage(join(dir, 'B', 'd.jpg'), solid(S, 90), S);
  const four = (await loadData(`paired:${dir}`)) as ArraySource;
  assert.deepEqual(four.names, ['a', 'b', 'c', 'd']);
  assert.ok(example(four.values as Uint8Array, S, 3).every((v) => Math.abs(v - 90) <= 2));
});

test('paired: a file without its partner, or a doubled name, is an error naming the file', async () => {
  const dir = await tmp();
  await writeImage(join(dir, 'A', 'x.png'), solid(S, 1), S);
  await writeImage(join(dir, 'B', 'x.png'), solid(S, 2), S);
  await writeImage(join(dir, 'A', 'lonely.png'), solid(S, 3), S);
  await assert.rejects(loadData(`paired:${dir}`), names(join(dir, 'A', 'lonely.png'), 'partner'));
  await writeImage(join(dir, 'B', 'lonely.jpg'), solid(S, 3), S);
  await writeImage(join(dir, 'B', 'only-b.png'), solid(S, 3), S);
  await assert.rejects(loadData(`paired:${dir}`), names(join(dir, 'B', 'only-b.png')));
  await writeImage(join(dir, 'A', 'only-b.png'), solid(S, 3), S);
  await writeImage(join(dir, 'A', 'only-b.jpg'), solid(S, 3), S);
  await assert.rejects(loadData(`paired:${dir}`), names(join(dir, 'A', 'only-b.jpg'), join(dir, 'A', 'only-b.png'), 'same name'));
});

test('paired: pair sizes must agree unless imageSize resizes both; missing folders are named', async () => {
  const dir = await tmp();
  await writeImage(join(dir, 'A', 'p.png'), solid([4, 4, 3], 10), [4, 4, 3]);
  await writeImage(join(dir, 'B', 'p.png'), solid([8, 8, 3], 20), [8, 8, 3]);
  await assert.rejects(loadData(`paired:${dir}`), names(join(dir, 'A', 'p.png'), join(dir, 'B', 'p.png'), '4×4', '8×8', 'imageSize'));
  const src = (await loadData(`paired:${dir}`, { imageSize: 5 })) as ArraySource;
  assert.deepEqual([src.info.shape, src.info.input!.shape], [[5, 5, 3], [5, 5, 3]]);
  assert.deepEqual([src.values[0], src.inputs!.values[0]], [20, 10]);

  const noB = await tmp();
  await writeImage(join(noB, 'A', 'p.png'), solid(S, 1), S);
  await assert.rejects(loadData(`paired:${noB}`), names(join(noB, 'B')));
  await assert.rejects(loadData(`paired:${noB}`, { split: 'test' }), names(join(noB, 'test', 'A')));
  await assert.rejects(loadData(`paired:${join(noB, 'nope')}`), names(join(noB, 'nope')));
});

test('paired: train/test sub-folders; grey A with colour B becomes 3 channels with a notice', async () => {
  const dir = await tmp();
  await writeImage(join(dir, 'train', 'A', 'g.png'), solid([4, 4, 1], 77), [4, 4, 1]);
  await writeImage(join(dir, 'train', 'B', 'g.png'), pattern([4, 4, 3], 5), [4, 4, 3]);
  await writeImage(join(dir, 'test', 'A', 't.png'), solid([4, 4, 1], 9), [4, 4, 1]);
  await writeImage(join(dir, 'test', 'B', 't.png'), solid([4, 4, 1], 8), [4, 4, 1]);
  const train = (await loadData(`paired:${dir}`)) as ArraySource;
  assert.deepEqual(train.info.input!.shape, [4, 4, 3]);
  assert.deepEqual(example(train.inputs!.values, [4, 4, 3], 0), Array(48).fill(77));
  assert.equal(train.notices?.length, 1);
  assert.match(train.notices![0], new RegExp(`1 of 1 images in ${join(dir, 'train', 'A')} are greyscale`));
  const test = (await loadData(`paired:${dir}`, { split: 'test' })) as ArraySource;
  assert.deepEqual([test.names, test.info.shape, test.notices], [['t'], [4, 4, 1], undefined]);
});

test('paired: a corrupt file is named, or its pair skipped with skipBad', async () => {
  const dir = await tmp();
  for (const n of ['a', 'b', 'c']) {
    await writeImage(join(dir, 'A', `${n}.png`), solid(S, 1), S);
    await writeImage(join(dir, 'B', `${n}.png`), solid(S, 2), S);
  }
  await writeFile(join(dir, 'B', 'b.png'), 'not a png');
  await assert.rejects(loadData(`paired:${dir}`), names(join(dir, 'B', 'b.png'), 'skipBad'));
  const src = (await loadData(`paired:${dir}`, { skipBad: true })) as ArraySource;
  assert.deepEqual([src.names, src.skipped, src.inputs!.count], [['a', 'c'], 1, 2]);
  assert.match(src.notices![0], /skipped 1 unreadable pair/);
});

test('aligned: left half is A, right half B; DIR/train and DIR/test; BtoA swaps', async () => {
  const dir = await tmp();
  const [h, w] = [4, 10];
  // Left half 0..4 columns from pattern seed 1, right half from seed 2: write one 4×10 image.
  const left = pattern([h, 5, 3], 1);
  const right = pattern([h, 5, 3], 2);
  const both = new Uint8Array(h * w * 3);
  for (let y = 0; y < h; y++) {
    both.set(left.subarray(y * 15, y * 15 + 15), y * 30);
    both.set(right.subarray(y * 15, y * 15 + 15), y * 30 + 15);
  }
  await writeImage(join(dir, 'train', '1.png'), both, [h, w, 3]);
  await writeImage(join(dir, 'test', '9.png'), both, [h, w, 3]);
  const src = (await loadData(`aligned:${dir}`)) as ArraySource;
  assert.deepEqual([src.count, src.info.shape, src.names], [1, [4, 5, 3], ['1']]);
  assert.deepEqual(example(src.inputs!.values, [4, 5, 3], 0), [...left]);
  assert.deepEqual(example(src.values as Uint8Array, [4, 5, 3], 0), [...right]);
  const back = (await loadData(`aligned:${dir}`, { split: 'test', direction: 'BtoA' })) as ArraySource;
  assert.deepEqual(back.names, ['9']);
  assert.deepEqual(example(back.inputs!.values, [4, 5, 3], 0), [...right]);
  assert.deepEqual(example(back.values as Uint8Array, [4, 5, 3], 0), [...left]);
  const small = (await loadData(`aligned:${dir}`, { imageSize: 2 })) as ArraySource;
  assert.deepEqual(small.info.input!.shape, [2, 2, 3]);
  // Missing split folder, corrupt file.
  const flat = await tmp();
  await writeImage(join(flat, 'x.png'), both, [h, w, 3]);
  assert.equal(((await loadData(`aligned:${flat}`)) as ArraySource).count, 1);
  await assert.rejects(loadData(`aligned:${flat}`, { split: 'test' }), names(join(flat, 'test')));
  await writeFile(join(flat, 'y.png'), 'garbage');
  await assert.rejects(loadData(`aligned:${flat}`), names(join(flat, 'y.png')));
  assert.equal(((await loadData(`aligned:${flat}`, { skipBad: true })) as ArraySource).count, 1);
});

test('unknown specs get a "did you mean" that keeps the argument', async () => {
  await assert.rejects(loadData('pairde:/x'), /did you mean 'paired:\/x'/);
  await assert.rejects(loadData('unpiared:a,b'), /did you mean 'unpaired:a,b'/);
  await assert.rejects(loadData('openmoj'), /did you mean 'openmoji'/);
  await assert.rejects(loadData('edges:fashion-mnst'), /did you mean 'fashion-mnist'/);
  await assert.rejects(loadData('paired:'), /paired:DIR/);
});
