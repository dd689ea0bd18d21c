import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import type { ArraySource } from './types.js';
import { compact, decodeImage, forEachBounded, listImageFiles, probeImage, stem, type ImageProbe } from './decode.js';
import { translationSource, type Direction } from './translation.js';

/** Options shared by the folder-based translation loaders (paired:, aligned:, unpaired:). */
export interface TranslationFolderOptions {
  /** 'train' (default) or 'test'; where each split lives is described at each loader. */
  split?: 'train' | 'test';
  /** Output size: a number for square images or [height, width]; default: the first example's size. */
  imageSize?: number | [number, number];
  /** 1 or 3 for both domains; default: 3 when any image is colour (grey ones are repeated), else 1. */
  channels?: 1 | 3;
  /** Skip unreadable files (and their partners) instead of failing. */
  skipBad?: boolean;
  /** Keep only the first N examples (pairs sorted by name). */
  limit?: number;
  direction?: Direction;
  /** Files decoded at once; default 8. */
  concurrency?: number;
}

export async function isDir(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
}

/**
 * Load pix2pix-style pairs kept in two folders: DIR/A/NAME is the input for DIR/B/NAME. Files are matched by
 * name without extension (A/cat.png ↔ B/cat.jpg), so formats may differ; a file without a partner, or two
 * files with one name in a folder, is an error naming them. Splits: 'train' reads DIR/train/{A,B} when present,
 * else DIR/{A,B}; 'test' reads DIR/test/{A,B}. Both images of a pair must have one size unless `imageSize` is
 * given (then both are resized, centre-cropped as folder: does); pairs of another size than the first are
 * resized to it. When grey and colour files meet, the grey ones are repeated to 3 channels and a notice says so.
 */
export async function loadPairedFolder(dir: string, opts: TranslationFolderOptions = {}): Promise<ArraySource> {
  const root = await pairedRoot(dir, opts.split ?? 'train');
  const dirA = join(root, 'A');
  const dirB = join(root, 'B');
  const all = matchPairs(await listImageFiles(dirA), await listImageFiles(dirB), dirA, dirB);
  if (all.length === 0) throw new UserError(`no images in ${dirA} and ${dirB}`);
  const pairs = opts.limit !== undefined ? all.slice(0, Math.max(0, Math.floor(opts.limit))) : all;
  if (pairs.length === 0) throw new UserError(`limit ${opts.limit} leaves no pairs to load from ${root}`);

  const skipped: string[] = [];
  const ok = new Uint8Array(pairs.length).fill(1);
  const bad = (i: number, path: string, e: unknown): void => {
    if (!opts.skipBad) throw new UserError(`cannot read image ${path}: ${(e as Error).message} (pass skipBad to skip unreadable pairs)`);
    if (ok[i]) skipped.push(path);
    ok[i] = 0;
  };
  const conc = opts.concurrency ?? 8;

  // Probe every file: pair sizes must agree, and any colour file makes the data colour.
  const probes: { a?: ImageProbe; b?: ImageProbe }[] = pairs.map(() => ({}));
  await forEachBounded(pairs.length, conc, async (i) => {
    for (const side of ['a', 'b'] as const) {
      try {
        probes[i][side] = await probeImage(pairs[i][side]);
      } catch (e) {
        bad(i, pairs[i][side], e);
      }
    }
  });
  const live = pairs.map((_, i) => i).filter((i) => ok[i]);
  if (live.length === 0) throw new UserError(`none of the ${pairs.length} pairs in ${root} could be read`);
  if (opts.imageSize === undefined) {
    for (const i of live) {
      const { a, b } = probes[i];
      if (a!.h !== b!.h || a!.w !== b!.w) {
        throw new UserError(
          `${pairs[i].a} is ${a!.w}×${a!.h} but its partner ${pairs[i].b} is ${b!.w}×${b!.h}; ` +
            `make both the same size, or pass imageSize to resize both`,
        );
      }
    }
  }
  const first = probes[live[0]].a!;
  const [h, w] = sizeOf(opts.imageSize, first);
  const greyA = live.filter((i) => probes[i].a!.grey).length;
  const greyB = live.filter((i) => probes[i].b!.grey).length;
  const c = opts.channels ?? (greyA + greyB < 2 * live.length ? 3 : 1);
  const notices: string[] = [];
  if (opts.channels === undefined && c === 3) {
    if (greyA > 0) notices.push(`${greyA} of ${live.length} images in ${dirA} are greyscale; repeated to 3 channels to match the colour images`);
    if (greyB > 0) notices.push(`${greyB} of ${live.length} images in ${dirB} are greyscale; repeated to 3 channels to match the colour images`);
  }

  // Decode into one slot per pair, then keep the pairs whose both files decoded.
  const per = h * w * c;
  const A = new Uint8Array(live.length * per);
  const B = new Uint8Array(live.length * per);
  await forEachBounded(live.length, conc, async (k) => {
    const i = live[k];
    for (const [side, out] of [['a', A], ['b', B]] as const) {
      try {
        out.set(await decodeImage(pairs[i][side], [h, w, c]), k * per);
      } catch (e) {
        bad(i, pairs[i][side], e);
      }
    }
  });
  const keep = live.map((i, k) => [i, k]).filter(([i]) => ok[i]);
  if (keep.length === 0) throw new UserError(`none of the ${pairs.length} pairs in ${root} could be read`);
  const pack = (src: Uint8Array): Uint8Array => compact(src, keep.map(([, k]) => k), per);
  if (skipped.length > 0) notices.push(`skipped ${skipped.length} unreadable pair(s): ${skipped.slice(0, 5).join(', ')}${skipped.length > 5 ? ', …' : ''}`);
  const names = keep.map(([i]) => pairs[i].name);
  const shape = [h, w, c];
  return translationSource({
    name: `paired:${dir}`,
    a: { name: 'A', values: pack(A), shape, count: keep.length, names },
    b: { name: 'B', values: pack(B), shape, count: keep.length, names },
    pairing: 'paired',
    direction: opts.direction,
    notices,
    skipped: skipped.length,
  });
}

/** The folder holding A and B for a split, or an error naming the folder that is missing. */
async function pairedRoot(dir: string, split: 'train' | 'test'): Promise<string> {
  if (!(await isDir(dir))) throw new UserError(`paired: folder not found: ${dir}`);
  const splitDir = join(dir, split);
  let root = splitDir;
  if (!(await isDir(join(splitDir, 'A'))) && split === 'train' && (await isDir(join(dir, 'A')))) root = dir;
  for (const side of ['A', 'B']) {
    if (!(await isDir(join(root, side)))) {
      const where = split === 'train' ? `${dir}/{A,B} or ${dir}/train/{A,B}` : `${dir}/test/{A,B}`;
      throw new UserError(`paired:${dir} (${split}) needs the folder ${join(root, side)}: inputs go in A, targets in B with the same file names (looked for ${where})`);
    }
  }
  return root;
}

/** Pairs sorted by name; unmatched or doubled names are errors naming the files. */
export function matchPairs(filesA: string[], filesB: string[], dirA: string, dirB: string): { name: string; a: string; b: string }[] {
  const mA = byStem(filesA);
  const mB = byStem(filesB);
  const lonely = [
    ...[...mA].filter(([k]) => !mB.has(k)).map(([, p]) => `${p} (no ${dirB}/${stem(p)}.*)`),
    ...[...mB].filter(([k]) => !mA.has(k)).map(([, p]) => `${p} (no ${dirA}/${stem(p)}.*)`),
  ];
  if (lonely.length > 0) {
    throw new UserError(
      `${lonely.length} file(s) without a partner: ${lonely.slice(0, 5).join('; ')}${lonely.length > 5 ? '; …' : ''}. ` +
        `Pairs are matched by file name without extension; add the partner or remove the file`,
    );
  }
  return [...mA.keys()].sort().map((name) => ({ name, a: mA.get(name)!, b: mB.get(name)! }));
}

function byStem(files: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const f of files) {
    const k = stem(f);
    const prev = m.get(k);
    if (prev !== undefined) throw new UserError(`${prev} and ${f} have the same name; pairs are matched by name without extension, so keep one`);
    m.set(k, f);
  }
  return m;
}

/** [h, w] from an imageSize option, else from the probe. */
export function sizeOf(size: number | [number, number] | undefined, probe: { h: number; w: number }): [number, number] {
  if (size === undefined) return [probe.h, probe.w];
  const [h, w] = typeof size === 'number' ? [size, size] : size;
  if (![h, w].every((v) => Number.isInteger(v) && v > 0)) throw new UserError(`imageSize must be positive integers, got ${String(size)}`);
  return [h, w];
}
