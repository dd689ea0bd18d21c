import * as tf from '@tensorflow/tfjs-core';
import { loadData } from '../data/registry.js';
import { maskOptionsOf } from '../data/masks.js';
import { lowresOptions } from '../data/derived.js';
import type { ArraySource } from '../data/types.js';
import type { RunConfig } from '../gan/config.js';
import type { SampleRequest, SampleResult } from '../gan/family.js';
import { UserError } from '../util/errors.js';
import { CLASSIFIER_DATASETS, type ClassifierDataset } from './classifier.js';
import { evaluateSets, resolveNet } from './evaluate.js';
import { loadClassifierNet } from './features.js';
import { evaluateTranslation, TRANSLATION_METRIC_NAMES } from './translation.js';
import { describeProtocol, srProtocol, type QualityProtocol } from './image_quality.js';
import { baselineScores, inpaintingScores } from './inpainting.js';

/** Metrics of a translator: the paired ones, FID of outputs vs targets, and a classifier's accuracy on the outputs. */
export const TRANSLATOR_METRICS = [...TRANSLATION_METRIC_NAMES, 'fid', 'accuracy', 'hole-l1', 'hole-psnr'] as const;
export type TranslatorMetric = (typeof TRANSLATOR_METRICS)[number];

/** Which direction each metric improves in (training-time evaluation keeps the best checkpoint by the first). */
export const TRANSLATOR_BETTER: Record<TranslatorMetric, 'lower' | 'higher'> = { l1: 'lower', psnr: 'higher', ssim: 'higher', fid: 'lower', accuracy: 'higher', 'hole-l1': 'lower', 'hole-psnr': 'higher' };

/**
 * A translator's test set: input images, their targets (paired by index, or for unpaired data matched by name,
 * e.g. the same emoji code point in two artists' sets), and the targets' class labels when the data has them.
 */
export interface TranslatorTestSet {
  name: string;
  inputs: tf.Tensor4D; // [N, H, W, Ca] in [-1, 1]
  targets: tf.Tensor4D; // [N, H, W, Cb] in [-1, 1]
  labels?: Int32Array;
  /** The base dataset whose shipped classifier can judge the outputs (mnist, fashion-mnist), if any. */
  classifier?: ClassifierDataset;
  /** 'index' (paired data), 'name' (unpaired, matched by name). */
  matched: 'index' | 'name';
}

/** Load the test split of a run's translation data: the first `count` pairs. */
export async function translatorTestSet(config: RunConfig, count: number): Promise<TranslatorTestSet> {
  const source = await loadData(config.data, {
    split: 'test', imageSize: config.imageSize || undefined, masks: maskOptionsOf(config), ...lowresOptions(config), ...(config.randomCrop ? { randomCrop: true } : {}), ...(config.direction === 'BtoA' ? { direction: config.direction } : {}), log: () => {},
  });
  if (source.kind !== 'array' || !source.inputs || !source.info.input) throw new UserError(`${config.data}: its test split holds no (input, target) images to score a translator on`);
  return testSetFrom(source, count);
}

/** Pairs of a translation source: by index when paired, by name when unpaired (names present on both sides). */
export function testSetFrom(source: ArraySource, count: number): TranslatorTestSet {
  const info = source.info;
  const input = info.input!;
  const inSize = input.shape.reduce((a, b) => a * b, 1);
  const outSize = info.shape.reduce((a, b) => a * b, 1);
  let pairs: [number, number][];
  let matched: 'index' | 'name';
  if (input.pairing === 'paired') {
    pairs = Array.from({ length: Math.min(count, source.count) }, (_, i) => [i, i]);
    matched = 'index';
  } else {
    const names = source.inputs!.names;
    if (!names || !source.names) throw new UserError(`${info.name}: the two domains are unpaired and carry no names to match test images by; FID alone can score them (--metrics fid)`);
    const targetOf = new Map(source.names.map((n, i) => [n, i]));
    pairs = names.flatMap((n, i): [number, number][] => (targetOf.has(n) ? [[i, targetOf.get(n)!]] : [])).slice(0, count);
    matched = 'name';
    if (pairs.length === 0) throw new UserError(`${info.name}: no test image of one domain has a namesake in the other`);
  }
  const inputs = new Float32Array(pairs.length * inSize);
  const targets = new Float32Array(pairs.length * outSize);
  pairs.forEach(([i, t], k) => {
    for (let j = 0; j < inSize; j++) inputs[k * inSize + j] = source.inputs!.values[i * inSize + j] / 127.5 - 1;
    for (let j = 0; j < outSize; j++) targets[k * outSize + j] = (source.values as Uint8Array)[t * outSize + j] / 127.5 - 1;
  });
  const labels = source.labels && matched === 'index' ? Int32Array.from(pairs, ([, t]) => source.labels![t]) : undefined;
  const classifier = CLASSIFIER_DATASETS.find((d) => input.domains[1] === d || info.name === d || info.name.endsWith(`:${d}`));
  return {
    name: `${info.name} (test split, ${pairs.length} pairs matched by ${matched})`,
    inputs: tf.tensor4d(inputs, [pairs.length, ...(input.shape as [number, number, number])]),
    targets: tf.tensor4d(targets, [pairs.length, ...(info.shape as [number, number, number])]),
    labels, classifier: labels && info.shape[2] === 1 ? classifier : undefined, matched,
  };
}

/**
 * How PSNR and SSIM are measured on a test set: for super-resolution (inputs smaller than the targets by a whole
 * factor s ≥ 2) the field's convention, Y channel with s border pixels cropped on 0–255 (srProtocol), else RGB on
 * [-1, 1] (data range 2). Returns the protocol (undefined: the RGB default) and its one-line description.
 */
export function qualityProtocolOf(set: Pick<TranslatorTestSet, 'inputs' | 'targets'>): { quality?: QualityProtocol; psnr: string; ssim: string } {
  const [, ih, iw] = set.inputs.shape;
  const [, th, tw] = set.targets.shape;
  const s = th / ih;
  if (Number.isInteger(s) && s >= 2 && tw === iw * s) {
    const quality = srProtocol(s);
    return { quality, psnr: describeProtocol('psnr', quality), ssim: describeProtocol('ssim', quality) };
  }
  return { psnr: 'RGB on [-1, 1] (L = 2)', ssim: 'RGB on [-1, 1], 11×11 Gaussian σ 1.5, K1 0.01, K2 0.03' };
}

/**
 * Score a translator (its family's `sample` on the test inputs) against the targets: L1 on [-1, 1], PSNR and SSIM
 * as qualityProtocolOf says (Y with the border cropped for super-resolution, else RGB on [-1, 1]), FID of outputs vs targets with the feature network for their channels, and for
 * MNIST/Fashion-MNIST targets the shipped classifier's accuracy on the outputs against the targets' labels.
 */
export async function scoreTranslator(
  sample: (request: SampleRequest) => SampleResult, set: TranslatorTestSet, metrics: readonly string[], opts: { direction?: 'AtoB' | 'BtoA'; seed?: number } = {},
): Promise<Record<string, number>> {
  for (const m of metrics) if (!(TRANSLATOR_METRICS as readonly string[]).includes(m)) throw new UserError(`unknown translator metric '${m}'; valid: ${TRANSLATOR_METRICS.join(', ')}`);
  const n = set.inputs.shape[0];
  const result = sample({ count: n, seed: opts.seed ?? 0, input: set.inputs, direction: opts.direction });
  const outputs = tf.tensor4d(result.values, [n, ...(result.shape as [number, number, number])]);
  const scores: Record<string, number> = {};
  try {
    const paired = metrics.filter((m) => (TRANSLATION_METRIC_NAMES as readonly string[]).includes(m));
    if (paired.length > 0) {
      const { quality } = qualityProtocolOf(set);
      const r = evaluateTranslation(outputs, set.targets, { metrics: paired.join(','), ...(quality ? { quality } : {}) });
      for (const m of paired) scores[m] = r[m as 'l1' | 'psnr' | 'ssim']!;
    }
    const [h, w, c] = result.shape;
    if (metrics.includes('fid')) {
      const net = await resolveNet({}, { c }, set.classifier ?? set.name);
      const images = (values: Float32Array) => ({ kind: 'image' as const, source: set.name, values, n, h, w, c });
      const [fid] = evaluateSets(images(clamp(result.values)), images(set.targets.dataSync() as Float32Array), net, { name: set.name, selection: `first ${n}` }, { metrics: 'fid' });
      scores.fid = fid.values.fid as number;
    }
    if (metrics.includes('accuracy')) {
      if (!set.classifier || !set.labels) throw new UserError(`accuracy needs MNIST or Fashion-MNIST targets with labels; ${set.name} has none (drop it from --metrics)`);
      const net = await loadClassifierNet(set.classifier);
      const { logits } = net.embed({ values: clamp(result.values), n, h, w, c });
      let right = 0;
      const k = logits!.length / n;
      for (let i = 0; i < n; i++) {
        let best = 0;
        for (let j = 1; j < k; j++) if (logits![i * k + j] > logits![i * k + best]) best = j;
        if (best === set.labels[i]) right++;
      }
      scores.accuracy = right / n;
    }
    if (metrics.includes('hole-l1') || metrics.includes('hole-psnr')) Object.assign(scores, holeScores(result.values, set, metrics));
  } finally {
    outputs.dispose();
  }
  return scores;
}

function clamp(values: Float32Array): Float32Array {
  return values.map((v) => Math.min(1, Math.max(-1, v)));
}

/**
 * Scores inside the hole for data whose inputs carry a mask channel (masked:): the outputs' L1 and PSNR there,
 * and the same for the two fills that use no learning, as `mean-fill/…` and `diffusion-fill/…`, with each one's
 * whole-image L1 and PSNR (`…/l1`, `…/psnr`), so that a score reads against what an inpainter must beat.
 */
function holeScores(outputs: Float32Array, set: TranslatorTestSet, metrics: readonly string[]): Record<string, number> {
  const [n, h, w, cin] = set.inputs.shape;
  const c = set.targets.shape[3];
  if (cin !== c + 1) throw new UserError(`hole-l1 and hole-psnr need inputs with a mask channel (masked:SPEC data); ${set.name} has none`);
  const inputs = set.inputs.dataSync();
  const holes = Array.from({ length: n }, (_, i) => Uint8Array.from({ length: h * w }, (_, p) => (inputs[(i * h * w + p) * cin + c] > 0 ? 1 : 0)));
  const targets = set.targets.dataSync() as Float32Array;
  const ours = inpaintingScores(outputs, targets, holes, [h, w, c]);
  const out: Record<string, number> = {};
  if (metrics.includes('hole-l1')) out['hole-l1'] = ours.holeL1;
  if (metrics.includes('hole-psnr')) out['hole-psnr'] = ours.holePsnr;
  const base = baselineScores(targets, holes, [h, w, c]);
  for (const [name, s] of [['mean-fill', base.mean], ['diffusion-fill', base.diffusion]] as const) {
    Object.assign(out, { [`${name}/hole-l1`]: s.holeL1, [`${name}/hole-psnr`]: s.holePsnr, [`${name}/l1`]: s.l1, [`${name}/psnr`]: s.psnr });
  }
  return out;
}
