import type { CaptionSet, TextConditionInfo } from './types.js';

/** Token id of padding after a caption's end (and of nothing at all). */
export const PAD_TOKEN = 0;
/** Token id of a word the vocabulary does not hold. */
export const UNK_TOKEN = 1;
const SPECIAL = ['<pad>', '<unk>'];

/**
 * Words of a sentence as the vocabulary sees them: lower case, split at anything that is not a letter, digit
 * or apostrophe inside a word (Unicode-aware, so "café" stays one word). AttnGAN's captions are tokenized the
 * same way in spirit: lower-cased word pieces, punctuation dropped.
 */
export function tokenize(sentence: string): string[] {
  return sentence.toLowerCase().normalize('NFC').match(/[\p{L}\p{N}]+(?:'[\p{L}]+)*/gu) ?? [];
}

/**
 * The vocabulary of a set of training captions: PAD, UNK, then every word seen at least `minCount` times, most
 * frequent first (ties alphabetical, so that the same captions always give the same ids).
 */
export function buildVocab(captions: Iterable<string>, minCount = 1): string[] {
  const counts = new Map<string, number>();
  for (const c of captions) for (const w of tokenize(c)) counts.set(w, (counts.get(w) ?? 0) + 1);
  const words = [...counts].filter(([, n]) => n >= minCount).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return [...SPECIAL, ...words.map(([w]) => w)];
}

/** What encoding sentences found: words outside the vocabulary, and sentences cut at maxLen. */
export interface EncodeReport {
  unknown: number;
  unknownWords: string[];
  truncated: number;
  /** Sentences with no word at all (empty, or only punctuation). */
  empty: number;
}

/**
 * Sentences as token ids [n, maxLen] (PAD after each one's length) with their lengths [n]. An empty sentence
 * has length 0; the caller decides whether that is an error (training data) or not.
 */
export function encodeSentences(vocab: readonly string[], maxLen: number, sentences: readonly string[]): { tokens: Int32Array; lengths: Int32Array; report: EncodeReport } {
  const index = new Map(vocab.map((w, i) => [w, i]));
  const tokens = new Int32Array(sentences.length * maxLen);
  const lengths = new Int32Array(sentences.length);
  const unknownWords = new Set<string>();
  const report: EncodeReport = { unknown: 0, unknownWords: [], truncated: 0, empty: 0 };
  sentences.forEach((s, i) => {
    const words = tokenize(s);
    if (words.length === 0) report.empty++;
    if (words.length > maxLen) report.truncated++;
    const n = Math.min(words.length, maxLen);
    for (let t = 0; t < n; t++) {
      const id = index.get(words[t]);
      if (id === undefined || id < SPECIAL.length) {
        report.unknown++;
        unknownWords.add(words[t]);
      }
      tokens[i * maxLen + t] = id !== undefined && id >= SPECIAL.length ? id : UNK_TOKEN;
    }
    lengths[i] = n;
  });
  report.unknownWords = [...unknownWords].sort();
  return { tokens, lengths, report };
}

/** The words of token ids (PAD dropped), for messages and pictures. */
export function decodeTokens(vocab: readonly string[], ids: ArrayLike<number>): string {
  return Array.from(ids).filter((id) => id !== PAD_TOKEN).map((id) => vocab[id] ?? SPECIAL[UNK_TOKEN]).join(' ');
}

/**
 * Captions ready for a stored dataset: `texts[j]` belongs to example `owner[j]`, tokenized with `vocab` (built
 * from these texts when not given). Returns the set, its TextConditionInfo, and the encoding report.
 */
export function captionSet(texts: string[], owner: Int32Array, maxLen: number, vocab = buildVocab(texts)): { captions: CaptionSet; info: TextConditionInfo; report: EncodeReport } {
  const { tokens, lengths, report } = encodeSentences(vocab, maxLen, texts);
  const perExample = new Map<number, number>();
  for (const o of owner) perExample.set(o, (perExample.get(o) ?? 0) + 1);
  return {
    captions: { tokens, lengths, owner, texts },
    info: { vocab, maxLen, captions: texts.length, maxPerExample: Math.max(0, ...perExample.values()) },
    report,
  };
}
