/**
 * npm run bench:text — issue #15's text-to-image benchmark: stackgan, attngan and dfgan trained at one stated
 * budget each (--minutes of wall clock per run, or --steps) on captions:fashion-mnist and on the Tux Paint
 * stamps, every family starting from the same pretrained DAMSM text encoder of its data (`ganforge text-encoder
 * --seed 0`, passed as --text-encoder DIR), so that they compare on one encoder. Each run is scored by
 * `ganforge eval RUN --metrics fid,r-precision[,agreement] --json`: FID of images drawn for held-out captions
 * against those images, R-precision judged by DAMSM encoders trained apart from the runs' (seed 1; eval trains
 * and caches them, or --judge-steps N trains them here), and on captions:fashion-mnist the shipped classifier's
 * agreement with the class word and the brightness and size gaps. Age-cGAN's evaluation is npm run
 * bench:agecgan, run at the end unless --skip agecgan. Figures are mean ± std over --seeds; results also go to
 * --out/text.json.
 *
 *   npm run bench:text                                         # 10 min per run, seeds 0,1,2: hours
 *   node dist/bench/text.js --minutes 4 --seeds 0 --skip tuxpaint,agecgan --count 500 --encoder-steps 300
 */
import { parseArgs } from 'node:util';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../src/util/errors.js';
import { ganforge, runNode } from './child.js';

const HERE = path.dirname(fileURLToPath(import.meta.url)); // dist/bench
const FAMILIES = ['stackgan', 'attngan', 'dfgan'] as const;
/** Only these sentences name a class and attributes the agreement metric can check. */
const AGREEMENT_DATA = 'captions:fashion-mnist';
const DATASETS = [
  { key: 'fashion', spec: AGREEMENT_DATA },
  { key: 'tuxpaint', spec: 'tuxpaint' },
] as const;
/** The R-precision judge's seed, apart from the seed 0 of the encoders the runs train with (as text_eval's default). */
const JUDGE_SEED = 1;

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const std = (v: number[]) => (v.length < 2 ? 0 : Math.sqrt(v.reduce((a, b) => a + (b - mean(v)) ** 2, 0) / (v.length - 1)));
const fmt = (v: number[], digits = 2) => (v.length ? `${mean(v).toFixed(digits)} ± ${std(v).toFixed(digits)}` : '-');

interface EvalJson { scores: Record<string, number>; protocol: Record<string, string> }

/** The JSON line `eval --json` prints for a text run. */
function parseEval(stdout: string): EvalJson {
  const line = stdout.trim().split('\n').reverse().find((l) => l.startsWith('{'));
  if (!line) throw new Error(`eval printed no JSON: ${stdout.slice(-300)}`);
  return JSON.parse(line) as EvalJson;
}

const SERIES = ['steps', 'batch', 'fid', 'rPrecision', 'rPrecisionDraws', 'agreement', 'brightnessGap', 'sizeGap', 'trainSeconds', 'evalSeconds'] as const;
type Series = Record<(typeof SERIES)[number], number[]>;

interface Options {
  minutes?: number; steps?: number; seeds: number[]; skip: string[]; out: string; count: number; encoderSteps: number;
  judgeSteps?: number; sizes: Record<string, number>; dataLimit?: number;
}

/** Trains `ganforge text-encoder` into dir unless a finished one is there; returns its encoders.json summary. */
async function encoders(dir: string, data: string, size: number, steps: number, seed: number, o: Options, tag: string): Promise<string> {
  const file = path.join(dir, 'encoders.json');
  if (!existsSync(file)) {
    await fs.rm(dir, { recursive: true, force: true });
    const t0 = Date.now();
    await ganforge(['text-encoder', '--data', data, '--image-size', String(size), '--steps', String(steps), '--seed', String(seed), ...(o.dataLimit ? ['--data-limit', String(o.dataLimit)] : []), '--out', dir], tag);
    process.stderr.write(`bench:text: ${tag} trained in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  }
  const info = JSON.parse(await fs.readFile(file, 'utf8')) as { seed: number; steps: number; batchSize: number; spec: { embedDim: number; featureDim: number }; final?: { total: number }; vocab: string[]; maxLen: number };
  return `DAMSM encoders ${dir} (seed ${info.seed}, ${info.steps} steps of batch ${info.batchSize} on ${data} at ${size} px; ${info.vocab.length - 2} words, ${info.maxLen} tokens, embed ${info.spec.embedDim}, D ${info.spec.featureDim}; final DAMSM loss ${info.final?.total.toFixed(3) ?? '?'})`;
}

async function benchData(d: (typeof DATASETS)[number], o: Options): Promise<object> {
  const size = o.sizes[d.key];
  const budget = o.steps !== undefined ? `${o.steps} steps` : `${o.minutes} min of wall clock`;
  const metrics = ['fid', 'r-precision', ...(d.spec === AGREEMENT_DATA ? ['agreement'] : [])];
  process.stdout.write(`\ntext ${d.spec}: ${FAMILIES.filter((f) => !o.skip.includes(f)).join(', ')} at ${size} px, ${budget} per run, seeds ${o.seeds.join(',')}${o.dataLimit ? `, first ${o.dataLimit} training examples` : ''}\n`);
  const encoderDir = path.join(o.out, `encoders-${d.key}-${size}px-${o.encoderSteps}`);
  const encoderName = await encoders(encoderDir, d.spec, size, o.encoderSteps, 0, o, `${d.key} text-encoder`);
  process.stdout.write(`text ${d.spec}: every family's text (and image) encoder starts from ${encoderName}\n`);
  let judgeDir: string | undefined;
  if (o.judgeSteps !== undefined) {
    judgeDir = path.join(o.out, `judge-${d.key}-${size}px-${o.judgeSteps}`);
    await encoders(judgeDir, d.spec, size, o.judgeSteps, JUDGE_SEED, o, `${d.key} judge`);
  }
  const rows: Record<string, Series> = {};
  const failed: Record<string, string> = {};
  const protocols = new Map<string, string>();
  for (const f of FAMILIES) rows[f] = Object.fromEntries(SERIES.map((k) => [k, []])) as unknown as Series;
  for (const seed of o.seeds) {
    for (const family of FAMILIES) {
      if (o.skip.includes(family) || failed[family]) continue;
      const dir = path.join(o.out, `${d.key}-${family}-s${seed}`);
      const tag = `${family} ${d.key} s${seed}`;
      try {
        await fs.rm(dir, { recursive: true, force: true });
        const budgetArgs = o.steps !== undefined ? ['--steps', String(o.steps)] : ['--max-minutes', String(o.minutes), '--steps', '1000000'];
        process.stderr.write(`bench:text: training ${tag}…\n`);
        let t0 = Date.now();
        await ganforge(['train', family, '--data', d.spec, '--image-size', String(size), '--text-encoder', encoderDir, ...budgetArgs, '--seed', String(seed),
          ...(o.dataLimit ? ['--data-limit', String(o.dataLimit)] : []), '--out', dir], tag);
        const trainSeconds = (Date.now() - t0) / 1000;
        process.stderr.write(`bench:text: scoring ${tag}…\n`);
        t0 = Date.now();
        const r = parseEval(await ganforge(['eval', dir, '--metrics', metrics.join(','), '--json', '--count', String(o.count), ...(judgeDir ? ['--r-encoders', judgeDir] : [])], `eval ${tag}`));
        const s = rows[family];
        s.trainSeconds.push(trainSeconds);
        s.evalSeconds.push((Date.now() - t0) / 1000);
        s.steps.push(Number(r.protocol.step));
        s.batch.push((JSON.parse(await fs.readFile(path.join(dir, 'config.json'), 'utf8')) as { batchSize: number }).batchSize);
        s.fid.push(r.scores.fid);
        s.rPrecision.push(r.scores['r-precision']);
        s.rPrecisionDraws.push(r.scores['r-precision/std']);
        if (r.scores.agreement !== undefined) {
          s.agreement.push(r.scores.agreement);
          s.brightnessGap.push(r.scores['agreement/brightness-gap']);
          s.sizeGap.push(r.scores['agreement/size-gap']);
        }
        for (const k of ['testSet', 'captions', 'latents', 'fidNet', 'rPrecision', 'agreement']) if (r.protocol[k] !== undefined) protocols.set(k, r.protocol[k]);
      } catch (e) {
        failed[family] = (e as Error).message.split('\n')[0];
        process.stderr.write(`bench:text: ${tag} failed: ${failed[family]}\n`);
      }
    }
  }
  for (const [k, v] of protocols) process.stdout.write(`text ${d.spec} protocol ${k}: ${v}\n`);
  const one = o.seeds.length === 1;
  process.stdout.write(`text ${d.spec}: mean ± std over seeds ${o.seeds.join(',')}${one ? ' (one seed: R-precision ± is the std over its draws)' : ''}; lower FID is better, higher R-precision and agreement are better; gaps > 0 mean the word steers the image; steps × the family's default batch size; seconds = wall clock of train (startup included) + eval\n`);
  const cols: [string, number][] = [['family', 9], ['data', 24], ['steps × batch', 15], ['FID', 17], ['R-precision', 15], ['agreement', 13], ['bright gap', 15], ['size gap', 15], ['seconds', 0]];
  process.stdout.write(`${cols.map(([n, w]) => n.padEnd(w)).join(' ')}\n`);
  for (const family of FAMILIES) {
    if (o.skip.includes(family)) continue;
    const s = rows[family];
    if (failed[family] && !s.steps.length) {
      process.stdout.write(`${family.padEnd(9)} ${d.spec.padEnd(24)} failed: ${failed[family]}\n`);
      continue;
    }
    const rp = one ? `${mean(s.rPrecision).toFixed(3)} ± ${mean(s.rPrecisionDraws).toFixed(3)}` : fmt(s.rPrecision, 3);
    const cells = [family, d.spec, `${one ? mean(s.steps).toFixed(0) : fmt(s.steps, 0)} × ${mean(s.batch).toFixed(0)}`, fmt(s.fid), rp, fmt(s.agreement, 3), fmt(s.brightnessGap, 3), fmt(s.sizeGap, 3), `${mean(s.trainSeconds).toFixed(0)} + ${mean(s.evalSeconds).toFixed(0)}`];
    process.stdout.write(`${cells.map((c, i) => c.padEnd(cols[i][1])).join(' ')}\n`);
    if (failed[family]) process.stdout.write(`${''.padEnd(9)} later seed failed: ${failed[family]}\n`);
  }
  return { data: d.spec, imageSize: size, budget, encoders: encoderName, judge: judgeDir ?? 'eval default (cached)', protocol: Object.fromEntries(protocols), rows, failed };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string' }, steps: { type: 'string' }, seeds: { type: 'string', default: '0,1,2' }, skip: { type: 'string', default: '' },
      out: { type: 'string', default: path.join(os.tmpdir(), 'ganforge-bench-text') }, count: { type: 'string', default: '1000' },
      'encoder-steps': { type: 'string', default: '1000' }, 'judge-steps': { type: 'string' },
      'image-size': { type: 'string', default: '32' }, 'tuxpaint-size': { type: 'string', default: '64' }, 'data-limit': { type: 'string' },
    },
    strict: true,
  });
  const posInt = (flag: string, v: string | undefined) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new UserError(`--${flag} must be a positive integer, got ${v}`);
    return n;
  };
  if (values.minutes !== undefined && values.steps !== undefined) throw new UserError('--minutes and --steps each state the budget; give one');
  const steps = values.steps !== undefined ? posInt('steps', values.steps) : undefined;
  const minutes = steps === undefined ? Number(values.minutes ?? '10') : undefined;
  if (minutes !== undefined && !(minutes > 0)) throw new UserError(`--minutes must be > 0, got ${values.minutes}`);
  const seeds = values.seeds!.split(',').map(Number);
  if (seeds.some((s) => !Number.isInteger(s))) throw new UserError(`--seeds must be comma-separated integers, got ${values.seeds}`);
  const skip = values.skip!.split(',').filter(Boolean);
  const skippable = [...FAMILIES, ...DATASETS.map((d) => d.key), 'agecgan'];
  const unknown = skip.filter((s) => !skippable.includes(s));
  if (unknown.length) throw new UserError(`--skip takes ${skippable.join(', ')}; got ${unknown.join(', ')}`);
  const o: Options = {
    minutes, steps, seeds, skip, out: values.out!, count: posInt('count', values.count), encoderSteps: posInt('encoder-steps', values['encoder-steps']),
    judgeSteps: values['judge-steps'] !== undefined ? posInt('judge-steps', values['judge-steps']) : undefined,
    sizes: { fashion: posInt('image-size', values['image-size']), tuxpaint: posInt('tuxpaint-size', values['tuxpaint-size']) },
    dataLimit: values['data-limit'] !== undefined ? posInt('data-limit', values['data-limit']) : undefined,
  };
  await fs.mkdir(o.out, { recursive: true });
  const result: Record<string, unknown> = { minutes, steps, seeds, count: o.count, encoderSteps: o.encoderSteps };
  const t0 = Date.now();
  for (const d of DATASETS) if (!skip.includes(d.key)) result[d.key] = await benchData(d, o);
  if (skip.includes('agecgan')) process.stdout.write('\ntext agecgan: identity preservation (initial, pixel-wise, identity-preserving), target accuracy and seconds on mnist-thickness: npm run bench:agecgan (bench/agecgan.ts)\n');
  else {
    process.stdout.write('\ntext agecgan: node dist/bench/agecgan.js (its own defaults; npm run bench:agecgan)\n');
    process.stdout.write(await runNode(path.join(HERE, 'agecgan.js'), [], 'agecgan'));
  }
  const file = path.join(o.out, 'text.json');
  await fs.writeFile(file, `${JSON.stringify(result, null, 1)}\n`);
  process.stdout.write(`text: ${((Date.now() - t0) / 60000).toFixed(1)} min in all; results → ${file}\n`);
}

try {
  await main();
} catch (e) {
  if (!(e instanceof UserError)) throw e;
  process.stderr.write(`bench:text: ${e.message}\n`);
  process.exitCode = 2;
}
