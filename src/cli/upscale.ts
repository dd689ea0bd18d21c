import type { Command } from 'commander';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import { loadSamplingNetworks } from '../gan/checkpoint.js';
import { allNetworks, samplingGenerator, type GanFamily, type GanNetworks } from '../gan/family.js';
import type { RunConfig } from '../gan/config.js';
import type { DatasetInfo } from '../data/types.js';
import { tiledRows, type PlainImage } from '../data/tiles.js';
import { getModel } from '../models/registry.js';
import { initBackend } from '../backend/index.js';
import { Rng } from '../util/rng.js';
import { UserError } from '../util/errors.js';
import { outputPaths } from './output_paths.js';
import { parseColour, type Rgb } from '../util/colour.js';
import { uprightOn } from '../data/decode.js';
import { listInputs } from './translate.js';

export interface UpscaleOptions {
  out: string;
  tile: number;
  overlap: number;
  raw?: boolean;
  backend?: string;
}

/** Output pixels above which a notice says what the result costs (it is still made, a band of tiles at a time). */
const LARGE_OUTPUT = 64e6;

/**
 * `ganforge upscale RUN INPUT… --out DIR`: each image through a super-resolution run's generator at its own size,
 * whatever that is. The image is cut into overlapping tiles (--tile, --overlap, in input pixels), each tile is
 * upscaled, and the seams are feather-blended (src/data/tiles.ts); finished rows go straight into the 8-bit output,
 * so besides that output (W·H·C bytes, which the PNG encoder needs whole) memory holds one band of tiles, and the
 * network only ever sees one tile: a 4000-px photo runs like a small one. The factor is the run's own: its
 * data's output side over its input side.
 */
export async function upscaleCommand(target: string, inputs: string[], opts: UpscaleOptions): Promise<void> {
  await initBackend({ prefer: opts.backend });
  const files = await listInputs(inputs);
  const { nets, state } = await loadSamplingNetworks(target, { raw: opts.raw });
  const family = getModel(state.config.model);
  const run = { config: state.config, data: state.data };
  let tiled: GanNetworks | null = null;
  try {
    const scale = upscaleFactor(family, state.data);
    checkTiles(opts);
    tiled = generatorForTiles(family, nets, run, opts.tile);
    const outputs = outputPaths(opts.out, files.map((file) => ({ file, name: path.parse(file).name })));
    await fs.mkdir(outputs.folder, { recursive: true });
    const channels = state.data.input!.shape[2];
    for (const [i, file] of files.entries()) {
      const out = outputs.paths[i];
      const image = await decode(file, channels, parseColour(state.config.background ?? 'white'));
      if (image.h * scale * image.w * scale > LARGE_OUTPUT) {
        const mb = Math.round((image.w * scale * image.h * scale * image.c) / 2 ** 20);
        process.stderr.write(`ganforge: ${path.basename(file)} is ${image.w}×${image.h}: its ×${scale} output is ${image.w * scale}×${image.h * scale} (${mb} MiB as 8-bit), upscaled a band of tiles at a time\n`);
      }
      await writeUpscaled(image, scale, opts, (tile) => upscaleTile(family, tiled!, run, tile, opts.tile, scale), out);
      process.stderr.write(`ganforge: ${file} (${image.w}×${image.h}) → ${out} (${image.w * scale}×${image.h * scale})\n`);
    }
  } finally {
    for (const [, model] of allNetworks(nets)) model.dispose();
    if (tiled) for (const [, model] of allNetworks(tiled)) model.dispose();
  }
}

/** The run's factor: output side over input side of its data, a whole number ≥ 2; else what to use instead. */
export function upscaleFactor(family: GanFamily, data: DatasetInfo): number {
  const input = data.input?.shape;
  const s = input ? data.shape[0] / input[0] : 0;
  if (!input || !Number.isInteger(s) || s < 2 || data.shape[1] !== input[1] * s) {
    const what = input ? `maps ${input[1]}×${input[0]} images to ${data.shape[1]}×${data.shape[0]}` : 'makes images from noise';
    throw new UserError(`upscale needs a super-resolution run (srresnet, srgan, esrgan: trained on lowres:SPEC); this ${family.name} run ${what}${input ? '; use ganforge translate' : ''}`);
  }
  return s;
}

function checkTiles(opts: UpscaleOptions): void {
  if (!Number.isInteger(opts.tile) || opts.tile < 8) throw new UserError(`--tile must be a whole number of input pixels ≥ 8, got ${opts.tile}`);
  if (!Number.isInteger(opts.overlap) || opts.overlap < 0 || opts.overlap >= opts.tile / 2) {
    throw new UserError(`--overlap must be a whole number of input pixels in [0, ${Math.ceil(opts.tile / 2) - 1}] (under half of --tile ${opts.tile}), got ${opts.overlap}`);
  }
}

/**
 * The sampling generator rebuilt for tile × tile inputs: the family's own builder on the data's shapes with the
 * input side set to the tile, then the trained weights copied in (a fully convolutional generator has the same
 * weights at any size). A generator whose weights depend on its input size is refused.
 */
function generatorForTiles(family: GanFamily, nets: GanNetworks, run: { config: RunConfig; data: DatasetInfo }, tile: number): GanNetworks {
  const data = run.data;
  const [, , c] = data.input!.shape;
  const s = data.shape[0] / data.input!.shape[0];
  const sized: DatasetInfo = { ...data, shape: [tile * s, tile * s, data.shape[2]], input: { ...data.input!, shape: [tile, tile, c] } };
  const built = family.build(sized, run.config, new Rng(0));
  const trained = samplingGenerator(nets).getWeights();
  const fresh = built.generator.getWeights();
  if (trained.length !== fresh.length || trained.some((w, i) => w.shape.join() !== fresh[i].shape.join())) {
    for (const [, model] of allNetworks(built)) model.dispose();
    throw new UserError(`upscale: the ${family.name} generator's weights depend on its input size, so it cannot run on ${tile}-px tiles; pass --tile ${data.input!.shape[0]} (its training size)`);
  }
  built.generator.setWeights(trained);
  for (const [name, model] of allNetworks(built)) if (name !== 'generator') model.dispose();
  return { generator: built.generator };
}

/** One tile through the family's sampling: edge-padded to the tile size when the image is smaller, output cropped back. */
function upscaleTile(family: GanFamily, nets: GanNetworks, run: { config: RunConfig; data: DatasetInfo }, t: PlainImage, tile: number, s: number): PlainImage {
  const input = tf.tidy(() => {
    const x = tf.tensor4d(t.values as Float32Array, [1, t.h, t.w, t.c]);
    if (t.h === tile && t.w === tile) return x;
    // Edge rows and columns repeated out to the tile: any amount of padding works, even beyond the image's own size.
    const clamped = (n: number) => tf.tensor1d(Array.from({ length: tile }, (_, i) => Math.min(i, n - 1)), 'int32');
    return tf.gather(tf.gather(x, clamped(t.h), 1), clamped(t.w), 2);
  });
  try {
    const sample = family.sample!(nets, { count: 1, seed: 0, input }, run);
    if (t.h === tile && t.w === tile) return { values: sample.values, h: t.h * s, w: t.w * s, c: sample.shape[2] };
    const [W, c] = [tile * s, sample.shape[2]];
    const values = new Float32Array(t.h * s * t.w * s * c);
    for (let y = 0; y < t.h * s; y++) values.set(sample.values.subarray(y * W * c, (y * W + t.w * s) * c), y * t.w * s * c);
    return { values, h: t.h * s, w: t.w * s, c };
  } finally {
    input.dispose();
  }
}

/**
 * The image at its own size, upright, transparent pixels on `background` (the run's), as `channels` channels in
 * [−1, 1]; a file that is not an image is an error naming it.
 */
async function decode(file: string, channels: number, background: Rgb): Promise<PlainImage> {
  try {
    let img = uprightOn(file, background);
    if (channels === 1) img = img.greyscale();
    const { data, info } = await img.toColourspace(channels === 1 ? 'b-w' : 'srgb').raw().toBuffer({ resolveWithObject: true });
    const values = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) values[i] = data[i] / 127.5 - 1;
    return { values, h: info.height, w: info.width, c: info.channels };
  } catch (e) {
    throw new UserError(`${file} is not an image sharp can read (${(e as Error).message.split('\n')[0]}); give PNG, JPEG, WebP, TIFF or GIF files`);
  }
}

/** Tile, upscale and write the finished rows as 8-bit into a PNG at `out` (under a temporary name, then renamed). */
async function writeUpscaled(image: PlainImage, s: number, opts: UpscaleOptions, fn: (t: PlainImage) => PlainImage, out: string): Promise<void> {
  const [H, W, c] = [image.h * s, image.w * s, image.c];
  const bytes = Buffer.alloc(H * W * c);
  for (const band of tiledRows(image, { tile: opts.tile, overlap: opts.overlap, scale: s }, fn)) {
    const at = band.top * W * c;
    for (let i = 0; i < band.values.length; i++) bytes[at + i] = Math.round((Math.min(1, Math.max(-1, band.values[i])) + 1) * 127.5);
  }
  const tmp = `${out}.tmp-${process.pid}.png`;
  try {
    await sharp(bytes, { raw: { width: W, height: H, channels: c as 1 | 3 } }).toColourspace(c === 1 ? 'b-w' : 'srgb').png().toFile(tmp); // grey stays one channel
    await fs.rename(tmp, out);
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

/** `ganforge upscale`'s command line. */
export function registerUpscaleCommand(program: Command, int: (flag: string) => (v: string) => number): void {
  program
    .command('upscale')
    .description('upscale images of any size with a super-resolution run (srresnet, srgan, esrgan, an interpolated run), tile by tile')
    .argument('<run>', 'a run folder (newest checkpoint) or a checkpoint folder of a super-resolution run')
    .argument('<inputs...>', 'image files or folders of images')
    .requiredOption('--out <dir|file.png>', 'folder for the upscaled PNGs (one per input, same stem), or a .png file for one input')
    .option('--tile <n>', 'tile side in input pixels (memory grows with it; any size works for a fully convolutional G)', int('--tile'), 96)
    .option('--overlap <n>', 'input pixels neighbouring tiles share, blended across (seams fade)', int('--overlap'), 12)
    .option('--raw', 'use the trained generator, not its EMA copy')
    .option('--backend <name>', 'tensor backend: auto | aten | cpu (env GANFORGE_BACKEND)')
    .action(async (run: string, inputs: string[], opts: UpscaleOptions) => upscaleCommand(run, inputs, opts));
}
