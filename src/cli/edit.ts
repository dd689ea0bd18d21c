import * as tf from '@tensorflow/tfjs-core';
import type { Command } from 'commander';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { loadSamplingNetworks } from '../gan/checkpoint.js';
import { IDENTITY_MODES, allNetworks, type GanNetworks, type IdentityMode } from '../gan/family.js';
import type { DatasetInfo } from '../data/types.js';
import { getModel } from '../models/registry.js';
import { loadIdentityNet } from '../metrics/identity.js';
import { imageGrid, toUint8Images } from '../io/png.js';
import { initBackend } from '../backend/index.js';
import { UserError, unknownChoice } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';

export interface EditOptions {
  to: string;
  out: string;
  identity: string;
  from?: string;
  steps?: number;
  lr?: number;
  identityNet?: string;
  backend?: string;
}

/**
 * `ganforge edit RUN IMAGE --to BIN|all --identity none|pixel|feature --out OUT.png`: an attribute edit of a real
 * image by a run whose family declares one (agecgan): the image's latent is reconstructed (--identity: the
 * encoder's z alone, or optimised from it on pixels or on identity features), then rendered at the target bin.
 * `--to all` writes one row: the image, then its edit at every bin in order.
 */
export async function editCommand(target: string, image: string, opts: EditOptions): Promise<void> {
  if (path.extname(opts.out).toLowerCase() !== '.png') throw new UserError(`--out must end in .png, got '${opts.out}'`);
  if (path.resolve(opts.out) === path.resolve(image)) throw new UserError(`--out ${opts.out} is the input image; write the edit to another file`);
  if (!(IDENTITY_MODES as readonly string[]).includes(opts.identity)) throw unknownChoice('--identity mode', opts.identity, IDENTITY_MODES);
  const identity = opts.identity as IdentityMode;
  if (opts.steps !== undefined && opts.steps < 1) throw new UserError(`--steps must be at least 1, got ${opts.steps}`);
  if (opts.lr !== undefined && !(opts.lr > 0)) throw new UserError(`--lr must be positive, got ${opts.lr}`);
  if (opts.identityNet && identity !== 'feature') throw new UserError(`--identity-net is the embedding --identity feature compares in; with --identity ${identity} it would not be used`);
  await initBackend({ prefer: opts.backend });

  const { nets, state } = await loadSamplingNetworks(target);
  try {
    const family = getModel(state.config.model);
    if (!family.attributeEdit) throw new UserError(`edit needs a run of a family with an attribute edit (agecgan); '${target}' is a ${family.name} run`);
    const bins = state.data.classNames ?? [];
    const to = opts.to === 'all' ? bins.map((_, i) => i) : [binIndex(opts.to, bins, '--to')];
    const from = opts.from !== undefined ? binIndex(opts.from, bins, '--from') : undefined;
    const picture = await readImage(image, state.data);
    const fr = identity === 'feature' ? await loadIdentityNet(state.data.shape, opts.identityNet) : undefined;
    const x = tf.tensor4d(picture, [1, ...state.data.shape] as [number, number, number, number]);
    try {
      const result = family.attributeEdit.edit(nets, { config: state.config, data: state.data }, {
        images: x, to, identity, identityNet: fr ? (t) => fr.apply(t) : undefined,
        ...(from !== undefined ? { from: [from] } : {}), ...(opts.steps !== undefined ? { steps: opts.steps } : {}), ...(opts.lr !== undefined ? { lr: opts.lr } : {}),
      });
      const tiles = to.length === 1 ? result.edits[0] : concat([picture, ...result.edits]);
      const [h, w, c] = state.data.shape;
      await fs.mkdir(path.dirname(path.resolve(opts.out)), { recursive: true });
      await writeFileAtomic(opts.out, await imageGrid(toUint8Images(tiles), to.length === 1 ? 1 : to.length + 1, h, w, c, { cols: to.length + 1, pad: to.length === 1 ? 0 : 2 }));
      const how = identity === 'none' ? 'z = E(x)' : `${identity} loss ${result.loss.initial.toFixed(4)} → ${result.loss.final.toFixed(4)}${fr ? ` in ${fr.info.name}` : ''}`;
      const source = `${bins[result.from[0]]}${from === undefined ? ' (nearest reconstruction)' : ''}`;
      const shown = to.length === 1 ? bins[to[0]] : `the image, then ${bins.join(', ')}`;
      process.stderr.write(`ganforge: ${image} (bin ${source}) edited with ${family.name} step ${state.step}, ${how} → ${opts.out}: ${shown}\n`);
    } finally {
      x.dispose();
      fr?.dispose();
    }
  } finally {
    disposeNets(nets);
  }
}

/** A bin by name or index among the run's bins, or an error naming the valid ones. */
export function binIndex(given: string, bins: readonly string[], flag: string): number {
  const byName = bins.indexOf(given);
  if (byName >= 0) return byName;
  if (/^\d+$/.test(given) && Number(given) < bins.length) return Number(given);
  const err = unknownChoice(`${flag} bin`, given, bins);
  throw new UserError(`${err.message} (or 0–${bins.length - 1}${flag === '--to' ? ', or all' : ''}); the run's bins are its data's, ${bins.join(' < ')}`);
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
}

/** The image as the run's data: [-1, 1] floats of its shape; another size is resized (centre crop) with a notice. */
async function readImage(file: string, data: DatasetInfo): Promise<Float32Array> {
  const [h, w, c] = data.shape;
  const st = await fs.stat(file).catch(() => undefined);
  if (!st) throw new UserError(`image '${file}' does not exist`);
  let meta: sharp.Metadata;
  try {
    meta = await sharp(file).metadata();
  } catch (e) {
    throw new UserError(`'${file}' is not an image sharp can read (${(e as Error).message.split('\n')[0]}); pass a PNG, JPEG or WebP`);
  }
  if (meta.width !== w || meta.height !== h) {
    process.stderr.write(`ganforge: ${file} is ${meta.width}×${meta.height}; the run makes ${w}×${h} images, so it is resized (centre crop) to ${w}×${h}\n`);
  }
  // MNIST-style runs see bright ink on black, as their data was; the file is read as it is, never inverted.
  const img = sharp(file).rotate().flatten({ background: '#ffffff' }).resize(w, h, { fit: 'cover' });
  const { data: raw, info } = await (c === 1 ? img.toColourspace('b-w') : img.toColourspace('srgb')).raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== c) throw new UserError(`${file}: decoded to ${info.channels} channels, the run needs ${c}`);
  return Float32Array.from(raw, (v) => v / 127.5 - 1);
}

function disposeNets(nets: GanNetworks): void {
  for (const [, model] of allNetworks(nets)) model.dispose();
}

export function registerEditCommand(program: Command, int: (flag: string) => (v: string) => number, num: (flag: string) => (v: string) => number): void {
  program
    .command('edit')
    .description('edit one attribute of a real image with an attribute-edit run (agecgan, Age-cGAN): to one bin, or a row over every bin')
    .argument('<run>', 'a run folder (newest checkpoint) or a checkpoint folder of an agecgan run')
    .argument('<image>', "the image to edit (resized to the run's size with a notice)")
    .requiredOption('--out <file.png>', 'where to write the edit (never the input)')
    .option('--to <bin>', "the bin to edit to, by name or index, or 'all' for a row over every bin", 'all')
    .option('--identity <mode>', "how the latent is reconstructed: none (the encoder's z), pixel (optimise pixel distance), feature (optimise identity-feature distance)", 'feature')
    .option('--from <bin>', "the image's own bin (default: the bin whose reconstruction is nearest the image)")
    .option('--steps <n>', 'Adam steps on the latent for --identity pixel|feature (default 200)', int('--steps'))
    .option('--lr <rate>', "Adam's rate on the latent (default 0.03)", num('--lr'))
    .option('--identity-net <path>', "the identity embedding for --identity feature: a TF.js layers model folder, PATH#LAYER for a named layer (default: ganforge's MNIST net for grey images, CIFAR-10 net for RGB)")
    .option('--backend <name>', 'tensor backend: auto | aten | cpu (env GANFORGE_BACKEND)')
    .action((run: string, image: string, opts: EditOptions) => editCommand(run, image, opts));
}
