import type { Command } from 'commander';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { initBackend } from '../backend/index.js';
import { loadSamplingNetworks } from '../gan/checkpoint.js';
import { allNetworks } from '../gan/family.js';
import { checkPerClass, classSamples, conditionalClasses, labelsPath } from '../gan/labelled.js';
import { checkTruncation } from '../gan/sampling.js';
import { MODELS, getModel } from '../models/registry.js';
import { encodeNpy } from '../io/npy.js';
import { imageGrid, toUint8Images } from '../io/png.js';
import { UserError } from '../util/errors.js';
import { exists, writeFileAtomic } from '../util/fs.js';
import { parseNumber } from './options.js';

export interface AugmentOptions {
  perClass: number;
  out: string;
  seed: number;
  truncation?: number;
  raw?: boolean;
  force?: boolean;
  backend?: string;
}

/** Extensions that name a file, not a folder: `--out x.png` is a mistake, not a folder called x.png. */
const FILE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.csv', '.json', '.npz', '.txt', '.gz'];

/**
 * `ganforge augment RUN --per-class N --out DIR|x.npy`: N images of every class of a class-conditional run,
 * labelled, for training a classifier. DIR gets one sub-folder of PNGs per class, named by the class (the layout
 * `--data folder:DIR` reads back as labelled data); x.npy gets the images as uint8 [N·K, H, W, C], 0–255, the
 * layout `ganforge sample` writes and `eval` reads (and the pixels the PNGs hold: float output rounds to 1/255 of
 * its range either way, 4× smaller than float32), with int32 labels [N·K] in x.labels.npy. Classes come in order,
 * class k's images drawn from their own seed. An output that already holds something is refused unless --force.
 */
export async function augmentCommand(target: string, opts: AugmentOptions): Promise<void> {
  checkPerClass(opts.perClass);
  const npy = opts.out.toLowerCase().endsWith('.npy');
  if (!npy && FILE_EXTENSIONS.includes(path.extname(opts.out).toLowerCase())) {
    throw new UserError(`--out ${opts.out}: augment writes a folder (one sub-folder of PNGs per class) or a FILE.npy (labels beside it in FILE.labels.npy); for a picture of samples use ganforge sample --out FILE.png`);
  }
  if (!opts.force) await refuseExisting(opts.out, npy);
  await initBackend({ prefer: opts.backend, quiet: true }); // validates the name
  const { nets, state, ema } = await loadSamplingNetworks(target, { raw: opts.raw });
  const run = { config: state.config, data: state.data };
  try {
    const family = getModel(state.config.model);
    const classNames = conditionalClasses(family, state.data, Object.values(MODELS), 'augment');
    checkTruncation(family, opts.truncation); // before anything is written
    const draws = classSamples(family, nets, run, classNames, { perClass: opts.perClass, seed: opts.seed, truncation: opts.truncation });
    const [h, w, c] = state.data.shape;
    const total = opts.perClass * classNames.length;
    if (npy) {
      const images = new Uint8Array(total * h * w * c);
      const labels = new Int32Array(total);
      for (const s of draws) {
        images.set(toUint8Images(s.values), s.label * opts.perClass * h * w * c);
        labels.fill(s.label, s.label * opts.perClass, (s.label + 1) * opts.perClass);
      }
      await fs.mkdir(path.dirname(path.resolve(opts.out)), { recursive: true });
      await writeFileAtomic(opts.out, encodeNpy(images, [total, h, w, c]));
      await writeFileAtomic(labelsPath(opts.out), encodeNpy(labels, [total]));
    } else {
      const folders = classFolders(classNames);
      const digits = Math.max(5, String(opts.perClass - 1).length);
      for (const s of draws) {
        const dir = path.join(opts.out, folders[s.label]);
        await fs.mkdir(dir, { recursive: true });
        if (opts.force) await removePngs(dir); // the folder then holds exactly this draw
        const bytes = toUint8Images(s.values);
        for (let i = 0; i < s.count; i++) {
          const png = await imageGrid(bytes.subarray(i * h * w * c, (i + 1) * h * w * c), 1, h, w, c, { pad: 0 });
          await fs.writeFile(path.join(dir, `${String(i).padStart(digits, '0')}.png`), png);
        }
      }
    }
    const where = npy ? `${opts.out} (uint8 [${total}, ${h}, ${w}, ${c}]) and ${labelsPath(opts.out)} (int32 [${total}])` : `${opts.out}/<class>/*.png`;
    process.stderr.write(`ganforge: wrote ${total} labelled images (${opts.perClass} of each of ${classNames.length} classes) from ${family.name} step ${state.step}${ema ? ' (EMA generator)' : ''}, seed ${opts.seed}${opts.truncation !== undefined ? `, truncation ψ ${opts.truncation}` : ''} to ${where}\n`);
    process.stderr.write(`ganforge: labels ${classNames.map((n, k) => `${k} ${n}`).join(', ')}\n`);
  } finally {
    for (const [, model] of allNetworks(nets)) model.dispose();
  }
}

/** An output that holds something already is the user's until --force says otherwise. */
async function refuseExisting(out: string, npy: boolean): Promise<void> {
  const force = 'pass --force to replace it, or choose another --out';
  if (npy) {
    for (const file of [out, labelsPath(out)]) if (await exists(file)) throw new UserError(`--out ${out}: ${file} exists; ${force}`);
    return;
  }
  if (!(await exists(out))) return;
  const stat = await fs.stat(out);
  if (!stat.isDirectory()) throw new UserError(`--out ${out} is a file; augment writes a folder of class sub-folders there (or name a FILE.npy)`);
  const entries = await fs.readdir(out);
  if (entries.length > 0) throw new UserError(`--out ${out} is not empty (${entries.length} entries, e.g. ${entries[0]}); ${force}`);
}

/** A folder name per class: the class name with path separators and control characters replaced, made unique. */
export function classFolders(classNames: readonly string[]): string[] {
  const seen = new Set<string>();
  return classNames.map((name, k) => {
    let folder = name.replace(/[/\\:*?"<>|\x00-\x1f]/g, '_').trim();
    if (folder === '' || folder.startsWith('.')) folder = `class-${k}${folder}`; // a leading dot would hide it from folder: data
    if (seen.has(folder.toLowerCase())) folder = `${folder}-${k}`;
    seen.add(folder.toLowerCase());
    return folder;
  });
}

async function removePngs(dir: string): Promise<void> {
  for (const name of await fs.readdir(dir)) if (name.toLowerCase().endsWith('.png')) await fs.rm(path.join(dir, name), { force: true });
}

/** Adds the `augment` command to the CLI program. */
export function registerAugmentCommand(program: Command, int: (flag: string) => (v: string) => number): void {
  program
    .command('augment')
    .description('write labelled synthetic images from a class-conditional run (cgan, acgan, biggan on labelled data) to train a classifier: a folder with one sub-folder of PNGs per class, or x.npy (uint8 [N, H, W, C]) with int32 labels in x.labels.npy')
    .argument('<run-or-checkpoint>', 'a run folder (newest checkpoint) or a checkpoint folder of a class-conditional run')
    .requiredOption('--per-class <n>', 'images of each class', int('--per-class'))
    .requiredOption('--out <dir|file.npy>', 'a folder (class sub-folders of PNGs, named by class) or a .npy file (labels beside it in FILE.labels.npy)')
    .option('--seed <n>', 'seed for the latents (class k draws from its own seed derived from it)', int('--seed'), 0)
    .option('--truncation <psi>', 'the truncation trick for a model that has one (biggan: truncated z; stylegan2: w), ψ in (0, 1]', parseNumber('--truncation', false))
    .option('--raw', 'sample the trained generator itself, not its EMA copy (runs trained with --ema-decay)')
    .option("--force", "replace an existing output: FILE.npy and FILE.labels.npy, or the PNGs in the folder's class sub-folders")
    .option('--backend <name>', 'tensor backend: auto | aten | cpu (env GANFORGE_BACKEND)')
    .action((target: string, opts: AugmentOptions) => augmentCommand(target, opts));
}
