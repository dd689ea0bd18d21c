import { readdir } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import sharp from 'sharp';
import { colourHex, type Rgb } from '../util/colour.js';

/** File extensions treated as images (formats the prebuilt sharp decodes); everything else is ignored. */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([
  '.png', '.jpg', '.jpeg', '.jpe', '.jfif', '.webp', '.gif', '.tif', '.tiff', '.avif', '.svg',
]);

export function isImageFile(name: string): boolean {
  return !name.startsWith('.') && IMAGE_EXTENSIONS.has(extname(name).toLowerCase());
}

/** The image files directly in `dir` (not below it), sorted by name so order never depends on the file system. */
export async function listImageFiles(dir: string): Promise<string[]> {
  const items = await readdir(dir, { withFileTypes: true });
  return items.filter((d) => d.isFile() && isImageFile(d.name)).map((d) => d.name).sort().map((n) => join(dir, n));
}

/** All image files below `dir` (sub-folders included, hidden entries skipped), sorted by path, so load order
 * never depends on the file system. */
export async function walkImageFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const items = await readdir(dir, { withFileTypes: true });
  items.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const d of items) {
    if (d.name.startsWith('.')) continue;
    const p = join(dir, d.name);
    if (d.isDirectory()) out.push(...(await walkImageFiles(p)));
    else if (d.isFile() && isImageFile(d.name)) out.push(p);
  }
  return out;
}

/** A file's name without folder and extension: 'A/cat.png' → 'cat'. Pairs are matched on it. */
export function stem(path: string): string {
  const name = basename(path);
  return name.slice(0, name.length - extname(name).length);
}

export function isGrey(m: sharp.Metadata): boolean {
  return m.space === 'b-w' || m.space === 'grey16' || m.channels === 1 || (m.channels === 2 && m.hasAlpha === true);
}

/** An image file's size once upright and whether it is greyscale. */
export interface ImageProbe {
  h: number;
  w: number;
  grey: boolean;
}

/** Read the header only (EXIF orientations 5–8 swap width and height). */
export async function probeImage(path: string): Promise<ImageProbe> {
  const m = await sharp(path).metadata();
  if (!m.width || !m.height) throw new Error('image has no size');
  const swap = (m.orientation ?? 1) >= 5;
  return { h: swap ? m.width : m.height, w: swap ? m.height : m.width, grey: isGrey(m) };
}

/** A file (or an opened one) as sharp will decode it for a run: upright by its EXIF orientation, transparent pixels on `background`. */
export function uprightOn(input: string | sharp.Sharp, [r, g, b]: Rgb): sharp.Sharp {
  return (typeof input === 'string' ? sharp(input) : input).rotate().flatten({ background: { r, g, b } });
}

/** Decode to uint8 [h, w, c]: upright, alpha dropped, resized with centre-crop (`fit: cover`) as folder: does. */
export async function decodeImage(path: string, [h, w, c]: number[]): Promise<Uint8Array> {
  return toRaw(sharp(path).rotate().removeAlpha().resize(w, h, { fit: 'cover' }), [h, w, c]);
}

/** Decode at the file's own size (upright, alpha dropped) with c channels; for splitting before resizing. */
export async function decodeNative(path: string, c: number): Promise<{ data: Uint8Array; h: number; w: number }> {
  const p = sharp(path).rotate().removeAlpha();
  const { data, info } = await (c === 1 ? p.toColourspace('b-w') : p.toColourspace('srgb')).raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== c) throw new Error(`decoded to ${info.channels} channels, expected ${c}`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), h: info.height, w: info.width };
}

/** Resize raw uint8 [h, w, c] pixels with sharp (same filter as files get), centre-cropping to [oh, ow]. */
export async function resizeRaw(data: Uint8Array, [h, w, c]: number[], [oh, ow]: number[]): Promise<Uint8Array> {
  if (h === oh && w === ow) return data;
  const p = sharp(data, { raw: { width: w, height: h, channels: c as 1 | 3 } }).resize(ow, oh, { fit: 'cover' });
  return toRaw(p, [oh, ow, c]);
}

/** Run a sharp pipeline to raw uint8 [h, w, c], checking it produced exactly that. */
export async function toRaw(p: sharp.Sharp, [h, w, c]: number[]): Promise<Uint8Array> {
  const { data, info } = await (c === 1 ? p.toColourspace('b-w') : p.toColourspace('srgb')).raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== c || info.width !== w || info.height !== h || data.length !== h * w * c) {
    throw new Error(`decoded to ${info.width}×${info.height}×${info.channels}, expected ${w}×${h}×${c}`);
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

/** Run `fn(0..n-1)` with at most `limit` calls in flight; the first rejection stops new work and is rethrown. */
export async function forEachBounded(n: number, limit: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < n) {
      const i = next++;
      try {
        await fn(i);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, n)) }, worker));
}

/** Keep the examples `keep` (slot indices, ascending) of uint8 slots of `per` bytes, contiguously. */
export function compact(values: Uint8Array, keep: number[], per: number): Uint8Array {
  if (keep.length * per === values.length) return values;
  const out = new Uint8Array(keep.length * per);
  keep.forEach((k, j) => out.set(values.subarray(k * per, (k + 1) * per), j * per));
  return out;
}

export { WHITE, colourHex, parseColour, type Rgb } from '../util/colour.js';

/** What an image file is before decoding: its size once upright, whether it is greyscale, whether it has alpha. */
export interface ImageHeader {
  h: number;
  w: number;
  grey: boolean;
  alpha: boolean;
}

export function headerOf(m: sharp.Metadata): ImageHeader {
  if (!m.width || !m.height) throw new Error('image has no size');
  const swap = (m.orientation ?? 1) >= 5; // EXIF orientations 5–8 swap width and height once rotated upright
  return { h: swap ? m.width : m.height, w: swap ? m.height : m.width, grey: isGrey(m), alpha: m.hasAlpha === true };
}

/** What every file of a folder becomes: uint8 [h, w, c], alpha composited on `background`. */
export interface DecodeTarget {
  shape: [number, number, number];
  background: Rgb;
}

/**
 * Decode one file to `target`: upright, alpha composited on the background (transparent pixels take its
 * colour), resized with centre-crop (`fit: cover`, aspect kept), converted to grey or sRGB. The header comes
 * back too, so that callers can count what had to be resized or converted. The in-memory folder loader and
 * the streaming decoders both run this, so the two give identical pixels.
 */
export async function decodeFile(path: string, target: DecodeTarget): Promise<{ data: Uint8Array; header: ImageHeader }> {
  const img = sharp(path);
  const header = headerOf(await img.metadata());
  return { data: await decodePixels(img, target), header };
}

/** `decodeFile` without the header (a second read of the file): for callers that read the headers before. */
export async function decodePixels(input: string | sharp.Sharp, target: DecodeTarget): Promise<Uint8Array> {
  const [h, w, c] = target.shape;
  return toRaw(uprightOn(input, target.background).resize(w, h, { fit: 'cover' }), [h, w, c]);
}

/**
 * One line saying what a folder's files needed to become `shape` ("resized 12 of 3,391 images to 64×64;
 * converted 3 grey images to RGB; composited 5 images with alpha on #ffffff"), or undefined when every file
 * already was that.
 */
export function conversionNotice(name: string, headers: readonly ImageHeader[], [h, w, c]: number[], background: Rgb): string | undefined {
  const n = (k: number) => k.toLocaleString('en-US');
  const resized = headers.filter((x) => x.h !== h || x.w !== w).length;
  const converted = headers.filter((x) => x.grey !== (c === 1)).length;
  const alpha = headers.filter((x) => x.alpha).length;
  const parts = [
    resized ? `resized ${n(resized)} of ${n(headers.length)} images to ${h}×${w}` : '',
    converted ? `converted ${n(converted)} ${c === 1 ? 'colour images to grey' : 'grey images to RGB'}` : '',
    alpha ? `composited ${n(alpha)} images with alpha on ${colourHex(background)}` : '',
  ].filter((p) => p !== '');
  return parts.length ? `${name}: ${parts.join('; ')}` : undefined;
}
