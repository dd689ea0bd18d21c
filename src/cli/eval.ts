import type { Command } from 'commander';
import { initBackend } from '../backend/index.js';
import { UserError } from '../util/errors.js';
import { METRIC_NAMES, SEQUENCE_METRIC_NAMES } from '../metrics/registry.js';
import { NET_NAMES, REFERENCE_SPECS, evaluateSets, formatResult, loadGenerated, loadReference, resolveNet, type MetricResult, type SampleSet } from '../metrics/evaluate.js';
import { evalSequenceRun, evalSequenceSamples, sequenceSamplesRun } from './eval_sequences.js';
import { parseNumber } from './options.js';
import { parsePsiList, pplMetric, truncationCurve } from './style_tools.js';
import { scoreTranslator, translatorTestSet, TRANSLATOR_METRICS, qualityProtocolOf } from '../metrics/translator_eval.js';
import { loadSamplingNetworks, readCheckpointState, resolveCheckpoint } from '../gan/checkpoint.js';
import { allNetworks, conditionOf } from '../gan/family.js';
import { TEXT_ENCODER } from '../text/encoders.js';
import { TEXT_METRICS, scoreTextRun, textTestSet } from '../metrics/text_eval.js';
import { sampleFamily } from '../gan/sampling.js';
import { CAS_CLASSIFIER, casMetric } from '../metrics/cas.js';
import { getModel } from '../models/registry.js';
import { exists } from '../util/fs.js';
import { defaultEvalRef } from '../training_eval.js';
import * as path from 'node:path';

export interface EvalCliOptions {
  metrics: string;
  ref?: string;
  direction?: 'AtoB' | 'BtoA';
  count?: number;
  seed: number;
  net?: string;
  layer?: string;
  logitsLayer?: string;
  inceptionWeights?: string;
  kidSubsets?: number;
  kidSubsetSize?: number;
  splits?: number;
  k?: number;
  json?: boolean;
  backend?: string;
  truncation?: number;
  truncationCurve?: string;
  plot?: string;
  pplSpace?: string;
  pplSampling?: string;
  class?: number;
  rEncoders?: string;
  repeats?: number;
  discriminativeIterations?: number;
  predictiveIterations?: number;
  mmdSubset?: number;
  /** Sequence runs: the folder of the PCA and t-SNE figures (default: the run's figures/). */
  figures?: string;
  /** cas: the classifier's training steps. */
  casSteps?: number;
}

/**
 * `ganforge eval TARGET --metrics … --ref …`: every number is printed with what produced it (network and
 * weights hash, reference set and count, generated count, resize method, seed), so two tools' numbers can
 * be compared line by line. --json prints one JSON object per metric instead.
 */
export async function evalCommand(target: string, opts: EvalCliOptions): Promise<void> {
  if (opts.count !== undefined && (!Number.isInteger(opts.count) || opts.count < 2)) throw new UserError(`--count must be an integer ≥ 2, got ${opts.count}`);
  await initBackend({ prefer: opts.backend, quiet: true }); // validates the name
  const log = (line: string) => { if (!opts.json) process.stderr.write(`ganforge: ${line}\n`); };
  const condition = await runCondition(target);
  if (condition === 'sequence-data') return evalSequenceRun(target, opts, log);
  const samplesOf = await sequenceSamplesRun(target, opts.ref);
  if (samplesOf) return evalSequenceSamples(target, samplesOf, opts, log);
  if (condition === 'image') return evalTranslator(target, opts);
  if (condition === 'text') return evalTextRun(target, opts, log);
  if (opts.plot !== undefined && opts.truncationCurve === undefined) throw new UserError('--plot goes with --truncation-curve');
  if (opts.truncationCurve !== undefined) return evalTruncationCurve(target, opts, log);
  // PPL reads the generator's latent space, not a sample set: it needs no reference.
  const metrics = opts.metrics.split(',').map((m) => m.trim());
  const print = (r: MetricResult) => process.stdout.write(opts.json ? JSON.stringify(r) + '\n' : formatResult(r) + '\n');
  if (metrics.includes('ppl')) {
    log('computing ppl');
    print(await pplMetric(target, opts));
    if (metrics.length === 1) return;
    opts = { ...opts, metrics: metrics.filter((m) => m !== 'ppl').join(',') };
  }
  // CAS trains a classifier on the run's labelled samples: it reads the run (or a labelled .npy), not a sample set.
  if (metrics.includes('cas')) {
    print(await casMetric({ target, ref: opts.ref, count: opts.count, seed: opts.seed, steps: opts.casSteps, truncation: opts.truncation, log }));
    const rest = opts.metrics.split(',').map((m) => m.trim()).filter((m) => m !== 'cas');
    if (rest.length === 0) return;
    opts = { ...opts, metrics: rest.join(',') };
  } else if (opts.casSteps !== undefined) throw new UserError('--cas-steps goes with --metrics cas');
  let fake: SampleSet;
  let ref: Awaited<ReturnType<typeof loadReference>>;
  if (opts.ref === undefined) {
    // The run's own data (its test split where it has one), whole when smaller than the default count.
    const own = await ownReference(target);
    log(`--ref defaults to the run's data: ${own.spec} (pass --ref to compare with another set)`);
    ref = await loadReference(own.spec, opts.count ?? 10_000, opts.seed, { upTo: opts.count === undefined, imageSize: own.imageSize });
    fake = await loadGenerated(target, ref.set.n, opts.seed, { truncation: opts.truncation });
  } else {
    fake = await loadGenerated(target, opts.count, opts.seed, { truncation: opts.truncation });
    ref = await loadReference(opts.ref, fake.n, opts.seed);
  }
  const net = fake.kind === 'image' ? await resolveNet({ net: opts.net, layer: opts.layer, logitsLayer: opts.logitsLayer, inceptionWeights: opts.inceptionWeights }, fake, ref.name) : undefined;
  try {
    const results = evaluateSets(fake, ref.set, net, ref, {
      metrics: opts.metrics, seed: opts.seed, kidSubsets: opts.kidSubsets, kidSubsetSize: opts.kidSubsetSize, isSplits: opts.splits, k: opts.k, onProgress: log,
    });
    for (const r of results) print(r);
  } finally {
    net?.dispose();
  }
}

/** The reference a run is scored against when --ref is not given: its training data (test split where there is one). */
async function ownReference(target: string): Promise<{ spec: string; imageSize?: number }> {
  const refuse = (why: string) => new UserError(`--ref is required${why}: the reference set to compare with (${REFERENCE_SPECS.join(' | ')})`);
  if (path.extname(target).toLowerCase() === '.npy' || !(await exists(target))) throw refuse('');
  const { data, config } = await readCheckpointState(await resolveCheckpoint(target));
  const spec = defaultEvalRef(data.name);
  const plain = data.kind === 'points' ? spec.startsWith('toy:') : data.kind === 'image' && !data.input && !data.text;
  if (!plain) throw refuse(` (the run's data ${data.name} is not a reference set of its own)`);
  return { spec, ...(config.imageSize > 0 ? { imageSize: config.imageSize } : {}) };
}

/** `eval RUN --truncation-curve 0.2,…,1 --ref R --plot FILE.png`: precision and recall at each ψ. */
async function evalTruncationCurve(target: string, opts: EvalCliOptions, log: (line: string) => void): Promise<void> {
  if (opts.plot === undefined || !opts.plot.toLowerCase().endsWith('.png')) throw new UserError('--truncation-curve needs --plot FILE.png (the numbers go beside it as FILE.json)');
  if (path.extname(target).toLowerCase() === '.npy') throw new UserError(`--truncation-curve samples a run's generator; ${target} is a samples file`);
  const { config, data } = await readCheckpointState(await resolveCheckpoint(target));
  const psis = parsePsiList(opts.truncationCurve!, getModel(config.model));
  if (data.kind !== 'image') throw new UserError('--truncation-curve needs an image generator');
  const own = opts.ref === undefined ? await ownReference(target) : undefined;
  const ref = await loadReference(opts.ref ?? own!.spec, opts.count ?? 10_000, opts.seed, { upTo: opts.count === undefined, imageSize: own?.imageSize });
  if (ref.set.kind !== 'image') throw new UserError(`--truncation-curve compares images; the reference ${ref.name} is 2-D points`);
  const net = await resolveNet({ net: opts.net, layer: opts.layer, logitsLayer: opts.logitsLayer, inceptionWeights: opts.inceptionWeights }, { c: data.shape[2] }, ref.name);
  try {
    const points = await truncationCurve(target, psis, ref, net, { count: opts.count, seed: opts.seed, k: opts.k, plot: opts.plot, log });
    for (const p of points) process.stdout.write(opts.json ? JSON.stringify(p) + '\n' : `ψ ${p.psi}: precision ${p.precision.toFixed(4)} recall ${p.recall.toFixed(4)} density ${p.density.toFixed(4)} coverage ${p.coverage.toFixed(4)}\n`);
    log(`wrote ${opts.plot} and its .json (network ${net.info.name}, reference ${ref.name})`);
  } finally {
    net.dispose();
  }
}

/**
 * How a run (or checkpoint) is scored: 'sequence-data' for a run on sequences (whatever its condition), else the
 * condition its family consumes on its data; undefined for a samples file or nothing there.
 */
async function runCondition(target: string): Promise<string | undefined> {
  if (path.extname(target).toLowerCase() === '.npy' || !(await exists(target))) return undefined;
  const state = await readCheckpointState(await resolveCheckpoint(target));
  if (state.data.kind === 'sequence') return 'sequence-data';
  return conditionOf(getModel(state.config.model), state.data);
}

/**
 * A text-to-image run: images drawn for captions of its data's test split, scored by FID against those images,
 * R-precision with evaluation encoders trained apart from the run's (--r-encoders DIR, or trained once and
 * cached), and on captions:fashion-mnist the classifier's agreement with the class word and the attribute gaps.
 */
async function evalTextRun(target: string, opts: EvalCliOptions, log: (line: string) => void): Promise<void> {
  const { nets, state } = await loadSamplingNetworks(target);
  try {
    const family = getModel(state.config.model);
    // 'all': FID, R-precision, and agreement where the data's sentences carry what it checks.
    const all = ['fid', 'r-precision', ...(state.config.data === 'captions:fashion-mnist' ? ['agreement'] : [])];
    const metrics = opts.metrics === 'all' ? all : opts.metrics.split(',').map((m) => m.trim());
    const set = await textTestSet(state.config, state.data, opts.count ?? 1000, opts.seed);
    for (const notice of set.notices) log(notice);
    const run = { config: state.config, data: state.data, modelEncoder: nets.extra?.[TEXT_ENCODER] };
    const { scores, protocol } = await scoreTextRun((r) => sampleFamily(family, nets, r, run), set, metrics, run, { seed: opts.seed, rEncoders: opts.rEncoders, log });
    const lines = { model: family.name, step: String(state.step), ...protocol };
    if (opts.json) process.stdout.write(JSON.stringify({ scores, protocol: lines }) + '\n');
    else {
      for (const [k, v] of Object.entries(scores)) process.stdout.write(`${k.padEnd(26)} ${v.toPrecision(5)}\n`);
      for (const [k, v] of Object.entries(lines)) process.stdout.write(`protocol  ${k}: ${v}\n`);
    }
  } finally {
    for (const [, model] of allNetworks(nets)) model.dispose();
  }
}

/**
 * A translator run: its outputs on the test split of its data (or of --ref, a translation data spec) against
 * the targets — L1, PSNR, SSIM (on [-1, 1], data range 2), FID of outputs vs targets, and for MNIST or
 * Fashion-MNIST targets the shipped classifier's accuracy on the outputs.
 */
async function evalTranslator(target: string, opts: EvalCliOptions): Promise<void> {
  const { nets, state } = await loadSamplingNetworks(target);
  try {
    const family = getModel(state.config.model);
    // --direction BtoA scores F: B → A, so the test inputs are B and the targets A (the data's domains swapped).
    const swap = opts.direction === 'BtoA';
    if (swap && !(family.directions ?? []).includes('BtoA')) throw new UserError(`--direction BtoA: ${family.name} translates A → B only`);
    const config = { ...state.config, ...(opts.ref ? { data: opts.ref } : {}), ...(swap ? { direction: state.config.direction === 'BtoA' ? 'AtoB' : 'BtoA' } : {}) } as typeof state.config;
    const set = await translatorTestSet(config, opts.count ?? 1000);
    const holes = set.inputs.shape[3] === set.targets.shape[3] + 1 ? ['hole-l1', 'hole-psnr'] : []; // masked: data
    const metrics = opts.metrics === 'fid' ? ['l1', 'psnr', 'ssim', ...holes, 'fid', ...(set.classifier ? ['accuracy'] : [])] : opts.metrics === 'all' ? [...TRANSLATOR_METRICS] : opts.metrics.split(',').map((m) => m.trim());
    const scores = await scoreTranslator((r) => sampleFamily(family, nets, r, { config: state.config, data: state.data }), set, metrics, { seed: opts.seed, direction: opts.direction });
    const quality = qualityProtocolOf(set);
    set.inputs.dispose();
    set.targets.dispose();
    const protocol = { model: family.name, step: state.step, testSet: set.name, l1: '[-1, 1]', psnr: quality.psnr, ssim: quality.ssim, fidNet: set.classifier ?? `by channels (${state.data.shape[2]})` };
    if (opts.json) process.stdout.write(JSON.stringify({ scores, protocol }) + '\n');
    else {
      for (const [k, v] of Object.entries(scores)) process.stdout.write(`${k.padEnd(9)} ${v.toPrecision(5)}\n`);
      process.stdout.write(`protocol  ${Object.entries(protocol).map(([k, v]) => `${k}: ${v}`).join('; ')}\n`);
    }
  } finally {
    for (const [, model] of allNetworks(nets)) model.dispose();
  }
}

/** Adds the `eval` command to the CLI program. */
export function registerEvalCommand(program: Command, int: (flag: string) => (v: string) => number): void {
  program
    .command('eval')
    .description('evaluate a generator or a samples file against a reference set; prints each metric with its protocol')
    .argument('<target>', 'a run folder (newest checkpoint), a checkpoint folder, or a samples .npy (uint8 0–255 or float32 in [-1, 1])')
    .option('--metrics <list>', `comma-separated: ${METRIC_NAMES.filter((m) => !SEQUENCE_METRIC_NAMES.includes(m)).join(', ')}, ppl (stylegan2: perceptual path length, no --ref), cas (class-conditional runs or a labelled .npy: classification accuracy score against fashion-mnist:test or mnist:test, with its real-data baseline), or all (without ppl and cas); sequence runs: ${SEQUENCE_METRIC_NAMES.join(', ')} or all (the default); translator runs: ${TRANSLATOR_METRICS.join(', ')} (default l1,psnr,ssim,fid and accuracy where a classifier fits); text-to-image runs: ${TEXT_METRICS.join(', ')} or all`, 'fid')
    .option('--ref <spec>', `reference set: ${REFERENCE_SPECS.join(' | ')}; translator runs: a translation data spec whose test split to score on (default: the run's data); sequence runs: test (default; the training data when there is no test split) or train; a sequence samples file (x.npy, float32 [N, T, F] in original units): the run whose data and scaling it is scored in`)
    .option('--direction <AtoB|BtoA>', 'translator runs with two generators (cyclegan): which way to score')
    .option('--count <n>', 'samples of each set (default: all of a .npy, 10000 generated; sequence runs: every real sequence, at most 10000, and as many generated)', int('--count'))
    .option('--repeats <k>', 'sequence runs: repetitions of each metric with fresh seeds, reported as mean ± std (default 5; TimeGAN used 10)', int('--repeats'))
    .option('--discriminative-iterations <n>', "sequence runs: training steps of the discriminative score's GRU classifier (default 2000, TimeGAN's)", int('--discriminative-iterations'))
    .option('--predictive-iterations <n>', "sequence runs: training steps of the predictive score's GRU (default 5000, TimeGAN's)", int('--predictive-iterations'))
    .option('--figures <dir>', "sequence runs: where the PCA and t-SNE figures of real vs synthetic go (default: the run's figures/ folder)")
    .option('--mmd-subset <n>', 'sequence runs: sequences per side in each MMD² repetition (default 1000)', int('--mmd-subset'))
    .option('--seed <n>', 'seed for generated latents and KID subsets', int('--seed'), 0)
    .option('--net <name>', `feature network: ${NET_NAMES.join(' | ')} | PATH to a TF.js layers model (default: by data)`)
    .option('--layer <name>', 'feature layer of a --net PATH model')
    .option('--logits-layer <name>', 'logits layer of a --net PATH model (enables is, classes)')
    .option('--inception-weights <file>', 'Inception-v3 weights file (default $GANFORGE_INCEPTION_WEIGHTS)')
    .option('--kid-subsets <n>', 'KID: number of subsets', int('--kid-subsets'))
    .option('--kid-subset-size <n>', 'KID: examples per subset (default min(1000, count))', int('--kid-subset-size'))
    .option('--splits <n>', 'IS: number of splits (default 10)', int('--splits'))
    .option('--k <n>', 'precision/recall/density/coverage: k of the k-NN balls (default 5)', int('--k'))
    .option('--cas-steps <n>', `cas: training steps of the classifier, batch ${CAS_CLASSIFIER.batchSize} (default ${CAS_CLASSIFIER.steps})`, int('--cas-steps'))
    .option('--truncation <psi>', 'score samples drawn with the truncation trick at ψ in (0, 1] (stylegan2, biggan)', parseNumber('--truncation', false))
    .option('--truncation-curve <list>', 'precision/recall at each ψ of a comma list (e.g. 0.2,0.4,0.6,0.8,1) against --ref; needs --plot')
    .option('--plot <file.png>', 'with --truncation-curve: the chart (and FILE.json with the numbers)')
    .option('--ppl-space <w|z>', 'ppl: interpolate in W (lerp, default) or Z (slerp)')
    .option('--ppl-sampling <end|full>', 'ppl: t = 0 (end, default) or t ~ U[0, 1] (full)')
    .option('--class <k>', 'ppl of a class-conditional run: the class the pairs are drawn in (default 0)', int('--class'))
    .option('--r-encoders <dir>', "text runs, r-precision: the evaluation text-image encoders (a 'ganforge text-encoder' folder trained apart from the run's own; default: trained once on the run's data with seed 1 and cached)")
    .option('--json', 'one JSON object per metric')
    .option('--backend <name>', 'tensor backend: auto | aten | cpu (env GANFORGE_BACKEND)')
    .action((target: string, opts: EvalCliOptions) => evalCommand(target, opts));
}
