import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PAD_TOKEN, UNK_TOKEN, buildVocab, captionSet, decodeTokens, encodeSentences, tokenize } from '../../src/data/tokenizer.js';

test('tokenize: lower case, punctuation dropped, Unicode letters and inner apostrophes kept', () => {
  assert.deepEqual(tokenize('A Black-headed GULL, flying!'), ['a', 'black', 'headed', 'gull', 'flying']);
  assert.deepEqual(tokenize("the bird's Café: 3 eggs"), ['the', "bird's", 'café', '3', 'eggs']);
  assert.deepEqual(tokenize('Ворона.'), ['ворона']);
  assert.deepEqual(tokenize(' ... !? '), []);
});

test('buildVocab: PAD, UNK, then words by frequency, ties alphabetical; minCount drops rare words', () => {
  const v = buildVocab(['a red bird', 'a blue bird', 'a bird', 'zebra']);
  assert.deepEqual(v, ['<pad>', '<unk>', 'a', 'bird', 'blue', 'red', 'zebra']);
  assert.equal(v[PAD_TOKEN], '<pad>');
  assert.equal(v[UNK_TOKEN], '<unk>');
  assert.deepEqual(buildVocab(['a red bird', 'a blue bird', 'a bird'], 2), ['<pad>', '<unk>', 'a', 'bird']);
  // Order of the captions does not change the ids.
  assert.deepEqual(buildVocab(['zebra', 'a bird', 'a blue bird', 'a red bird']), v);
});

test('encodeSentences: ids by the vocabulary, UNK for unknown words, PAD after the length, cuts counted', () => {
  const v = ['<pad>', '<unk>', 'a', 'bird', 'red'];
  const { tokens, lengths, report } = encodeSentences(v, 3, ['a red bird', 'a green bird flies', '<pad> bird', '!!']);
  assert.deepEqual([...tokens], [2, 4, 3, 2, UNK_TOKEN, 3, UNK_TOKEN, 3, PAD_TOKEN, PAD_TOKEN, PAD_TOKEN, PAD_TOKEN]);
  assert.deepEqual([...lengths], [3, 3, 2, 0]);
  // 'flies' is past the cut: not counted as unknown.
  assert.deepEqual(report, { unknown: 2, unknownWords: ['green', 'pad'], truncated: 1, empty: 1 });
  assert.equal(decodeTokens(v, tokens.subarray(3, 6)), 'a <unk> bird');
});

test('captionSet: owners, per-example maximum, and a vocabulary built from the texts unless given', () => {
  const { captions, info, report } = captionSet(['a cat', 'the cat', 'a dog'], Int32Array.from([0, 0, 1]), 4);
  assert.deepEqual(info.vocab, ['<pad>', '<unk>', 'a', 'cat', 'dog', 'the']);
  assert.equal(info.maxLen, 4);
  assert.equal(info.captions, 3);
  assert.equal(info.maxPerExample, 2);
  assert.deepEqual([...captions.owner], [0, 0, 1]);
  assert.deepEqual([...captions.tokens.subarray(4, 8)], [5, 3, 0, 0]);
  assert.equal(report.unknown, 0);
  const imposed = captionSet(['a cat'], Int32Array.from([0]), 2, ['<pad>', '<unk>', 'cat']);
  assert.deepEqual([...imposed.captions.tokens], [UNK_TOKEN, 2]);
  assert.equal(imposed.report.unknown, 1);
});
