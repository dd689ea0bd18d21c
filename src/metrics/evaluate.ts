import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { loadData, PLAIN_IMAGE_DATASETS } from '../data/registry.js';
import type { ArraySource, SequenceInfo } from '../data/types.js';
import { MIXTURES, mixtureSource } from '../data/toy2d.js';
import { loadSamplingNetworks } from '../gan/checkpoint.js';
import { allNetworks, type SampleResult } from '../gan/family.js';
import { sampleFamily } from '../gan/sampling.js';
import { getModel } from '../models/registry.js';
import { readNpy, type NpyArray } from '../io/npy.js';
import { Rng } from '../util/rng.js';
import { UserError, unknownChoice } from '../util/errors.js';
import { CLASSIFIER_DATASETS, type ClassifierDataset } from './classifier.js';
import { FeatureNetwork, loadClassifierNet, loadUserNet, type Embedding, type FeatureNetInfo, type ImageSet } from './features.js';
import { loadInceptionNet } from './inception.js';
import { parseMetrics, type MetricDef, type MetricInputs, type MetricOptions } from './registry.js';

/** A set to evaluate: images (uint8 0–255 or float32 in [-1, 1]), 2-D points, or sequences [n, t, f] in a run's scaled units. */
export type SampleSet =
  | ({ kind: 'image'; source: string } & ImageSet)
  | { kind: 'points'; source: string; values: Float32Array; n: number }
  | SequenceSet;

/** Sequences as a run saw them: scaled per feature (`unitRange`: to [0, 1], else standardised). */
export interface SequenceSet {
  kind: 'sequence';
  source: string;
  values: Float32Array;
  n: number;
  t: number;
  f: number;
  unitRange: boolean;
}

/** Everything that decides a number, printed and stored next to it. */
export interface Protocol {
  featureNet: string;
  featureLayer: string;
  featureDim: number;
  weightsSha256: string;
  reference: string;
  referenceCount: number;
  referenceSelection: string;
  referenceResize: string;
  generated: string;
  generatedCount: number;
  generatedResize: string;
  seed: number;
  backend: string;
  [key: string]: unknown;
}

export interface MetricResult {
  metric: string;
  values: Record<string, number | number[]>;
  protocol: Protocol;
}

const IMAGE_HINT = 'expected images as uint8 0–255 or float32 in [-1, 1], shaped [N, H, W, C] (C = 1 or 3) or [N, H, W], or 2-D points as float32 [N, 2]';

/**
 * Check a .npy array and turn it into a SampleSet; every problem is a UserError that says what to change.
 * `label` names the array in messages (the file name).
 */
export function samplesFromNpy(arr: NpyArray, label: string): SampleSet {
  const { shape, dtype } = arr;
  if (shape.length === 2) {
    if (shape[1] !== 2) throw new UserError(`${label}: shape [${shape.join(', ')}] is neither images nor 2-D points; ${IMAGE_HINT}`);
    if (dtype !== 'float32') throw new UserError(`${label}: 2-D points must be float32, got ${dtype}`);
    return { kind: 'points', source: label, values: arr.data as Float32Array, n: shape[0] };
  }
  if (shape.length !== 3 && shape.length !== 4) throw new UserError(`${label}: shape [${shape.join(', ')}] has ${shape.length} dimensions; ${IMAGE_HINT}`);
  const [n, h, w, c = 1] = shape;
  if (shape.length === 4 && c !== 1 && c !== 3) {
    const nchw = shape[1] === 1 || shape[1] === 3;
    throw new UserError(`${label}: shape [${shape.join(', ')}] has ${c} channels${nchw ? `; it looks channels-first (NCHW): transpose it to [N, H, W, C], e.g. x.transpose(0, 2, 3, 1)` : '; images need 1 or 3 channels'}`);
  }
  if (dtype === 'int32') throw new UserError(`${label}: int32 images are not accepted; ${IMAGE_HINT} (e.g. x.astype(numpy.uint8))`);
  if (dtype === 'float32') {
    const v = arr.data as Float32Array;
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (Number.isNaN(x)) throw new UserError(`${label}: contains NaN at index ${i}; the generator diverged or the file is corrupt`);
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    // A little slack for round-off on tanh outputs.
    if (lo < -1.001 || hi > 1.001) {
      throw new UserError(`${label}: float32 images must lie in [-1, 1] (the generator's tanh range), these span [${lo}, ${hi}]; ` +
        (hi > 1.5 ? 'for 0–255 pixel values save uint8 (x.astype(numpy.uint8))' : 'rescale them with x * 2 - 1 if they are in [0, 1]'));
    }
  }
  if (n === 0) throw new UserError(`${label}: holds no samples`);
  return { kind: 'image', source: label, values: arr.data as Uint8Array | Float32Array, n, h, w, c };
}

/** The first `count` of a set (or a UserError naming both numbers and the flag to change). */
function take(set: SampleSet, count: number, what: string, flag: string): SampleSet {
  if (set.n < count) throw new UserError(`${what} has ${set.n} samples, fewer than --count ${count}; lower --count to at most ${set.n}${flag}`);
  if (set.n === count) return set;
  const per = set.kind === 'image' ? set.h * set.w * set.c : set.kind === 'sequence' ? set.t * set.f : 2;
  return { ...set, n: count, values: set.values.subarray(0, count * per) } as SampleSet;
}

/**
 * The generated set: a .npy file, or `count` fresh samples from a run folder / checkpoint, latents seeded
 * with `seed`. Float32 generator output stays in [-1, 1] (no uint8 rounding) unless saved as uint8.
 */
export async function loadGenerated(target: string, count: number | undefined, seed: number, sampling: { truncation?: number } = {}): Promise<SampleSet> {
  if (target.toLowerCase().endsWith('.npy')) {
    if (sampling.truncation !== undefined) throw new UserError(`--truncation samples a run's generator; ${target} is a samples file`);
    const set = samplesFromNpy(await readNpy(target), target);
    return take(set, count ?? set.n, `samples file ${target}`, '');
  }
  const n = count ?? 10_000;
  const { nets, state, dir } = await loadSamplingNetworks(target);
  try {
    const result = sampleFamily(getModel(state.config.model), nets, { count: n, seed, truncation: sampling.truncation }, { config: state.config, data: state.data });
    const psi = sampling.truncation !== undefined ? `, truncation ψ ${sampling.truncation}` : '';
    return fromSamples(result, state.data.kind, `${dir} (step ${state.step}, latent seed ${seed}${psi})`, state.data.sequence);
  } finally {
    for (const [, model] of allNetworks(nets)) model.dispose();
  }
}

/**
 * A family's samples (sampleFamily) as a SampleSet (also used by training-time evaluation). Sequences stay in the
 * run's scaled units, which `sequence` (the run's SequenceInfo) describes.
 */
export function fromSamples(result: SampleResult, kind: 'image' | 'points' | 'sequence', source: string, sequence?: SequenceInfo): SampleSet {
  const { values, count: n } = result;
  if (kind === 'sequence') {
    if (!sequence) throw new Error(`fromSamples: ${source} holds sequences; pass the run's SequenceInfo`);
    const [t, f] = result.shape;
    return { kind, source, values, n, t, f, unitRange: sequence.scaling.kind !== 'standard' };
  }
  for (let i = 0; i < values.length; i++) values[i] = Math.min(1, Math.max(-1, values[i])); // tanh can round to ±1.0000001
  if (kind === 'points') return { kind, source, values, n };
  const [h, w, c] = result.shape;
  return { kind, source, values, n, h, w, c };
}

/** The accepted `--ref` forms. */
export const REFERENCE_SPECS = ['fashion-mnist:test', 'fashion-mnist:train', 'mnist:test', 'mnist:train', 'folder:PATH', 'FILE.npy', 'toy:ring8', 'toy:grid25', ...PLAIN_IMAGE_DATASETS];

/** Load the first `count` examples of the reference set named by `spec`. Returns the set and its canonical name. */
export async function loadReference(
  spec: string, count: number, seed: number, opts: { upTo?: boolean; imageSize?: number } = {},
): Promise<{ set: SampleSet; name: string; available: number | undefined; selection: string }> {
  // upTo: a smaller set is taken whole instead of refused (the default reference when --count was not given).
  // imageSize: a folder or named set decoded at this size (a run's own data, as it trained on it).
  const need = (available: number, name: string) => {
    if (opts.upTo) count = Math.min(count, available);
    if (available < count) throw new UserError(`reference ${name} has ${available} examples, fewer than --count ${count}; lower --count to at most ${available} or use a larger reference set`);
  };
  if (spec.toLowerCase().endsWith('.npy')) {
    const set = samplesFromNpy(await readNpy(spec), spec);
    need(set.n, spec);
    return { set: take(set, count, spec, ''), name: spec, available: set.n, selection: `first ${count} of ${set.n}` };
  }
  if (spec.startsWith('toy:')) {
    const m = MIXTURES[spec.slice(4) as keyof typeof MIXTURES];
    if (!m) throw unknownChoice('reference', spec, REFERENCE_SPECS);
    // Drawn with a seed distinct from the generator's latent seed, so a reference never shares its noise.
    const values = mixtureSource(m).sample(count, new Rng(seed ^ 0x7eface)).values;
    return { set: { kind: 'points', source: spec, values, n: count }, name: spec, available: undefined, selection: `${count} fresh draws, seed ${seed} ^ 0x7eface` };
  }
  let src: ArraySource;
  let name: string;
  const m = /^(fashion-mnist|mnist)(?::(train|test))?$/.exec(spec);
  if (m) {
    name = `${m[1]}:${m[2] ?? 'test'}`;
    src = (await loadData(m[1], { split: (m[2] ?? 'test') as 'train' | 'test' })) as ArraySource;
  } else if (spec.startsWith('folder:') || !spec.includes(':')) {
    // A folder, or any named image dataset (e.g. twemoji): its first `count` training examples.
    name = spec;
    const loaded = await loadData(spec, { limit: count, ...(opts.imageSize ? { imageSize: opts.imageSize } : {}) });
    if (loaded.kind === 'sampler' && loaded.info.kind === 'image' && !loaded.info.input) {
      // Random crops of photos: `count` fresh crops, drawn with a seed distinct from the generator's latent seed.
      const [h, w, c] = loaded.info.shape;
      const x = loaded.sample(count, new Rng(seed ^ 0x7eface)).values;
      loaded.close?.();
      const values = Uint8Array.from(x, (v) => Math.round((v + 1) * 127.5));
      return { set: { kind: 'image', source: spec, values, n: count, h, w, c }, name, available: undefined, selection: `${count} random crops, seed ${seed} ^ 0x7eface` };
    }
    if (loaded.kind !== 'array' || loaded.info.kind !== 'image' || loaded.info.input) throw new UserError(`--ref ${spec} is not a plain image dataset; use one of: ${REFERENCE_SPECS.join(', ')}`);
    src = loaded;
  } else {
    throw unknownChoice('reference', spec, REFERENCE_SPECS);
  }
  need(src.count, name);
  const [h, w, c] = src.info.shape;
  const values = (src.values as Uint8Array).subarray(0, count * h * w * c);
  return { set: { kind: 'image', source: name, values, n: count, h, w, c }, name, available: src.count, selection: `first ${count}${src.count !== count || m ? ` of ${src.count}` : ''}` };
}

/** The accepted `--net` names (besides a path to a TF.js layers model folder). */
export const NET_NAMES = [...CLASSIFIER_DATASETS, 'inception-v3'];

export interface NetChoice {
  /** 'fashion-mnist' | 'mnist' | 'inception-v3' | a model folder; default: by the data (see resolveNet). */
  net?: string;
  /** Layer to read from a user model. */
  layer?: string;
  /** Logits layer of a user model (enables is and classes). */
  logitsLayer?: string;
  /** Inception weights file (default $GANFORGE_INCEPTION_WEIGHTS). */
  inceptionWeights?: string;
}

/**
 * The feature network for image sets: the named one, or by default the shipped classifier for 28×28-style
 * grey data (MNIST's when the reference is MNIST, else Fashion-MNIST's), and for RGB Inception-v3 when its
 * weights are given (--inception-weights or $GANFORGE_INCEPTION_WEIGHTS), else the shipped CIFAR-10
 * classifier, which takes 32×32: other sizes are resized bilinearly, recorded as the protocol's resize.
 */
export async function resolveNet(choice: NetChoice, sample: { c: number }, reference: string): Promise<FeatureNetwork> {
  let net = choice.net;
  const haveInception = (choice.inceptionWeights ?? process.env.GANFORGE_INCEPTION_WEIGHTS) !== undefined;
  if (net === undefined) net = sample.c === 3 ? (haveInception ? 'inception-v3' : 'cifar10') : reference.startsWith('mnist') ? 'mnist' : 'fashion-mnist';
  if ((CLASSIFIER_DATASETS as readonly string[]).includes(net)) return loadClassifierNet(net as ClassifierDataset);
  if (net === 'inception-v3') {
    const weights = choice.inceptionWeights ?? process.env.GANFORGE_INCEPTION_WEIGHTS;
    if (!weights) {
      throw new UserError('Inception-v3 needs its weights: pass --inception-weights FILE or set GANFORGE_INCEPTION_WEIGHTS (README "Inception-v3" shows how to convert them), or use --net cifar10 (ganforge CIFAR-10 features, offline)');
    }
    return loadInceptionNet(weights);
  }
  if (existsSync(net)) {
    if (!choice.layer) throw new UserError(`--net ${net}: name the feature layer with --layer NAME`);
    return loadUserNet(net, choice.layer, choice.logitsLayer);
  }
  throw unknownChoice('feature network', net, [...NET_NAMES, 'PATH (a TF.js layers model folder)']);
}

export interface EvaluateOptions extends MetricOptions {
  metrics: string;
  seed?: number;
  /** The reference set's embedding in `net`, when the caller already has it (several generated sets, one reference). */
  realEmbedding?: Embedding;
}

/**
 * Compute the requested metrics of `fake` against `real` and attach the full protocol to each number.
 * Image sets are embedded once with `net`; 2-D points are compared by their coordinates.
 */
export function evaluateSets(fake: SampleSet, real: SampleSet, net: FeatureNetwork | undefined, ref: { name: string; selection: string }, opts: EvaluateOptions): MetricResult[] {
  const what = (s: SampleSet) => (s.kind === 'image' ? 'images' : s.kind === 'sequence' ? 'sequences' : '2-D points');
  if (fake.kind !== real.kind) {
    throw new UserError(`the generated set is ${what(fake)} and the reference ${ref.name} is ${what(real)}; pick a matching --ref`);
  }
  const defs: MetricDef[] = parseMetrics(opts.metrics, fake.kind);
  const seed = opts.seed ?? 0;
  let info: FeatureNetInfo | undefined;
  let realEmb: Embedding;
  let fakeEmb: Embedding;
  let dim: number;
  let sequence: MetricInputs['sequence'];
  if (fake.kind === 'sequence' && real.kind === 'sequence') {
    if (fake.t !== real.t || fake.f !== real.f) throw new UserError(`the generated sequences are [${fake.t}, ${fake.f}] (steps, features) and the reference ${ref.name}'s [${real.t}, ${real.f}]`);
    realEmb = { features: real.values, resize: 'none' };
    fakeEmb = { features: fake.values, resize: 'none' };
    dim = real.t * real.f;
    sequence = { t: real.t, f: real.f, unitRange: real.unitRange };
  } else if (fake.kind === 'image' && real.kind === 'image') {
    if (!net) throw new Error('evaluateSets: image sets need a feature network');
    info = net.info;
    for (const d of defs) {
      if (d.needs === 'logits' && !info.classes) throw new UserError(`metric '${d.name}' needs class logits and ${info.name} has none; pass --logits-layer NAME, or drop '${d.name}'`);
    }
    // Fail early, before minutes of embedding, when either set cannot be fed to the network.
    net.resizeFor(fake);
    net.resizeFor(real);
    if (opts.realEmbedding) realEmb = opts.realEmbedding;
    else {
      opts.onProgress?.(`embedding ${real.n} reference images with ${info.name}`);
      realEmb = net.embed(real);
    }
    opts.onProgress?.(`embedding ${fake.n} generated images with ${info.name}`);
    fakeEmb = net.embed(fake);
    dim = info.featureDim;
  } else {
    realEmb = { features: real.values as Float32Array, resize: 'none' };
    fakeEmb = { features: fake.values as Float32Array, resize: 'none' };
    dim = 2;
    if (defs.some((d) => d.name === 'modes') && !ref.name.startsWith('toy:')) {
      throw new UserError(`metric 'modes' needs --ref toy:ring8 or toy:grid25 (the mixture whose modes are counted), got ${ref.name}`);
    }
  }
  const protocol: Protocol = {
    featureNet: info?.name ?? (sequence ? 'none (sequence values)' : 'none (2-D coordinates)'),
    ...(sequence ? { values: `each sequence's ${sequence.t} steps × ${sequence.f} features in the run's ${sequence.unitRange ? '[0, 1]' : 'standardised'} scaled units` } : {}),
    ...(info?.caveat ? { features: info.caveat } : {}),
    featureLayer: info?.featureLayer ?? '-',
    featureDim: dim,
    weightsSha256: info?.weightsSha256 ?? '-',
    reference: ref.name,
    referenceCount: real.n,
    referenceSelection: ref.selection,
    referenceResize: realEmb.resize,
    generated: fake.source,
    generatedCount: fake.n,
    generatedResize: fakeEmb.resize,
    seed,
    backend: tf.getBackend(),
  };
  return defs.map((d) => {
    opts.onProgress?.(`computing ${d.name}`);
    const r = d.compute({ net: info, real: realEmb, fake: fakeEmb, nReal: real.n, nFake: fake.n, dim, reference: ref.name, seed, options: opts, sequence });
    return { metric: d.name, values: r.values, protocol: { ...protocol, ...r.settings } };
  });
}

/** One metric and its protocol as text lines for a terminal. */
export function formatResult(r: MetricResult): string {
  const fmt = (v: number | number[]) => (Array.isArray(v) ? `[${v.join(', ')}]` : Number.isInteger(v) ? String(v) : v.toPrecision(5));
  const v = r.values;
  // e.g. "FID (ganforge CIFAR-10 features, not Inception)": the caveat leads the line, where it is read.
  const name = r.protocol.features ? `${r.metric.toUpperCase()} (${String(r.protocol.features)})` : r.metric;
  const head = r.metric === 'kid' ? `${name} ${fmt(v.kid)} ± ${fmt(v.kidStd)}`
    : r.metric === 'is' ? `${name} ${fmt(v.is)} ± ${fmt(v.isStd)}`
    : r.metric === 'discriminative' ? `discriminative score ${fmt(v.discriminative)} ± ${fmt(v.discriminativeStd)} (accuracy ${fmt(v.accuracy)})`
    : r.metric === 'predictive' ? `predictive score ${fmt(v.predictive)} ± ${fmt(v.predictiveStd)}${v.realPredictive !== undefined ? ` (trained on real data: ${fmt(v.realPredictive)} ± ${fmt(v.realPredictiveStd)})` : ''}`
    : r.metric === 'mmd' ? `MMD² ${fmt(v.mmd)} ± ${fmt(v.mmdStd)} (σ² ${fmt(v.sigma2)})`
    : r.metric === 'cas' ? `CAS ${fmt(v.cas)} (real-data baseline ${fmt(v.realBaseline)}); per class ${fmt(v.casPerClass)} vs ${fmt(v.baselinePerClass)}`
    : `${name} ${Object.entries(v).map(([k, x]) => `${k}=${fmt(x)}`).join(' ')}`;
  const p = r.protocol;
  // A metric of the generator alone (ppl) has no feature network or reference lines.
  const seq = typeof p.values === 'string'; // sequences: compared as they are, never resized
  const resize = (how: unknown) => (seq ? '' : `, resize ${String(how)}`);
  const lines = [
    head,
    ...(seq ? [`  values     ${p.values as string}`]
      : p.featureNet !== undefined ? [`  network    ${p.featureNet} layer ${p.featureLayer} (${p.featureDim}-d), weights sha256 ${p.weightsSha256}`] : []),
    ...(p.reference !== undefined ? [`  reference  ${p.reference}, ${p.referenceCount} (${p.referenceSelection})${resize(p.referenceResize)}`] : []),
    p.generatedCount !== undefined ? `  generated  ${p.generated}, ${p.generatedCount}${resize(p.generatedResize)}` : `  generated  ${p.generated}`,
    `  seed ${p.seed}, backend ${p.backend}`,
  ];
  // A metric's protocol and repetitions each get a line of their own: they are sentences, not settings.
  for (const k of ['protocol', 'repeats', 'baseline']) if (typeof p[k] === 'string') lines.push(`  ${k.padEnd(10)} ${p[k] as string}`);
  const extra = Object.entries(p).filter(([k]) => !['featureNet', 'features', 'featureLayer', 'featureDim', 'weightsSha256', 'reference', 'referenceCount', 'referenceSelection', 'referenceResize', 'generated', 'generatedCount', 'generatedResize', 'seed', 'backend', 'protocol', 'repeats', 'baseline', 'values'].includes(k));
  if (extra.length) lines.push(`  settings   ${extra.map(([k, x]) => `${k}: ${typeof x === 'string' ? x : JSON.stringify(x)}`).join('; ')}`);
  return lines.join('\n');
}


