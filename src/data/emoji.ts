import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { UserError } from '../util/errors.js';
import type { ArraySource } from './types.js';
import { WHITE, colourHex, compact, forEachBounded, toRaw, type Rgb } from './decode.js';
import { cachedImages, ensureNpmPackage, stderrLog, type CachedImages, type Log, type NpmDataPackage } from './package_data.js';
import { translationSource, type Direction } from './translation.js';

export const OPENMOJI: NpmDataPackage = {
  name: 'openmoji',
  version: '17.0.0',
  size: '4.3 MB',
  attribution: 'All emojis designed by OpenMoji (https://openmoji.org/) – the open-source emoji and icon project. License: CC BY-SA 4.0',
};
export const TWEMOJI: NpmDataPackage = {
  name: '@discordapp/twemoji',
  version: '16.0.1',
  size: '1.8 MB',
  attribution: 'Twemoji graphics © 2014–2021 Twitter and © 2022– Jason Sofonia & Justine De Caires (https://github.com/jdecked/twemoji). License: CC BY 4.0',
};

/** The emoji image sets: a package, the folder of its SVGs, and the channels they are rendered with. */
const STYLES = {
  'openmoji-black': { pkg: OPENMOJI, folder: 'black/svg', channels: 1 },
  'openmoji-color': { pkg: OPENMOJI, folder: 'color/svg', channels: 3 },
  twemoji: { pkg: TWEMOJI, folder: 'dist/svg', channels: 3 },
} as const;
export type EmojiStyle = keyof typeof STYLES;
export const EMOJI_STYLES = Object.keys(STYLES) as EmojiStyle[];

export interface EmojiOptions {
  split?: 'train' | 'test';
  /** Keep the first N emoji of the split (sorted by file name). */
  limit?: number;
  /** Square render size in pixels; default 64. */
  imageSize?: number;
  /** Default: 1 for line art, 3 for colour. */
  channels?: 1 | 3;
  skipBad?: boolean;
  /** The colour the emoji are drawn on (--background; default white): their SVGs have no background of their own. */
  background?: Rgb;
  direction?: Direction;
  /** Cache folder (default $GANFORGE_CACHE or ~/.cache/ganforge) and where progress lines go (default stderr). */
  cache?: string;
  log?: Log;
}

/**
 * The code point key of an emoji file name: lower-case hex joined by '-', without the U+FE0F variation
 * selector, which OpenMoji keeps in its names and Twemoji drops ('263A-FE0F' and '263a' are both '263a').
 */
export function codePointKey(stem: string): string {
  return stem.toLowerCase().split('-').filter((p) => p !== 'fe0f').join('-');
}

/**
 * The held-out test split: about one emoji in ten, chosen by a hash of its code point key, so an emoji is in
 * the same split in every set (OpenMoji and Twemoji test sets can be matched by code point for scoring).
 */
export function isTestKey(key: string): boolean {
  let x = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) x = Math.imul(x ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return x % 10 === 0;
}

/**
 * One emoji set rendered at `imageSize` on the background (white by default): uint8 [N, S, S, C], `names` = code
 * point keys. Installs the npm package on first use and caches the render under <cache>/arrays.
 */
export async function loadEmoji(style: EmojiStyle, opts: EmojiOptions = {}): Promise<ArraySource> {
  const { pkg } = STYLES[style];
  const pkgDir = await ensureNpmPackage(pkg, { cache: opts.cache, log: opts.log });
  const keys = await selectKeys(pkgDir, [style], opts);
  const set = await renderStyle(style, pkgDir, keys, opts);
  const [n, h, w, c] = set.shape;
  return {
    kind: 'array',
    info: { name: style, kind: 'image', shape: [h, w, c], count: n },
    count: n,
    values: set.values,
    names: set.names,
    notices: [pkg.attribution],
  };
}

/** OpenMoji line art → colour, paired by file name (BtoA: colour → line art). */
export async function loadOpenmoji(opts: EmojiOptions = {}): Promise<ArraySource> {
  const pkgDir = await ensureNpmPackage(OPENMOJI, { cache: opts.cache, log: opts.log });
  const keys = await selectKeys(pkgDir, ['openmoji-black', 'openmoji-color'], opts);
  const black = await renderStyle('openmoji-black', pkgDir, keys, opts);
  const color = await renderStyle('openmoji-color', pkgDir, keys, { ...opts, channels: opts.channels ?? 3 });
  const shape = (s: CachedImages): number[] => s.shape.slice(1);
  const names = black.names;
  if (color.names.join() !== names.join()) throw new Error('openmoji: black and colour renders disagree on names');
  return translationSource({
    name: 'openmoji',
    a: { name: 'openmoji-black', values: black.values, shape: shape(black), count: names.length, names },
    b: { name: 'openmoji-color', values: color.values, shape: shape(color), count: names.length, names },
    pairing: 'paired',
    direction: opts.direction,
    notices: [OPENMOJI.attribution],
  });
}

interface EmojiFile {
  file: string;
  key: string;
}

/** The files of the split, present in every one of `styles`, sorted by file name, then limited. */
async function selectKeys(pkgDir: string, styles: EmojiStyle[], opts: EmojiOptions): Promise<EmojiFile[]> {
  const lists = await Promise.all(styles.map(async (s) => new Set((await readdir(join(pkgDir, STYLES[s].folder))).filter((f) => f.endsWith('.svg')))));
  const seen = new Set<string>();
  const wantTest = opts.split === 'test';
  const files = [...lists[0]].filter((f) => lists.every((l) => l.has(f))).sort().flatMap((file) => {
    const key = codePointKey(file.slice(0, -'.svg'.length));
    if (seen.has(key) || isTestKey(key) !== wantTest) return [];
    seen.add(key);
    return [{ file, key }];
  });
  const limited = opts.limit !== undefined ? files.slice(0, Math.max(0, Math.floor(opts.limit))) : files;
  if (limited.length === 0) throw new UserError(`${styles.join(', ')}: limit ${opts.limit} leaves no emoji`);
  return limited;
}

async function renderStyle(style: EmojiStyle, pkgDir: string, files: EmojiFile[], opts: EmojiOptions): Promise<CachedImages> {
  const { pkg, folder } = STYLES[style];
  const size = opts.imageSize ?? 64;
  if (!Number.isInteger(size) || size < 1) throw new UserError(`imageSize must be a positive integer, got ${size}`);
  const c = opts.channels ?? STYLES[style].channels;
  const background = opts.background ?? WHITE;
  const onWhite = colourHex(background) === colourHex(WHITE);
  // Renders on white keep the cache name they always had; other backgrounds are cached apart.
  const key = `${pkg.name.replace('/', '+')}@${pkg.version}-${style}-${size}px-${c}ch${onWhite ? '' : `-on-${colourHex(background).slice(1)}`}-${opts.split ?? 'train'}-${opts.limit ?? 'all'}${opts.skipBad ? '-skipbad' : ''}`;
  return cachedImages(key, async () => {
    (opts.log ?? stderrLog)(`ganforge: rendering ${files.length} ${style} SVGs at ${size} px${onWhite ? '' : ` on ${colourHex(background)}`} (first use only; cached)…`);
    const per = size * size * c;
    const values = new Uint8Array(files.length * per);
    const ok = new Uint8Array(files.length);
    await forEachBounded(files.length, 4, async (i) => {
      const path = join(pkgDir, folder, files[i].file);
      try {
        values.set(await renderSvg(path, size, c, background), i * per);
        ok[i] = 1;
      } catch (e) {
        if (!opts.skipBad) throw new UserError(`cannot render ${path}: ${(e as Error).message} (pass skipBad to skip it)`);
      }
    });
    const keep = files.map((_, i) => i).filter((i) => ok[i]);
    return { shape: [keep.length, size, size, c], values: compact(values, keep, per), names: keep.map((i) => files[i].key) };
  }, opts.cache);
}

/** Render one SVG to uint8 [size, size, c], fitted inside the square on `background` (emoji have none of their own). */
export async function renderSvg(path: string, size: number, c: number, background: Rgb = WHITE): Promise<Uint8Array> {
  const svg = await readFile(path);
  // Render at the density that makes the viewBox `size` pixels, so strokes are drawn sharp rather than scaled.
  const vb = /viewBox\s*=\s*["'][-\d.]+[\s,]+[-\d.]+[\s,]+([\d.]+)[\s,]+([\d.]+)/.exec(svg.toString('latin1'));
  const side = vb ? Math.max(Number(vb[1]), Number(vb[2])) : 0;
  const density = side > 0 ? Math.min(10000, Math.max(1, (72 * size) / side)) : 72;
  const [r, g, b] = background;
  const colour = { r, g, b, alpha: 1 };
  const p = sharp(svg, { density }).resize(size, size, { fit: 'contain', background: colour }).flatten({ background: colour }).removeAlpha();
  return toRaw(p, [size, size, c]);
}
