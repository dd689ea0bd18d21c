import type { Command } from 'commander';
import { loadData } from '../data/registry.js';
import { initBackend } from '../backend/index.js';
import { DEFAULT_TEXT_ENCODER } from '../text/encoders.js';
import { saveEncoders } from '../text/encoder_folder.js';
import { trainTextEncoders } from '../text/run_encoders.js';
import { UserError } from '../util/errors.js';
import { exists } from '../util/fs.js';
import * as path from 'node:path';

export interface TextEncoderOptions {
  data: string;
  out: string;
  steps: number;
  batchSize: number;
  seed: number;
  embedDim: number;
  featureDim: number;
  imageSize?: number;
  dataLimit?: number;
  backend?: string;
}

/**
 * `ganforge text-encoder --data captions:… --out DIR`: pretrain AttnGAN's DAMSM text and image encoders (Xu et
 * al. 2018, §3.3) on captioned images, for text families' `--text-encoder DIR` and for R-precision.
 */
export function registerTextEncoderCommand(program: Command, int: (flag: string) => (v: string) => number): void {
  program
    .command('text-encoder')
    .description("pretrain DAMSM text and image encoders (AttnGAN §3.3) on captioned images; text families start from them with --text-encoder DIR")
    .requiredOption('--data <spec>', 'captioned training data (captions:DIR, captions:FILE.jsonl, captions:fashion-mnist, …)')
    .requiredOption('--out <dir>', 'folder to write: text-encoder/, image-encoder/ and encoders.json (vocabulary, sizes, losses)')
    .option('--steps <n>', 'Adam steps on the DAMSM loss', int('--steps'), 1000)
    .option('--batch-size <n>', 'captioned images per batch (the loss contrasts each pair with the rest of its batch)', int('--batch-size'), 48)
    .option('--seed <n>', 'seed of the weights and the data order', int('--seed'), 0)
    .option('--embed-dim <n>', 'word embedding size', int('--embed-dim'), DEFAULT_TEXT_ENCODER.embedDim)
    .option('--feature-dim <n>', 'feature size D of words, sentences and image regions (even)', int('--feature-dim'), DEFAULT_TEXT_ENCODER.featureDim)
    .option('--image-size <n>', 'resize images to N×N (as the run that will use the encoders does)', int('--image-size'))
    .option('--data-limit <n>', 'use only the first N training examples', int('--data-limit'))
    .option('--backend <name>', 'tensor backend: auto | aten | cpu (env GANFORGE_BACKEND)')
    .action((opts: TextEncoderOptions) => textEncoderCommand(opts));
}

export async function textEncoderCommand(opts: TextEncoderOptions): Promise<void> {
  for (const [flag, v] of [['--steps', opts.steps], ['--batch-size', opts.batchSize], ['--embed-dim', opts.embedDim], ['--feature-dim', opts.featureDim]] as const) {
    if (!(v > 0)) throw new UserError(`${flag} must be a positive integer, got ${v}`);
  }
  if (opts.batchSize < 2) throw new UserError(`--batch-size ${opts.batchSize}: the DAMSM loss contrasts each caption with the other images of its batch; use at least 2 (AttnGAN: 48)`);
  if (opts.featureDim % 2 !== 0) throw new UserError(`--feature-dim ${opts.featureDim}: must be even (the two directions of the LSTM each give half)`);
  if ((await exists(opts.out)) && !(await exists(path.join(opts.out, 'encoders.json')))) throw new UserError(`--out ${opts.out} exists and holds no text encoders; choose another folder`);
  await initBackend({ prefer: opts.backend });
  const source = await loadData(opts.data, { imageSize: opts.imageSize, limit: opts.dataLimit });
  for (const notice of source.notices ?? []) process.stderr.write(`ganforge: ${notice}\n`);
  if (source.info.kind !== 'image' || !source.info.text) throw new UserError(`--data ${opts.data} has no captions; text encoders train on captioned images (captions:DIR, captions:FILE.jsonl, captions:fashion-mnist)`);
  if (source.info.count !== undefined && source.info.count < opts.batchSize) throw new UserError(`--batch-size ${opts.batchSize} is more than the ${source.info.count} examples of ${opts.data}`);
  const log = (line: string) => process.stderr.write(`ganforge: ${line}\n`);
  const t0 = Date.now();
  const { encoders, info } = trainTextEncoders(source, { data: opts.data, steps: opts.steps, batchSize: opts.batchSize, seed: opts.seed, spec: { embedDim: opts.embedDim, featureDim: opts.featureDim } }, log);
  try {
    await saveEncoders(opts.out, encoders, info);
  } finally {
    encoders.text.dispose();
    encoders.image.dispose();
  }
  log(`text encoders (${info.vocab.length - 2} words, ${info.maxLen} tokens, D = ${info.spec.featureDim}) trained for ${info.steps} steps in ${((Date.now() - t0) / 1000).toFixed(0)} s → ${opts.out}`);
}
