import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import type { ArraySource } from './types.js';
import { WHITE, decodeFile, forEachBounded } from './decode.js';
import { OPENMOJI, TWEMOJI, codePointKey, isTestKey, renderSvg } from './emoji.js';
import { FLUENT_EMOJI_3D } from './fluent_emoji.js';
import { cachedImages, ensureNpmPackage, stderrLog, type Log } from './package_data.js';

/**
 * The age ladder, youngest first: each bin's person emoji by code point (Unicode names: BABY; CHILD, BOY, GIRL;
 * PERSON, MAN, WOMAN; OLDER PERSON, OLDER MAN, OLDER WOMAN). Each comes in the default yellow and five skin tones.
 */
export const EMOJI_AGE_BINS: readonly { name: string; codePoints: readonly string[] }[] = [
  { name: 'baby', codePoints: ['1f476'] },
  { name: 'child', codePoints: ['1f9d2', '1f466', '1f467'] },
  { name: 'adult', codePoints: ['1f9d1', '1f468', '1f469'] },
  { name: 'older', codePoints: ['1f9d3', '1f474', '1f475'] },
];

/** No modifier, then the Fitzpatrick modifiers 1–2 … 6 (U+1F3FB … U+1F3FF). */
const SKIN_TONES = ['', '1f3fb', '1f3fc', '1f3fd', '1f3fe', '1f3ff'];

/** The three artists' sets: the package, where its files are, and how a code point key names a file there. */
const ARTISTS = [
  { name: 'openmoji', pkg: OPENMOJI, file: (key: string) => join('color', 'svg', `${key.toUpperCase()}.svg`) },
  { name: 'twemoji', pkg: TWEMOJI, file: (key: string) => join('dist', 'svg', `${key}.svg`) },
  { name: 'fluent', pkg: FLUENT_EMOJI_3D, file: (key: string) => join('assets', `${key}.webp`) },
] as const;

export interface EmojiAgeOptions {
  split?: 'train' | 'test';
  limit?: number;
  /** Square size; default 64. */
  imageSize?: number;
  cache?: string;
  log?: Log;
}

/**
 * `emoji-age`: an ordinal age attribute from emoji — baby → child → adult → older person (DatasetInfo.ordinal),
 * drawn by three artists (OpenMoji, Twemoji, Fluent 3D) in six skin tones, RGB on white. Identity across bins is
 * the artist and the skin tone, which an age edit should keep. The split is the emoji sets' own (by a hash of
 * the code points), so one emoji is on the same side for every artist. Names are 'ARTIST/KEY'.
 */
export async function loadEmojiAge(opts: EmojiAgeOptions = {}): Promise<ArraySource> {
  const size = opts.imageSize ?? 64;
  if (!Number.isInteger(size) || size < 1) throw new UserError(`imageSize must be a positive integer, got ${size}`);
  const dirs = await Promise.all(ARTISTS.map((a) => ensureNpmPackage(a.pkg, { cache: opts.cache, log: opts.log })));
  const wanted = EMOJI_AGE_BINS.flatMap((bin, label) => bin.codePoints.flatMap((cp) => SKIN_TONES.map((tone) => ({ key: tone ? `${cp}-${tone}` : cp, label }))))
    .filter(({ key }) => isTestKey(codePointKey(key)) === (opts.split === 'test'));
  const files = ARTISTS.flatMap((artist, a) => wanted.map((w) => ({ ...w, artist: artist.name, path: join(dirs[a], artist.file(w.key)) })))
    .filter((f) => existsSync(f.path));
  const limited = opts.limit !== undefined ? files.slice(0, Math.max(0, Math.floor(opts.limit))) : files;
  if (limited.length === 0) throw new UserError(`emoji-age: limit ${opts.limit} leaves no emoji`);

  const key = `emoji-age-v1-${size}px-${opts.split ?? 'train'}-${opts.limit ?? 'all'}`;
  const set = await cachedImages(key, async () => {
    (opts.log ?? stderrLog)(`ganforge: rendering ${limited.length} emoji-age images at ${size} px (first use only; cached)…`);
    const per = size * size * 3;
    const values = new Uint8Array(limited.length * per);
    await forEachBounded(limited.length, 4, async (i) => {
      const f = limited[i];
      values.set(f.path.endsWith('.svg') ? await renderSvg(f.path, size, 3) : (await decodeFile(f.path, { shape: [size, size, 3], background: WHITE })).data, i * per);
    });
    return { shape: [limited.length, size, size, 3], values, names: limited.map((f) => `${f.artist}/${f.key}`) };
  }, opts.cache);
  const labelOf = new Map(limited.map((f) => [`${f.artist}/${f.key}`, f.label]));
  const labels = Int32Array.from(set.names, (n) => labelOf.get(n) ?? 0);
  const counts = EMOJI_AGE_BINS.map((b, k) => `${b.name} ${labels.filter((l) => l === k).length}`).join(', ');
  return {
    kind: 'array',
    info: { name: 'emoji-age', kind: 'image', shape: [size, size, 3], count: set.shape[0], numClasses: EMOJI_AGE_BINS.length, classNames: EMOJI_AGE_BINS.map((b) => b.name), ordinal: true },
    count: set.shape[0],
    values: set.values,
    labels,
    names: set.names,
    notices: [`emoji-age: ${counts} (${opts.split ?? 'train'} split)`, OPENMOJI.attribution, TWEMOJI.attribution, FLUENT_EMOJI_3D.attribution],
  };
}
