import * as tf from '@tensorflow/tfjs-core';
import type { Command } from 'commander';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { loadSamplingNetworks } from '../gan/checkpoint.js';
import { allNetworks } from '../gan/family.js';
import { imageRows, sampleFamily } from '../gan/sampling.js';
import { getModel } from '../models/registry.js';
import { IMAGE_EXTENSIONS } from '../data/image_folder.js';
import { probeImage, uprightOn } from '../data/decode.js';
import { imageGrid, toUint8Images } from '../io/png.js';
import { initBackend } from '../backend/index.js';
import { UserError } from '../util/errors.js';
import { outputPaths } from './output_paths.js';
import { writeFileAtomic } from '../util/fs.js';
import { WHITE, parseColour, type Rgb } from '../util/colour.js';

export interface TranslateOptions {
  out: string;
  grid?: string;
  direction?: 'AtoB' | 'BtoA';
  targets?: string;
  /** Write each output at its input's own size (resized back, so the aspect is the input's), not the run's. */
  keepSize?: boolean;
  backend?: string;
}

/** Images read for a translator: [n, H, W, C] floats in [-1, 1] and the name each came from. */
export interface ReadImages {
  values: Float32Array;
  names: string[];
  resized: number;
  /** Each file's own [width, height], upright. */
  sizes: [number, number][];
}

/**
 * `ganforge translate RUN INPUT… --out DIR`: each input image (files, or every image in a folder) through a
 * translator's generator (pix2pix; CycleGAN's G or, with --direction BtoA, F), written under the same name as a
 * PNG in DIR. Inputs of another size are resized to the generator's, and grey/colour converted, with a notice;
 * `--keep-size` resizes each output back to its input's size (times the run's factor for super-resolution).
 * `--grid FILE.png` also writes input | output rows (| target, with --targets DIR holding images of the same names).
 */
export async function translateCommand(target: string, inputs: string[], opts: TranslateOptions): Promise<void> {
  if (opts.grid !== undefined && path.extname(opts.grid).toLowerCase() !== '.png') throw new UserError(`--grid must end in .png, got '${opts.grid}'`);
  await initBackend({ prefer: opts.backend }); // validates the name
  const { nets, state } = await loadSamplingNetworks(target);
  try {
    const family = getModel(state.config.model);
    const data = state.data;
    if (family.condition !== 'image' || !data.input) {
      throw new UserError(`translate needs a translator run (pix2pix, cyclegan); '${target}' is a ${state.config.model} run — use 'ganforge sample' for it`);
    }
    if (opts.direction !== undefined && !(family.directions ?? ['AtoB']).includes(opts.direction)) {
      throw new UserError(`--direction ${opts.direction}: ${family.name} translates ${(family.directions ?? ['AtoB']).join(', ')} only (cyclegan translates both ways)`);
    }
    const backwards = opts.direction === 'BtoA';
    const inShape = backwards ? data.shape : data.input.shape; // [H, W, C] the generator takes
    const files = await listInputs(inputs);
    const read = await readImages(files, inShape, parseColour(state.config.background ?? 'white'));
    const outputs = outputPaths(opts.out, files.map((file, i) => ({ file, name: read.names[i] })));
    if (read.resized > 0) process.stderr.write(`ganforge: resized ${read.resized} of ${files.length} input(s) to ${inShape[0]}×${inShape[1]}, the size the run was trained at\n`);
    const input = tf.tensor(read.values, [files.length, ...inShape]);
    let result;
    try {
      result = sampleFamily(family, nets, { count: files.length, seed: 0, input, direction: opts.direction }, { config: state.config, data });
    } finally {
      input.dispose();
    }
    await fs.mkdir(outputs.folder, { recursive: true });
    const [h, w, c] = result.shape;
    const pixels = toUint8Images(result.values);
    const size = h * w * c;
    // A translator's output is its input's size times the run's factor (super-resolution runs upscale).
    const factor = [h / inShape[0], w / inShape[1]];
    for (let i = 0; i < files.length; i++) {
      let raw = sharp(Buffer.from(pixels.subarray(i * size, (i + 1) * size)), { raw: { width: w, height: h, channels: c as 1 | 3 } });
      const [ow, oh] = [Math.round(read.sizes[i][0] * factor[1]), Math.round(read.sizes[i][1] * factor[0])];
      if (opts.keepSize && (ow !== w || oh !== h)) {
        raw = sharp(await raw.resize(ow, oh, { fit: 'fill', kernel: 'lanczos3' }).raw().toBuffer(), { raw: { width: ow, height: oh, channels: c as 1 | 3 } });
      }
      // A grey result stays one channel (sharp would otherwise write raw grey as sRGB).
      await writeFileAtomic(outputs.paths[i], await (c === 1 ? raw.toColourspace('b-w') : raw).png().toBuffer());
    }
    if (opts.grid) await writeGrid(opts.grid, read, result.values, inShape, result.shape, opts.targets);
    process.stderr.write(`ganforge: translated ${files.length} image(s) ${backwards ? 'B → A' : 'A → B'} with ${family.name} (step ${state.step}) → ${opts.out}${opts.grid ? `, grid → ${opts.grid}` : ''}\n`);
  } finally {
    for (const [, model] of allNetworks(nets)) model.dispose();
  }
}

/** Input files: each argument is an image file or a folder of images (sorted by name, not recursive). */
export async function listInputs(inputs: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const item of inputs) {
    const st = await fs.stat(item).catch(() => undefined);
    if (!st) throw new UserError(`input '${item}' does not exist`);
    if (st.isDirectory()) {
      const names = (await fs.readdir(item)).filter((n) => IMAGE_EXTENSIONS.has(path.extname(n).toLowerCase())).sort();
      if (names.length === 0) throw new UserError(`input folder '${item}' holds no images (${[...IMAGE_EXTENSIONS].join(' ')})`);
      files.push(...names.map((n) => path.join(item, n)));
    } else {
      files.push(item);
    }
  }
  return files;
}

/**
 * Decode, resize (fill) and convert each file to `shape` = [H, W, C]: upright by its EXIF orientation (as training
 * data are), transparent pixels composited on `background` (the run's --background; white by default). A file that
 * cannot be decoded is an error naming it.
 */
export async function readImages(files: string[], shape: number[], background: Rgb = WHITE): Promise<ReadImages> {
  const [h, w, c] = shape;
  const values = new Float32Array(files.length * h * w * c);
  const names: string[] = [];
  const sizes: [number, number][] = [];
  let resized = 0;
  for (const [i, file] of files.entries()) {
    let raw: Buffer;
    try {
      const upright = await probeImage(file);
      const img = uprightOn(file, background);
      sizes.push([upright.w, upright.h]);
      if (upright.w !== w || upright.h !== h) resized++;
      const chain = c === 1 ? img.greyscale() : img.toColourspace('srgb');
      raw = await chain.resize(w, h, { fit: 'fill' }).raw().toBuffer();
    } catch (e) {
      throw new UserError(`cannot read image '${file}': ${(e as Error).message.split('\n')[0]}`);
    }
    const channels = raw.length / (h * w);
    for (let p = 0; p < h * w; p++) {
      for (let k = 0; k < c; k++) values[(i * h * w + p) * c + k] = raw[p * channels + Math.min(k, channels - 1)] / 127.5 - 1;
    }
    names.push(path.basename(file, path.extname(file)));
  }
  return { values, names, resized, sizes };
}

/** input | output (| target) rows as one PNG. */
async function writeGrid(file: string, read: ReadImages, outputs: Float32Array, inShape: number[], outShape: number[], targets?: string): Promise<void> {
  const n = read.names.length;
  // A super-resolution input is smaller than its output: shown nearest-upscaled to the output's size.
  const input = tf.tensor4d(read.values, [n, ...inShape] as [number, number, number, number]);
  const shown = inShape[0] === outShape[0] && inShape[1] === outShape[1] ? input : tf.image.resizeNearestNeighbor(input, [outShape[0], outShape[1]]);
  if (shown !== input) input.dispose();
  const columns: tf.Tensor[] = [shown, tf.tensor(outputs, [n, ...outShape])];
  if (targets !== undefined) {
    const files = read.names.map((name) => findByStem(targets, name));
    const t = await readImages(await Promise.all(files), outShape);
    columns.push(tf.tensor(t.values, [n, ...outShape]));
  }
  try {
    const rows = imageRows(columns);
    const [h, w, c] = rows.shape;
    await fs.mkdir(path.dirname(path.resolve(file)), { recursive: true });
    await writeFileAtomic(file, await imageGrid(toUint8Images(rows.values), rows.count, h, w, c, { cols: rows.cols }));
  } finally {
    tf.dispose(columns);
  }
}

async function findByStem(dir: string, stem: string): Promise<string> {
  const names = await fs.readdir(dir).catch(() => {
    throw new UserError(`--targets folder '${dir}' does not exist`);
  });
  const hit = names.find((n) => path.basename(n, path.extname(n)) === stem && IMAGE_EXTENSIONS.has(path.extname(n).toLowerCase()));
  if (!hit) throw new UserError(`--targets: no image named '${stem}.*' in ${dir} to set beside the input of that name`);
  return path.join(dir, hit);
}

export function registerTranslateCommand(program: Command): void {
  program
    .command('translate')
    .description("run a translator (pix2pix, cyclegan) on images: the same names, as PNG, in --out")
    .argument('<run>', 'a run folder (newest checkpoint) or a checkpoint folder of a pix2pix or cyclegan run')
    .argument('<inputs...>', 'image files or folders of images')
    .requiredOption('--out <dir|file.png>', 'folder for the translated images (one PNG per input, same name), or a .png file for one input')
    .option('--grid <file.png>', 'also write input | output (| target) rows as one PNG')
    .option('--targets <dir>', 'with --grid: images of the same names to show as the third column')
    .option('--direction <AtoB|BtoA>', 'which generator of a cyclegan run: AtoB (G, default) or BtoA (F)')
    .option('--keep-size', "write each output at its input's own size and aspect (the generator still runs at the run's size; the result is resized back)")
    .option('--backend <name>', 'tensor backend: auto | aten | cpu (env GANFORGE_BACKEND)')
    .action(async (run: string, inputs: string[], opts: TranslateOptions) => {
      if (opts.direction !== undefined && opts.direction !== 'AtoB' && opts.direction !== 'BtoA') {
        throw new UserError(`--direction must be AtoB or BtoA, got '${opts.direction}'`);
      }
      await translateCommand(run, inputs, opts);
    });
}
