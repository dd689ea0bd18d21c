import * as tf from '@tensorflow/tfjs-core';
import type { Command } from 'commander';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { loadSamplingNetworks } from '../gan/checkpoint.js';
import { allNetworks, type GanNetworks, type SampleResult } from '../gan/family.js';
import { sampleFamily } from '../gan/sampling.js';
import { getModel } from '../models/registry.js';
import { holeArea, readMask, type Mask } from '../data/masks.js';
import { initBackend } from '../backend/index.js';
import { UserError } from '../util/errors.js';
import { parseColour, type Rgb } from '../util/colour.js';
import { uprightOn } from '../data/decode.js';
import { writeFileAtomic } from '../util/fs.js';

export interface InpaintOptions {
  mask: string;
  out: string;
  backend?: string;
}

/** An image [h, w, c] as floats in [-1, 1]. */
interface Picture {
  values: Float32Array;
  h: number;
  w: number;
  c: number;
}

/**
 * `ganforge inpaint RUN IMAGE --mask MASK.png --out OUT.png`: fill the white part of MASK in IMAGE with an
 * inpainting run's generator and write the completed image; the known pixels are written unchanged.
 *
 * Any image size: the generator runs at its trained size S on S×S tiles (see fillByTiles), a smaller image being
 * padded by repeating its edge pixels first. The mask must have the image's size (a resized mask would move the
 * hole); an empty mask writes the image unchanged with a notice; a full one is refused (nothing to fill from).
 */
export async function inpaintCommand(target: string, image: string, opts: InpaintOptions): Promise<void> {
  if (path.extname(opts.out).toLowerCase() !== '.png') throw new UserError(`--out must end in .png, got '${opts.out}'`);
  for (const given of [image, opts.mask]) {
    if (path.resolve(opts.out) === path.resolve(given)) throw new UserError(`--out ${opts.out} is an input; write the result to another file`);
  }
  await initBackend({ prefer: opts.backend });
  const { nets, state } = await loadSamplingNetworks(target);
  try {
    const family = getModel(state.config.model);
    const [size, , c] = state.data.shape;
    if (family.condition !== 'image' || state.data.input?.shape[2] !== c + 1) {
      throw new UserError(`inpaint needs a run trained on images with holes (e.g. ganforge train inpaint --data masked:SPEC); '${target}' is a ${state.config.model} run on ${state.data.name}`);
    }
    const picture = await readPicture(image, c, parseColour(state.config.background ?? 'white'));
    const meta = await sharp(opts.mask).metadata().catch(() => {
      throw new UserError(`--mask ${opts.mask}: not a readable image`);
    });
    if (meta.width !== picture.w || meta.height !== picture.h) {
      throw new UserError(`--mask ${opts.mask} is ${meta.width}×${meta.height}, the image ${picture.w}×${picture.h}; give a mask of the image's size (white = hole)`);
    }
    const hole = await readMask(opts.mask, picture.h, picture.w);
    const area = holeArea(hole);
    if (area === picture.h * picture.w) throw new UserError(`--mask ${opts.mask} is white everywhere: nothing of the image is known to fill the hole from`);
    let result = picture.values;
    if (area === 0) {
      process.stderr.write(`ganforge: --mask ${opts.mask} has no white pixel (no hole); writing the image unchanged\n`);
    } else {
      result = fillByTiles(picture, hole, size, (input) => sampleFamily(family, nets, { count: 1, seed: 0, input }, { config: state.config, data: state.data }));
    }
    await writePicture(opts.out, { ...picture, values: result });
    const tiles = picture.h === size && picture.w === size ? '' : ` in ${size}×${size} tiles`;
    process.stderr.write(`ganforge: filled ${area} pixel(s) of ${picture.w}×${picture.h} with ${family.name} (step ${state.step})${tiles} → ${opts.out}\n`);
  } finally {
    disposeNets(nets);
  }
}

function disposeNets(nets: GanNetworks): void {
  for (const [, model] of allNetworks(nets)) model.dispose();
}

/**
 * The hole of an image of any size filled by a generator of S×S images: tiles of S×S at offsets a multiple of
 * S/2 apart along each axis (the last flush with the edge), visited in raster order; a hole pixel is filled by
 * the tile whose centre is nearest it, where it has the most context around it. A tile's input marks as hole
 * every pixel of it not yet filled (so it never reads the grey fill as image), and its filled pixels are
 * context for later tiles. An image smaller than S is padded with its edge pixels, which count as known.
 */
export function fillByTiles(picture: Picture, hole: Mask, size: number, run: (input: tf.Tensor4D) => SampleResult): Float32Array {
  const { h, w, c } = picture;
  const [ph, pw] = [Math.max(h, size), Math.max(w, size)];
  // The padded canvas: (y, x) reads the picture at (min(y, h − 1), min(x, w − 1)).
  const canvas = new Float32Array(ph * pw * c);
  const todo = new Uint8Array(ph * pw);
  for (let y = 0; y < ph; y++) for (let x = 0; x < pw; x++) {
    const src = Math.min(y, h - 1) * w + Math.min(x, w - 1);
    for (let k = 0; k < c; k++) canvas[(y * pw + x) * c + k] = picture.values[src * c + k];
    if (y < h && x < w) todo[y * pw + x] = hole[src];
  }
  const offsets = (n: number): number[] => {
    const out: number[] = [];
    for (let o = 0; o + size < n; o += size / 2) out.push(o);
    out.push(n - size);
    return out;
  };
  const ys = offsets(ph);
  const xs = offsets(pw);
  const nearest = (v: number, os: number[]): number => os.reduce((best, o) => (Math.abs(v - (o + size / 2)) < Math.abs(v - (best + size / 2)) ? o : best), os[0]);
  for (const y0 of ys) for (const x0 of xs) {
    let mine = 0;
    for (let y = y0; y < y0 + size; y++) for (let x = x0; x < x0 + size; x++) if (todo[y * pw + x] && nearest(y, ys) === y0 && nearest(x, xs) === x0) mine++;
    if (mine === 0) continue;
    const input = new Float32Array(size * size * (c + 1));
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
      const p = (y0 + y) * pw + x0 + x;
      const q = (y * size + x) * (c + 1);
      for (let k = 0; k < c; k++) input[q + k] = todo[p] ? 128 / 127.5 - 1 : canvas[p * c + k];
      input[q + c] = todo[p] ? 1 : -1;
    }
    const t = tf.tensor4d(input, [1, size, size, c + 1]);
    let out: SampleResult;
    try {
      out = run(t);
    } finally {
      t.dispose();
    }
    for (let y = y0; y < y0 + size; y++) for (let x = x0; x < x0 + size; x++) {
      const p = y * pw + x;
      if (!todo[p] || nearest(y, ys) !== y0 || nearest(x, xs) !== x0) continue;
      for (let k = 0; k < c; k++) canvas[p * c + k] = out.values[((y - y0) * size + x - x0) * c + k];
      todo[p] = 0;
    }
  }
  const result = new Float32Array(h * w * c);
  for (let y = 0; y < h; y++) result.set(canvas.subarray(y * pw * c, (y * pw + w) * c), y * w * c);
  return result;
}

/** The image upright, transparent pixels on `background` (the run's, as its training data were composited). */
async function readPicture(file: string, c: number, background: Rgb): Promise<Picture> {
  try {
    const img = uprightOn(file, background);
    const { data, info } = await (c === 1 ? img.toColourspace('b-w') : img.toColourspace('srgb')).raw().toBuffer({ resolveWithObject: true });
    return { values: Float32Array.from(data, (v) => v / 127.5 - 1), h: info.height, w: info.width, c };
  } catch (e) {
    const st = await fs.stat(file).catch(() => undefined);
    throw new UserError(st ? `cannot read image '${file}': ${(e as Error).message.split('\n')[0]}` : `image '${file}' does not exist`);
  }
}

async function writePicture(file: string, p: Picture): Promise<void> {
  const pixels = Uint8Array.from(p.values, (v) => Math.round(Math.min(1, Math.max(-1, v)) * 127.5 + 127.5));
  const raw = sharp(Buffer.from(pixels), { raw: { width: p.w, height: p.h, channels: p.c as 1 | 3 } });
  await fs.mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await writeFileAtomic(file, await (p.c === 1 ? raw.toColourspace('b-w') : raw).png().toBuffer());
}

export function registerInpaintCommand(program: Command): void {
  program
    .command('inpaint')
    .description('fill the holes of an image (white in --mask) with an inpainting run; any image size (tiles of the trained size)')
    .argument('<run>', 'a run folder (newest checkpoint) or a checkpoint folder of an inpaint run')
    .argument('<image>', 'the image to fill')
    .requiredOption('--mask <file.png>', 'the hole: an image of the same size, white where to fill, black where known')
    .requiredOption('--out <file.png>', 'where to write the completed image (never the input)')
    .option('--backend <name>', 'tensor backend: auto | aten | cpu (env GANFORGE_BACKEND)')
    .action((run: string, image: string, opts: InpaintOptions) => inpaintCommand(run, image, opts));
}
