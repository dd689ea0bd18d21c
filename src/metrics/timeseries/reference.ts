import { loadData } from '../../data/registry.js';
import { convertScaling } from '../../data/sequences.js';
import type { ArraySource, DatasetInfo, SequenceInfo } from '../../data/types.js';
import { sequenceInfoOf } from '../../gan/sampling.js';
import { sequenceLoadOptions, type RunConfig } from '../../gan/config.js';
import { UserError } from '../../util/errors.js';
import { Rng } from '../../util/rng.js';
import { gatherRows, subsetIndices } from './mmd.js';

/** Most real sequences compared when no --count is given (TimeGAN uses every one: sines has 10,000). */
export const DEFAULT_SEQUENCE_COUNT = 10_000;

/** Real sequences to score a run against, in the run's scaled units. */
export interface SequenceReference {
  values: Float32Array;
  n: number;
  t: number;
  f: number;
  /** e.g. "sines test split" or "stocks:sp500 training data (no test split)". */
  name: string;
  /** How the n were chosen, e.g. "all 3,661" or "2,000 of 10,000 at random, seed 0". */
  selection: string;
  split: 'train' | 'test';
  /** Each chosen sequence's class, where the data has a condition column. */
  labels?: Int32Array;
}

/** Whether the run's values are scaled to [0, 1] (minmax, or a dataset's fixed range) rather than standardised. */
export function unitRange(seq: SequenceInfo): boolean {
  return seq.scaling.kind !== 'standard';
}

async function loadSplit(config: RunConfig, split: 'train' | 'test'): Promise<ArraySource> {
  const source = await loadData(config.data, { split, sequence: sequenceLoadOptions(config), log: () => {} });
  if (source.kind !== 'array' || source.info.kind !== 'sequence' || !source.info.sequence) throw new UserError(`${config.data} (${split}) is not sequence data`);
  return source;
}

function sameValues(a: ArraySource, b: ArraySource): boolean {
  if (a.count !== b.count || a.values.length !== b.values.length) return false;
  for (let i = 0; i < a.values.length; i++) if (a.values[i] !== b.values[i]) return false;
  return true;
}

/**
 * The real sequences a sequence run is scored against: `split` 'test' (the default) is the data's test split —
 * or, when the data has none (its loader refuses 'test', or returns the training windows again), the training
 * data, said so in the name. The windows are cut as the run's were (its --window, --stride, --columns …) and put in
 * the run's scaled units (a split scaled on its own is unscaled, then scaled with the run's saved scaling). `count`
 * of them (an error when there are fewer; default all, at most `most` or DEFAULT_SEQUENCE_COUNT) are taken at random with `seed`.
 */
export async function sequenceReference(config: RunConfig, data: DatasetInfo, opts: { split?: 'train' | 'test'; count?: number; seed: number; most?: number }): Promise<SequenceReference> {
  const run = sequenceInfoOf(data);
  let split = opts.split ?? 'test';
  let source = await loadSplit(config, 'train');
  let note = '';
  if (split === 'test') {
    let test: ArraySource | undefined;
    try {
      test = await loadSplit(config, 'test');
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
    }
    if (test && !sameValues(test, source)) source = test;
    else {
      if (opts.split === 'test') throw new UserError(`--ref test: ${config.data} has no test split; use --ref train (the training data)`);
      split = 'train';
      note = ' (it has no test split)';
    }
  }
  const own = source.info.sequence!;
  const [t, f] = source.info.shape;
  if (t !== data.shape[0] || f !== data.shape[1] || own.features.join(',') !== run.features.join(',')) {
    throw new UserError(`${config.data} now gives sequences of [${t}, ${f}] (${own.features.join(', ')}), the run was trained on [${data.shape.join(', ')}] (${run.features.join(', ')}): the data changed since training`);
  }
  // Training data as the run saw it: --data-limit kept the first N windows.
  const available = split === 'train' && config.dataLimit ? Math.min(config.dataLimit, source.count) : source.count;
  const want = opts.count ?? Math.min(available, opts.most ?? DEFAULT_SEQUENCE_COUNT);
  if (want > available) throw new UserError(`--count ${want}: ${config.data}'s ${split === 'test' ? 'test split' : 'training data'} has ${available} sequences; lower --count to at most ${available}`);
  const size = t * f;
  const rows = subsetIndices(available, want, new Rng(opts.seed ^ 0x5e9));
  const values = gatherRows(source.values as Float32Array, size, rows);
  const labels = source.labels ? Int32Array.from(rows, (row) => source.labels![row]) : undefined;
  // Into the run's units: the split's own scaling undone, the run's applied (a no-op when they are the same).
  convertScaling(values, own.scaling, run.scaling);
  const what = split === 'test' ? `${config.data} test split` : `${config.data} training data${note}`;
  const selection = want === available ? `all ${available}` : `${want} of ${available} at random, seed ${opts.seed} ^ 0x5e9`;
  return { values, n: want, t, f, name: what, selection, split, ...(labels ? { labels } : {}) };
}
