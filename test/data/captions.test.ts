import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_MAX_WORDS, loadCaptionFiles, mainScript, scriptOf } from '../../src/data/captions.js';
import { DEFAULT_CONFIG } from '../../src/gan/config.js';
import type { GanFamily } from '../../src/gan/family.js';
import { HONOURS, checkHonoured } from '../../src/gan/settings.js';
import { loadData } from '../../src/data/registry.js';
import { encodeSentences } from '../../src/data/tokenizer.js';
import type { ArraySource } from '../../src/data/types.js';
import { UserError } from '../../src/util/errors.js';
import { example, pattern, solid, tmp, writeImage } from './image_fixtures.js';

/** Write `files` (relative path → text) and images (relative path → solid grey value, 8×8 RGB) under a fresh folder. */
async function folder(images: Record<string, number>, texts: Record<string, string>): Promise<string> {
  const dir = await tmp('ganforge-captions-');
  for (const [p, v] of Object.entries(images)) await writeImage(join(dir, p), solid([8, 8, 3], v), [8, 8, 3]);
  for (const [p, t] of Object.entries(texts)) {
    await mkdir(join(dir, p, '..'), { recursive: true });
    await writeFile(join(dir, p), t);
  }
  return dir;
}

const userError = (re: RegExp) => (e: unknown) => e instanceof UserError && re.test((e as Error).message);

/** The captions of example i, as written. */
function captionsOf(src: ArraySource, i: number): string[] {
  const c = src.captions!;
  return c.texts.filter((_, j) => c.owner[j] === i);
}

test('captions:DIR: NAME.png beside NAME.txt, one caption per line, sub-folders too; images resized, RGB, in path order', async () => {
  const dir = await folder(
    { 'cat.png': 10, 'birds/crow.jpg': 200, 'test/owl.png': 90 },
    { 'cat.txt': 'A black cat.\n\n  a cat sleeping  \n', 'birds/crow.txt': 'a black crow\n', 'test/owl.txt': 'a white owl\n' },
  );
  const src = (await loadData(`captions:${dir}`, { imageSize: 4, log: () => {} })) as ArraySource;
  assert.equal(src.count, 2);
  assert.deepEqual(src.names, ['birds/crow', 'cat']);
  assert.deepEqual(src.info.shape, [4, 4, 3]);
  assert.ok(example(src.values as Uint8Array, [4, 4, 3], 0).every((v) => Math.abs(v - 200) <= 2)); // JPEG
  assert.deepEqual(example(src.values as Uint8Array, [4, 4, 3], 1), new Array(48).fill(10));
  assert.deepEqual(captionsOf(src, 1), ['A black cat.', 'a cat sleeping']);
  assert.deepEqual(captionsOf(src, 0), ['a black crow']);
  const text = src.info.text!;
  assert.deepEqual(text.vocab, ['<pad>', '<unk>', 'a', 'black', 'cat', 'crow', 'sleeping']);
  assert.equal(text.maxLen, 3); // the longest training caption, under --max-words' 18
  assert.equal(text.captions, 3);
  assert.equal(text.maxPerExample, 2);
  const expected = encodeSentences(text.vocab, 3, ['a black crow', 'A black cat.', 'a cat sleeping']);
  assert.deepEqual([...src.captions!.tokens], [...expected.tokens]);
  assert.deepEqual(src.info.count, 2);
  // The test split (DIR/test, never in train) is tokenized with the training vocabulary: 'white', 'owl' are UNK.
  const test = (await loadData(`captions:${dir}`, { split: 'test', imageSize: 4 })) as ArraySource;
  assert.equal(test.count, 1);
  assert.deepEqual(test.info.text!.vocab, text.vocab);
  assert.deepEqual([...test.captions!.tokens], [2, 1, 1]);
  assert.ok(test.notices!.some((n) => /2 word\(s\) are not in the training vocabulary.*owl, white/.test(n)), test.notices!.join('\n'));
});

test('captions:DIR: default 64 px; DIR/train is the training split when present; no test split is an error', async () => {
  const dir = await folder({ 'train/a.png': 1, 'b.png': 2 }, { 'train/a.txt': 'one thing', 'b.txt': 'other' });
  const src = (await loadCaptionFiles(dir)) as ArraySource;
  assert.deepEqual(src.names, ['a']);
  assert.deepEqual(src.info.shape, [64, 64, 3]);
  await assert.rejects(loadCaptionFiles(dir, { split: 'test' }), userError(/no test split.*\/test/));
});

test('--max-words cuts long captions with one notice; the vocabulary and lengths come from the whole training split, whatever the limit', async () => {
  const dir = await folder({ 'a.png': 1, 'b.png': 2 }, { 'a.txt': 'one two three four five six\nshort one', 'b.txt': 'seven eight' });
  const src = await loadCaptionFiles(dir, { imageSize: 2, maxWords: 4 });
  assert.equal(src.info.text!.maxLen, 4);
  assert.deepEqual([...src.captions!.lengths], [4, 2, 2]);
  assert.ok(src.notices!.some((n) => /1 of 3 captions are longer than 4 words and were cut/.test(n)), src.notices!.join('\n'));
  const limited = await loadCaptionFiles(dir, { imageSize: 2, limit: 1 });
  assert.equal(limited.count, 1);
  assert.equal(limited.info.text!.maxLen, 6);
  assert.ok(limited.info.text!.vocab.includes('eight'));
  await assert.rejects(loadCaptionFiles(dir, { maxWords: 0 }), userError(/--max-words/));
});

test('an imposed vocabulary (a pretrained encoder\'s) tokenizes the captions, unknown words counted', async () => {
  const dir = await folder({ 'a.png': 1 }, { 'a.txt': 'a red bird' });
  const vocab = ['<pad>', '<unk>', 'bird', 'a'];
  const src = await loadCaptionFiles(dir, { imageSize: 2, vocab });
  assert.deepEqual(src.info.text!.vocab, vocab);
  assert.deepEqual([...src.captions!.tokens], [3, 1, 2]);
  assert.ok(src.notices!.some((n) => /1 word\(s\).*<unk>: red/.test(n)));
  // With the encoder's input length, rows are that long whatever --max-words says.
  const long = await loadCaptionFiles(dir, { imageSize: 2, vocab, maxLen: 5, maxWords: 2 });
  assert.equal(long.info.text!.maxLen, 5);
  assert.deepEqual([...long.captions!.tokens], [3, 1, 2, 0, 0]);
});

test('captions:FILE.jsonl: several lines per image, paths relative to the manifest, lists of captions; FILE-test.jsonl is the test split', async () => {
  const dir = await folder({ 'img/x.png': 30, 'img/y.png': 60, 'z.png': 90 }, {
    'data.jsonl': [
      JSON.stringify({ image: 'img/y.png', text: 'a grey square' }),
      '',
      JSON.stringify({ image: 'img/x.png', text: ['a dark square', 'dark'] }),
      JSON.stringify({ image: 'img/y.png', text: 'another grey one' }),
    ].join('\n'),
    'data-test.jsonl': JSON.stringify({ image: 'z.png', text: 'a light square' }),
  });
  const src = (await loadData(`captions:${join(dir, 'data.jsonl')}`, { imageSize: 2 })) as ArraySource;
  assert.deepEqual(src.names, ['img/y.png', 'img/x.png']);
  assert.deepEqual(example(src.values as Uint8Array, [2, 2, 3], 0), new Array(12).fill(60));
  assert.deepEqual(captionsOf(src, 0), ['a grey square', 'another grey one']);
  assert.deepEqual(captionsOf(src, 1), ['a dark square', 'dark']);
  const test = await loadCaptionFiles(join(dir, 'data.jsonl'), { split: 'test', imageSize: 2 });
  assert.deepEqual(test.info.text!.vocab, src.info.text!.vocab);
  assert.deepEqual(test.names, ['z.png']);
});

test('bad manifests: a line that is not JSON, a line without image or text, a missing image, an empty caption — each names the line', async () => {
  const dir = await folder({ 'a.png': 1 }, {
    'bad.jsonl': `${JSON.stringify({ image: 'a.png', text: 'ok' })}\n{"image": "a.png", text: oops}\n`,
    'keys.jsonl': JSON.stringify({ file: 'a.png', caption: 'x' }),
    'missing.jsonl': `${JSON.stringify({ image: 'a.png', text: 'ok' })}\n${JSON.stringify({ image: 'gone.png', text: 'lost' })}`,
    'empty.jsonl': `${JSON.stringify({ image: 'a.png', text: 'ok' })}\n${JSON.stringify({ image: 'a.png', text: ' ?! ' })}`,
  });
  await assert.rejects(loadCaptionFiles(join(dir, 'bad.jsonl')), userError(/bad\.jsonl:2 is not JSON/));
  await assert.rejects(loadCaptionFiles(join(dir, 'keys.jsonl')), userError(/keys\.jsonl:1: needs "image".*found file, caption/));
  await assert.rejects(loadCaptionFiles(join(dir, 'missing.jsonl')), userError(/1 image file\(s\) not found: .*gone\.png \(.*missing\.jsonl:2\).*--skip-bad/));
  await assert.rejects(loadCaptionFiles(join(dir, 'empty.jsonl')), userError(/1 empty caption\(s\).*empty\.jsonl:2/));
  const skipped = await loadCaptionFiles(join(dir, 'missing.jsonl'), { skipBad: true, imageSize: 2 });
  assert.equal(skipped.count, 1);
  assert.ok(skipped.notices!.some((n) => /--skip-bad left out 1 image file\(s\) not found/.test(n)));
  await assert.rejects(loadCaptionFiles(join(dir, 'nothing.jsonl')), userError(/manifest not found/));
});

test('bad folders: an image without a caption, an empty caption file, a corrupt image fail naming the file; --skip-bad leaves them out; a caption without an image is a notice', async () => {
  const dir = await folder({ 'a.png': 1, 'b.png': 2, 'c.png': 3 }, { 'a.txt': 'fine', 'c.txt': '\n  \n', 'd.txt': 'no picture' });
  await writeFile(join(dir, 'e.png'), 'not a png');
  await writeFile(join(dir, 'e.txt'), 'broken');
  const err = await loadCaptionFiles(dir).then(() => undefined, (e: Error) => e);
  assert.ok(err instanceof UserError);
  assert.match(err.message, /1 image\(s\) without a caption file.*b\.png/);
  assert.match(err.message, /1 empty caption file\(s\).*c\.txt/);
  assert.match(err.message, /--skip-bad/);
  const without = await folder({ 'a.png': 1 }, { 'a.txt': 'fine', 'e.txt': 'broken' });
  await writeFile(join(without, 'e.png'), 'not a png');
  await assert.rejects(loadCaptionFiles(without), userError(/cannot read image .*e\.png/));
  const src = await loadCaptionFiles(dir, { skipBad: true, imageSize: 2 });
  assert.deepEqual(src.names, ['a']);
  assert.equal(src.skipped, 1);
  const notes = src.notices!.join('\n');
  assert.match(notes, /1 caption file\(s\) without an image were ignored: .*d\.txt/);
  assert.match(notes, /left out 1 image\(s\) without a caption file/);
  assert.match(notes, /left out 1 unreadable image\(s\): .*e\.png/);
  await assert.rejects(loadCaptionFiles(join(dir, 'nope')), userError(/folder not found/));
});

test('a caption in another script than the vocabulary\'s is a notice counting it', async () => {
  assert.equal(scriptOf('ворона'), 'Cyrillic');
  assert.equal(scriptOf('crow'), 'Latin');
  assert.equal(scriptOf('42'), undefined);
  assert.equal(scriptOf('カラス'), 'Katakana');
  assert.equal(mainScript(['<pad>', '<unk>', 'a', 'crow', 'ворона']), 'Latin');
  const dir = await folder({ 'a.png': 1, 'b.png': 2, 'c.png': 3 }, { 'a.txt': 'a black crow\nВорона 2.', 'b.txt': 'a red heart', 'c.txt': '乌鸦\na bird' });
  const src = await loadCaptionFiles(dir, { imageSize: 2 });
  const note = src.notices!.find((n) => /another script/.test(n));
  assert.ok(note, src.notices!.join('\n'));
  assert.match(note, /2 caption\(s\) are written in another script \(Cyrillic, Han\) than the vocabulary's Latin/);
  assert.match(note, /a\.txt: "Ворона 2\."/);
  const latin = await loadCaptionFiles(await folder({ 'a.png': 1 }, { 'a.txt': 'café au lait' }), { imageSize: 2 });
  assert.ok(!latin.notices!.some((n) => /another script/.test(n)));
  const latin1 = await folder({ 'a.png': 1 }, {});
  await writeFile(join(latin1, 'a.txt'), Buffer.from('caf\xe9 au lait', 'latin1'));
  const read = await loadCaptionFiles(latin1, { imageSize: 2 });
  assert.ok(read.notices!.some((n) => /1 caption file\(s\) are not UTF-8.*a\.txt/.test(n)), read.notices!.join('\n'));
});

test('captions data needs the whole caption set: a tiny folder trains through BatchStream-compatible fields', async () => {
  const dir = await folder({ 'p.png': 5 }, { 'p.txt': 'one' });
  await writeImage(join(dir, 'q.png'), pattern([8, 8, 3], 1), [8, 8, 3]);
  await writeFile(join(dir, 'q.txt'), 'two\nthree');
  const src = await loadCaptionFiles(dir, { imageSize: 8 });
  assert.equal(src.captions!.tokens.length, 3 * src.info.text!.maxLen);
  assert.deepEqual([...src.captions!.owner], [0, 1, 1]);
  assert.deepEqual(example(src.values as Uint8Array, [8, 8, 3], 1), [...pattern([8, 8, 3], 1)]);
});

test('--max-words is an optional setting: refused for a family that does not honour it, accepted for one that lists HONOURS.text', async () => {
  const dir = await folder({ 'a.png': 1 }, { 'a.txt': 'a b c' });
  const info = (await loadCaptionFiles(dir, { imageSize: 2 })).info;
  const family = (honours: readonly string[]) => ({ name: 'fam', honours }) as unknown as GanFamily;
  assert.throws(() => checkHonoured(family([]), info, { maxWords: 5 }), userError(/--max-words: fam does not use this setting/));
  checkHonoured(family(HONOURS.text), info, { maxWords: 5 });
  assert.equal(DEFAULT_CONFIG.maxWords, DEFAULT_MAX_WORDS);
});
