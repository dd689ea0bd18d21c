import type { DatasetInfo } from '../data/types.js';
import type { RunConfig } from './config.js';
import { DEFAULT_DATA_KINDS, conditionOf, type GanFamily, type GanNetworks } from './family.js';
import { sampleFamily } from './sampling.js';
import { mixSeed } from '../util/rng.js';
import { UserError } from '../util/errors.js';

/** One class's share of a labelled synthetic set: `count` images [count, ...shape] in [-1, 1], all of class `label`. */
export interface ClassSamples {
  label: number;
  name: string;
  values: Float32Array;
  count: number;
  shape: number[];
}

/** Labelled synthetic images in [-1, 1], class by class: [count, ...shape] with one int32 label per image. */
export interface LabelledSamples {
  values: Float32Array;
  labels: Int32Array;
  count: number;
  /** [H, W, C] */
  shape: number[];
  classNames: string[];
}

export interface LabelledRequest {
  /** Images of each class. */
  perClass: number;
  /** Seeds every class's latents (class k draws from mixSeed(seed, k), so adding classes or images keeps the others). */
  seed: number;
  /** The truncation trick's ψ, for a family that declares one. */
  truncation?: number;
}

/**
 * The class names of a run whose generator takes a class (its family's condition on its data is 'class'), or a
 * UserError that names the families which would: what `augment` and CAS need before anything is drawn.
 */
export function conditionalClasses(family: GanFamily, data: DatasetInfo, families: readonly GanFamily[], what: string): string[] {
  const condition = conditionOf(family, data);
  if (condition !== 'class' || !data.numClasses) {
    // Image families that always take the class first (those with an optional class need labelled data to use it).
    const conditional = families.filter((f) => f.condition === 'class' && (f.dataKinds ?? DEFAULT_DATA_KINDS).includes('image'))
      .sort((a, b) => Number(a.optionalCondition ?? false) - Number(b.optionalCondition ?? false)).map((f) => f.name);
    const why = family.condition === 'class' ? `its data (${data.name}) has no class labels, so it was trained unconditionally` : `its condition is '${condition}', not a class`;
    throw new UserError(`${what} needs a class-conditional run, and this ${family.name} run is not one (${why}); train a class-conditional family on labelled data, e.g. ganforge train ${conditional.slice(0, 2).join(' or ') || 'cgan'} --data fashion-mnist (class-conditional families: ${conditional.join(', ')})`);
  }
  if (data.kind !== 'image') throw new UserError(`${what} writes and scores labelled images; this ${family.name} run's data (${data.name}) is ${data.kind === 'points' ? '2-D points' : 'sequences'}: use ganforge sample --class K for it`);
  return data.classNames ?? Array.from({ length: data.numClasses }, (_, k) => String(k));
}

/**
 * `perClass` images of each class of a class-conditional run, one class at a time, each drawn through the family's
 * own sampling with `class: k` (so a family's `sample` decides what a class means) from its own seed. Callers
 * that write files consume the classes as they come and never hold the whole set.
 */
export function* classSamples(family: GanFamily, nets: GanNetworks, run: { config: RunConfig; data: DatasetInfo }, classNames: readonly string[], request: LabelledRequest): Generator<ClassSamples> {
  checkPerClass(request.perClass);
  for (let k = 0; k < classNames.length; k++) {
    const r = sampleFamily(family, nets, { count: request.perClass, seed: mixSeed(request.seed, k) % 2147483647, class: k, truncation: request.truncation }, run);
    if (r.count !== request.perClass) throw new Error(`${family.name}: asked for ${request.perClass} samples of class ${k}, got ${r.count}`);
    yield { label: k, name: classNames[k], values: r.values, count: r.count, shape: r.shape };
  }
}

/** Every class's samples in one set (class 0's first), for a classifier to train on. */
export function sampleLabelled(family: GanFamily, nets: GanNetworks, run: { config: RunConfig; data: DatasetInfo }, classNames: readonly string[], request: LabelledRequest): LabelledSamples {
  const parts = [...classSamples(family, nets, run, classNames, request)];
  const shape = parts[0].shape;
  const size = shape.reduce((a, b) => a * b, 1);
  const count = parts.length * request.perClass;
  const values = new Float32Array(count * size);
  const labels = new Int32Array(count);
  parts.forEach((p, i) => {
    values.set(p.values, i * request.perClass * size);
    labels.fill(p.label, i * request.perClass, (i + 1) * request.perClass);
  });
  return { values, labels, count, shape, classNames: [...classNames] };
}

/** `--per-class N`: a positive integer. */
export function checkPerClass(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new UserError(`--per-class must be a positive integer (images of each class), got ${n}`);
}

/** Where x.npy's labels go: x.labels.npy beside it (`augment` writes them there, CAS reads them there). */
export function labelsPath(npy: string): string {
  return npy.replace(/\.npy$/i, '.labels.npy');
}
