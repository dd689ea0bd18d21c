import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { UserError } from '../util/errors.js';
import type { ArraySource } from './types.js';
import { WHITE, compact, decodePixels, forEachBounded, isImageFile, type Rgb } from './decode.js';
import { unreadable } from './image_folder.js';
import { buildVocab, captionSet, PAD_TOKEN, tokenize, UNK_TOKEN } from './tokenizer.js';

/** AttnGAN's caption length (Xu et al. 2018, code: cfg.TEXT.WORDS_NUM = 18): longer captions are cut. */
export const DEFAULT_MAX_WORDS = 18;
/** Side of captioned images unless --image-size says otherwise. */
export const DEFAULT_CAPTION_IMAGE_SIZE = 64;

/** What every captioned loader takes (a subset of LoadDataOptions). */
export interface CaptionOptions {
  split?: 'train' | 'test';
  /** Keep the first N examples of the split (captions:DIR: sorted by path; jsonl: manifest order). */
  limit?: number;
  /** Square side of the images (default 64). */
  imageSize?: number;
  /** 3 (default) or 1. */
  channels?: 1 | 3;
  /** Skip images that cannot be decoded or have no usable caption (counted in a notice) instead of failing. */
  skipBad?: boolean;
  /** Colour transparent pixels are composited on (default white). */
  background?: Rgb;
  /** Words a caption keeps (default 18); longer ones are cut with a notice. */
  maxWords?: number;
  /** Tokenize with this vocabulary (a pretrained text encoder's, or the run's) instead of the training captions'. */
  vocab?: string[];
  /** Tokens per caption, imposed with `vocab` (the encoder's input length); it then takes the place of maxWords. */
  maxLen?: number;
}

/** One example before its pixels are loaded: its captions, and where they came from (for messages). */
export interface CaptionedItem {
  /** Name of the example: a file's path relative to the data folder, an emoji's code point. */
  name: string;
  captions: string[];
  /** File (or file:line) the captions were read from. */
  where: string;
}

/** A captioned image file. */
export interface CaptionedFile extends CaptionedItem {
  image: string;
}

/** Settings shared by the text side of every captioned source: the vocabulary and the caption length. */
export interface TextSettings {
  vocab: string[];
  maxLen: number;
}

/**
 * The vocabulary and caption length of a captioned dataset, both from its TRAINING captions (whatever split is
 * loaded, and before any limit, so that the test split and a --data-limit run share the ids of a full run):
 * the vocabulary is the training words by frequency (or `opts.vocab`), the length the longest training
 * caption, at most maxWords (or `opts.maxLen`, a pretrained encoder's input length).
 */
export function textSettings(trainTexts: readonly string[], opts: Pick<CaptionOptions, 'maxWords' | 'vocab' | 'maxLen'>): TextSettings {
  const maxWords = opts.maxWords ?? DEFAULT_MAX_WORDS;
  if (!Number.isInteger(maxWords) || maxWords < 1) throw new UserError(`--max-words must be a positive integer, got ${maxWords}`);
  if (opts.vocab && (opts.vocab.length < 2 || opts.vocab[PAD_TOKEN] !== '<pad>' || opts.vocab[UNK_TOKEN] !== '<unk>')) {
    throw new Error('an imposed vocabulary must start with <pad>, <unk> (tokenizer.ts)');
  }
  if (opts.maxLen !== undefined && !(Number.isInteger(opts.maxLen) && opts.maxLen >= 1)) throw new Error(`an imposed caption length must be a positive integer, got ${opts.maxLen}`);
  const longest = trainTexts.reduce((m, t) => Math.max(m, tokenize(t).length), 1);
  return { vocab: opts.vocab ?? buildVocab(trainTexts), maxLen: opts.maxLen ?? Math.min(maxWords, longest) };
}

/**
 * A stored captioned dataset: images uint8 [N, ...shape] with the captions of each (items[i] belongs to
 * example i), tokenized with `text`. Notices count captions cut at maxLen, words outside an imposed vocabulary,
 * and captions written in another script than the vocabulary's.
 */
export function captionedSource(args: {
  name: string;
  shape: number[];
  values: Uint8Array;
  items: readonly CaptionedItem[];
  text: TextSettings;
  notices?: string[];
  labels?: Int32Array;
  classNames?: string[];
  skipped?: number;
}): ArraySource {
  const { name, items, text } = args;
  const texts: string[] = [];
  const owner: number[] = [];
  items.forEach((it, i) => it.captions.forEach((c) => (texts.push(c), owner.push(i))));
  const { captions, info, report } = captionSet(texts, Int32Array.from(owner), text.maxLen, text.vocab);
  if (report.empty > 0) throw new Error(`${name}: ${report.empty} caption(s) without a word reached captionedSource`);
  const n = (k: number) => k.toLocaleString('en-US');
  const notices = [...(args.notices ?? [])];
  notices.push(`${name}: ${n(items.length)} images, ${n(texts.length)} captions, ${n(text.vocab.length - 2)}-word vocabulary, captions of at most ${text.maxLen} words`);
  if (report.truncated > 0) notices.push(`${name}: ${n(report.truncated)} of ${n(texts.length)} captions are longer than ${text.maxLen} words and were cut to their first ${text.maxLen} (--max-words)`);
  if (report.unknown > 0) {
    const shown = report.unknownWords.slice(0, 8).join(', ');
    notices.push(`${name}: ${n(report.unknown)} word(s) are not in the training vocabulary and became <unk>: ${shown}${report.unknownWords.length > 8 ? ', …' : ''}`);
  }
  const script = scriptNotice(name, items, text.vocab);
  if (script) notices.push(script);
  const [h, w, c] = args.shape;
  return {
    kind: 'array',
    info: {
      name, kind: 'image', shape: [h, w, c], count: items.length, text: info,
      ...(args.classNames ? { numClasses: args.classNames.length, classNames: args.classNames } : {}),
    },
    count: items.length,
    values: args.values,
    ...(args.labels ? { labels: args.labels } : {}),
    names: items.map((it) => it.name),
    captions,
    notices,
    ...(args.skipped ? { skipped: args.skipped } : {}),
  };
}

const SCRIPTS = ['Latin', 'Cyrillic', 'Greek', 'Armenian', 'Georgian', 'Hebrew', 'Arabic', 'Devanagari', 'Bengali', 'Gujarati', 'Tamil', 'Malayalam',
  'Thai', 'Khmer', 'Ethiopic', 'Hangul', 'Hiragana', 'Katakana', 'Han', 'Canadian_Aboriginal'].map((s) => ({ name: s, re: new RegExp(`\\p{Script=${s}}`, 'u') }));
const LETTER = /\p{L}/u;

/** The script of a word's first letter ('Latin', 'Cyrillic', 'Han', …; 'other' when none listed), undefined for a word without letters. */
export function scriptOf(word: string): string | undefined {
  for (const ch of word) {
    if (!LETTER.test(ch)) continue;
    return SCRIPTS.find((s) => s.re.test(ch))?.name ?? 'other';
  }
  return undefined;
}

/** The script most words of a vocabulary are written in (PAD and UNK aside). */
export function mainScript(vocab: readonly string[]): string | undefined {
  const counts = new Map<string, number>();
  for (const w of vocab.slice(2)) {
    const s = scriptOf(w);
    if (s) counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
}

/**
 * Captions whose every word is in another script than most of the vocabulary's (e.g. a Russian caption among
 * English ones). The tokenizer keeps any letters, so such a caption is not an error, but its words are rare and
 * the text encoder learns little from them: one notice counts them and names a few.
 */
export function scriptNotice(name: string, items: readonly CaptionedItem[], vocab: readonly string[]): string | undefined {
  const main = mainScript(vocab);
  if (!main) return undefined;
  const found: { where: string; text: string }[] = [];
  const others = new Set<string>();
  for (const it of items) {
    for (const caption of it.captions) {
      const scripts = tokenize(caption).map(scriptOf).filter((s): s is string => s !== undefined);
      if (scripts.length > 0 && scripts.every((s) => s !== main)) {
        found.push({ where: it.where, text: caption });
        scripts.forEach((s) => others.add(s));
      }
    }
  }
  if (found.length === 0) return undefined;
  const eg = found.slice(0, 3).map((f) => `${f.where}: "${f.text.length > 40 ? `${f.text.slice(0, 40)}…` : f.text}"`).join('; ');
  return `${name}: ${found.length} caption(s) are written in another script (${[...others].sort().join(', ')}) than the vocabulary's ${main}, e.g. ${eg}; their words are rare, so the text encoder learns little from them (translate them, or remove them)`;
}

/** Non-blank lines of a caption file (BOM and surrounding spaces dropped), and how many of those had no word. */
export function captionLines(text: string): { captions: string[]; wordless: number } {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  const captions = lines.filter((l) => tokenize(l).length > 0);
  return { captions, wordless: lines.length - captions.length };
}

/** "3 images without a caption file: a.png; b.png; c.png" (five named at most). */
function listLines(label: string, entries: readonly string[]): string {
  return `${entries.length} ${label}: ${entries.slice(0, 5).join('; ')}${entries.length > 5 ? '; …' : ''}`;
}

async function isDir(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
}

/** Every file below `dir` (relative paths, sorted), hidden ones and the top-level folders in `skipTop` left out. */
async function walkFiles(dir: string, skipTop: readonly string[] = [], rel = ''): Promise<string[]> {
  const out: string[] = [];
  const items = (await readdir(join(dir, rel), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const d of items) {
    if (d.name.startsWith('.')) continue;
    const r = rel === '' ? d.name : `${rel}/${d.name}`;
    if (d.isDirectory()) {
      if (rel === '' && skipTop.includes(d.name)) continue;
      out.push(...(await walkFiles(dir, skipTop, r)));
    } else if (d.isFile()) out.push(r);
  }
  return out;
}

/** The folder of one split of captions:DIR: DIR/test for 'test'; DIR/train when present, else DIR itself. */
async function captionRoot(dir: string, split: 'train' | 'test'): Promise<{ root: string; skipTop: string[] }> {
  if (!(await isDir(dir))) throw new UserError(`captions:${dir}: folder not found (captions:DIR wants NAME.png beside NAME.txt, or give a .jsonl manifest)`);
  if (split === 'test') {
    const test = join(dir, 'test');
    if (!(await isDir(test))) throw new UserError(`captions:${dir} has no test split: put held-out images and their captions in ${test}`);
    return { root: test, skipTop: [] };
  }
  const train = join(dir, 'train');
  return (await isDir(train)) ? { root: train, skipTop: [] } : { root: dir, skipTop: ['test'] };
}

/** A bad example of a captioned split: failing (the default) or, with skipBad, left out and counted. */
class Problems {
  readonly found = new Map<string, string[]>();
  add(kind: string, entry: string): void {
    this.found.set(kind, [...(this.found.get(kind) ?? []), entry]);
  }
  /** Throw listing every kind (without skipBad), or return notices saying what was skipped. */
  settle(name: string, skipBad: boolean | undefined): string[] {
    if (this.found.size === 0) return [];
    const parts = [...this.found].map(([kind, list]) => listLines(kind, list)).join('. ');
    if (!skipBad) throw new UserError(`${name}: ${parts}. Fix or remove them, or pass --skip-bad to leave them out`);
    return [`${name}: --skip-bad left out ${parts}`];
  }
}

/**
 * The captioned images of one split of captions:DIR, by relative path: NAME.png (or any image format) beside
 * NAME.txt, in any sub-folders. An image without a caption file, a caption file with no caption line, and two
 * images of one name are problems (errors, or skipped with skipBad); a caption file without an image is a notice.
 */
export async function scanCaptionFolder(dir: string, split: 'train' | 'test', skipBad?: boolean): Promise<{ files: CaptionedFile[]; notices: string[] }> {
  const { root, skipTop } = await captionRoot(dir, split);
  const all = await walkFiles(root, skipTop);
  const images = new Map<string, string>();
  const texts = new Set<string>();
  const problems = new Problems();
  for (const f of all) {
    const key = f.slice(0, f.length - extname(f).length);
    if (extname(f).toLowerCase() === '.txt') texts.add(key);
    else if (isImageFile(f.split('/').pop()!)) {
      const prev = images.get(key);
      if (prev !== undefined) problems.add('images share a name (captions are matched by name without extension)', `${join(root, prev)} and ${join(root, f)}`);
      else images.set(key, f);
    }
  }
  const notices: string[] = [];
  const orphans = [...texts].filter((k) => !images.has(k)).map((k) => join(root, `${k}.txt`));
  if (orphans.length > 0) notices.push(`captions:${dir}: ${listLines('caption file(s) without an image were ignored', orphans)} (an image NAME.png, .jpg, … goes beside NAME.txt)`);
  const keys = [...images.keys()].sort();
  const files: CaptionedFile[] = [];
  const notUtf8: string[] = [];
  let wordless = 0;
  for (const key of keys) {
    const image = join(root, images.get(key)!);
    const txt = join(root, `${key}.txt`);
    if (!texts.has(key)) {
      problems.add(`image(s) without a caption file (NAME.txt beside NAME.png, one caption per line)`, image);
      continue;
    }
    const body = await readFile(txt, 'utf8');
    if (body.includes('\uFFFD')) notUtf8.push(txt);
    const read = captionLines(body);
    wordless += read.wordless;
    if (read.captions.length === 0) {
      problems.add('empty caption file(s) (no line with a word)', txt);
      continue;
    }
    files.push({ name: key, image, captions: read.captions, where: txt });
  }
  notices.push(...problems.settle(`captions:${dir}`, skipBad));
  if (wordless > 0) notices.push(`captions:${dir}: ${wordless} caption line(s) without any word (only punctuation or symbols) were dropped`);
  if (notUtf8.length > 0) notices.push(`captions:${dir}: ${listLines('caption file(s) are not UTF-8 (their invalid bytes split words)', notUtf8)}; save them as UTF-8`);
  if (files.length === 0) throw new UserError(`captions:${dir}: no captioned images in ${root} (NAME.png beside NAME.txt, one caption per line)`);
  return { files, notices };
}

/** The manifest of a split of captions:FILE.jsonl: the file itself for 'train', its sibling FILE-test.jsonl for 'test'. */
export function manifestOf(file: string, split: 'train' | 'test'): string {
  return split === 'test' ? `${file.replace(/\.jsonl$/i, '')}-test.jsonl` : file;
}

/**
 * The captioned images of a manifest: one JSON object per line, {"image": PATH, "text": CAPTION} (text may also
 * be a list of captions; paths are relative to the manifest's folder), several lines per image allowed; images
 * keep the order of their first line. A line that is not JSON or lacks image/text is an error naming the line;
 * a missing image file or an empty caption is a problem (error, or skipped with skipBad).
 */
export async function scanCaptionManifest(spec: string, split: 'train' | 'test', skipBad?: boolean): Promise<{ files: CaptionedFile[]; notices: string[] }> {
  const file = manifestOf(spec, split);
  const body = await readFile(file, 'utf8').catch(() => undefined);
  if (body === undefined) {
    throw new UserError(split === 'test' ? `captions:${spec} has no test split: put held-out {"image", "text"} lines in ${file}` : `captions:${spec}: manifest not found`);
  }
  const base = dirname(resolve(file));
  const byImage = new Map<string, CaptionedFile>();
  const problems = new Problems();
  const lines = body.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    const at = `${file}:${i + 1}`;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (e) {
      throw new UserError(`${at} is not JSON (${(e as Error).message}); each line of a captions manifest is {"image": "path", "text": "a caption"}`);
    }
    const r = row as { image?: unknown; text?: unknown };
    const texts = typeof r.text === 'string' ? [r.text] : Array.isArray(r.text) && r.text.every((t) => typeof t === 'string') ? (r.text as string[]) : undefined;
    if (row === null || typeof row !== 'object' || typeof r.image !== 'string' || r.image === '' || !texts) {
      const keys = row !== null && typeof row === 'object' ? Object.keys(row).join(', ') || 'none' : typeof row;
      throw new UserError(`${at}: needs "image" (a path) and "text" (a caption, or a list of captions); found ${keys}`);
    }
    const image = resolve(base, r.image);
    const captions = texts.map((t) => t.trim()).filter((t) => tokenize(t).length > 0);
    if (captions.length === 0) {
      problems.add('empty caption(s) (no word)', at);
      continue;
    }
    const prev = byImage.get(image);
    if (prev) prev.captions.push(...captions);
    else byImage.set(image, { name: relative(base, image), image, captions, where: at });
  }
  const files: CaptionedFile[] = [];
  for (const f of byImage.values()) {
    if ((await stat(f.image).catch(() => undefined))?.isFile()) files.push(f);
    else problems.add('image file(s) not found', `${f.image} (${f.where})`);
  }
  const notices = problems.settle(`captions:${spec}`, skipBad);
  if (files.length === 0) throw new UserError(`captions:${spec}: no captioned images in ${file}`);
  return { files, notices };
}

/** captions:DIR or captions:FILE.jsonl: scan the split, decode its images, and tokenize with the training captions' vocabulary. */
export async function loadCaptionFiles(spec: string, opts: CaptionOptions = {}): Promise<ArraySource> {
  const split = opts.split ?? 'train';
  const scan = spec.toLowerCase().endsWith('.jsonl') ? scanCaptionManifest : scanCaptionFolder;
  const { files: all, notices } = await scan(spec, split, opts.skipBad);
  const trainTexts = split === 'train' ? all.flatMap((f) => f.captions) : (await scan(spec, 'train', true)).files.flatMap((f) => f.captions);
  const files = opts.limit !== undefined ? all.slice(0, Math.max(0, Math.floor(opts.limit))) : all;
  if (files.length === 0) throw new UserError(`captions:${spec}: limit ${opts.limit} leaves no images`);
  const size = opts.imageSize ?? DEFAULT_CAPTION_IMAGE_SIZE;
  if (!Number.isInteger(size) || size < 1) throw new UserError(`imageSize must be a positive integer, got ${size}`);
  const shape: [number, number, number] = [size, size, opts.channels ?? 3];
  const { values, ok, skipped } = await decodeAll(files.map((f) => f.image), shape, opts);
  if (skipped.length > 0) notices.push(`captions:${spec}: --skip-bad left out ${skipped.length} unreadable image(s): ${skipped.slice(0, 5).join(', ')}${skipped.length > 5 ? ', …' : ''}`);
  const keep = files.map((_, i) => i).filter((i) => ok[i]);
  if (keep.length === 0) throw new UserError(`captions:${spec}: none of the ${files.length} images could be read`);
  return captionedSource({
    name: `captions:${spec}`,
    shape,
    values: compact(values, keep, shape[0] * shape[1] * shape[2]),
    items: keep.map((i) => files[i]),
    text: textSettings(trainTexts, opts),
    notices,
    skipped: skipped.length,
  });
}

/** Decode image files to `shape` (centre crop, alpha on the background, as folder: does); unreadable ones fail, or are skipped with skipBad. */
async function decodeAll(paths: string[], shape: [number, number, number], opts: CaptionOptions): Promise<{ values: Uint8Array; ok: Uint8Array; skipped: string[] }> {
  const per = shape[0] * shape[1] * shape[2];
  const values = new Uint8Array(paths.length * per);
  const ok = new Uint8Array(paths.length);
  const skipped: string[] = [];
  await forEachBounded(paths.length, 8, async (i) => {
    try {
      values.set(await decodePixels(paths[i], { shape, background: opts.background ?? WHITE }), i * per);
      ok[i] = 1;
    } catch (e) {
      unreadable(paths[i], e, opts.skipBad);
      skipped.push(paths[i]);
    }
  });
  return { values, ok, skipped: skipped.sort() };
}
