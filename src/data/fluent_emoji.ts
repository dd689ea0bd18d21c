import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import type { ArraySource } from './types.js';
import { WHITE, colourHex, compact, decodeFile, forEachBounded, type Rgb } from './decode.js';
import { codePointKey, isTestKey } from './emoji.js';
import { cachedImages, ensureNpmPackage, stderrLog, type Log, type NpmDataPackage } from './package_data.js';

export const FLUENT_EMOJI_3D: NpmDataPackage = {
  name: '@lobehub/fluent-emoji-3d',
  version: '1.1.0',
  size: '15.8 MB',
  attribution: "Fluent Emoji 3D by Microsoft (https://github.com/microsoft/fluentui-emoji), packaged by LobeHub as @lobehub/fluent-emoji-3d. License: MIT",
};

/** Where the renders live in the package: one 256×256 RGBA WebP per emoji, named by code points. */
const ASSETS = 'assets';

export interface FluentEmojiOptions {
  split?: 'train' | 'test';
  /** Keep the first N emoji of the split (sorted by file name). */
  limit?: number;
  /** Square size in pixels; default 64. */
  imageSize?: number;
  /** Default 3. */
  channels?: 1 | 3;
  /** Colour the transparent surroundings are composited on; default white. */
  background?: Rgb;
  skipBad?: boolean;
  /** Cache folder (default $GANFORGE_CACHE or ~/.cache/ganforge) and where progress lines go (default stderr). */
  cache?: string;
  log?: Log;
}

/**
 * Microsoft's Fluent Emoji in their 3D style: 3,391 rendered colour images (256 px RGBA), used at 64 px on a
 * background colour: uint8 [N, S, S, C], `names` = the file stems. Installs the npm package on first use and
 * caches the decoded set under <cache>/arrays. The split is the other emoji sets' (about one emoji in ten is
 * test, by a hash of its code points), so every variant of an emoji lands on the same side.
 */
export async function loadFluentEmoji(opts: FluentEmojiOptions = {}): Promise<ArraySource> {
  const pkgDir = await ensureNpmPackage(FLUENT_EMOJI_3D, { cache: opts.cache, log: opts.log });
  const size = opts.imageSize ?? 64;
  if (!Number.isInteger(size) || size < 1) throw new UserError(`imageSize must be a positive integer, got ${size}`);
  const c = opts.channels ?? 3;
  const background = opts.background ?? WHITE;
  const wantTest = opts.split === 'test';
  const all = (await readdir(join(pkgDir, ASSETS))).filter((f) => f.endsWith('.webp')).sort();
  const split = all.filter((f) => isTestKey(codePointKey(f.slice(0, -'.webp'.length))) === wantTest);
  const files = opts.limit !== undefined ? split.slice(0, Math.max(0, Math.floor(opts.limit))) : split;
  if (files.length === 0) throw new UserError(`fluent-emoji: limit ${opts.limit} leaves no emoji`);

  const { name, version } = FLUENT_EMOJI_3D;
  const key = `${name.replace('/', '+')}@${version}-${size}px-${c}ch-${colourHex(background).slice(1)}-${opts.split ?? 'train'}-${opts.limit ?? 'all'}${opts.skipBad ? '-skipbad' : ''}`;
  const set = await cachedImages(key, async () => {
    (opts.log ?? stderrLog)(`ganforge: decoding ${files.length} fluent-emoji renders at ${size} px on ${colourHex(background)} (first use only; cached)…`);
    const target = { shape: [size, size, c] as [number, number, number], background };
    const per = size * size * c;
    const values = new Uint8Array(files.length * per);
    const ok = new Uint8Array(files.length);
    await forEachBounded(files.length, 8, async (i) => {
      const path = join(pkgDir, ASSETS, files[i]);
      try {
        values.set((await decodeFile(path, target)).data, i * per);
        ok[i] = 1;
      } catch (e) {
        if (!opts.skipBad) throw new UserError(`cannot read ${path}: ${(e as Error).message} (pass skipBad to skip it)`);
      }
    });
    const keep = files.map((_, i) => i).filter((i) => ok[i]);
    return { shape: [keep.length, size, size, c], values: compact(values, keep, per), names: keep.map((i) => files[i].slice(0, -'.webp'.length)) };
  }, opts.cache);
  const [n, h, w] = set.shape;
  return {
    kind: 'array',
    info: { name: 'fluent-emoji', kind: 'image', shape: [h, w, c], count: n },
    count: n,
    values: set.values,
    names: set.names,
    notices: [FLUENT_EMOJI_3D.attribution],
  };
}
