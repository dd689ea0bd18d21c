import * as tf from '@tensorflow/tfjs-core';
import { captionSet } from '../../src/data/tokenizer.js';
import type { ArraySource } from '../../src/data/types.js';
import { Rng } from '../../src/util/rng.js';
import { buildTextEncoder, encodeText } from '../../src/text/encoders.js';

/**
 * n RGB images side×side of one 5-pixel square, red or blue, on black, each with two captions naming its colour
 * ("a red square", "a small red box"): the smallest data a text-to-image family can learn the text of.
 */
export function captionedSquares(n: number, side = 16, seed = 1): ArraySource {
  const rng = new Rng(seed);
  const values = new Uint8Array(n * side * side * 3);
  const texts: string[] = [];
  const owner: number[] = [];
  for (let i = 0; i < n; i++) {
    const red = i % 2 === 0;
    const [y0, x0] = [rng.int(side - 5), rng.int(side - 5)];
    for (let y = 0; y < 5; y++) for (let x = 0; x < 5; x++) values[((i * side + y0 + y) * side + x0 + x) * 3 + (red ? 0 : 2)] = 255;
    const colour = red ? 'red' : 'blue';
    texts.push(`a ${colour} square`, `a small ${colour} box`);
    owner.push(i, i);
  }
  const { captions, info } = captionSet(texts, Int32Array.from(owner), 6);
  return { kind: 'array', count: n, values, captions, info: { name: 'captioned-squares', kind: 'image', shape: [side, side, 3], count: n, text: info } };
}

/**
 * Runs a text encoder once on a few captions and frees it: on aten, tfjs-layers' masked LSTM calls ExpandDims,
 * which the backend leaves to the CPU. A test that checks a text family's step for CPU fallbacks takes its
 * baseline after this, so it catches the family's own kernels (the encoder's are reported with the LSTM's work).
 */
export function runTextEncoderOnce(): void {
  const source = captionedSquares(2);
  const encoder = buildTextEncoder(source.info.text!, { embedDim: 4, featureDim: 4 }, new Rng(1));
  tf.tidy(() => {
    encodeText(encoder, { tokens: tf.tensor2d(source.captions!.tokens.slice(0, 12), [2, 6], 'int32'), lengths: tf.tensor1d([3, 3], 'int32') }).sentence.dataSync();
  });
  encoder.dispose();
}
