import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { loadModel, saveModel } from '../gan/model_io.js';
import { UserError } from '../util/errors.js';
import { exists, syncDir, writeFileAtomic } from '../util/fs.js';
import type { DamsmStats, PretrainSettings, TextImageEncoders } from './pretrain.js';
import { IMAGE_ENCODER, TEXT_ENCODER, type TextEncoderSpec } from './encoders.js';

export const ENCODERS_FORMAT = 'ganforge-text-encoders';
/** The file beside text-encoder/ and image-encoder/ that says what they are. */
export const ENCODERS_FILE = 'encoders.json';

/** What a folder of pretrained DAMSM encoders holds besides the weights: enough to tokenize captions as they were trained on, and to rebuild them. */
export interface EncodersInfo {
  format: typeof ENCODERS_FORMAT;
  version: 1;
  /** Words by token id (PAD 0, UNK 1, …): the text encoder's embedding rows. */
  vocab: string[];
  /** Tokens per caption the text encoder takes. */
  maxLen: number;
  spec: TextEncoderSpec;
  /** [H, W, C] the image encoder takes. */
  imageShape: number[];
  /** The data the encoders were trained on (a --data spec, or a description). */
  data: string;
  seed: number;
  steps: number;
  batchSize: number;
  settings: Omit<PretrainSettings, 'steps'>;
  /** The last step's DAMSM loss terms; null when trained for 0 steps. */
  final: Omit<DamsmStats, 'step'> | null;
  savedAt: string;
}

/**
 * Write the encoders as DIR/text-encoder/, DIR/image-encoder/ (TF.js layers models) and DIR/encoders.json.
 * Everything is written into a temporary folder beside DIR and renamed into place, so a crash mid-save leaves
 * either the previous folder or the new one, never a mix; an existing DIR of encoders is replaced.
 */
export async function saveEncoders(dir: string, encoders: TextImageEncoders, info: Omit<EncodersInfo, 'format' | 'version' | 'savedAt'>): Promise<void> {
  const parent = path.dirname(path.resolve(dir));
  await fs.mkdir(parent, { recursive: true });
  if ((await exists(dir)) && !(await exists(path.join(dir, ENCODERS_FILE)))) {
    throw new UserError(`'${dir}' exists and is not a folder of text encoders (no ${ENCODERS_FILE}); choose another --out`);
  }
  const tmp = path.join(parent, `.tmp-${path.basename(dir)}-${process.pid}`);
  await fs.rm(tmp, { recursive: true, force: true });
  await fs.mkdir(tmp);
  await saveModel(encoders.text, path.join(tmp, TEXT_ENCODER));
  await saveModel(encoders.image, path.join(tmp, IMAGE_ENCODER));
  const full: EncodersInfo = { format: ENCODERS_FORMAT, version: 1, ...info, savedAt: new Date().toISOString() };
  await writeFileAtomic(path.join(tmp, ENCODERS_FILE), JSON.stringify(full, null, 1));
  await syncDir(tmp);
  const aside = path.join(parent, `.old-${path.basename(dir)}-${process.pid}`);
  const replacing = await exists(dir);
  if (replacing) {
    await fs.rm(aside, { recursive: true, force: true });
    await fs.rename(dir, aside);
  }
  await fs.rename(tmp, dir);
  await syncDir(parent);
  if (replacing) await fs.rm(aside, { recursive: true, force: true });
}

/** encoders.json of a folder of encoders, checked; `flag` names where the folder came from in errors. */
export async function readEncodersInfo(dir: string, flag: string): Promise<EncodersInfo> {
  const file = path.join(dir, ENCODERS_FILE);
  if (!(await exists(file))) {
    const hint = (await exists(path.join(dir, 'text-encoder', ENCODERS_FILE))) ? ` (the run's encoders are in ${path.join(dir, 'text-encoder')})` : '';
    throw new UserError(`${flag} ${dir}: no ${ENCODERS_FILE} there${hint}; pass a folder written by 'ganforge text-encoder --out DIR' or a text run's RUN/text-encoder`);
  }
  let info: EncodersInfo;
  try {
    info = JSON.parse(await fs.readFile(file, 'utf8')) as EncodersInfo;
  } catch (e) {
    throw new UserError(`${flag} ${dir}: cannot read ${ENCODERS_FILE} (${(e as Error).message})`);
  }
  if (info.format !== ENCODERS_FORMAT) throw new UserError(`${flag} ${dir}: ${ENCODERS_FILE} is not a ganforge text-encoder description`);
  return info;
}

/**
 * A folder of encoders, or a text run's folder (its RUN/text-encoder): the folder that holds encoders.json.
 */
export async function resolveEncodersDir(target: string, flag: string): Promise<string> {
  if (!(await exists(target))) throw new UserError(`${flag} ${target}: no such folder`);
  if (!(await exists(path.join(target, ENCODERS_FILE))) && (await exists(path.join(target, TEXT_ENCODER, ENCODERS_FILE)))) return path.join(target, TEXT_ENCODER);
  return target;
}

/** Load both encoders and their description (the models are the caller's to dispose). */
export async function loadEncoders(target: string, flag = '--text-encoder'): Promise<{ dir: string; info: EncodersInfo; encoders: TextImageEncoders }> {
  const dir = await resolveEncodersDir(target, flag);
  const info = await readEncodersInfo(dir, flag);
  const text = await loadModel(path.join(dir, TEXT_ENCODER));
  const image = await loadModel(path.join(dir, IMAGE_ENCODER)).catch((e: unknown) => {
    text.dispose();
    throw e;
  });
  return { dir, info, encoders: { text, image } };
}
