import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import * as path from 'node:path';
import { BatchStream } from '../data/batches.js';
import { captionSet } from '../data/tokenizer.js';
import { isStored, type ArraySource, type DataSource } from '../data/types.js';
import type { RunConfig } from '../gan/config.js';
import type { GanNetworks } from '../gan/family.js';
import { UserError } from '../util/errors.js';
import { Rng, mixSeed } from '../util/rng.js';
import { IMAGE_ENCODER, TEXT_ENCODER, buildImageEncoder, buildTextEncoder, type TextEncoderSpec } from './encoders.js';
import { loadEncoders, readEncodersInfo, resolveEncodersDir, saveEncoders, type EncodersInfo } from './encoder_folder.js';
import { DAMSM_PRETRAIN, pretrainEncoders, type DamsmStats, type TextImageEncoders } from './pretrain.js';

/**
 * How a text run gets its DAMSM encoders (AttnGAN pretrains them, then freezes them for the GAN):
 * - `--text-encoder DIR`: the run's captions are tokenized with DIR's vocabulary (`useEncoderVocabulary`, before
 *   the family builds its networks from DatasetInfo.text), and DIR's weights are copied into the fresh encoders
 *   (`prepareTextEncoders`);
 * - otherwise a pretraining phase of `--text-encoder-steps` trains the family's fresh encoders on the run's own
 *   data and saves them in RUN/text-encoder, a folder that `--text-encoder` accepts for later runs.
 */

/** Share of the run's caption words that may be unknown to a pretrained encoder's vocabulary before the run is refused. */
const MAX_UNKNOWN_SHARE = 0.05;

/** Seeds of the pretraining phase's own randomness, mixed with the run's seed (the run's other streams are untouched). */
const IMAGE_ENCODER_SEED = 0x7e1;
const PRETRAIN_DATA_SEED = 0x7e2;

/** Folder of the pretraining phase's encoders inside a run. */
export const RUN_ENCODERS_DIR = TEXT_ENCODER;

/**
 * `--text-encoder DIR`: tokenize the run's captions again (CaptionSet.texts) with the encoder's vocabulary and
 * length, so that token ids mean what the encoder learnt. Refused when more than 5% of the caption words are
 * unknown to it (an encoder trained on other captions); unknown words below that, and cut captions, are notices.
 * Returns the notices. Does nothing without --text-encoder.
 */
export async function useEncoderVocabulary(source: DataSource, textEncoder: string): Promise<string[]> {
  if (!textEncoder) return [];
  const flag = `--text-encoder ${textEncoder}`;
  if (!source.info.text || !isStored(source) || source.kind !== 'array' || !source.captions) {
    throw new UserError(`${flag}: ${source.info.name} has no captions held in memory; text encoders apply to captions:… data`);
  }
  const info = await readEncodersInfo(await resolveEncodersDir(textEncoder, '--text-encoder'), '--text-encoder');
  return retokenize(source, info, flag);
}

/** Replace an array source's caption tokens and text info with those of `info`'s vocabulary; returns notices, throws on a mismatch. */
export function retokenize(source: ArraySource, info: Pick<EncodersInfo, 'vocab' | 'maxLen'>, flag: string): string[] {
  const caps = source.captions!;
  const { captions, info: text, report } = captionSet(caps.texts, caps.owner, info.maxLen, info.vocab);
  const share = report.unknown / Math.max(1, captions.lengths.reduce((a, b) => a + b, 0)); // of the words kept
  const shown = report.unknownWords.slice(0, 8).map((w) => `'${w}'`).join(', ') + (report.unknownWords.length > 8 ? ', …' : '');
  if (share > MAX_UNKNOWN_SHARE) {
    throw new UserError(`${flag}: ${(share * 100).toFixed(1)}% of the words of ${source.info.name}'s captions are not in the encoder's ${info.vocab.length - 2}-word vocabulary (${shown}); its encoders were trained on other captions: pretrain them on this data ('ganforge text-encoder --data ${source.info.name} --out DIR') or drop ${flag.split(' ')[0]}`);
  }
  const notices: string[] = [];
  if (report.unknown > 0) notices.push(`${flag}: ${report.unknown} caption word(s) are not in the encoder's vocabulary and become <unk>: ${shown}`);
  if (report.truncated > 0) notices.push(`${flag}: ${report.truncated} caption(s) are longer than the encoder's ${info.maxLen} words and were cut`);
  source.captions = captions;
  source.info = { ...source.info, text };
  return notices;
}

/**
 * Before the first GAN step of a fresh text run: copy `--text-encoder`'s weights into the family's encoders
 * (nets.extra[TEXT_ENCODER], and [IMAGE_ENCODER] when the family has one), or pretrain them for
 * `--text-encoder-steps` on the run's data and save them in RUN/text-encoder (the leader rank writes).
 * Networks without a text encoder are left alone.
 */
export async function prepareTextEncoders(
  nets: GanNetworks, source: DataSource, config: RunConfig, opts: { leader?: boolean; log?: (line: string) => void } = {},
): Promise<void> {
  const text = nets.extra?.[TEXT_ENCODER];
  if (!text) return;
  const log = opts.log ?? ((line: string) => process.stderr.write(`ganforge: ${line}\n`));
  if (config.textEncoder) return attachTextEncoders(nets, config.textEncoder);
  if (config.textEncoderSteps === 0) {
    log('--text-encoder-steps 0: the text encoder stays as initialised (random); pass --text-encoder DIR or some pretraining steps for captions the GAN can read');
    return;
  }
  const image = nets.extra?.[IMAGE_ENCODER] ?? buildImageEncoder(source.info.shape, featureDimOf(text), new Rng(mixSeed(config.seed, IMAGE_ENCODER_SEED)));
  try {
    const stats = pretrainOnSource({ text, image }, source, config, log);
    if (opts.leader ?? true) {
      const dir = path.join(config.out, RUN_ENCODERS_DIR);
      await saveEncoders(dir, { text, image }, describe({ text, image }, source, config, stats));
      log(`text encoders pretrained for ${config.textEncoderSteps} steps → ${dir}`);
    }
  } finally {
    if (image !== nets.extra?.[IMAGE_ENCODER]) image.dispose();
  }
}

/** The DAMSM pretraining phase on a run's data, its own batch stream (the run's stream is left where it is). */
export function pretrainOnSource(encoders: TextImageEncoders, source: DataSource, config: Pick<RunConfig, 'batchSize' | 'seed' | 'textEncoderSteps'>, log: (line: string) => void): DamsmStats {
  const stream = new BatchStream(source, { batchSize: config.batchSize, rng: new Rng(mixSeed(config.seed, PRETRAIN_DATA_SEED)) });
  const every = Math.max(1, Math.round(config.textEncoderSteps / 10));
  try {
    return pretrainEncoders(encoders, () => stream.next(), { ...DAMSM_PRETRAIN, steps: config.textEncoderSteps }, (s) => {
      if (s.step % every === 0 || s.step === config.textEncoderSteps) log(progressLine(s, config.textEncoderSteps));
    });
  } finally {
    stream.close();
  }
}

/** "text encoder step 30/300: DAMSM 5.12 (words 2.71, sentence 2.41)". */
export function progressLine(s: DamsmStats, steps: number): string {
  return `text encoder step ${s.step}/${steps}: DAMSM ${s.total.toFixed(3)} (words ${s.words.toFixed(3)}, sentence ${s.sentence.toFixed(3)})`;
}

/** What encoders.json says about encoders trained on a run's data. */
export function describe(encoders: TextImageEncoders, source: DataSource, config: Pick<RunConfig, 'batchSize' | 'seed' | 'textEncoderSteps' | 'data'>, stats: DamsmStats | null): Omit<EncodersInfo, 'format' | 'version' | 'savedAt'> {
  const text = source.info.text!;
  const embedding = encoders.text.layers.find((l) => l.getClassName() === 'Embedding');
  if (!embedding) throw new Error('the text encoder has no Embedding layer');
  const embed = embedding.getWeights()[0].shape[1]!;
  return {
    vocab: text.vocab, maxLen: text.maxLen, spec: { embedDim: embed, featureDim: featureDimOf(encoders.text) },
    imageShape: source.info.shape, data: config.data, seed: config.seed, steps: stats?.step ?? 0, batchSize: config.batchSize,
    settings: DAMSM_PRETRAIN, final: stats && stats.step > 0 ? { words: stats.words, sentence: stats.sentence, total: stats.total } : null,
  };
}

/**
 * Copy the pretrained encoders of `target` into a run's fresh ones, weight by weight. The family must have
 * built them with the same sizes (vocabulary, feature size, image shape); anything else is an error naming
 * --text-encoder and what differs.
 */
export async function attachTextEncoders(nets: GanNetworks, target: string): Promise<void> {
  const { encoders } = await loadEncoders(target);
  try {
    copyWeights(encoders.text, nets.extra![TEXT_ENCODER], target, 'text encoder');
    const image = nets.extra?.[IMAGE_ENCODER];
    if (image) copyWeights(encoders.image, image, target, 'image encoder');
  } finally {
    encoders.text.dispose();
    encoders.image.dispose();
  }
}

function copyWeights(from: tfl.LayersModel, to: tfl.LayersModel, target: string, what: string): void {
  const source = from.weights;
  const dest = to.weights;
  const advice = `the run builds its encoders from its data and settings, so they must be of the sizes of ${target}'s (same vocabulary, feature size and image size)`;
  if (source.length !== dest.length) throw new UserError(`--text-encoder ${target}: its ${what} has ${source.length} weights and this run's ${dest.length}; ${advice}`);
  dest.forEach((w, i) => {
    const s = source[i];
    if (s.shape.join() !== w.shape.join()) {
      throw new UserError(`--text-encoder ${target}: ${what} weight ${i} (${w.originalName}) is [${w.shape.join(', ')}] in this run and [${s.shape.join(', ')}] there; ${advice}`);
    }
  });
  tf.tidy(() => to.setWeights(source.map((s) => s.read())));
}

/** Feature size D of a text encoder: the last axis of its word features. */
function featureDimOf(text: tfl.LayersModel): number {
  return text.outputs[0].shape[2]!;
}

/** What `ganforge text-encoder` (and R-precision's own evaluation encoder) trains: fresh encoders of `spec`, from `seed`. */
export interface StandaloneTraining {
  data: string;
  steps: number;
  batchSize: number;
  seed: number;
  spec: TextEncoderSpec;
}

/**
 * Build both encoders from `seed` and pretrain them on a captioned source's DAMSM loss; the encoders are the
 * caller's to dispose (and to save with `saveEncoders(dir, encoders, info)`).
 */
export function trainTextEncoders(source: DataSource, t: StandaloneTraining, log: (line: string) => void): { encoders: TextImageEncoders; info: Omit<EncodersInfo, 'format' | 'version' | 'savedAt'> } {
  if (!source.info.text) throw new UserError(`--data ${t.data} has no captions; text encoders train on captioned data (captions:…)`);
  const rng = new Rng(t.seed);
  const text = buildTextEncoder(source.info.text, t.spec, rng.fork());
  const image = buildImageEncoder(source.info.shape, t.spec.featureDim, rng.fork());
  const encoders = { text, image };
  const config = { batchSize: t.batchSize, seed: t.seed, textEncoderSteps: t.steps, data: t.data };
  try {
    const stats = t.steps > 0 ? pretrainOnSource(encoders, source, config, log) : null;
    return { encoders, info: describe(encoders, source, config, stats) };
  } catch (e) {
    text.dispose();
    image.dispose();
    throw e;
  }
}
