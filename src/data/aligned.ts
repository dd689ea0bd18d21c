import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import type { ArraySource } from './types.js';
import { compact, decodeNative, forEachBounded, listImageFiles, probeImage, resizeRaw, stem, type ImageProbe } from './decode.js';
import { isDir, sizeOf, type TranslationFolderOptions } from './paired.js';
import { translationSource } from './translation.js';

/**
 * Load pix2pix's aligned layout (facades, maps, edges2shoes): each file holds A in its left half and B in its
 * right half, side by side. Splits: DIR/train and DIR/test as the pix2pix downloads ship them; for 'train' a
 * DIR with the images directly in it works too. Each half is floor(W/2) wide (an odd last column is dropped)
 * and resized to `imageSize` (default: the first file's half). Channels: `channels`, else the first file's
 * (grey → 1, colour → 3). Files of another size are resized like folder: does.
 */
export async function loadAlignedFolder(dir: string, opts: TranslationFolderOptions = {}): Promise<ArraySource> {
  const split = opts.split ?? 'train';
  if (!(await isDir(dir))) throw new UserError(`aligned: folder not found: ${dir}`);
  let root = join(dir, split);
  if (!(await isDir(root))) {
    if (split === 'test' || (await listImageFiles(dir)).length === 0) {
      throw new UserError(`aligned:${dir} (${split}) needs the folder ${root} holding side-by-side A|B images (pix2pix's layout)`);
    }
    root = dir;
  }
  const all = await listImageFiles(root);
  if (all.length === 0) throw new UserError(`no images in ${root} (aligned: expects files with A on the left half and B on the right)`);
  const files = opts.limit !== undefined ? all.slice(0, Math.max(0, Math.floor(opts.limit))) : all;
  if (files.length === 0) throw new UserError(`limit ${opts.limit} leaves no images to load from ${root}`);

  const skipped: string[] = [];
  const bad = (path: string, e: unknown): void => {
    if (!opts.skipBad) throw new UserError(`cannot read image ${path}: ${(e as Error).message} (pass skipBad to skip unreadable files)`);
    skipped.push(path);
  };
  let probe: ImageProbe | undefined;
  for (const f of files) {
    try {
      probe = await probeImage(f);
      if (probe.w < 2) throw new Error(`${probe.w} pixel wide, too narrow to hold two halves`);
      break;
    } catch (e) {
      probe = undefined;
      bad(f, e);
    }
  }
  if (!probe) throw new UserError(`none of the ${files.length} files in ${root} could be read`);
  const [h, w] = sizeOf(opts.imageSize, { h: probe.h, w: Math.floor(probe.w / 2) });
  const c = opts.channels ?? (probe.grey ? 1 : 3);
  const per = h * w * c;
  const A = new Uint8Array(files.length * per);
  const B = new Uint8Array(files.length * per);
  const ok = new Uint8Array(files.length);
  await forEachBounded(files.length, opts.concurrency ?? 8, async (i) => {
    if (skipped.includes(files[i])) return;
    try {
      const img = await decodeNative(files[i], c);
      if (img.w < 2) throw new Error(`${img.w} pixel wide, too narrow to hold two halves`);
      const [left, right] = halves(img.data, img.h, img.w, c);
      const half = Math.floor(img.w / 2);
      A.set(await resizeRaw(left, [img.h, half, c], [h, w]), i * per);
      B.set(await resizeRaw(right, [img.h, half, c], [h, w]), i * per);
      ok[i] = 1;
    } catch (e) {
      bad(files[i], e);
    }
  });
  const keep = files.map((_, i) => i).filter((i) => ok[i]);
  if (keep.length === 0) throw new UserError(`none of the ${files.length} files in ${root} could be read`);
  const pack = (src: Uint8Array): Uint8Array => compact(src, keep, per);
  const names = keep.map((i) => stem(files[i]));
  const notices = skipped.length > 0 ? [`skipped ${skipped.length} unreadable file(s): ${skipped.slice(0, 5).join(', ')}${skipped.length > 5 ? ', …' : ''}`] : [];
  return translationSource({
    name: `aligned:${dir}`,
    a: { name: 'A', values: pack(A), shape: [h, w, c], count: keep.length, names },
    b: { name: 'B', values: pack(B), shape: [h, w, c], count: keep.length, names },
    pairing: 'paired',
    direction: opts.direction,
    notices,
    skipped: skipped.length,
  });
}

/** Split raw [h, w, c] pixels into the left and right floor(w/2) columns. */
export function halves(data: Uint8Array, h: number, w: number, c: number): [Uint8Array, Uint8Array] {
  const half = Math.floor(w / 2);
  const row = half * c;
  const left = new Uint8Array(h * row);
  const right = new Uint8Array(h * row);
  for (let y = 0; y < h; y++) {
    left.set(data.subarray(y * w * c, y * w * c + row), y * row);
    right.set(data.subarray(y * w * c + row, y * w * c + 2 * row), y * row);
  }
  return [left, right];
}
