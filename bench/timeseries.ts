/**
 * npm run bench:timeseries — issue #16's sequence benchmark: rgan and timegan trained at one stated budget (--steps,
 * default 3000, optionally capped by --minutes of wall clock per run) on TimeGAN's sines and on the S&P 500 (stocks:sp500), each run scored by
 * `ganforge eval RUN --metrics discriminative,predictive --json`: TimeGAN's discriminative score (post-hoc GRU
 * classifier, |accuracy − 0.5|) and predictive score (post-hoc GRU trained on synthetic, MAE on real), against the
 * run's training data as in the authors' code. Figures are mean ± std over --seeds (one run per seed, each metric
 * the mean of --repeats post-hoc repetitions), printed beside the TimeGAN paper's numbers. Results also go to
 * --out/timeseries.json.
 *
 * The paper's numbers (Yoon et al. 2019, Table 2) are read from Diffusion-TS (Yuan & Qiao, ICLR 2024,
 * arXiv:2403.01742), Table 1, which re-tabulates TimeGAN's discriminative and predictive scores on sines and stocks
 * and the predictive score of the real data itself. Those come from TimeGAN trained 50,000 iterations per phase
 * with its metrics repeated 10 times; the budget here is far smaller, and the table says which.
 *
 *   npm run bench:timeseries                                   # 3000 steps per run, seeds 0,1,2, 5 repeats: hours
 *   node dist/bench/timeseries.js --steps 300 --seeds 0 --repeats 2
 */
import { parseArgs } from 'node:util';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../src/util/errors.js';
import { ganforge } from './child.js';

const FAMILIES = ['rgan', 'timegan'] as const;
/** Steps per run when --steps is not given. */
const DEFAULT_STEPS = 3000;
const DATASETS = [
  { key: 'sines', spec: 'sines' },
  { key: 'stocks', spec: 'stocks:sp500' },
] as const;

/** TimeGAN's published scores (mean ± std), as tabulated by Diffusion-TS, Table 1 (arXiv:2403.01742). */
const PAPER: Record<string, { discriminative: string; predictive: string; realPredictive?: string }> = {
  sines: { discriminative: '0.011 ± 0.008', predictive: '0.093 ± 0.019' },
  stocks: { discriminative: '0.102 ± 0.021', predictive: '0.038 ± 0.001', realPredictive: '0.036' },
};
const PAPER_SOURCE = "TimeGAN (Yoon et al. 2019, Table 2) as re-tabulated in Diffusion-TS (Yuan & Qiao, ICLR 2024, arXiv:2403.01742), Table 1; the paper's stocks are Google's daily prices 2004–2019, ours the S&P 500 2000–2020 (vega-datasets sp500-2000.csv) in the same layout";

// Population std, as the paper's tables (numpy's default).
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const std = (v: number[]) => Math.sqrt(v.reduce((a, b) => a + (b - mean(v)) ** 2, 0) / v.length);
const fmt = (v: number[], digits = 3) => (v.length ? `${mean(v).toFixed(digits)} ± ${std(v).toFixed(digits)}` : '-');

interface MetricLine { metric: string; values: Record<string, number | number[]>; protocol: Record<string, unknown> }

/** The JSON lines `eval --json` prints, by metric. */
function parseEval(stdout: string): Record<string, MetricLine> {
  const lines = stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as MetricLine);
  if (!lines.length) throw new Error(`eval printed no JSON: ${stdout.slice(-300)}`);
  return Object.fromEntries(lines.map((l) => [l.metric, l]));
}

interface Options {
  minutes?: number; steps: number; seeds: number[]; skip: string[]; out: string; repeats: number;
  discriminativeIterations?: number; predictiveIterations?: number; count?: number;
}

interface Row { steps: number[]; discriminative: number[]; predictive: number[]; realPredictive: number[]; trainSeconds: number[]; evalSeconds: number[] }

async function benchData(d: (typeof DATASETS)[number], o: Options): Promise<object> {
  const budget = `${o.steps} steps${o.minutes !== undefined ? ` or ${o.minutes} min of wall clock, whichever comes first` : ''}`;
  process.stdout.write(`\ntimeseries ${d.spec}: ${FAMILIES.filter((f) => !o.skip.includes(f)).join(', ')}, ${budget} per run, seeds ${o.seeds.join(',')}\n`);
  const rows: Record<string, Row> = {};
  const failed: Record<string, string> = {};
  const protocols = new Map<string, string>();
  for (const f of FAMILIES) rows[f] = { steps: [], discriminative: [], predictive: [], realPredictive: [], trainSeconds: [], evalSeconds: [] };
  for (const seed of o.seeds) {
    for (const family of FAMILIES) {
      if (o.skip.includes(family) || failed[family]) continue;
      const dir = path.join(o.out, `${d.key}-${family}-s${seed}`);
      const tag = `${family} ${d.key} s${seed}`;
      try {
        await fs.rm(dir, { recursive: true, force: true });
        // --steps always: timegan splits it into its three phases (a third each), so a clock alone would leave it in phase 1.
        const budgetArgs = ['--steps', String(o.steps), ...(o.minutes !== undefined ? ['--max-minutes', String(o.minutes)] : [])];
        process.stderr.write(`bench:timeseries: training ${tag}…\n`);
        let t0 = Date.now();
        await ganforge(['train', family, '--data', d.spec, ...budgetArgs, '--seed', String(seed), '--out', dir], tag);
        const trainSeconds = (Date.now() - t0) / 1000;
        process.stderr.write(`bench:timeseries: scoring ${tag}…\n`);
        t0 = Date.now();
        const evalArgs = ['eval', dir, '--metrics', 'discriminative,predictive', '--ref', 'train', '--json', '--seed', String(seed), '--repeats', String(o.repeats),
          ...(o.count !== undefined ? ['--count', String(o.count)] : []),
          ...(o.discriminativeIterations !== undefined ? ['--discriminative-iterations', String(o.discriminativeIterations)] : []),
          ...(o.predictiveIterations !== undefined ? ['--predictive-iterations', String(o.predictiveIterations)] : [])];
        const r = parseEval(await ganforge(evalArgs, `eval ${tag}`));
        const row = rows[family];
        row.trainSeconds.push(trainSeconds);
        row.evalSeconds.push((Date.now() - t0) / 1000);
        const state = JSON.parse(await fs.readFile(path.join(dir, 'config.json'), 'utf8')) as { steps: number };
        row.steps.push(Number((r.predictive.protocol.generated as string).match(/step (\d+)/)?.[1] ?? state.steps));
        row.discriminative.push(r.discriminative.values.discriminative as number);
        row.predictive.push(r.predictive.values.predictive as number);
        if (r.predictive.values.realPredictive !== undefined) row.realPredictive.push(r.predictive.values.realPredictive as number);
        for (const m of ['discriminative', 'predictive']) {
          protocols.set(`${m} protocol`, String(r[m].protocol.protocol));
          protocols.set(`${m} repeats`, String(r[m].protocol.repeats));
        }
        protocols.set('reference', `${String(r.predictive.protocol.reference)}, ${String(r.predictive.protocol.referenceCount)} (${String(r.predictive.protocol.referenceSelection)})`);
      } catch (e) {
        failed[family] = (e as Error).message.split('\n')[0];
        process.stderr.write(`bench:timeseries: ${tag} failed: ${failed[family]}\n`);
      }
    }
  }
  for (const [k, v] of protocols) process.stdout.write(`timeseries ${d.spec} ${k}: ${v}\n`);
  process.stdout.write(`timeseries ${d.spec}: mean ± std (population) over seeds ${o.seeds.join(',')}; lower is better; seconds = wall clock of train (startup included) + eval\n`);
  const paper = PAPER[d.key];
  const cols: [string, number][] = [['family', 9], ['data', 14], ['steps', 9], ['discriminative', 17], ['paper (TimeGAN)', 17], ['predictive', 17], ['paper (TimeGAN)', 17], ['real-data pred.', 17], ['paper', 15], ['seconds', 0]];
  process.stdout.write(`${cols.map(([n, w]) => n.padEnd(w)).join(' ')}\n`);
  for (const family of FAMILIES) {
    if (o.skip.includes(family)) continue;
    const s = rows[family];
    if (failed[family] && !s.steps.length) {
      process.stdout.write(`${family.padEnd(9)} ${d.spec.padEnd(14)} failed: ${failed[family]}\n`);
      continue;
    }
    const cells = [family, d.spec, mean(s.steps).toFixed(0), fmt(s.discriminative), paper.discriminative, fmt(s.predictive), paper.predictive, fmt(s.realPredictive), paper.realPredictive ?? '-',
      `${mean(s.trainSeconds).toFixed(0)} + ${mean(s.evalSeconds).toFixed(0)}`];
    process.stdout.write(`${cells.map((c, i) => c.padEnd(cols[i][1])).join(' ')}\n`);
    if (failed[family]) process.stdout.write(`${''.padEnd(9)} later seed failed: ${failed[family]}\n`);
  }
  return { data: d.spec, budget, protocol: Object.fromEntries(protocols), paper, rows, failed };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string' }, steps: { type: 'string' }, seeds: { type: 'string', default: '0,1,2' }, skip: { type: 'string', default: '' },
      out: { type: 'string', default: path.join(os.tmpdir(), 'ganforge-bench-timeseries') }, repeats: { type: 'string', default: '5' },
      'discriminative-iterations': { type: 'string' }, 'predictive-iterations': { type: 'string' }, count: { type: 'string' },
    },
    strict: true,
  });
  const posInt = (flag: string, v: string | undefined) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new UserError(`--${flag} must be a positive integer, got ${v}`);
    return n;
  };
  const steps = posInt('steps', values.steps ?? String(DEFAULT_STEPS));
  const minutes = values.minutes !== undefined ? Number(values.minutes) : undefined;
  if (minutes !== undefined && !(minutes > 0)) throw new UserError(`--minutes must be > 0, got ${values.minutes}`);
  const seeds = values.seeds!.split(',').map(Number);
  if (seeds.some((s) => !Number.isInteger(s))) throw new UserError(`--seeds must be comma-separated integers, got ${values.seeds}`);
  const skip = values.skip!.split(',').filter(Boolean);
  const skippable: string[] = [...FAMILIES, ...DATASETS.map((d) => d.key)];
  const unknown = skip.filter((s) => !skippable.includes(s));
  if (unknown.length) throw new UserError(`--skip takes ${skippable.join(', ')}; got ${unknown.join(', ')}`);
  const optional = (flag: string) => (values[flag as keyof typeof values] !== undefined ? posInt(flag, values[flag as keyof typeof values] as string) : undefined);
  const o: Options = {
    minutes, steps, seeds, skip, out: values.out!, repeats: posInt('repeats', values.repeats),
    discriminativeIterations: optional('discriminative-iterations'), predictiveIterations: optional('predictive-iterations'), count: optional('count'),
  };
  await fs.mkdir(o.out, { recursive: true });
  process.stdout.write(`bench:timeseries: paper figures from ${PAPER_SOURCE}; they are TimeGAN at 50,000 iterations per phase (hidden 24, 3 layers, batch 128), metrics repeated 10×. ` +
    `Here: ${steps} steps${minutes !== undefined ? ` (at most ${minutes} min)` : ''} per run with each family's defaults (timegan: a third of them per phase; rgan: 5 D updates and 1 G update per step), metrics repeated ${o.repeats}× ` +
    `(post-hoc iterations ${o.discriminativeIterations ?? 2000} / ${o.predictiveIterations ?? 5000}${o.discriminativeIterations !== undefined || o.predictiveIterations !== undefined ? ', fewer than the paper\'s 2000 / 5000' : ', the paper\'s'}).\n`);
  const result: Record<string, unknown> = { minutes, steps, seeds, repeats: o.repeats, discriminativeIterations: o.discriminativeIterations ?? 2000, predictiveIterations: o.predictiveIterations ?? 5000, paperSource: PAPER_SOURCE };
  const t0 = Date.now();
  for (const d of DATASETS) if (!skip.includes(d.key)) result[d.key] = await benchData(d, o);
  const file = path.join(o.out, 'timeseries.json');
  await fs.writeFile(file, JSON.stringify(result, null, 2));
  process.stdout.write(`\nbench:timeseries: ${((Date.now() - t0) / 60000).toFixed(1)} min in all; results in ${file}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:timeseries: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(e instanceof UserError ? 2 : 1);
});
