import { mixSeed, Rng } from '../../util/rng.js';
import { DISCRIMINATIVE_DEFAULTS, discriminativeScore } from './discriminative.js';
import { PREDICTIVE_DEFAULTS, predictiveScore, predictiveTask } from './predictive.js';
import { gaussianMmd2, subsetRows } from './mmd.js';
import { meanStd, posthocUnits, type Sequences } from './posthoc.js';

/**
 * The time-series metrics of TimeGAN's protocol (Yoon et al. 2019, §5) — discriminative and predictive scores from
 * post-hoc GRUs — and a Gaussian-kernel MMD², each as the mean ± std over k repetitions with fresh seeds. The
 * generated and real sets stay the same across repetitions (as in the authors' main_timegan.py, which draws one
 * synthetic set and repeats the metric on it); what changes is the post-hoc network's initialisation, split and
 * batches, or for MMD the subsets compared.
 */

export { discriminativeScore, realFakeLoss, DISCRIMINATIVE_DEFAULTS, type DiscriminativeOptions, type DiscriminativeResult } from './discriminative.js';
export { predictiveScore, predictiveTensors, predictiveTask, PREDICTIVE_DEFAULTS, type PredictiveOptions } from './predictive.js';
export { gaussianMmd2, medianSquaredDistance, subsetRows } from './mmd.js';
export { tfjsGru, fusedGru, posthocRecurrent, setPosthocRecurrent, posthocUnits, posthocNetwork, meanStd, type RecurrentFactory, type RecurrentLayerArgs, type Sequences } from './posthoc.js';

/** Repetitions when none are asked for. TimeGAN's code repeats 10 times (metric_iteration); 5 halves the wait. */
export const DEFAULT_REPEATS = 5;
/** Sequences per side in each MMD² repetition: all pairs of 1,000 are ~3·10⁶ kernel values. */
export const DEFAULT_MMD_SUBSET = 1000;

export interface SequenceMetricOptions {
  /** Repetitions, each with its own seed (default DEFAULT_REPEATS). */
  repeats?: number;
  discriminativeIterations?: number;
  predictiveIterations?: number;
  /** Post-hoc batch size (default TimeGAN's 128). */
  posthocBatch?: number;
  mmdSubset?: number;
  /** Predictive: also train on real and test on real, the paper's "original data" baseline (default true). */
  realBaseline?: boolean;
  onProgress?: (line: string) => void;
}

/** A metric's mean ± std, its per-repetition values, and what produced them. */
export interface RepeatedScore {
  values: Record<string, number | number[]>;
  settings: Record<string, unknown>;
}

/** The seed of repetition r (distinct streams for distinct r, reproducible from the evaluation seed). */
export function repeatSeed(seed: number, r: number): number {
  return mixSeed(seed, r) % 2147483647;
}

/** "TimeGAN's protocol", or what differs from it (fewer post-hoc iterations make the classifier weaker). */
function protocolName(iterations: number, paper: number, batchSize: number): string {
  const changed = [...(iterations !== paper ? [`${iterations} iterations instead of ${paper}`] : []), ...(batchSize !== 128 ? [`batch ${batchSize} instead of 128`] : [])];
  return changed.length ? `TimeGAN's protocol with ${changed.join(' and ')}` : "TimeGAN's protocol";
}

function repeats(opts: SequenceMetricOptions): number {
  const k = opts.repeats ?? DEFAULT_REPEATS;
  if (!Number.isInteger(k) || k < 1) throw new Error(`repeats must be a whole number ≥ 1, got ${k}`);
  return k;
}

/** Discriminative score over k repetitions: mean ± std of |accuracy − 0.5|. */
export function discriminativeRepeated(real: Sequences, fake: Sequences, seed: number, opts: SequenceMetricOptions): RepeatedScore {
  const k = repeats(opts);
  const iterations = opts.discriminativeIterations ?? DISCRIMINATIVE_DEFAULTS.iterations;
  const batchSize = opts.posthocBatch ?? DISCRIMINATIVE_DEFAULTS.batchSize;
  const scores: number[] = [], accuracies: number[] = [];
  let last;
  for (let r = 0; r < k; r++) {
    opts.onProgress?.(`discriminative score ${r + 1}/${k}: GRU classifier, ${iterations} iterations`);
    last = discriminativeScore(real, fake, { seed: repeatSeed(seed, r), iterations, batchSize });
    scores.push(last.score);
    accuracies.push(last.accuracy);
  }
  const s = meanStd(scores), a = meanStd(accuracies);
  return {
    values: { discriminative: s.mean, discriminativeStd: s.std, accuracy: a.mean, runs: scores },
    settings: {
      protocol: `|accuracy − 0.5| of a post-hoc 1-layer GRU (${posthocUnits(real.f)} units = ⌊F/2⌋) + dense(1) on the last state, ` +
        `trained on a random ${100 * DISCRIMINATIVE_DEFAULTS.trainFraction} % of each set (${last!.trainReal} real, ${last!.trainFake} synthetic; Adam lr 0.001, ${iterations} iterations of ${batchSize} real + ${batchSize} synthetic), ` +
        `tested on the other ${100 - 100 * DISCRIMINATIVE_DEFAULTS.trainFraction} % (${last!.testReal} + ${last!.testFake}); ${protocolName(iterations, DISCRIMINATIVE_DEFAULTS.iterations, batchSize)}`,
      repeats: `${k}, mean ± std (population), a fresh seed for weights, split and batches each`,
    },
  };
}

/** Predictive score (train on synthetic, test on real) over k repetitions, and the real-on-real baseline. */
export function predictiveRepeated(real: Sequences, fake: Sequences, seed: number, sigmoid: boolean, opts: SequenceMetricOptions): RepeatedScore {
  const k = repeats(opts);
  const iterations = opts.predictiveIterations ?? PREDICTIVE_DEFAULTS.iterations;
  const batchSize = opts.posthocBatch ?? PREDICTIVE_DEFAULTS.batchSize;
  const tstr: number[] = [], trtr: number[] = [];
  const baseline = opts.realBaseline ?? true;
  for (let r = 0; r < k; r++) {
    opts.onProgress?.(`predictive score ${r + 1}/${k}: GRU trained on synthetic, ${iterations} iterations`);
    tstr.push(predictiveScore(fake, real, { seed: repeatSeed(seed, r), iterations, batchSize, sigmoid }).mae);
    if (baseline) {
      opts.onProgress?.(`predictive baseline ${r + 1}/${k}: GRU trained on real`);
      trtr.push(predictiveScore(real, real, { seed: repeatSeed(seed, r), iterations, batchSize, sigmoid }).mae);
    }
  }
  const s = meanStd(tstr);
  const b = baseline ? meanStd(trtr) : undefined;
  return {
    values: { predictive: s.mean, predictiveStd: s.std, ...(b ? { realPredictive: b.mean, realPredictiveStd: b.std } : {}), runs: tstr },
    settings: {
      protocol: `MAE on all ${real.n} real sequences of a post-hoc 1-layer GRU (${posthocUnits(real.f)} units) + dense(1${sigmoid ? ', sigmoid' : ''}) per step ` +
        `trained on the ${fake.n} synthetic ones to predict ${predictiveTask(real.f)} (Adam lr 0.001, L1 loss, ${iterations} iterations of ${batchSize}); ${protocolName(iterations, PREDICTIVE_DEFAULTS.iterations, batchSize)}`,
      ...(b ? { realPredictive: 'the same predictor trained and tested on the real sequences (the paper\'s "original data" row)' } : {}),
      repeats: `${k}, mean ± std (population), a fresh seed for weights and batches each`,
    },
  };
}

/** Gaussian-kernel MMD² over k repetitions, each on fresh random subsets of both sets. */
export function mmdRepeated(real: Sequences, fake: Sequences, seed: number, opts: SequenceMetricOptions): RepeatedScore {
  const k = repeats(opts);
  const size = opts.mmdSubset ?? DEFAULT_MMD_SUBSET;
  const d = real.t * real.f;
  const m = Math.min(size, real.n, fake.n);
  const values: number[] = [], bandwidths: number[] = [];
  for (let r = 0; r < k; r++) {
    const rng = new Rng(repeatSeed(seed, r));
    const x = subsetRows(real.values, real.n, d, m, rng);
    const y = subsetRows(fake.values, fake.n, d, m, rng);
    const { mmd2, sigma2 } = gaussianMmd2(x, m, y, m, d);
    values.push(mmd2);
    bandwidths.push(sigma2);
  }
  const s = meanStd(values);
  return {
    values: { mmd: s.mean, mmdStd: s.std, sigma2: meanStd(bandwidths).mean, runs: values },
    settings: {
      protocol: `unbiased MMD² with k(a, b) = exp(−‖a − b‖²/(2σ²)) on sequences flattened to ${d} values (T·F), σ² = the median squared distance of the pooled subsets (median heuristic), ` +
        `${m} real vs ${m} synthetic sequences${m < real.n || m < fake.n ? ' drawn at random' : ''}`,
      repeats: `${k}, mean ± std (population)${m < real.n || m < fake.n ? ', fresh subsets each' : ' (all sequences each time: std 0)'}`,
    },
  };
}
