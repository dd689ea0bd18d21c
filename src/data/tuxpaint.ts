import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import sharp from 'sharp';
import { UserError } from '../util/errors.js';
import type { ArraySource } from './types.js';
import { captionedSource, DEFAULT_CAPTION_IMAGE_SIZE, textSettings, type CaptionedItem, type CaptionOptions } from './captions.js';
import { compact, forEachBounded, toRaw } from './decode.js';
import { isTestKey, renderSvg } from './emoji.js';
import { tokenize } from './tokenizer.js';
import { cachedImages, ensureDebPackage, stderrLog, type DebDataPackage, type DebFetcher, type Log } from './package_data.js';

export const TUXPAINT_STAMPS: DebDataPackage = {
  name: 'tuxpaint-stamps-default',
  version: '2022.06.04-1',
  size: '161 MB, mostly sounds',
  attribution: 'Tux Paint stamps © Bill Kendrick, New Breed Software, and the Tux Paint contributors (https://tuxpaint.org/). License: GPL-2',
};

/** Where the package keeps its stamps: one folder per category, each stamp an image with its NAME.txt. */
export const STAMPS_DIR = 'usr/share/tuxpaint/stamps';

export interface TuxpaintOptions extends CaptionOptions {
  cache?: string;
  log?: Log;
  /** How the .deb is fetched (tests replace apt-get). */
  fetch?: DebFetcher;
}

/** A stamp: its image, and the English caption (the first line of its .txt; the other lines are translations). */
export interface Stamp extends CaptionedItem {
  image: string;
}

/**
 * The stamps of one split, by path below the stamps folder. A stamp is a PNG or SVG with NAME.txt beside it
 * (PNG kept when both exist); Tux Paint's pre-drawn variants NAME_mirror, NAME_flip and NAME_mirror_flip
 * share the stamp's caption and are left out. The held-out test split is about one stamp in ten, fixed by a
 * hash of its path (emoji.ts isTestKey), so it never changes between runs or machines.
 */
export async function listStamps(stampsDir: string, split: 'train' | 'test'): Promise<{ stamps: Stamp[]; uncaptioned: number }> {
  const files = await walk(stampsDir);
  const byKey = new Map<string, string>();
  const texts = new Set<string>();
  for (const f of files) {
    const ext = extname(f).toLowerCase();
    const key = f.slice(0, f.length - ext.length);
    if (ext === '.txt') texts.add(key);
    else if ((ext === '.png' || ext === '.svg') && !/_(mirror|flip|mirror_flip)$/.test(key) && (ext === '.png' || !byKey.has(key))) byKey.set(key, f);
  }
  const stamps: Stamp[] = [];
  let uncaptioned = 0;
  for (const key of [...byKey.keys()].sort()) {
    if (isTestKey(key) !== (split === 'test')) continue;
    const txt = join(stampsDir, `${key}.txt`);
    const first = texts.has(key) ? (await readFile(txt, 'utf8')).replace(/^\uFEFF/, '').split(/\r?\n/).map((l) => l.trim()).find((l) => l !== '') : undefined;
    if (first === undefined || /^[\w@]+\.utf8=/.test(first) || tokenize(first).length === 0) {
      uncaptioned++;
      continue;
    }
    stamps.push({ name: key, image: join(stampsDir, byKey.get(key)!), captions: [first], where: txt });
  }
  return { stamps, uncaptioned };
}

async function walk(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(join(dir, rel), { withFileTypes: true })) {
    const r = rel === '' ? d.name : `${rel}/${d.name}`;
    if (d.isDirectory()) out.push(...(await walk(dir, r)));
    else if (d.isFile()) out.push(r);
  }
  return out;
}

/**
 * `tuxpaint`: Debian's Tux Paint stamps (photos and clip art cut out on transparency), each with its English
 * caption, rendered whole ('contain') on white at imageSize (default 64), RGB. Installs the package into the
 * cache on first use (one line, then its licence); renders are cached.
 */
export async function loadTuxpaint(opts: TuxpaintOptions = {}): Promise<ArraySource> {
  const root = await ensureDebPackage(TUXPAINT_STAMPS, { cache: opts.cache, log: opts.log, fetch: opts.fetch });
  const stampsDir = join(root, STAMPS_DIR);
  const split = opts.split ?? 'train';
  const { stamps: all, uncaptioned } = await listStamps(stampsDir, split);
  const train = split === 'train' ? all : (await listStamps(stampsDir, 'train')).stamps;
  const stamps = opts.limit !== undefined ? all.slice(0, Math.max(0, Math.floor(opts.limit))) : all;
  if (stamps.length === 0) throw new UserError(`tuxpaint: no stamps ${opts.limit !== undefined ? `left by limit ${opts.limit}` : `in ${stampsDir}`}`);
  const size = opts.imageSize ?? DEFAULT_CAPTION_IMAGE_SIZE;
  if (!Number.isInteger(size) || size < 1) throw new UserError(`imageSize must be a positive integer, got ${size}`);
  const c = opts.channels ?? 3;
  const key = `tuxpaint-stamps-${size}px-${c}ch-${split}-${opts.limit ?? 'all'}-n${stamps.length}`;
  const rendered = await cachedImages(key, async () => {
    (opts.log ?? stderrLog)(`ganforge: rendering ${stamps.length} Tux Paint stamps at ${size} px (first use only; cached)…`);
    const per = size * size * c;
    const values = new Uint8Array(stamps.length * per);
    const ok = new Uint8Array(stamps.length);
    await forEachBounded(stamps.length, 4, async (i) => {
      try {
        values.set(await renderStamp(stamps[i].image, size, c), i * per);
        ok[i] = 1;
      } catch (e) {
        if (!opts.skipBad) throw new UserError(`cannot render ${stamps[i].image}: ${(e as Error).message} (pass --skip-bad to leave it out)`);
      }
    });
    const keep = stamps.map((_, i) => i).filter((i) => ok[i]);
    return { shape: [keep.length, size, size, c], values: compact(values, keep, per), names: keep.map((i) => stamps[i].name) };
  }, opts.cache);
  const byName = new Map(stamps.map((s) => [s.name, s]));
  const notices = [TUXPAINT_STAMPS.attribution];
  if (uncaptioned > 0) notices.push(`tuxpaint: ${uncaptioned} stamp(s) of the ${split} split have no English caption and were left out`);
  return captionedSource({
    name: 'tuxpaint',
    shape: rendered.shape.slice(1),
    values: rendered.values,
    items: rendered.names.map((n) => byName.get(n)!),
    text: textSettings(train.flatMap((s) => s.captions), opts),
    notices,
  });
}

/** A stamp fitted whole inside the square, transparent parts white: uint8 [size, size, c]. */
export async function renderStamp(path: string, size: number, c: number): Promise<Uint8Array> {
  if (extname(path).toLowerCase() === '.svg') return renderSvg(path, size, c);
  const white = { r: 255, g: 255, b: 255, alpha: 1 };
  return toRaw(sharp(path).flatten({ background: white }).resize(size, size, { fit: 'contain', background: white }).removeAlpha(), [size, size, c]);
}
