// A tiny captioned data set for the text-encoder tests: coloured squares on a grey ground, each described by
// its colour and its place ("a red square at the top left"), two phrasings per image.
import { captionSet } from '../../src/data/tokenizer.js';
import type { ArraySource } from '../../src/data/types.js';

const COLOURS: [string, [number, number, number]][] = [['red', [230, 30, 30]], ['green', [30, 200, 40]], ['blue', [40, 60, 230]], ['yellow', [240, 220, 30]]];
const PLACES: [string, number, number][] = [['top left', 0, 0], ['top right', 0, 1], ['bottom left', 1, 0], ['bottom right', 1, 1]];

/** side×side RGB images, one per colour × place × `copies` (copies shift the square by a pixel). */
export function squares(side = 16, copies = 2, opts: { vocab?: string[]; maxLen?: number } = {}): ArraySource {
  const n = COLOURS.length * PLACES.length * copies;
  const values = new Uint8Array(n * side * side * 3).fill(128);
  const texts: string[] = [];
  const owner: number[] = [];
  const half = side / 2;
  let i = 0;
  for (const [name, rgb] of COLOURS) {
    for (const [place, row, col] of PLACES) {
      for (let k = 0; k < copies; k++, i++) {
        const y0 = row * half + 1 + (k % 2), x0 = col * half + 1 + ((k >> 1) % 2), s = half - 3;
        for (let y = y0; y < y0 + s; y++) for (let x = x0; x < x0 + s; x++) values.set(rgb, ((i * side + y) * side + x) * 3);
        texts.push(`a ${name} square at the ${place}`, `${place}: one ${name} block`);
        owner.push(i, i);
      }
    }
  }
  const { captions, info: text } = captionSet(texts, Int32Array.from(owner), opts.maxLen ?? 8, opts.vocab);
  return { kind: 'array', info: { name: 'test:squares', kind: 'image', shape: [side, side, 3], count: n, text }, count: n, values, captions };
}
