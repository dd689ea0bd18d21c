import type * as tfl from '@tensorflow/tfjs-layers';
import type { RunConfig } from '../gan/config.js';
import type { SampleRequest, SampleResult } from '../gan/family.js';
import { loadData } from '../data/registry.js';
import type { ArraySource, DatasetInfo } from '../data/types.js';
import { evaluateSets, resolveNet } from './evaluate.js';
import { loadClassifierNet } from './features.js';
import { rPrecision, rPrecisionEncoders } from './r_precision.js';
import { agreementSentences, textAgreement } from './text_agreement.js';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';

/** What `eval` scores a text-to-image run by: FID of images drawn for test captions, R-precision, and (captions:fashion-mnist) class/attribute agreement. */
export const TEXT_METRICS = ['fid', 'r-precision', 'agreement'] as const;
export type TextMetric = (typeof TEXT_METRICS)[number];

/** The data whose sentences name a Fashion-MNIST class and measured attributes (text_agreement.ts reads them). */
const AGREEMENT_DATA = 'captions:fashion-mnist';

/** Held-out captioned images: the images [n, H, W, C] in [−1, 1], and one caption per image drawn from its own. */
export interface TextTestSet {
  name: string;
  images: Float32Array;
  n: number;
  shape: [number, number, number];
  /** The caption drawn for each image, and every caption of the n images with its owner (R-precision's candidates). */
  sentences: string[];
  pool: { texts: string[]; owner: Int32Array };
  /** Index into pool.texts of each image's drawn caption. */
  trueIndex: Int32Array;
  /** Notices about the set (a training split used for want of a test one). */
  notices: string[];
}

/**
 * The first `count` images of the run's data's test split (its training split, with a notice, when the data has
 * none) at the run's image size, with one caption each drawn from `seed`, tokenized with the run's vocabulary.
 */
export async function textTestSet(config: RunConfig, data: DatasetInfo, count: number, seed: number): Promise<TextTestSet> {
  if (!data.text) throw new UserError(`${data.name}: the run has no captions to score against`);
  const opts = { limit: count, imageSize: data.shape[0], channels: data.shape[2] as 1 | 3, vocab: data.text.vocab, maxLen: data.text.maxLen, log: () => {} };
  const notices: string[] = [];
  let source: ArraySource;
  try {
    source = (await loadData(config.data, { ...opts, split: 'test' })) as ArraySource;
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    notices.push(`${config.data} has no test split (${e.message}); scoring on the first ${count} training images instead, which the model has seen`);
    source = (await loadData(config.data, { ...opts, split: 'train' })) as ArraySource;
  }
  if (source.kind !== 'array' || !source.captions) throw new UserError(`${config.data}: its test images carry no captions`);
  const n = Math.min(count, source.count);
  const per = data.shape.reduce((a, b) => a * b, 1);
  const images = Float32Array.from(source.values.subarray(0, n * per), (v) => v / 127.5 - 1);
  const caps = source.captions;
  const keep = Array.from(caps.owner.keys()).filter((j) => caps.owner[j] < n);
  const pool = { texts: keep.map((j) => caps.texts[j]), owner: Int32Array.from(keep, (j) => caps.owner[j]) };
  const rng = new Rng(seed ^ 0x7e57);
  const byImage: number[][] = Array.from({ length: n }, () => []);
  pool.owner.forEach((o, k) => byImage[o].push(k));
  const trueIndex = Int32Array.from(byImage, (ks) => ks[rng.int(ks.length)]);
  return { name: `${source.info.name} test (first ${n})`, images, n, shape: data.shape as [number, number, number], sentences: Array.from(trueIndex, (k) => pool.texts[k]), pool, trueIndex, notices };
}

/**
 * A text run's scores on `set`: images are drawn by `sample` for each image's caption (latents from `seed`);
 * 'fid' against the set's images, 'r-precision' with evaluation encoders trained apart from the run's own
 * (`rEncoders`: a folder, or trained once on the run's data and cached), 'agreement' (captions:fashion-mnist
 * only) from images drawn for balanced class × brightness × size sentences. Returns scores, protocol lines and
 * the judge encoders' folder (pass it as `rEncoders` next time to skip finding them again).
 */
export async function scoreTextRun(
  sample: (request: SampleRequest) => SampleResult, set: TextTestSet, metrics: readonly string[],
  run: { config: RunConfig; data: DatasetInfo; modelEncoder?: tfl.LayersModel }, opts: { seed?: number; rEncoders?: string; log?: (line: string) => void } = {},
): Promise<{ scores: Record<string, number>; protocol: Record<string, string>; judge?: string }> {
  for (const m of metrics) if (!(TEXT_METRICS as readonly string[]).includes(m)) throw new UserError(`unknown text-to-image metric '${m}'; valid: ${TEXT_METRICS.join(', ')}`);
  const seed = opts.seed ?? 0;
  const [h, w, c] = set.shape;
  const drawn = sample({ count: set.n, seed, text: set.sentences });
  const fake = drawn.values.map((v) => Math.min(1, Math.max(-1, v)));
  const scores: Record<string, number> = {};
  const protocol: Record<string, string> = { testSet: set.name, captions: 'one per image, drawn from its own with the eval seed', latents: `seed ${seed}` };
  if (metrics.includes('fid')) {
    const net = await resolveNet({}, { c }, set.name);
    const images = (values: Float32Array) => ({ kind: 'image' as const, source: set.name, values, n: set.n, h, w, c });
    const [fid] = evaluateSets(images(fake), images(set.images), net, { name: set.name, selection: `first ${set.n}` }, { metrics: 'fid' });
    scores.fid = fid.values.fid as number;
    protocol.fidNet = net.info.name;
    net.dispose();
  }
  let judgeDir: string | undefined;
  if (metrics.includes('r-precision')) {
    // The training split is read only to train (or find the cache of) judge encoders when none are given.
    const train = opts.rEncoders ? undefined : await loadData(run.config.data, { imageSize: h, channels: c as 1 | 3, maxWords: run.data.text?.maxLen, log: opts.log ? (l: string) => opts.log!(l) : () => {} });
    const judge = await rPrecisionEncoders({ given: opts.rEncoders, source: train, data: run.config.data, modelEncoder: run.modelEncoder, log: opts.log });
    judgeDir = judge.dir;
    try {
      const r = rPrecision(judge, { values: fake, n: set.n, shape: set.shape }, set.pool, set.trueIndex, { seed });
      scores['r-precision'] = r.mean;
      scores['r-precision/std'] = r.std;
      protocol.rPrecision = `${judge.name}; true caption among ${r.candidates} candidates, ${r.draws.length} draws`;
    } finally {
      judge.encoders.text.dispose();
      judge.encoders.image.dispose();
    }
  }
  if (metrics.includes('agreement')) {
    if (run.config.data !== AGREEMENT_DATA) throw new UserError(`agreement reads sentences of ${AGREEMENT_DATA} (a class word, brightness and size); this run was trained on ${run.config.data}: drop it from --metrics`);
    const sentences = agreementSentences(Math.max(1, Math.ceil(set.n / 40)));
    const out = sample({ count: sentences.length, seed: seed + 1, text: sentences });
    const classifier = await loadClassifierNet('fashion-mnist');
    try {
      const a = textAgreement({ values: out.values.map((v) => Math.min(1, Math.max(-1, v))), n: out.count, h, w, c }, sentences, classifier);
      Object.assign(scores, { agreement: a.classAgreement, 'agreement/brightness-gap': a.brightness.gap, 'agreement/size-gap': a.size.gap });
      protocol.agreement = `shipped Fashion-MNIST classifier on ${a.classCounted} images of balanced class × dark/light × small/large sentences; gaps = light − dark brightness, large − small area (> 0: the word steers it)`;
    } finally {
      classifier.dispose();
    }
  }
  return { scores, protocol, judge: judgeDir };
}
