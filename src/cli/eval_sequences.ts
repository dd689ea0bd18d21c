import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { UserError } from '../util/errors.js';
import { parseMetrics } from '../metrics/registry.js';
import { evaluateSets, formatResult, fromSamples, type SampleSet } from '../metrics/evaluate.js';
import { sequenceReference, unitRange, type SequenceReference } from '../metrics/timeseries/reference.js';
import { writeSequenceFigures } from '../metrics/sequence_embedding.js';
import { loadSamplingNetworks, readCheckpointState, resolveCheckpoint, type CheckpointState } from '../gan/checkpoint.js';
import { allNetworks, conditionOf } from '../gan/family.js';
import { sampleFamily } from '../gan/sampling.js';
import { getModel } from '../models/registry.js';
import { rescale } from '../data/sequences.js';
import { readNpy } from '../io/npy.js';
import type { DatasetInfo } from '../data/types.js';

/** The `ganforge eval` options a sequence evaluation reads. */
export interface SequenceEvalOptions {
  metrics: string;
  ref?: string;
  count?: number;
  seed: number;
  json?: boolean;
  repeats?: number;
  discriminativeIterations?: number;
  predictiveIterations?: number;
  mmdSubset?: number;
  /** The folder of the PCA and t-SNE figures (default: a run's figures/; none for a samples file). */
  figures?: string;
}

type Log = (line: string) => void;

/** The metrics asked for ('fid', the flag's default, means every time-series metric here), with the numeric flags checked. */
function sequenceMetrics(opts: SequenceEvalOptions): string {
  const metrics = opts.metrics === 'fid' ? 'all' : opts.metrics;
  parseMetrics(metrics, 'sequence');
  for (const [flag, v] of [['--repeats', opts.repeats], ['--discriminative-iterations', opts.discriminativeIterations], ['--predictive-iterations', opts.predictiveIterations], ['--mmd-subset', opts.mmdSubset]] as const) {
    if (v !== undefined && v < (flag === '--mmd-subset' ? 2 : 1)) throw new UserError(`${flag} must be at least ${flag === '--mmd-subset' ? 2 : 1}, got ${v}`);
  }
  return metrics;
}

/** Scores `fake` against `ref` with the time-series metrics, prints each with its protocol, and draws the figures into `figures` when given. */
async function scoreSequences(fake: SampleSet, ref: SequenceReference, data: DatasetInfo, metrics: string, opts: SequenceEvalOptions, log: Log, figures: string | undefined): Promise<void> {
  const real: SampleSet = { kind: 'sequence', source: ref.name, values: ref.values, n: ref.n, t: ref.t, f: ref.f, unitRange: unitRange(data.sequence!) };
  const results = evaluateSets(fake, real, undefined, { name: ref.name, selection: ref.selection }, {
    metrics, seed: opts.seed, repeats: opts.repeats, discriminativeIterations: opts.discriminativeIterations, predictiveIterations: opts.predictiveIterations, mmdSubset: opts.mmdSubset, onProgress: log,
  });
  for (const r of results) process.stdout.write(opts.json ? JSON.stringify(r) + '\n' : formatResult(r) + '\n');
  if (figures === undefined) return;
  // The TimeGAN paper's figure: PCA and t-SNE of real vs synthetic.
  const files = await writeSequenceFigures(figures, ref.values, fake.values as Float32Array, data, { seed: opts.seed });
  log(`PCA and t-SNE of ${Math.min(ref.n, 1000)} real vs ${Math.min(fake.n, 1000)} synthetic sequences → ${files.join(', ')}`);
}

/**
 * A sequence run: --count sequences drawn from its generator against as many real ones — the data's test split,
 * or its training data when it has none (--ref train|test chooses), in the run's scaled units — scored by the
 * time-series metrics (default all: discriminative, predictive, mmd), each with its protocol and repetitions.
 */
export async function evalSequenceRun(target: string, opts: SequenceEvalOptions, log: Log): Promise<void> {
  const metrics = sequenceMetrics(opts);
  if (opts.ref !== undefined && opts.ref !== 'train' && opts.ref !== 'test') throw new UserError(`--ref ${opts.ref}: a sequence run is scored against its own data's test split or training data: --ref test (the default, the training data when there is no test split) or --ref train`);
  const { nets, state, dir } = await loadSamplingNetworks(target);
  try {
    const family = getModel(state.config.model);
    const ref = await sequenceReference(state.config, state.data, { split: opts.ref as 'train' | 'test' | undefined, count: opts.count, seed: opts.seed });
    log(`reference: ${ref.n} sequences of ${ref.name} (${ref.selection}); drawing as many from ${dir}`);
    // A class-conditional run draws its sequences in the reference's class mix, one class per reference row.
    const classes = conditionOf(family, state.data) === 'class' ? ref.labels : undefined;
    if (classes) log(`classes: as the reference's (${classMix(classes, state.data.classNames)})`);
    const drawn = sampleFamily(family, nets, { count: ref.n, seed: opts.seed, ...(classes ? { classes } : {}) }, { config: state.config, data: state.data });
    const fake = fromSamples(drawn, 'sequence', `${dir} (${family.name}, step ${state.step}, latent seed ${opts.seed}${classes ? ", the reference's classes" : ''})`, state.data.sequence);
    // The figures go beside the run's checkpoints unless --figures says otherwise.
    await scoreSequences(fake, ref, state.data, metrics, opts, log, opts.figures ?? path.join(path.dirname(path.dirname(path.resolve(dir))), 'figures'));
  } finally {
    for (const [, model] of allNetworks(nets)) model.dispose();
  }
}

/** "slow 80, fast 20": how many of `labels` fall in each class, by name where the data names them. */
function classMix(labels: Int32Array, names: string[] | undefined): string {
  const counts = new Map<number, number>();
  for (const c of labels) counts.set(c, (counts.get(c) ?? 0) + 1);
  return [...counts].sort(([a], [b]) => a - b).map(([c, n]) => `${names?.[c] ?? c} ${n}`).join(', ');
}

/** A sequence run's checkpoint folder and state. */
export interface SequenceRunRef {
  dir: string;
  state: CheckpointState;
}

/**
 * The run `eval TARGET --ref REF` scores a samples file of sequences against — TARGET a .npy, REF a sequence run — or
 * undefined when that is not the case (the image path then says what --ref takes).
 */
export async function sequenceSamplesRun(target: string, ref: string | undefined): Promise<SequenceRunRef | undefined> {
  if (path.extname(target).toLowerCase() !== '.npy' || ref === undefined) return undefined;
  if (!(await fs.stat(ref).then((s) => s.isDirectory(), () => false))) return undefined;
  try {
    const dir = await resolveCheckpoint(ref);
    const state = await readCheckpointState(dir);
    return state.data.kind === 'sequence' ? { dir, state } : undefined;
  } catch (e) {
    if (e instanceof UserError) return undefined; // not a run
    throw e;
  }
}

/**
 * `eval x.npy --ref RUN`: sequences from anywhere — `ganforge sample RUN --out x.npy`, post-processed, or another
 * tool's — scored against RUN's data as RUN itself would be: float32 [N, T, F] in the data's original units (what
 * `sample --out x.npy` writes), put into the run's scaled units with its saved scaling, against the run's
 * reference (its data's test split, else its training data; --count of them, default as many as the file holds).
 */
export async function evalSequenceSamples(file: string, run: SequenceRunRef, opts: SequenceEvalOptions, log: Log): Promise<void> {
  const metrics = sequenceMetrics(opts);
  const { dir, state } = run;
  const [t, f] = state.data.shape;
  const seq = state.data.sequence!;
  const arr = await readNpy(file);
  const runShape = `[N, ${t}, ${f}] (${t} steps of ${seq.features.join(', ')})`;
  if (arr.shape.length !== 3 || arr.shape[1] !== t || arr.shape[2] !== f) {
    throw new UserError(`${file}: shape [${arr.shape.join(', ')}]; ${opts.ref}'s sequences are ${runShape}, as \`ganforge sample ${opts.ref} --out x.npy\` writes them`);
  }
  if (arr.dtype !== 'float32') throw new UserError(`${file}: sequences must be float32 in the data's original units, got ${arr.dtype}`);
  const available = arr.shape[0];
  const n = opts.count ?? available;
  if (n > available) throw new UserError(`--count ${n}: ${file} holds ${available} sequences; lower --count to at most ${available}`);
  const values = Float32Array.from((arr.data as Float32Array).subarray(0, n * t * f));
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new UserError(`${file}: sequence ${Math.floor(bad / (t * f))} holds ${values[bad]} at step ${Math.floor(bad / f) % t}, feature ${seq.features[bad % f]}; the file is corrupt or its generator diverged`);
  rescale(values, seq.scaling);
  const ref = await sequenceReference(state.config, state.data, { count: n, seed: opts.seed });
  log(`reference: ${ref.n} sequences of ${ref.name} (${ref.selection}); ${n} of ${available} from ${file}, in ${dir}'s scaled units`);
  const fake = fromSamples({ values, count: n, shape: [t, f] }, 'sequence', `samples file ${file} (first ${n}, original units scaled as ${dir})`, seq);
  await scoreSequences(fake, ref, state.data, metrics, opts, log, opts.figures);
}
