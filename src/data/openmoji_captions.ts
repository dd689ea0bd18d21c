import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import type { ArraySource } from './types.js';
import { captionedSource, textSettings, type CaptionedItem, type CaptionOptions } from './captions.js';
import { compact } from './decode.js';
import { codePointKey, isTestKey, loadEmoji, OPENMOJI } from './emoji.js';
import { ensureNpmPackage, type Log } from './package_data.js';
import { tokenize } from './tokenizer.js';

export interface OpenmojiCaptionOptions extends CaptionOptions {
  cache?: string;
  log?: Log;
}

/** The fields of data/openmoji.json the captions are made of. */
export interface OpenmojiEntry {
  hexcode: string;
  annotation: string;
  tags?: string;
  openmoji_tags?: string;
  skintone_base_hexcode?: string;
}

function article(phrase: string): string {
  return /^[aeiou]/i.test(phrase) ? 'an' : 'a';
}

function tagList(s: string | undefined): string[] {
  return (s ?? '').split(',').map((t) => t.trim()).filter((t) => t !== '');
}

/**
 * Sentences for one emoji in three phrasings: its annotation ("grinning face"), "an emoji of a grinning face",
 * and the same with its OpenMoji tags (else its first three Unicode tags): "an emoji of a grinning face, smile,
 * happy". Skin-tone variants, which have no tags of their own, borrow their base emoji's.
 */
export function openmojiSentences(e: OpenmojiEntry, base?: OpenmojiEntry): string[] {
  const name = e.annotation.trim();
  const own = tagList(e.openmoji_tags).length > 0 ? tagList(e.openmoji_tags) : tagList(e.tags).slice(0, 3);
  const tags = own.length > 0 || !base ? own : tagList(base.openmoji_tags).length > 0 ? tagList(base.openmoji_tags) : tagList(base.tags).slice(0, 3);
  const sentences = [name, `an emoji of ${article(name)} ${name}`];
  if (tags.length > 0) sentences.push(`an emoji of ${article(name)} ${name}, ${tags.join(', ')}`);
  return sentences;
}

/** Captions of every OpenMoji emoji by code point key (emoji.ts codePointKey), from the package's data/openmoji.json. */
export async function openmojiCaptions(pkgDir: string): Promise<Map<string, string[]>> {
  const entries = JSON.parse(await readFile(join(pkgDir, 'data', 'openmoji.json'), 'utf8')) as OpenmojiEntry[];
  const byHex = new Map(entries.map((e) => [e.hexcode, e]));
  const out = new Map<string, string[]>();
  for (const e of entries) {
    const key = codePointKey(e.hexcode);
    if (out.has(key) || typeof e.annotation !== 'string' || tokenize(e.annotation).length === 0) continue;
    out.set(key, openmojiSentences(e, e.skintone_base_hexcode ? byHex.get(e.skintone_base_hexcode) : undefined));
  }
  return out;
}

/**
 * `openmoji-captions`: OpenMoji's colour emoji (the openmoji-color renders, 64 px on white by default) with
 * sentences from their annotations and tags, three per emoji. The test split is the emoji test split
 * (emoji.ts isTestKey); the vocabulary is the training emoji's.
 */
export async function loadOpenmojiCaptions(opts: OpenmojiCaptionOptions = {}): Promise<ArraySource> {
  const pkgDir = await ensureNpmPackage(OPENMOJI, { cache: opts.cache, log: opts.log });
  const captions = await openmojiCaptions(pkgDir);
  const split = opts.split ?? 'train';
  const images = await loadEmoji('openmoji-color', { split, imageSize: opts.imageSize, channels: opts.channels ?? 3, limit: opts.limit, skipBad: opts.skipBad, cache: opts.cache, log: opts.log });
  const keep = images.names!.map((_, i) => i).filter((i) => captions.has(images.names![i]));
  if (keep.length === 0) throw new UserError('openmoji-captions: no emoji with an annotation');
  const where = join(pkgDir, 'data', 'openmoji.json');
  const items: CaptionedItem[] = keep.map((i) => ({ name: images.names![i], captions: captions.get(images.names![i])!, where }));
  // The training emoji's captions, for the vocabulary: every colour SVG outside the test split.
  const svgs = (await readdir(join(pkgDir, 'color', 'svg'))).filter((f) => f.endsWith('.svg')).map((f) => codePointKey(f.slice(0, -4)));
  const trainTexts = [...new Set(svgs)].filter((k) => !isTestKey(k)).flatMap((k) => captions.get(k) ?? []);
  const [h, w, c] = images.info.shape;
  const dropped = images.count - keep.length;
  return captionedSource({
    name: 'openmoji-captions',
    shape: [h, w, c],
    values: compact(images.values as Uint8Array, keep, h * w * c),
    items,
    text: textSettings(trainTexts, opts),
    notices: [OPENMOJI.attribution, ...(dropped > 0 ? [`openmoji-captions: ${dropped} emoji without an annotation were left out`] : [])],
  });
}
