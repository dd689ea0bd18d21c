import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import type { ArraySource, DataSource } from './types.js';
import type { LoadDataOptions } from './registry.js';
import { stem } from './decode.js';
import { loadImageFolder, type ImageFolderSource } from './image_folder.js';
import { isDir, type TranslationFolderOptions } from './paired.js';
import { reshapeImages } from './transform.js';
import { domainOf, translationSource } from './translation.js';

/** loadData, passed in so this file does not import the registry that imports it. */
export type SpecLoader = (spec: string, opts: LoadDataOptions) => Promise<DataSource>;

/**
 * CycleGAN's layout (Zhu et al. 2017): DIR/trainA and DIR/trainB hold two unpaired domains ('test': testA,
 * testB). A is loaded at B's size; if one domain is grey and the other colour, the grey one is repeated to 3
 * channels and a notice says so. `limit` applies to each domain.
 */
export async function loadUnpairedFolder(dir: string, opts: TranslationFolderOptions = {}): Promise<ArraySource> {
  if (!(await isDir(dir))) throw new UserError(`unpaired: folder not found: ${dir}`);
  const split = opts.split ?? 'train';
  const dirA = join(dir, `${split}A`);
  const dirB = join(dir, `${split}B`);
  for (const d of [dirA, dirB]) {
    if (!(await isDir(d))) {
      throw new UserError(`unpaired:${dir} needs the folder ${d} (CycleGAN's layout: trainA, trainB, testA, testB; or give two datasets, unpaired:SPEC_A,SPEC_B)`);
    }
  }
  const common = { channels: opts.channels, skipBad: opts.skipBad, limit: opts.limit, concurrency: opts.concurrency };
  const b = await loadImageFolder(dirB, { ...common, imageSize: opts.imageSize });
  const a = await loadImageFolder(dirA, { ...common, imageSize: [b.info.shape[0], b.info.shape[1]] });
  const named = (s: ImageFolderSource): ArraySource => ({ ...s, names: s.files.map(stem) });
  return pairDomains(`unpaired:${dir}`, named(a), named(b), 'A', 'B', opts);
}

/**
 * Any two image datasets as unpaired domains, e.g. unpaired:mnist,fashion-mnist. A is resized (bilinear) to
 * B's size (or both to `imageSize`); channels follow the colour one. Each is loaded with the same split,
 * limit and skipBad.
 */
export async function loadUnpairedSpecs(specA: string, specB: string, load: SpecLoader, opts: LoadDataOptions = {}): Promise<ArraySource> {
  const sub: LoadDataOptions = { split: opts.split, limit: opts.limit, skipBad: opts.skipBad, imageSize: opts.imageSize, channels: opts.channels };
  const [a, b] = [await load(specA, sub), await load(specB, sub)];
  for (const [spec, s] of [[specA, a], [specB, b]] as const) {
    if (s.kind !== 'array' || s.info.kind !== 'image') throw new UserError(`unpaired:${specA},${specB}: ${spec} is not image data`);
  }
  return pairDomains(`unpaired:${specA},${specB}`, a as ArraySource, b as ArraySource, specA, specB, opts);
}

/** Bring A to B's height and width and both to one channel count, then assemble the unpaired source. */
function pairDomains(name: string, a: ArraySource, b: ArraySource, nameA: string, nameB: string, opts: { direction?: TranslationFolderOptions['direction'] }): ArraySource {
  const [h, w, cb] = b.info.shape;
  const ca = a.info.shape[2];
  const c = Math.max(ca, cb);
  const notices = [...(a.notices ?? []), ...(b.notices ?? [])];
  const fmt = (s: number[]): string => `${s[1]}×${s[0]}×${s[2]}`;
  const a2 = reshapeImages(a, [h, w, c]);
  const b2 = reshapeImages(b, [h, w, c]);
  if (a2 !== a) notices.push(`${nameA} images converted from ${fmt(a.info.shape)} to ${fmt(a2.info.shape)} to match ${nameB}`);
  if (b2 !== b) notices.push(`${nameB} images converted from ${fmt(b.info.shape)} to ${fmt(b2.info.shape)} to match ${nameA}`);
  return translationSource({
    name,
    a: domainOf(a2, nameA),
    b: domainOf(b2, nameB),
    pairing: 'unpaired',
    direction: opts.direction,
    notices,
    skipped: (a.skipped ?? 0) + (b.skipped ?? 0),
  });
}
