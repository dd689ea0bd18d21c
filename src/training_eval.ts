import type { DatasetInfo } from './data/types.js';
import type { RunConfig } from './gan/config.js';
import type { Evaluator } from './gan/trainer.js';
import { evaluateSets, fromSamples, loadReference, resolveNet, type MetricResult } from './metrics/evaluate.js';
import { parseMetrics, SEQUENCE_METRIC_NAMES } from './metrics/registry.js';
import { sequenceReference, unitRange, type SequenceReference } from './metrics/timeseries/reference.js';
import type { FeatureNetwork } from './metrics/features.js';
import { conditionOf, type GanFamily } from './gan/family.js';
import { TEXT_METRICS, scoreTextRun, textTestSet, type TextTestSet } from './metrics/text_eval.js';
import { scoreTranslator, translatorTestSet, TRANSLATOR_BETTER, TRANSLATOR_METRICS, type TranslatorMetric, type TranslatorTestSet } from './metrics/translator_eval.js';
import { UserError } from './util/errors.js';

/** Which value of each metric decides "best", and in which direction. */
const PRIMARY: Record<string, { key: string; lowerIsBetter: boolean }> = {
  fid: { key: 'fid', lowerIsBetter: true },
  kid: { key: 'kid', lowerIsBetter: true },
  is: { key: 'is', lowerIsBetter: false },
  prdc: { key: 'coverage', lowerIsBetter: false },
  classes: { key: 'klToUniform', lowerIsBetter: true },
  modes: { key: 'modesCovered', lowerIsBetter: false },
  discriminative: { key: 'discriminative', lowerIsBetter: true },
  predictive: { key: 'predictive', lowerIsBetter: true },
  mmd: { key: 'mmd', lowerIsBetter: true },
};

/** The reference a run is scored against by default: its data's test split, or the toy mixture itself. */
export function defaultEvalRef(data: string): string {
  if (data === 'fashion-mnist' || data === 'mnist') return `${data}:test`;
  return data;
}

/**
 * Training-time evaluation (`--eval-every N`): the same protocol as `ganforge eval`, on `evalCount`
 * samples from fixed latents (seed = the run's seed, so successive scores compare generators, not noise).
 * The reference set and feature network load once, on the first evaluation. Scores are flattened to
 * `eval/<metric>` (a metric's main value) and `eval/<metric>/<part>` (its other scalar values).
 */
export function makeEvaluator(config: RunConfig, data: DatasetInfo, family?: GanFamily): Evaluator | undefined {
  if (config.evalEvery === 0) return undefined;
  if (family?.condition === 'image') return translatorEvaluator(config);
  if (family && conditionOf(family, data) === 'text') return textEvaluator(config, data);
  if (data.kind === 'sequence') return sequenceEvaluator(config, data);
  const defs = parseMetrics(config.evalMetrics, data.kind); // validates names now, not at the first evaluation
  const first = PRIMARY[defs[0].name] ?? { key: defs[0].name, lowerIsBetter: true };
  const refSpec = config.evalRef || defaultEvalRef(config.data);
  let loaded: { ref: Awaited<ReturnType<typeof loadReference>>; net?: FeatureNetwork } | undefined;
  return {
    primary: `eval/${defs[0].name}`,
    lowerIsBetter: first.lowerIsBetter,
    async evaluate(sample) {
      const fake = fromSamples(sample({ count: config.evalCount, seed: config.seed }), data.kind, 'training-time samples');
      if (!loaded) {
        const ref = await loadReference(refSpec, config.evalCount, config.seed);
        const net = fake.kind === 'image' && fake.c !== undefined ? await resolveNet({}, { c: fake.c }, ref.name) : undefined;
        loaded = { ref, net };
      }
      const results = evaluateSets(fake, loaded.ref.set, loaded.net, loaded.ref, { metrics: config.evalMetrics, seed: config.seed });
      return flatten(results);
    },
  };
}

function flatten(results: MetricResult[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) {
    const main = PRIMARY[r.metric]?.key ?? r.metric;
    for (const [k, v] of Object.entries(r.values)) {
      if (typeof v !== 'number') continue;
      out[k === main ? `eval/${r.metric}` : `eval/${r.metric}/${k}`] = v;
    }
  }
  return out;
}

/**
 * Training-time evaluation of a translator: its outputs on the first `evalCount` test pairs against their targets
 * (--eval-metrics from l1, psnr, ssim, fid, accuracy; 'fid' alone, the default, becomes l1,psnr,ssim,fid).
 */
function translatorEvaluator(config: RunConfig): Evaluator {
  const asked = config.evalMetrics === 'fid' ? ['l1', 'psnr', 'ssim', 'fid'] : config.evalMetrics.split(',').map((m) => m.trim()).filter((m) => m);
  for (const m of asked) {
    if (!(TRANSLATOR_METRICS as readonly string[]).includes(m)) throw new UserError(`--eval-metrics: '${m}' is not a translator metric; use ${TRANSLATOR_METRICS.join(', ')}`);
  }
  const first = asked[0] as TranslatorMetric;
  let set: TranslatorTestSet | undefined;
  return {
    primary: `eval/${first}`,
    lowerIsBetter: TRANSLATOR_BETTER[first] === 'lower',
    async evaluate(sample) {
      set ??= await translatorTestSet(config, config.evalCount);
      const scores = await scoreTranslator(sample, set, asked, { seed: config.seed });
      return Object.fromEntries(Object.entries(scores).map(([k, v]) => [`eval/${k}`, v]));
    },
  };
}

/**
 * Training-time evaluation of a text-to-image run: images drawn for the first `evalCount` test captions (fixed
 * latents and captions), --eval-metrics from fid (the default), r-precision and agreement (captions:fashion-mnist).
 */
function textEvaluator(config: RunConfig, data: DatasetInfo): Evaluator {
  const asked = config.evalMetrics.split(',').map((m) => m.trim()).filter((m) => m);
  for (const m of asked) {
    if (!(TEXT_METRICS as readonly string[]).includes(m)) throw new UserError(`--eval-metrics: '${m}' is not a text-to-image metric; use ${TEXT_METRICS.join(', ')}`);
  }
  const better: Record<string, boolean> = { fid: true, 'r-precision': false, agreement: false };
  let set: TextTestSet | undefined;
  let judge: string | undefined; // R-precision's encoders, found (or trained) at the first evaluation
  return {
    primary: `eval/${asked[0]}`,
    lowerIsBetter: better[asked[0]],
    async evaluate(sample) {
      set ??= await textTestSet(config, data, config.evalCount, config.seed);
      const result = await scoreTextRun(sample, set, asked, { config, data }, { seed: config.seed, log: () => {}, rEncoders: judge });
      judge ??= result.judge;
      const { scores } = result;
      return Object.fromEntries(Object.entries(scores).map(([k, v]) => [`eval/${k}`, v]));
    },
  };
}

/**
 * Training-time evaluation of a sequence run: `evalCount` generated sequences (fixed latents) against as many real
 * ones — the data's test split, or its training data when it has none (--eval-ref test|train) — by the time-series
 * metrics ('fid', the flag's default, means all three: discriminative, predictive, mmd), each run once (no
 * repetitions, no real-data baseline) with TimeGAN's post-hoc training lengths. Lower is better for every one.
 */
function sequenceEvaluator(config: RunConfig, data: DatasetInfo): Evaluator {
  const metrics = config.evalMetrics === 'fid' ? SEQUENCE_METRIC_NAMES.join(',') : config.evalMetrics;
  const defs = parseMetrics(metrics, 'sequence');
  if (config.evalRef !== '' && config.evalRef !== 'train' && config.evalRef !== 'test') throw new UserError(`--eval-ref ${config.evalRef}: a sequence run is evaluated against its data's test split or training data: --eval-ref test (the default) or train`);
  let ref: SequenceReference | undefined;
  return {
    primary: `eval/${defs[0].name}`,
    lowerIsBetter: true,
    async evaluate(sample) {
      ref ??= await sequenceReference(config, data, { split: (config.evalRef || undefined) as 'train' | 'test' | undefined, count: undefined, seed: config.seed, most: config.evalCount });
      const fake = fromSamples(sample({ count: ref.n, seed: config.seed }), 'sequence', 'training-time samples', data.sequence);
      const real = { kind: 'sequence' as const, source: ref.name, values: ref.values, n: ref.n, t: ref.t, f: ref.f, unitRange: unitRange(data.sequence!) };
      return flatten(evaluateSets(fake, real, undefined, ref, { metrics, seed: config.seed, repeats: 1, realBaseline: false }));
    },
  };
}
