import { UserError, unknownChoice } from '../util/errors.js';
import type { Embedding, FeatureNetInfo } from './features.js';
import { fidFromFeatures } from './fid.js';
import { kernelInceptionDistance } from './kid.js';
import { inceptionScore, softmaxRows } from './inception_score.js';
import { precisionRecallDensityCoverage } from './prdc.js';
import { classHistogram } from './class_histogram.js';
import { mixtureModeCoverage } from './mode_coverage.js';
import { discriminativeRepeated, mmdRepeated, predictiveRepeated, type SequenceMetricOptions } from './timeseries/index.js';

/** Everything a metric may read: embeddings of both sets (or raw 2-D points or sequences) and the evaluation settings. */
export interface MetricInputs {
  /** Feature network; undefined for 2-D points and sequences, whose values are used as they are. */
  net?: FeatureNetInfo;
  real: Embedding;
  fake: Embedding;
  nReal: number;
  nFake: number;
  dim: number;
  /** The reference spec, e.g. 'toy:ring8' (mode coverage needs the mixture). */
  reference: string;
  seed: number;
  options: MetricOptions;
  /**
   * Sequences (features = the values, [n, T, F] flattened): T, F, and whether they are scaled to [0, 1] (minmax or
   * a fixed range: post-hoc predictors end in a sigmoid, as TimeGAN's) rather than standardised (linear output).
   */
  sequence?: { t: number; f: number; unitRange: boolean };
}

export interface MetricOptions extends SequenceMetricOptions {
  kidSubsets?: number;
  kidSubsetSize?: number;
  isSplits?: number;
  /** k of the k-NN balls of precision/recall/density/coverage. */
  k?: number;
}

/** One metric's numbers and the settings that are specific to it (subsets, splits, k …). */
export interface MetricValue {
  values: Record<string, number | number[]>;
  settings: Record<string, unknown>;
}

export interface MetricDef {
  name: string;
  summary: string;
  paper: string;
  /** What the metric needs from the evaluation. */
  needs: 'features' | 'logits' | 'points' | 'sequences';
  compute(inp: MetricInputs): MetricValue;
}

/** The metrics `ganforge eval --metrics` accepts, by name. */
export const METRICS: Readonly<Record<string, MetricDef>> = {
  fid: {
    name: 'fid', needs: 'features',
    summary: 'Fréchet distance between Gaussians fitted to real and generated features (lower is better)',
    paper: 'Heusel et al. 2017, arXiv:1706.08500',
    compute: ({ real, fake, nReal, nFake, dim }) => {
      const r = fidFromFeatures(real.features, nReal, fake.features, nFake, dim);
      return { values: { fid: r.fid, meanTerm: r.meanTerm, covTerm: r.covTerm }, settings: { covariance: 'unbiased (n−1), float64', sqrtm: 'symmetric eigendecomposition, tr √(√Σr Σg √Σr)' } };
    },
  },
  kid: {
    name: 'kid', needs: 'features',
    summary: 'unbiased MMD² with kernel (xᵀy/d + 1)³ over random subsets, mean ± std (lower is better)',
    paper: 'Bińkowski et al. 2018, arXiv:1801.01401',
    compute: ({ real, fake, nReal, nFake, dim, seed, options }) => {
      const r = kernelInceptionDistance(real.features, nReal, fake.features, nFake, dim, { subsets: options.kidSubsets, subsetSize: options.kidSubsetSize, seed });
      return { values: { kid: r.kid, kidStd: r.std }, settings: { subsets: r.subsets, subsetSize: r.subsetSize, kernel: 'cubic polynomial (x·y/d + 1)^3' } };
    },
  },
  is: {
    name: 'is', needs: 'logits',
    summary: "Inception Score exp(E KL(p(y|x) ‖ p(y))) of the generated set over splits, with the network's classes (higher is better)",
    paper: 'Salimans et al. 2016, arXiv:1606.03498',
    compute: ({ fake, nFake, net, options }) => {
      const c = net!.classes!;
      const splits = options.isSplits ?? Math.min(10, nFake);
      const r = inceptionScore(softmaxRows(fake.logits!, nFake, c), nFake, c, splits);
      return { values: { is: r.score, isStd: r.std }, settings: { splits: r.splits, classes: c } };
    },
  },
  prdc: {
    name: 'prdc', needs: 'features',
    summary: 'precision and recall (k-NN manifolds) and density and coverage (higher is better, density can exceed 1)',
    paper: 'Kynkäänniemi et al. 2019, arXiv:1904.06991; Naeem et al. 2020, arXiv:2002.09797',
    compute: ({ real, fake, nReal, nFake, dim, options }) => {
      const r = precisionRecallDensityCoverage(real.features, nReal, fake.features, nFake, dim, options.k ?? 5);
      return { values: { precision: r.precision, recall: r.recall, density: r.density, coverage: r.coverage }, settings: { k: r.k, distance: 'Euclidean, ball = distance ≤ k-th neighbour radius' } };
    },
  },
  classes: {
    name: 'classes', needs: 'logits',
    summary: "histogram of the classifier's predicted classes on generated samples and its KL to uniform (lower is better)",
    paper: 'Metz et al. 2017 (Unrolled GANs), Srivastava et al. 2017 (VEEGAN)',
    compute: ({ fake, nFake, net }) => {
      const r = classHistogram(fake.logits!, nFake, net!.classes!);
      return { values: { klToUniform: r.klToUniform, classesPresent: r.classesPresent, counts: r.counts }, settings: { classes: net!.classes } };
    },
  },
  modes: {
    name: 'modes', needs: 'points',
    summary: 'modes covered and high-quality share of generated 2-D points for toy:ring8 / toy:grid25',
    paper: 'Metz et al. 2017, arXiv:1611.02163; Srivastava et al. 2017, arXiv:1705.07761',
    compute: ({ fake, reference }) => {
      const r = mixtureModeCoverage(fake.features, reference);
      return {
        values: { modesCovered: r.modesCovered, modes: r.modes, highQualityShare: r.highQualityShare, perMode: r.perMode },
        settings: { highQuality: 'within 3σ of the nearest centre', minCountPerMode: r.minCount },
      };
    },
  },
  discriminative: {
    name: 'discriminative', needs: 'sequences',
    summary: '|accuracy − 0.5| of a post-hoc GRU classifier of real vs synthetic sequences, mean ± std over repeats (lower is better)',
    paper: 'Yoon et al. 2019 (TimeGAN), NeurIPS, §5',
    compute: ({ real, fake, nReal, nFake, sequence, seed, options }) => discriminativeRepeated(asSequences(real.features, nReal, sequence), asSequences(fake.features, nFake, sequence), seed, options),
  },
  predictive: {
    name: 'predictive', needs: 'sequences',
    summary: 'train on synthetic, test on real: MAE of a post-hoc GRU predicting one step ahead, mean ± std over repeats, with the real-trained baseline (lower is better)',
    paper: 'Yoon et al. 2019 (TimeGAN), NeurIPS, §5; Esteban et al. 2017, arXiv:1706.02633 (TSTR)',
    compute: ({ real, fake, nReal, nFake, sequence, seed, options }) => predictiveRepeated(asSequences(real.features, nReal, sequence), asSequences(fake.features, nFake, sequence), seed, sequence!.unitRange, options),
  },
  mmd: {
    name: 'mmd', needs: 'sequences',
    summary: 'unbiased Gaussian-kernel MMD² of flattened sequences, median-heuristic bandwidth, mean ± std over random subsets (lower is better)',
    paper: 'Gretton et al. 2012, JMLR 13:723; Esteban et al. 2017 use it for RGAN',
    compute: ({ real, fake, nReal, nFake, sequence, seed, options }) => mmdRepeated(asSequences(real.features, nReal, sequence), asSequences(fake.features, nFake, sequence), seed, options),
  },
};

function asSequences(values: Float32Array, n: number, shape: MetricInputs['sequence']) {
  if (!shape) throw new Error('sequence metrics need MetricInputs.sequence');
  return { values, n, t: shape.t, f: shape.f };
}

/** The metrics that score sequence runs. */
export const SEQUENCE_METRIC_NAMES = Object.values(METRICS).filter((m) => m.needs === 'sequences').map((m) => m.name);

export const METRIC_NAMES = Object.keys(METRICS);

/** Parse `--metrics fid,kid,…` ('all' = every metric that applies); unknown names get a "did you mean". */
export function parseMetrics(list: string, kind: 'image' | 'points' | 'sequence'): MetricDef[] {
  const names = list.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
  if (names.length === 0) throw new UserError(`--metrics is empty; choose from ${METRIC_NAMES.join(', ')}`);
  if (names.length === 1 && names[0] === 'all') {
    return Object.values(METRICS).filter((m) => (kind === 'sequence' ? m.needs === 'sequences' : m.needs !== 'sequences' && (kind === 'points' ? m.needs !== 'logits' : m.needs !== 'points')));
  }
  const defs = names.map((n) => {
    const m = METRICS[n === 'precision' || n === 'recall' || n === 'density' || n === 'coverage' ? 'prdc' : n];
    if (!m) throw unknownChoice('metric', n, [...METRIC_NAMES, 'all']);
    return m;
  });
  for (const m of defs) {
    if (kind === 'sequence' && m.needs !== 'sequences') throw new UserError(`metric '${m.name}' is for ${m.needs === 'points' ? '2-D points' : 'images'}; sequence runs are scored by ${SEQUENCE_METRIC_NAMES.join(', ')} (or all)`);
    if (kind !== 'sequence' && m.needs === 'sequences') throw new UserError(`metric '${m.name}' scores sequences; this is ${kind === 'image' ? 'an image' : 'a 2-D point'} set`);
    if (kind === 'points' && m.needs === 'logits') throw new UserError(`metric '${m.name}' needs a classifier's predictions and does not apply to 2-D points; use fid, kid, prdc or modes`);
    if (kind === 'image' && m.needs === 'points') throw new UserError(`metric 'modes' is for 2-D toy mixtures (toy:ring8, toy:grid25); for images use 'classes' (class histogram)`);
  }
  return [...new Set(defs)];
}
