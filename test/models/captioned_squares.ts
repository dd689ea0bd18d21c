import { captionSet } from '../../src/data/tokenizer.js';
import type { ArraySource } from '../../src/data/types.js';
import { Rng } from '../../src/util/rng.js';

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
