import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { cacheDir } from '../data/package_data.js';
import { encodeSentences } from '../data/tokenizer.js';
import type { DataSource } from '../data/types.js';
import { DEFAULT_TEXT_ENCODER, encodeImages, sentenceOf } from '../text/encoders.js';
import { loadEncoders, saveEncoders, type EncodersInfo } from '../text/encoder_folder.js';
import type { TextImageEncoders } from '../text/pretrain.js';
import { trainTextEncoders } from '../text/run_encoders.js';
import { UserError } from '../util/errors.js';
import { exists } from '../util/fs.js';
import { Rng } from '../util/rng.js';

/**
 * R-precision (AttnGAN, Xu et al. 2018, §4): for each generated image, its own caption and 99 captions of
 * other examples drawn at random form a pool of 100; the pool is ranked by the cosine of the image's global
 * feature with each caption's sentence feature, and the image counts when its own caption ranks first (R = 1).
 * The rate over all images is one draw; the paper reports mean ± std over draws. The features come from DAMSM
 * encoders trained separately from the ones the generator used (another seed), so that a generator cannot score
 * by fitting the judge.
 */
export interface RPrecision {
  /** Mean top-1 retrieval rate over draws, in [0, 1]; chance is 1/candidates. */
  mean: number;
  std: number;
  draws: number[];
  candidates: number;
  images: number;
}

export interface RPrecisionOptions {
  /** Captions per pool, the true one included (100 in the paper). */
  candidates?: number;
  /** Independent draws of the mismatched captions (10). */
  draws?: number;
  seed?: number;
}

/**
 * R-precision from features: image i's global feature `images[i]` [N, D] and the sentence features of a caption
 * pool [P, D], where `trueIndex[i]` is image i's own caption and `owner[j]` the example caption j describes.
 * Mismatched candidates are drawn, without replacement, among captions of other examples. A tie with a
 * mismatched caption counts as a miss.
 */
export function rPrecisionFromFeatures(
  images: Float32Array, sentences: Float32Array, dim: number, trueIndex: Int32Array, owner: Int32Array, opts: RPrecisionOptions = {},
): RPrecision {
  const candidates = opts.candidates ?? 100;
  const nDraws = opts.draws ?? 10;
  const n = trueIndex.length;
  const p = owner.length;
  if (images.length !== n * dim || sentences.length !== p * dim) throw new Error(`R-precision: ${images.length / dim} image features for ${n} images, ${sentences.length / dim} sentence features for ${p} captions`);
  const img = normalizeRows(images, dim);
  const sen = normalizeRows(sentences, dim);
  const cos = (i: number, j: number) => {
    let s = 0;
    for (let k = 0; k < dim; k++) s += img[i * dim + k] * sen[j * dim + k];
    return s;
  };
  // Candidate captions for each image: those of other examples.
  const others = new Map<number, Int32Array>();
  const otherOf = (example: number): Int32Array => {
    let list = others.get(example);
    if (!list) {
      list = Int32Array.from([...owner.keys()].filter((j) => owner[j] !== example));
      if (list.length < candidates - 1) throw new UserError(`R-precision ranks each image's caption among ${candidates} (${candidates - 1} of other images), and the pool holds only ${list.length} captions of other images; evaluate on more captions`);
      others.set(example, list);
    }
    return list;
  };
  const rng = new Rng(opts.seed ?? 0);
  const draws: number[] = [];
  for (let d = 0; d < nDraws; d++) {
    let hits = 0;
    for (let i = 0; i < n; i++) {
      const own = cos(i, trueIndex[i]);
      const list = otherOf(owner[trueIndex[i]]);
      let beaten = false;
      for (const j of sampleWithoutReplacement(list, candidates - 1, rng)) {
        if (cos(i, j) >= own) {
          beaten = true;
          break;
        }
      }
      if (!beaten) hits++;
    }
    draws.push(hits / n);
  }
  const mean = draws.reduce((a, b) => a + b, 0) / nDraws;
  const std = Math.sqrt(draws.reduce((a, b) => a + (b - mean) ** 2, 0) / nDraws);
  return { mean, std, draws, candidates, images: n };
}

/** k distinct entries of `list` (partial Fisher–Yates on a copy of the first k positions' picks). */
function sampleWithoutReplacement(list: Int32Array, k: number, rng: Rng): Int32Array {
  const picked = new Int32Array(k);
  const swapped = new Map<number, number>();
  for (let t = 0; t < k; t++) {
    const r = t + rng.int(list.length - t);
    const at = swapped.get(r) ?? r;
    picked[t] = list[at];
    swapped.set(r, swapped.get(t) ?? t);
  }
  return picked;
}

function normalizeRows(x: Float32Array, dim: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length / dim; i++) {
    let s = 0;
    for (let k = 0; k < dim; k++) s += x[i * dim + k] ** 2;
    const norm = Math.max(Math.sqrt(s), 1e-12);
    for (let k = 0; k < dim; k++) out[i * dim + k] = x[i * dim + k] / norm;
  }
  return out;
}

/** Evaluation encoders and the line that names them next to every R-precision number. */
export interface RPrecisionEncoders {
  encoders: TextImageEncoders;
  info: EncodersInfo;
  dir: string;
  /** e.g. "DAMSM encoders ~/.cache/ganforge/r-precision/ab12… (seed 1, 1000 steps on captions:fashion-mnist)". */
  name: string;
}

/**
 * R-precision of generated images [N, H, W, C] in [-1, 1], image i drawn from caption `pool.texts[trueIndex[i]]`.
 * The captions are tokenized with the evaluation encoder's own vocabulary.
 */
export function rPrecision(
  judge: RPrecisionEncoders, images: { values: Float32Array; n: number; shape: number[] }, pool: { texts: string[]; owner: Int32Array }, trueIndex: Int32Array, opts: RPrecisionOptions = {},
): RPrecision & { encoder: string } {
  const [h, w, c] = judge.info.imageShape;
  if (images.shape.join() !== [h, w, c].join()) throw new UserError(`R-precision: the evaluation encoders take ${h}×${w}×${c} images and these are ${images.shape.join('×')}`);
  const dim = judge.info.spec.featureDim;
  const imageFeatures = embedImageBatches(judge.encoders.image, images.values, images.n, images.shape);
  const sentences = embedSentenceBatches(judge.encoders.text, judge.info, pool.texts);
  return { ...rPrecisionFromFeatures(imageFeatures, sentences, dim, trueIndex, pool.owner, opts), encoder: judge.name };
}

/** Global image features [N, D] in batches. */
export function embedImageBatches(encoder: tfl.LayersModel, values: Float32Array, n: number, shape: number[], batch = 64): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const dim = encoder.outputs[1].shape[1]!;
  const out = new Float32Array(n * dim);
  for (let lo = 0; lo < n; lo += batch) {
    const b = Math.min(batch, n - lo);
    const g = tf.tidy(() => encodeImages(encoder, tf.tensor4d(values.subarray(lo * size, (lo + b) * size), [b, ...shape] as [number, number, number, number])).global);
    out.set(g.dataSync(), lo * dim);
    g.dispose();
  }
  return out;
}

/** Sentence features [P, D] of texts tokenized with the encoder's vocabulary, in batches. */
export function embedSentenceBatches(encoder: tfl.LayersModel, info: Pick<EncodersInfo, 'vocab' | 'maxLen'>, texts: string[], batch = 256): Float32Array {
  const { tokens } = encodeSentences(info.vocab, info.maxLen, texts);
  const dim = encoder.outputs[0].shape[2]!;
  const out = new Float32Array(texts.length * dim);
  for (let lo = 0; lo < texts.length; lo += batch) {
    const b = Math.min(batch, texts.length - lo);
    const s = tf.tidy(() => sentenceOf(encoder.apply(tf.tensor2d(tokens.subarray(lo * info.maxLen, (lo + b) * info.maxLen), [b, info.maxLen], 'float32'), { training: false }) as tf.Tensor3D));
    out.set(s.dataSync(), lo * dim);
    s.dispose();
  }
  return out;
}

/** Seed of the evaluation encoders trained for R-precision: not 0, the seed a run's own pretraining phase uses by default. */
export const R_PRECISION_SEED = 1;

/**
 * The evaluation encoders: the folder `given` (a `ganforge text-encoder` output) when there is one, else the
 * cached pair trained on `data` with R_PRECISION_SEED under $GANFORGE_CACHE/r-precision/KEY (trained there on
 * first use, `steps` steps). The caller disposes `encoders`. Refuses encoders whose text weights equal
 * `modelEncoder`'s: the judge must not be the encoder the generator was trained with.
 */
export async function rPrecisionEncoders(opts: {
  given?: string; source?: DataSource; data?: string; steps?: number; batchSize?: number; modelEncoder?: tfl.LayersModel; log?: (line: string) => void;
}): Promise<RPrecisionEncoders> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`ganforge: ${line}\n`));
  let dir = opts.given;
  if (!dir) {
    const source = opts.source;
    if (!source?.info.text) throw new UserError('R-precision needs evaluation text encoders: pass a folder of them (ganforge text-encoder --seed 1 …) or captioned data to train them on');
    const steps = opts.steps ?? 1000;
    const batchSize = opts.batchSize ?? 48;
    const key = createHash('sha256').update(JSON.stringify([opts.data, source.info.shape, source.info.text.vocab, source.info.text.maxLen, steps, batchSize, R_PRECISION_SEED])).digest('hex').slice(0, 16);
    dir = path.join(cacheDir(), 'r-precision', key);
    if (!(await exists(path.join(dir, 'encoders.json')))) {
      log(`R-precision: training evaluation text encoders (seed ${R_PRECISION_SEED}, ${steps} steps on ${opts.data ?? source.info.name}) into ${dir} (once)`);
      const { encoders, info } = trainTextEncoders(source, { data: opts.data ?? source.info.name, steps, batchSize, seed: R_PRECISION_SEED, spec: DEFAULT_TEXT_ENCODER }, log);
      try {
        await saveEncoders(dir, encoders, info);
      } finally {
        encoders.text.dispose();
        encoders.image.dispose();
      }
    }
  }
  const loaded = await loadEncoders(dir, '--r-precision-encoder');
  if (opts.modelEncoder && sameWeights(loaded.encoders.text, opts.modelEncoder)) {
    loaded.encoders.text.dispose();
    loaded.encoders.image.dispose();
    throw new UserError(`R-precision: the evaluation encoders in ${dir} are the ones the model was trained with; R-precision needs encoders trained separately (ganforge text-encoder --seed ${R_PRECISION_SEED} …)`);
  }
  const { info } = loaded;
  return { ...loaded, name: `DAMSM encoders ${loaded.dir} (seed ${info.seed}, ${info.steps} steps on ${info.data})` };
}

function sameWeights(a: tfl.LayersModel, b: tfl.LayersModel): boolean {
  const wa = a.getWeights(), wb = b.getWeights();
  if (wa.length !== wb.length) return false;
  return wa.every((t, i) => t.shape.join() === wb[i].shape.join() && tf.tidy(() => tf.all(tf.equal(t, wb[i])).dataSync()[0] === 1));
}
