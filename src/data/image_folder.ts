import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { UserError } from '../util/errors.js';
import type { ArraySource } from './types.js';
import { IMAGE_EXTENSIONS, forEachBounded, isGrey, isImageFile } from './decode.js';

export { IMAGE_EXTENSIONS };

export interface ImageFolderOptions {
  /** Output size: a number for square images or [height, width]; default: the first image's size. */
  imageSize?: number | [number, number];
  /** 1 (grey) or 3 (RGB); default: 1 when the first image is greyscale, else 3. Alpha is always dropped. */
  channels?: 1 | 3;
  /** Skip unreadable images (counted in `skipped`) instead of failing on the first one. */
  skipBad?: boolean;
  /** Load only the first N image files (in the order described at `loadImageFolder`). */
  limit?: number;
  /** Files decoded at once; default 8. Bounded so 50k files do not open 50k handles. */
  concurrency?: number;
}

/** An image-folder ArraySource, plus which files were skipped and which were loaded. */
export interface ImageFolderSource extends ArraySource {
  skipped: number;
  skippedFiles: string[];
  /** Path of each loaded example, index-aligned with `values`/`labels`. */
  files: string[];
}

interface Entry {
  path: string;
  label?: number;
}

/**
 * Load every image in `dir` as uint8 [N, H, W, C].
 *
 * Layout: if `dir` has sub-folders holding images, each such sub-folder is a class (sorted names → label
 * ids 0..K-1; images anywhere below it belong to it). Otherwise the images directly in `dir` are loaded
 * without labels. Having both loose images and class folders is an error, as it is ambiguous.
 * Order: classes are interleaved round-robin (file 0 of each class, then file 1, ...; files sorted by
 * name), so `limit` gives a class-balanced subset instead of only the first class.
 * Images are resized to the target size with centre-crop (`fit: cover`) so aspect ratios are kept.
 */
export async function loadImageFolder(dir: string, opts: ImageFolderOptions = {}): Promise<ImageFolderSource> {
  const st = await stat(dir).catch(() => undefined);
  if (!st) throw new UserError(`image folder not found: ${dir}`);
  if (!st.isDirectory()) throw new UserError(`not a folder: ${dir} (folder:PATH needs a folder of images)`);

  const { entries, classNames } = await listImages(dir);
  if (entries.length === 0) {
    throw new UserError(`no images found in ${dir} (looked for ${[...IMAGE_EXTENSIONS].join(' ')} files, directly or in class sub-folders)`);
  }
  const limited = opts.limit !== undefined ? entries.slice(0, Math.max(0, Math.floor(opts.limit))) : entries;
  if (limited.length === 0) throw new UserError(`limit ${opts.limit} leaves no images to load from ${dir}`);

  const skippedFiles: string[] = [];
  const bad = (path: string, e: unknown): void => {
    if (!opts.skipBad) {
      throw new UserError(`cannot read image ${path}: ${(e as Error).message} (pass skipBad to skip unreadable files)`);
    }
    skippedFiles.push(path);
  };

  // Probe files in order until one decodes, to choose the default size and channel count.
  let first = 0;
  let probe: sharp.Metadata | undefined;
  for (; first < limited.length && !probe; first++) {
    try {
      probe = await sharp(limited[first].path).metadata();
      if (!probe.width || !probe.height) throw new Error('image has no size');
    } catch (e) {
      probe = undefined;
      bad(limited[first].path, e);
    }
  }
  first--;
  if (!probe) throw new UserError(`none of the ${limited.length} image files in ${dir} could be read`);
  const [h, w] = resolveSize(opts.imageSize, probe);
  const c = opts.channels ?? (isGrey(probe) ? 1 : 3);
  if (c !== 1 && c !== 3) throw new UserError(`channels must be 1 or 3, got ${c}`);

  const todo = limited.slice(first);
  const per = h * w * c;
  const values = new Uint8Array(todo.length * per);
  const ok = new Uint8Array(todo.length);
  const decode = async (i: number): Promise<void> => {
    const path = todo[i].path;
    let pipeline = sharp(path).rotate().removeAlpha().resize(w, h, { fit: 'cover' });
    pipeline = c === 1 ? pipeline.toColourspace('b-w') : pipeline.toColourspace('srgb');
    try {
      const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
      if (info.channels !== c || info.width !== w || info.height !== h || data.length !== per) {
        throw new Error(`decoded to ${info.width}×${info.height}×${info.channels}, expected ${w}×${h}×${c}`);
      }
      values.set(data, i * per);
      ok[i] = 1;
    } catch (e) {
      bad(path, e);
    }
  };
  await forEachBounded(todo.length, opts.concurrency ?? 8, decode);

  // Drop the slots of skipped files so examples stay contiguous.
  const keep = todo.map((_, i) => i).filter((i) => ok[i]);
  if (keep.length === 0) throw new UserError(`none of the ${limited.length} image files in ${dir} could be read`);
  let packed = values;
  if (keep.length !== todo.length) {
    packed = new Uint8Array(keep.length * per);
    keep.forEach((src, dst) => packed.set(values.subarray(src * per, (src + 1) * per), dst * per));
  }
  const kept = keep.map((i) => todo[i]);
  const labels = classNames ? Int32Array.from(kept, (e) => e.label ?? 0) : undefined;
  return {
    kind: 'array',
    info: {
      name: `folder:${dir}`,
      kind: 'image',
      shape: [h, w, c],
      count: kept.length,
      ...(classNames ? { numClasses: classNames.length, classNames } : {}),
    },
    count: kept.length,
    values: packed,
    labels,
    skipped: skippedFiles.length,
    skippedFiles,
    files: kept.map((e) => e.path),
  };
}

async function listImages(dir: string): Promise<{ entries: Entry[]; classNames?: string[] }> {
  const items = await readdir(dir, { withFileTypes: true });
  const loose = items.filter((d) => d.isFile() && isImageFile(d.name)).map((d) => d.name).sort();
  const classes: { name: string; files: string[] }[] = [];
  for (const d of items.filter((d) => d.isDirectory() && !d.name.startsWith('.')).sort(byName)) {
    const files = await walk(join(dir, d.name));
    if (files.length > 0) classes.push({ name: d.name, files });
  }
  if (classes.length === 0) return { entries: loose.map((n) => ({ path: join(dir, n) })) };
  if (loose.length > 0) {
    throw new UserError(
      `${dir} has both ${loose.length} image files directly in it (e.g. ${loose[0]}) and class sub-folders ` +
        `(${classes.map((k) => k.name).join(', ')}); move the loose files into a sub-folder or point at one folder`,
    );
  }
  // Round-robin over classes so a prefix (limit) is class-balanced.
  const entries: Entry[] = [];
  const longest = Math.max(...classes.map((k) => k.files.length));
  for (let j = 0; j < longest; j++) {
    classes.forEach((k, label) => {
      if (j < k.files.length) entries.push({ path: k.files[j], label });
    });
  }
  return { entries, classNames: classes.map((k) => k.name) };
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** All image files below `dir`, sorted by path, so load order does not depend on the file system. */
async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of (await readdir(dir, { withFileTypes: true })).sort(byName)) {
    if (d.name.startsWith('.')) continue;
    const p = join(dir, d.name);
    if (d.isDirectory()) out.push(...(await walk(p)));
    else if (d.isFile() && isImageFile(d.name)) out.push(p);
  }
  return out;
}

function resolveSize(size: ImageFolderOptions['imageSize'], probe: sharp.Metadata): [number, number] {
  if (size === undefined) {
    // EXIF orientations 5–8 swap width and height once rotated upright.
    const swap = (probe.orientation ?? 1) >= 5;
    return swap ? [probe.width!, probe.height!] : [probe.height!, probe.width!];
  }
  const [h, w] = typeof size === 'number' ? [size, size] : size;
  if (![h, w].every((v) => Number.isInteger(v) && v > 0)) throw new UserError(`imageSize must be positive integers, got ${String(size)}`);
  return [h, w];
}
