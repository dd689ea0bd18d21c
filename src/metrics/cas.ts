import * as tf from '@tensorflow/tfjs-core';
import * as path from 'node:path';
import { loadData } from '../data/registry.js';
import type { ArraySource } from '../data/types.js';
import { loadSamplingNetworks } from '../gan/checkpoint.js';
import { allNetworks } from '../gan/family.js';
import { conditionalClasses, labelsPath, sampleLabelled } from '../gan/labelled.js';
import { readNpy } from '../io/npy.js';
import { MODELS, getModel } from '../models/registry.js';
import { UserError } from '../util/errors.js';
import { exists } from '../util/fs.js';
import type { Rng } from '../util/rng.js';
import { samplesFromNpy, type MetricResult } from './evaluate.js';
import { predictLabels, toUnitRange, trainClassifier, type LabelledImages } from './tstr.js';

/**
 * The fixed classifier of CAS (and of `bench:augment`): TSTR's small 28×28 CNN, trained for a fixed number of
 * minibatches so that sets of different sizes get the same budget. Stated here once; the metric's summary, its
 * protocol lines and the README read it.
 */
export const CAS_CLASSIFIER = {
  architecture: '3 × (3×3 conv 16/32/64 + ReLU + 2×2 max-pool) → dense 128 + ReLU → K logits (buildClassifier, 98k weights at K = 10)',
  optimizer: 'Adam, learning rate 1e-3, β 0.9/0.999, softmax cross-entropy',
  steps: 2000,
  batchSize: 64,
} as const;

/** The `--metrics cas` entry: what it is, in one line, and its paper. */
export const CAS_METRIC = {
  name: 'cas',
  summary: `Classification Accuracy Score: a fixed classifier (${CAS_CLASSIFIER.architecture}; ${CAS_CLASSIFIER.optimizer}; ${CAS_CLASSIFIER.steps} steps of ${CAS_CLASSIFIER.batchSize}) trained on the run's class-balanced samples, its accuracy on the real test split, beside the same classifier trained on as many real training images (higher is better)`,
  paper: 'Ravuri & Vinyals 2019, Classification Accuracy Score for Conditional Generative Models, NeurIPS, arXiv:1905.10887',
} as const;

export interface CasOptions {
  /** Seeds the classifier's initial weights and batch order; the synthetic and real classifiers share it. */
  seed: number;
  /** Minibatches of training (default CAS_CLASSIFIER.steps). */
  steps?: number;
  batchSize?: number;
  /** Classes the labels index. */
  classes: number;
}

export interface CasResult {
  /** Test accuracy of the classifier trained on the synthetic set. */
  cas: number;
  /** Test accuracy of the same classifier, seed and budget trained on the real set. */
  baseline: number;
  /** Per-class test accuracy (recall) of each, index = class. */
  casPerClass: number[];
  baselinePerClass: number[];
}

/**
 * CAS (Ravuri & Vinyals 2019, §3): train a classifier on generated (image, label) pairs only and report its
 * accuracy on real test data; a generator whose class-conditional distributions matched the data's would score
 * what real training data of the same size scores, so the same classifier trained on `realTrain` (same seed,
 * same steps) is the baseline CAS reads against.
 *
 * @example
 * const r = classificationAccuracyScore(generated, firstOfEachClass(train, 1000, 10), test, { seed: 0, classes: 10 });
 * // r.cas ≤ r.baseline for every generator we have met; the paper's BigGAN-deep reached 0.43 of ImageNet's 0.73
 */
export function classificationAccuracyScore(synthetic: LabelledImages, realTrain: LabelledImages, test: LabelledImages, opts: CasOptions): CasResult {
  const fake = testAccuracy(synthetic, test, opts);
  const real = testAccuracy(realTrain, test, opts);
  return { cas: fake.accuracy, baseline: real.accuracy, casPerClass: fake.perClass, baselinePerClass: real.perClass };
}

/** The fixed classifier trained on `train` for the CAS budget, then its accuracy on `test` overall and per class. */
export function testAccuracy(train: LabelledImages, test: LabelledImages, opts: CasOptions): { accuracy: number; perClass: number[] } {
  const model = trainClassifier(train, { seed: opts.seed, steps: opts.steps ?? CAS_CLASSIFIER.steps, batchSize: opts.batchSize ?? CAS_CLASSIFIER.batchSize, classes: opts.classes });
  try {
    const pred = predictLabels(model, test);
    const hits = new Array<number>(opts.classes).fill(0);
    const seen = new Array<number>(opts.classes).fill(0);
    let correct = 0;
    for (let i = 0; i < test.count; i++) {
      seen[test.labels[i]]++;
      if (pred[i] === test.labels[i]) { correct++; hits[test.labels[i]]++; }
    }
    return { accuracy: correct / test.count, perClass: hits.map((h, k) => (seen[k] ? h / seen[k] : NaN)) };
  } finally {
    model.dispose();
  }
}

/**
 * `perClass` images of each of `classes` classes from uint8 images [N, ...shape] with labels, as floats in
 * [-1, 1], grouped by class: the first ones in file order, or a random choice when `rng` is given. A class with
 * fewer images is a UserError naming it.
 */
export function balancedSubset(values: Uint8Array, labels: Int32Array, shape: number[], perClass: number, classes: number, rng?: Rng, name = 'the data'): LabelledImages {
  return subsetByClass(values, labels, shape, new Array<number>(classes).fill(perClass), rng, name);
}

/** `counts[k]` images of each class k (see balancedSubset): a real set shaped like a given synthetic one. */
export function subsetByClass(values: Uint8Array, labels: Int32Array, shape: number[], counts: readonly number[], rng?: Rng, name = 'the data'): LabelledImages {
  const size = shape.reduce((a, b) => a * b, 1);
  const byClass: number[][] = counts.map(() => []);
  for (let i = 0; i < labels.length; i++) if (labels[i] >= 0 && labels[i] < counts.length) byClass[labels[i]].push(i);
  const picked: number[] = [];
  byClass.forEach((idx, k) => {
    const want = counts[k];
    if (idx.length < want) throw new UserError(`${name} has ${idx.length} images of class ${k}, fewer than the ${want} asked for`);
    if (rng) {
      const order = Int32Array.from(idx);
      rng.shuffle(order);
      picked.push(...order.subarray(0, want));
    } else picked.push(...idx.slice(0, want));
  });
  const bytes = new Uint8Array(picked.length * size);
  picked.forEach((i, j) => bytes.set(values.subarray(i * size, (i + 1) * size), j * size));
  return { values: toUnitRange(bytes), labels: Int32Array.from(picked, (i) => labels[i]), count: picked.length, shape };
}

/** Two labelled sets as one (a first): the training set of "real + synthetic", mixed in the ratio of their sizes. */
export function concatLabelled(a: LabelledImages, b: LabelledImages): LabelledImages {
  if (a.shape.join('×') !== b.shape.join('×')) throw new Error(`cannot join images of [${a.shape}] and [${b.shape}]`);
  const values = new Float32Array(a.values.length + b.values.length);
  values.set(a.values);
  values.set(b.values, a.values.length);
  const labels = new Int32Array(a.count + b.count);
  labels.set(a.labels);
  labels.set(b.labels, a.count);
  return { values, labels, count: a.count + b.count, shape: a.shape };
}

/** What `ganforge eval --metrics cas` scores. */
export interface CasRequest {
  /** A class-conditional run (folder or checkpoint), or a samples .npy with its labels in FILE.labels.npy. */
  target: string;
  /** The real test split: fashion-mnist:test or mnist:test (default: the run's data's, when it is one of them). */
  ref?: string;
  /** Generated images in all, split evenly over the classes (default 10,000). */
  count?: number;
  seed: number;
  /** Classifier steps (default CAS_CLASSIFIER.steps). */
  steps?: number;
  truncation?: number;
  log?: (line: string) => void;
}

/** The labelled references CAS can test on: each has a train split for the baseline and a test split. */
const CAS_REFERENCES = ['fashion-mnist:test', 'mnist:test'];

/**
 * `ganforge eval TARGET --metrics cas`: CAS of a run (its samples, class-balanced) or of a labelled .npy (as
 * `ganforge augment` writes), against the real-data baseline: the same classifier trained on as many real
 * training images of each class. One number per seed; the classifier, its budget and both sets are in the protocol.
 */
export async function casMetric(req: CasRequest): Promise<MetricResult> {
  const log = req.log ?? (() => {});
  const steps = req.steps ?? CAS_CLASSIFIER.steps;
  if (!Number.isInteger(steps) || steps < 1) throw new UserError(`--cas-steps must be a positive integer, got ${steps}`);
  const fromFile = req.target.toLowerCase().endsWith('.npy');
  if (fromFile && req.truncation !== undefined) throw new UserError(`--truncation samples a run's generator; ${req.target} is a samples file`);
  let synthetic: LabelledImages;
  let generated: string;
  let runData: { name: string; classNames?: string[] } | undefined;
  if (fromFile) {
    synthetic = await labelledNpy(req.target);
    generated = `${req.target} with labels ${labelsPath(req.target)}`;
  } else {
    const { nets, state, dir } = await loadSamplingNetworks(req.target);
    try {
      const family = getModel(state.config.model);
      const classNames = conditionalClasses(family, state.data, Object.values(MODELS), 'cas');
      const perClass = Math.floor((req.count ?? 10_000) / classNames.length);
      if (perClass < 1) throw new UserError(`--count ${req.count} is fewer than one image for each of ${classNames.length} classes`);
      log(`drawing ${perClass} images of each of ${classNames.length} classes from ${dir}`);
      synthetic = sampleLabelled(family, nets, { config: state.config, data: state.data }, classNames, { perClass, seed: req.seed, truncation: req.truncation });
      generated = `${dir} (${family.name}, step ${state.step}, ${perClass} of each class, latent seed ${req.seed}${req.truncation !== undefined ? `, truncation ψ ${req.truncation}` : ''})`;
      runData = { name: state.data.name, classNames: state.data.classNames };
    } finally {
      for (const [, model] of allNetworks(nets)) model.dispose();
    }
  }
  const refSpec = req.ref ?? (runData && CAS_REFERENCES.includes(`${runData.name}:test`) ? `${runData.name}:test` : undefined);
  const dataset = /^(fashion-mnist|mnist)(?::test)?$/.exec(refSpec ?? '')?.[1];
  if (!dataset) throw new UserError(`cas tests on a labelled real test split and trains its baseline on the same data's train split: --ref ${CAS_REFERENCES.join(' | ')}${refSpec ? ` (got '${refSpec}')` : ''}`);
  const test = (await loadData(dataset, { split: 'test' })) as ArraySource;
  const train = (await loadData(dataset, { split: 'train' })) as ArraySource;
  const classes = test.info.numClasses!;
  if (runData?.classNames && runData.classNames.join('\n') !== test.info.classNames?.join('\n')) {
    throw new UserError(`cas: the run's classes (${runData.classNames.join(', ')}) are not ${dataset}'s (${test.info.classNames?.join(', ')}); pass the --ref the run was trained on`);
  }
  if (synthetic.shape.join('×') !== test.info.shape.join('×')) throw new UserError(`cas: the generated images are ${synthetic.shape.join('×')} and ${dataset}'s ${test.info.shape.join('×')}; CAS's classifier takes 28×28×1`);
  const counts = new Array<number>(classes).fill(0);
  for (const y of synthetic.labels) {
    if (!(y >= 0 && y < classes)) throw new UserError(`cas: label ${y} is not a class of ${dataset} (0..${classes - 1})`);
    counts[y]++;
  }
  const realTrain = subsetByClass(train.values as Uint8Array, train.labels!, test.info.shape, counts, undefined, `${dataset}:train`);
  const testSet: LabelledImages = { values: toUnitRange(test.values as Uint8Array), labels: test.labels!, count: test.count, shape: test.info.shape };
  log(`training the CAS classifier (${steps} steps of ${CAS_CLASSIFIER.batchSize}) on ${synthetic.count} generated images, then on ${realTrain.count} real ones`);
  const r = classificationAccuracyScore(synthetic, realTrain, testSet, { seed: req.seed, steps, classes });
  const round = (xs: number[]) => xs.map((x) => Number(x.toFixed(4)));
  return {
    metric: 'cas',
    values: { cas: r.cas, realBaseline: r.baseline, casPerClass: round(r.casPerClass), baselinePerClass: round(r.baselinePerClass) },
    protocol: {
      reference: `${dataset}:test`, referenceCount: test.count, referenceSelection: 'all', referenceResize: 'none',
      generated, generatedCount: synthetic.count, generatedResize: 'none', seed: req.seed, backend: tf.getBackend(),
      protocol: `classifier ${CAS_CLASSIFIER.architecture}; ${CAS_CLASSIFIER.optimizer}; ${steps} steps of ${CAS_CLASSIFIER.batchSize}${steps !== CAS_CLASSIFIER.steps ? ` (CAS's default is ${CAS_CLASSIFIER.steps})` : ''}, seed ${req.seed}`,
      baseline: `the same classifier, seed and steps on ${dataset}:train, the first ${counts.every((c) => c === counts[0]) ? `${counts[0]} of each class` : `n_k of class k as generated`}`,
    } as unknown as MetricResult['protocol'], // no feature network: CAS's classifier is trained, and described in 'protocol'
  };
}

/** A samples .npy (uint8 0–255 or float32 in [-1, 1]) with int32 labels [N] beside it, as labelled images in [-1, 1]. */
async function labelledNpy(file: string): Promise<LabelledImages> {
  const set = samplesFromNpy(await readNpy(file), file);
  if (set.kind !== 'image') throw new UserError(`${file}: cas scores labelled images; this holds 2-D points`);
  const lf = labelsPath(file);
  if (!(await exists(lf))) throw new UserError(`cas needs the class of every image of ${file}: ${lf} (int32 [${set.n}], as ganforge augment writes) is missing`);
  const labels = await readNpy(lf);
  if (labels.dtype !== 'int32' || labels.shape.length !== 1 || labels.shape[0] !== set.n) {
    throw new UserError(`${lf}: labels must be int32 [${set.n}] (one per image of ${path.basename(file)}), got ${labels.dtype} [${labels.shape.join(', ')}]${labels.dtype !== 'int32' ? '; save them with labels.astype(numpy.int32)' : ''}`);
  }
  const values = set.values instanceof Uint8Array ? toUnitRange(set.values) : set.values;
  return { values, labels: labels.data as Int32Array, count: set.n, shape: [set.h, set.w, set.c] };
}
