import type { Command } from 'commander';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { loadSamplingNetworks } from '../gan/checkpoint.js';
import { allNetworks } from '../gan/family.js';
import { getModel } from '../models/registry.js';
import { loadData } from '../data/registry.js';
import { refineImages, toUnitRange } from '../metrics/tstr.js';
import { toUint8Images } from '../io/png.js';
import { initBackend } from '../backend/index.js';
import { UserError } from '../util/errors.js';
import { outputPaths } from './output_paths.js';
import { writeFileAtomic } from '../util/fs.js';
import { listInputs, readImages } from './translate.js';

export interface RefineOptions {
  out: string;
  split?: 'train' | 'test';
  limit?: number;
  backend?: string;
}

/** What refine reads: images in [-1, 1] of the run's input shape, a file name for each, and labels when known. */
interface RefineInputs {
  values: Float32Array;
  names: string[];
  labels?: Int32Array;
  classNames?: string[];
  /** The file each came from (absent for a dataset's examples). */
  files?: string[];
}

/**
 * `ganforge refine RUN INPUT… --out DIR`: synthetic images through a refiner's generator (simgan's R, or any
 * translator's A → B generator), written as PNGs in DIR. INPUT is image files, folders of images, or a named
 * dataset (`font-digits`, with --split and --limit); a labelled dataset's labels are carried along into
 * DIR/labels.csv (file,label,class), since refinement is meant to keep them true.
 */
export async function refineCommand(target: string, inputs: string[], opts: RefineOptions): Promise<void> {
  await initBackend({ prefer: opts.backend });
  const { nets, state } = await loadSamplingNetworks(target);
  try {
    const family = getModel(state.config.model);
    const data = state.data;
    if (family.condition !== 'image' || !data.input) {
      throw new UserError(`refine needs a run that refines images (simgan, or another A → B translator); '${target}' is a ${state.config.model} run`);
    }
    const shape = data.input.shape; // [H, W, C] the generator takes
    const read = await readInputs(inputs, shape, opts);
    const outputs = outputPaths(opts.out, read.names.map((name, i) => ({ file: read.files?.[i], name })));
    if (read.labels && outputs.paths.length === 1 && outputs.paths[0] === opts.out) {
      throw new UserError(`--out ${opts.out}: a dataset's labels go in labels.csv beside its images; name a folder`);
    }
    const refined = refineImages(family, nets, { config: state.config, data }, read.values, shape);
    await fs.mkdir(outputs.folder, { recursive: true });
    const pixels = toUint8Images(refined);
    const [h, w, c] = shape;
    const size = h * w * c;
    for (const i of read.names.keys()) {
      const raw = sharp(Buffer.from(pixels.subarray(i * size, (i + 1) * size)), { raw: { width: w, height: h, channels: c as 1 | 3 } });
      await writeFileAtomic(outputs.paths[i], await (c === 1 ? raw.toColourspace('b-w') : raw).png().toBuffer());
    }
    if (read.labels) {
      const rows = read.names.map((name, i) => `${name}.png,${read.labels![i]},${csvField(read.classNames?.[read.labels![i]] ?? '')}`);
      await writeFileAtomic(path.join(opts.out, 'labels.csv'), ['file,label,class', ...rows, ''].join('\n'));
    }
    process.stderr.write(`ganforge: refined ${read.names.length} image(s) with ${family.name} (step ${state.step}) → ${opts.out}${read.labels ? ', labels → labels.csv' : ''}\n`);
  } finally {
    for (const [, model] of allNetworks(nets)) model.dispose();
  }
}

/** Files and folders as translate reads them; an argument that is no path is a dataset spec, loaded at the run's shape. */
async function readInputs(inputs: string[], shape: number[], opts: RefineOptions): Promise<RefineInputs> {
  const paths = inputs.filter((i) => existsSync(i));
  const specs = inputs.filter((i) => !existsSync(i));
  if (specs.length > 0 && (paths.length > 0 || specs.length > 1)) {
    throw new UserError(`refine takes image files and folders, or one dataset; '${specs[0]}' is no file or folder${paths.length > 0 ? ' (and cannot be mixed with files)' : ''}`);
  }
  if (specs.length === 0) {
    if (opts.split !== undefined || opts.limit !== undefined) throw new UserError('--split and --limit apply to a dataset input (e.g. font-digits), not to files');
    const files = await listInputs(paths);
    const read = await readImages(files, shape);
    if (read.resized > 0) process.stderr.write(`ganforge: resized ${read.resized} input(s) to ${shape[0]}×${shape[1]}, the size the run was trained at\n`);
    return { ...read, files };
  }
  const src = await loadData(specs[0], { split: opts.split, limit: opts.limit, imageSize: shape[0], channels: shape[2] as 1 | 3 });
  if (src.kind !== 'array' || src.info.kind !== 'image' || src.info.input) throw new UserError(`refine: '${specs[0]}' is not a plain image dataset`);
  if (src.info.shape.join('×') !== shape.join('×')) throw new UserError(`refine: '${specs[0]}' has ${src.info.shape.join('×')} images; the run refines ${shape.join('×')}`);
  const digits = String(src.count - 1).length;
  return {
    values: toUnitRange(src.values as Uint8Array),
    names: Array.from({ length: src.count }, (_, i) => String(i).padStart(digits, '0')),
    ...(src.labels ? { labels: src.labels, classNames: src.info.classNames } : {}),
  };
}

const csvField = (s: string): string => (/[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);

export function registerRefineCommand(program: Command, int: (flag: string) => (v: string) => number): void {
  program
    .command('refine')
    .description('refine synthetic images with a simgan run (PNGs in --out; a labelled dataset\'s labels go to labels.csv)')
    .argument('<run>', 'a run folder (newest checkpoint) or a checkpoint folder of a simgan (or translator) run')
    .argument('<inputs...>', 'image files or folders, or one dataset name (e.g. font-digits)')
    .requiredOption('--out <dir|file.png>', 'folder for the refined images (one PNG per input), or a .png file for one input')
    .option('--split <train|test>', 'dataset input: which split (default train)')
    .option('--limit <n>', 'dataset input: the first N examples', int('--limit'))
    .option('--backend <name>', 'tensor backend: auto | aten | cpu (env GANFORGE_BACKEND)')
    .action(async (run: string, inputs: string[], opts: RefineOptions) => {
      if (opts.split !== undefined && opts.split !== 'train' && opts.split !== 'test') throw new UserError(`--split must be train or test, got '${String(opts.split)}'`);
      await refineCommand(run, inputs, opts);
    });
}
