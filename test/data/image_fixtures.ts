/** Small image files for the data tests, written with sharp into temporary folders. */
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';

export async function tmp(prefix = 'ganforge-data-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Write uint8 pixels [h, w, c] to `path` (PNG, lossless, unless the extension says JPEG), creating folders. */
export async function writeImage(path: string, pixels: Uint8Array, [h, w, c]: number[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  let img = sharp(Buffer.from(pixels), { raw: { width: w, height: h, channels: c as 1 | 3 } });
  // sharp writes raw 1-channel input as RGB unless told the colour space.
  if (c === 1) img = img.toColourspace('b-w');
  await (/\.jpe?g$/i.test(path) ? img.jpeg({ quality: 100 }) : img.png()).toFile(path);
}

/** A test pattern whose every pixel differs: value = (seed + 7·y + 3·x + 50·k) mod 256. */
export function pattern([h, w, c]: number[], seed: number): Uint8Array {
  const out = new Uint8Array(h * w * c);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) out[(y * w + x) * c + k] = (seed + 7 * y + 3 * x + 50 * k) % 256;
  return out;
}

export function solid([h, w, c]: number[], value: number): Uint8Array {
  return new Uint8Array(h * w * c).fill(value);
}

/** Example i of uint8 storage [n, ...shape]. */
export function example(values: Uint8Array, shape: number[], i: number): number[] {
  const per = shape.reduce((a, b) => a * b, 1);
  return [...values.subarray(i * per, (i + 1) * per)];
}
