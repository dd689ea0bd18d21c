import * as tf from '@tensorflow/tfjs-core';
import type { DatasetInfo, TextBatch, TextConditionInfo } from '../data/types.js';
import { encodeSentences, type EncodeReport } from '../data/tokenizer.js';
import { UserError } from '../util/errors.js';

/**
 * The sentences of a sampling request as a caption batch of `count` (sentences cycled), tokenized with the run's
 * vocabulary. Unknown words become UNK and over-long sentences are cut: both are reported to `notice` (the CLI
 * prints it), never silently. A run without a text condition, or a request without sentences, is an error.
 */
export function requestCaptions(data: DatasetInfo, sentences: readonly string[] | undefined, count: number, notice: (line: string) => void = defaultNotice): TextBatch {
  const text = textInfoOf(data);
  if (!sentences || sentences.length === 0) throw new UserError(`this run draws images from sentences: pass --text "a sentence" (or --text-file FILE, one sentence per line)`);
  // Each given sentence is encoded (and reported) once, then the rows are cycled to `count`.
  const encoded = encodeSentences(text.vocab, text.maxLen, sentences);
  for (const line of describeReport(encoded.report, text)) notice(line);
  if (encoded.report.empty > 0) throw new UserError(`--text: ${encoded.report.empty === sentences.length ? 'the sentence has' : 'some sentences have'} no words the tokenizer keeps (letters or digits); write a sentence`);
  const t = text.maxLen;
  const tokens = new Int32Array(count * t);
  const lengths = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const k = i % sentences.length;
    tokens.set(encoded.tokens.subarray(k * t, (k + 1) * t), i * t);
    lengths[i] = encoded.lengths[k];
  }
  return { tokens: tf.tensor2d(tokens, [count, text.maxLen], 'int32'), lengths: tf.tensor1d(lengths, 'int32') };
}

/** The run's text condition, or an error saying the run takes no text. */
export function textInfoOf(data: DatasetInfo): TextConditionInfo {
  if (!data.text) throw new UserError(`--text: this run was trained on ${data.name}, which has no captions, so it takes no text; text-to-image families train on captions:… data`);
  return data.text;
}

function describeReport(report: EncodeReport, text: TextConditionInfo): string[] {
  const lines: string[] = [];
  if (report.unknown > 0) {
    const shown = report.unknownWords.slice(0, 8).map((w) => `'${w}'`).join(', ');
    lines.push(`${report.unknown} word(s) not in the run's ${text.vocab.length - 2}-word vocabulary became <unk>: ${shown}${report.unknownWords.length > 8 ? ', …' : ''}`);
  }
  if (report.truncated > 0) lines.push(`${report.truncated} sentence(s) longer than the encoder's ${text.maxLen} words were cut to ${text.maxLen}`);
  return lines;
}

function defaultNotice(line: string): void {
  process.stderr.write(`ganforge: ${line}\n`);
}
