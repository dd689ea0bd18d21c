import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { UserError } from '../util/errors.js';
import type { ArraySource, DatasetInfo } from './types.js';
import {
  IMAGE_EXTENSIONS, WHITE, compact, conversionNotice, decodeFile, forEachBounded, headerOf, isImageFile, walkImageFiles,
  type DecodeTarget, type ImageHeader, type Rgb,
} from './decode.js';

export { IMAGE_EXTENSIONS };

export interface ImageFolderOptions {
  /** Output size: a number for square images or [height, width]; default: the first image's size. */
  imageSize?: number | [number, number];
  /** 1 (grey) or 3 (RGB); default: 1 when the first image is greyscale, else 3. */
  channels?: 1 | 3;
  /** Colour that transparent pixels are composited on (default white). */
  background?: Rgb;
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

export interface FolderEntry {
  path: string;
  label?: number;
}

/**
 * A folder's files in load order and what each becomes, read before any pixel is decoded: the start of both
 * the in-memory loader and the streamed one (which must agree on order, size and channels).
 */
export interface FolderPlan {
  dir: string;
  /** The files to load (after `limit`), from the first readable one on. */
  entries: FolderEntry[];
  classNames?: string[];
  target: DecodeTarget;
  /** Unreadable files met before the first readable one (only with skipBad). */
  skippedFiles: string[];
}

/**
 * List `dir` and probe its files in order until one reads, to choose the default size and channel count.
 * Layout and order are described at `loadImageFolder`.
 */
export async function planImageFolder(dir: string, opts: ImageFolderOptions = {}): Promise<FolderPlan> {
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
  let first = 0;
  let probe: ImageHeader | undefined;
  for (; first < limited.length && !probe; first++) {
    try {
      probe = headerOf(await sharp(limited[first].path).metadata());
    } catch (e) {
      unreadable(limited[first].path, e, opts.skipBad);
      skippedFiles.push(limited[first].path);
    }
  }
  if (!probe) throw new UserError(`none of the ${limited.length} image files in ${dir} could be read`);
  const [h, w] = resolveSize(opts.imageSize, probe);
  const c = opts.channels ?? (probe.grey ? 1 : 3);
  if (c !== 1 && c !== 3) throw new UserError(`channels must be 1 or 3, got ${c}`);
  return { dir, entries: limited.slice(first - 1), classNames, target: { shape: [h, w, c], background: opts.background ?? WHITE }, skippedFiles };
}

/** An unreadable file: an error naming it, or (skipBad) nothing, for the caller to count. */
export function unreadable(path: string, e: unknown, skipBad: boolean | undefined): void {
  if (!skipBad) throw new UserError(`cannot read image ${path}: ${(e as Error).message} (pass skipBad / --skip-bad to skip unreadable files)`);
}

/**
 * Load every image in `dir` as uint8 [N, H, W, C].
 *
 * Layout: if `dir` has sub-folders holding images, each such sub-folder is a class (sorted names → label
 * ids 0..K-1; images anywhere below it belong to it). Otherwise the images directly in `dir` are loaded
 * without labels. Having both loose images and class folders is an error, as it is ambiguous.
 * Order: classes are interleaved round-robin (file 0 of each class, then file 1, ...; files sorted by
 * name), so `limit` gives a class-balanced subset instead of only the first class.
 * Images are resized to the target size with centre-crop (`fit: cover`) so aspect ratios are kept; alpha is
 * composited on `background`. What had to be resized or converted is counted in one notice.
 */
export async function loadImageFolder(dir: string, opts: ImageFolderOptions = {}): Promise<ImageFolderSource> {
  return loadPlannedFolder(await planImageFolder(dir, opts), opts);
}

/** Decode a planned folder into memory (see `loadImageFolder`). */
export async function loadPlannedFolder(plan: FolderPlan, opts: Pick<ImageFolderOptions, 'skipBad' | 'concurrency'> = {}): Promise<ImageFolderSource> {
  const { dir, entries: todo, target } = plan;
  const skippedFiles = [...plan.skippedFiles];
  const per = target.shape.reduce((a, b) => a * b, 1);
  const values = new Uint8Array(todo.length * per);
  const headers: (ImageHeader | undefined)[] = new Array(todo.length);
  const decode = async (i: number): Promise<void> => {
    const path = todo[i].path;
    try {
      const { data, header } = await decodeFile(path, target);
      values.set(data, i * per);
      headers[i] = header;
    } catch (e) {
      unreadable(path, e, opts.skipBad);
      skippedFiles.push(path);
    }
  };
  await forEachBounded(todo.length, opts.concurrency ?? 8, decode);

  // Drop the slots of skipped files so examples stay contiguous.
  const keep = todo.map((_, i) => i).filter((i) => headers[i] !== undefined);
  if (keep.length === 0) throw new UserError(`none of the ${todo.length + plan.skippedFiles.length} image files in ${dir} could be read`);
  const kept = keep.map((i) => todo[i]);
  const labels = plan.classNames ? Int32Array.from(kept, (e) => e.label ?? 0) : undefined;
  const notice = conversionNotice(`folder:${dir}`, keep.map((i) => headers[i]!), target.shape, target.background);
  return {
    kind: 'array',
    info: folderInfo(plan, kept.length),
    count: kept.length,
    values: compact(values, keep, per),
    labels,
    skipped: skippedFiles.length,
    skippedFiles,
    files: kept.map((e) => e.path),
    ...(notice ? { notices: [notice] } : {}),
  };
}

/** The DatasetInfo of a folder loaded (or streamed) with `count` examples. */
export function folderInfo(plan: FolderPlan, count: number): DatasetInfo {
  return {
    name: `folder:${plan.dir}`,
    kind: 'image',
    shape: [...plan.target.shape],
    count,
    ...(plan.classNames ? { numClasses: plan.classNames.length, classNames: plan.classNames } : {}),
  };
}

async function listImages(dir: string): Promise<{ entries: FolderEntry[]; classNames?: string[] }> {
  const items = await readdir(dir, { withFileTypes: true });
  const loose = items.filter((d) => d.isFile() && isImageFile(d.name)).map((d) => d.name).sort();
  const classes: { name: string; files: string[] }[] = [];
  for (const d of items.filter((d) => d.isDirectory() && !d.name.startsWith('.')).sort(byName)) {
    const files = await walkImageFiles(join(dir, d.name));
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
  const entries: FolderEntry[] = [];
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

function resolveSize(size: ImageFolderOptions['imageSize'], probe: ImageHeader): [number, number] {
  if (size === undefined) return [probe.h, probe.w];
  const [h, w] = typeof size === 'number' ? [size, size] : size;
  if (![h, w].every((v) => Number.isInteger(v) && v > 0)) throw new UserError(`imageSize must be positive integers, got ${String(size)}`);
  return [h, w];
}
