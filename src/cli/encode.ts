import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Command } from 'commander';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { loadNetwork } from '../gan/checkpoint.js';
import type { DatasetInfo } from '../data/types.js';
import { loadImageFolder } from '../data/image_folder.js';
import { ENCODER } from '../models/bigan.js';
import { encodeNpy, readNpy } from '../io/npy.js';
import { imageGrid, scatterPlot, toUint8Images } from '../io/png.js';
import { initBackend } from '../backend/index.js';
import { UserError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';

export interface EncodeOptions {
  out: string;
  /** PNG of originals above their reconstructions G(E(x)); default: next to --out, NAME-recon.png. */
  recon?: string;
  backend?: string;
}

/** Examples as the model sees them: float32 [N, ...shape], images scaled to [-1, 1]. */
interface Inputs {
  n: number;
  values: Float32Array;
}

/**
 * `ganforge encode <run> <inputs> --out z.npy`: the latents E(x) of a run's encoder (bigan, aae; a VAE's mean μ for vaegan) as float32
 * [N, latentDim], and a PNG of reconstructions G(E(x)).
 *
 * <inputs> is an image folder (loaded as `--data folder:` loads it; grey/RGB converted to the run's channels,
 * but the size must match the run's) or a .npy: uint8 [N, H, W, C] in 0–255 (what `ganforge sample` writes)
 * or float32 [N, H, W, C] already in [−1, 1]; [N, H, W] for one channel. For a run on 2-D toy data, a .npy
 * of float32 points [N, 2].
 */
export async function encodeCommand(target: string, inputs: string, opts: EncodeOptions): Promise<void> {
  if (path.extname(opts.out).toLowerCase() !== '.npy') throw new UserError(`--out must end in .npy (the latents), got '${opts.out}'`);
  const recon = opts.recon ?? path.join(path.dirname(opts.out), `${path.basename(opts.out, path.extname(opts.out))}-recon.png`);
  if (path.extname(recon).toLowerCase() !== '.png') throw new UserError(`--recon must end in .png, got '${recon}'`);
  await initBackend({ prefer: opts.backend }); // validates the name

  const encoder = await loadEncoder(target);
  const { state, model: generator } = await loadNetwork(target, 'generator'); // the G that E was trained with (not its EMA)
  try {
    const data = state.data;
    const x = await readInputs(inputs, data);
    const latentDim = encoder.outputs[0].shape[1]!;
    const { z, rec } = encodeAndReconstruct(encoder, generator, x, data.shape);
    await fs.mkdir(path.dirname(path.resolve(opts.out)), { recursive: true });
    await writeFileAtomic(opts.out, encodeNpy(z, [x.n, latentDim])); // float32 [N, latentDim]
    await fs.mkdir(path.dirname(path.resolve(recon)), { recursive: true });
    await writeFileAtomic(recon, await reconstructionPng(x, rec, data));
    process.stderr.write(`ganforge: encoded ${x.n} ${data.kind === 'image' ? 'images' : 'points'} with step ${state.step}'s encoder → ${opts.out} [${x.n}, ${latentDim}]; reconstructions → ${recon}\n`);
  } finally {
    encoder.dispose();
    generator.dispose();
  }
}

async function loadEncoder(target: string): Promise<tfl.LayersModel> {
  try {
    return (await loadNetwork(target, ENCODER)).model;
  } catch (e) {
    if (e instanceof UserError && e.message.includes(`no '${ENCODER}' network`)) {
      throw new UserError(`${e.message}; encode needs a run with an encoder: train one with 'ganforge train bigan' (or aae, vaegan)`);
    }
    throw e;
  }
}

/** E(x) and G(E(x)) in inference mode, in chunks so memory stays bounded for large N. */
function encodeAndReconstruct(encoder: tfl.LayersModel, generator: tfl.LayersModel, x: Inputs, shape: number[]) {
  const per = shape.reduce((a, b) => a * b, 1);
  const latentDim = encoder.outputs[0].shape[1]!;
  const z = new Float32Array(x.n * latentDim);
  const rec = new Float32Array(x.n * per);
  const chunk = 256;
  for (let start = 0; start < x.n; start += chunk) {
    const size = Math.min(chunk, x.n - start);
    tf.tidy(() => {
      const batch = tf.tensor(x.values.subarray(start * per, (start + size) * per), [size, ...shape]); // [b, ...shape]
      // An encoder's first output is its code: a VAE's encoder gives [μ, log σ²], and the code is the mean μ.
      const out = encoder.apply(batch, { training: false }) as tf.Tensor | tf.Tensor[];
      const zs = Array.isArray(out) ? out[0] : out; // [b, latentDim]
      z.set(zs.dataSync(), start * latentDim);
      rec.set((generator.apply(zs, { training: false }) as tf.Tensor).dataSync(), start * per);
    });
  }
  return { z, rec };
}

async function readInputs(file: string, data: DatasetInfo): Promise<Inputs> {
  const st = await fs.stat(file).catch(() => undefined);
  if (!st) throw new UserError(`not found: ${file} (pass a folder of images or a .npy of ${data.kind === 'image' ? 'images' : 'points'})`);
  const shape = data.shape;
  const want = data.kind === 'image' ? `[N, ${shape.join(', ')}] images` : `float32 [N, ${shape[0]}] points`;
  if (st.isDirectory()) {
    if (data.kind !== 'image') throw new UserError(`this run was trained on 2-D points (${data.name}); pass a .npy of ${want}, not a folder`);
    const [h, w, c] = shape;
    const src = await loadImageFolder(file, { channels: c as 1 | 3 });
    const [sh, sw] = src.info.shape;
    if (sh !== h || sw !== w) throw new UserError(`images in ${file} are ${sh}×${sw}, the run was trained on ${h}×${w}; resize them to ${h}×${w}`);
    return { n: src.count, values: scale(src.values as Uint8Array) };
  }
  if (path.extname(file).toLowerCase() !== '.npy') throw new UserError(`${file}: pass a folder of images or a .npy file of ${want}`);
  const arr = await readNpy(file);
  const given = arr.shape;
  const fits = given.length === shape.length + 1 && shape.every((d, i) => given[i + 1] === d);
  const greyWithoutAxis = data.kind === 'image' && shape[2] === 1 && given.length === 3 && given[1] === shape[0] && given[2] === shape[1];
  if (!(fits || greyWithoutAxis) || given[0] === 0) {
    throw new UserError(`${file} holds ${arr.dtype} [${given.join(', ')}]; the run needs ${want} (N ≥ 1)`);
  }
  if (data.kind === 'points') {
    if (arr.dtype !== 'float32') throw new UserError(`${file} holds ${arr.dtype}; the run needs ${want}`);
    return { n: given[0], values: arr.data as Float32Array };
  }
  if (arr.dtype === 'uint8') return { n: given[0], values: scale(arr.data as Uint8Array) };
  if (arr.dtype === 'float32') {
    const v = arr.data as Float32Array;
    // Float images are taken as the model's own scale; anything far outside it was saved as 0–255 or 0–1.
    for (const x of v) if (!(x >= -1.001 && x <= 1.001)) throw new UserError(`${file}: float32 images must be in [-1, 1] (found ${x}); save uint8 0–255 instead`);
    return { n: given[0], values: v };
  }
  throw new UserError(`${file} holds ${arr.dtype}; images must be uint8 (0–255) or float32 in [-1, 1]`);
}

/** uint8 0–255 → [-1, 1], the scale the data loaders give the model. */
function scale(values: Uint8Array): Float32Array {
  return Float32Array.from(values, (v) => v / 127.5 - 1);
}

/**
 * Images: rows of up to 8 originals, each with its reconstructions in the row below (at most 32 pairs).
 * Points: a scatter plot of the reconstructions (blue) over the inputs (grey).
 */
async function reconstructionPng(x: Inputs, rec: Float32Array, data: DatasetInfo): Promise<Buffer> {
  if (data.kind === 'points') return scatterPlot(rec, { reference: x.values });
  const [h, w, c] = data.shape;
  const per = h * w * c;
  const shown = Math.min(x.n, 32);
  const cols = Math.min(8, shown);
  const rows = Math.ceil(shown / cols);
  const tiles = new Uint8Array(2 * rows * cols * per).fill(255); // blank (white) tiles pad the last pair of rows
  const originals = toUint8Images(x.values.subarray(0, shown * per));
  const recons = toUint8Images(rec.subarray(0, shown * per));
  for (let i = 0; i < shown; i++) {
    const row = Math.floor(i / cols);
    const col = i % cols;
    tiles.set(originals.subarray(i * per, (i + 1) * per), ((2 * row) * cols + col) * per);
    tiles.set(recons.subarray(i * per, (i + 1) * per), ((2 * row + 1) * cols + col) * per);
  }
  return imageGrid(tiles, 2 * rows * cols, h, w, c, { cols });
}

export function registerEncodeCommand(program: Command): void {
  program
    .command('encode')
    .description('latents E(x) of a run with an encoder (bigan, aae, vaegan) (.npy, float32 [N, latentDim]) and a PNG of reconstructions G(E(x))')
    .argument('<run-or-checkpoint>', 'a run folder (newest checkpoint) or a checkpoint folder')
    .argument('<inputs>', "a folder of images of the run's size, or a .npy: uint8 [N,H,W,C] 0–255, float32 in [-1,1], or float32 [N,2] points for toy runs")
    .requiredOption('--out <file>', 'latents, .npy')
    .option('--recon <file>', 'PNG of originals (rows) above their reconstructions (default: next to --out, NAME-recon.png)')
    .option('--backend <name>', 'tensor backend: auto | aten | cpu (env GANFORGE_BACKEND)')
    .action((target: string, inputs: string, opts: EncodeOptions) => encodeCommand(target, inputs, opts));
}
