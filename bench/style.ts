/**
 * npm run bench:style — the style-based and large-scale generators against the DCGAN-era ones, at one equal
 * wall-clock budget per run, on real colour data:
 * - CIFAR-10 32 px, trained on 10 % (5,000 images, class-balanced) and on 100 % of its training split;
 * - Fluent-emoji 64 px (3,391 images; installs on first use).
 * Models: dcgan, sngan, stylegan2, stylegan2 with ADA (--ada-target 0.6), biggan (class-conditional, CIFAR-10 only).
 * Each run is `ganforge train … --max-minutes M`, then `ganforge eval` scores FID, KID and IS in the shipped
 * CIFAR-10 network (RGB; not Inception: not comparable with published numbers) against CIFAR-10's test split or
 * the emoji themselves, and for models with a truncation trick precision/recall at several ψ (eval
 * --truncation-curve). Several seeds: mean ± std. The winner of each data set is named with its margin.
 *
 *   npm run bench:style                                  # 10 min per run, seeds 0,1 — hours in all
 *   node dist/bench/style.js --minutes 2 --seeds 0 --sets cifar10-10 --models dcgan,stylegan2
 *
 * CIFAR-10 comes from ../shared/datasets/cifar10-jpeg.tar.gz, unpacked once into --cifar (default
 * /tmp/ganforge-cifar10). Runs and plots go to --out (default /tmp/ganforge-bench-style).
 */
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../src/util/errors.js';

const HERE = path.dirname(fileURLToPath(import.meta.url)); // dist/bench
const MAIN = path.resolve(HERE, '../src/cli/main.js');
const REPO = path.resolve(HERE, '../..');

interface DataSet { name: string; data: string; ref: string; limit: number; conditional: boolean }
interface Model { name: string; family: string; flags: string[]; classOnly?: boolean }

const MODELS: Model[] = [
  { name: 'dcgan', family: 'dcgan', flags: [] },
  { name: 'sngan', family: 'sngan', flags: [] },
  { name: 'stylegan2', family: 'stylegan2', flags: [] },
  { name: 'stylegan2+ada', family: 'stylegan2', flags: ['--ada-target', '0.6'] },
  { name: 'biggan', family: 'biggan', flags: [], classOnly: true },
];

function dataSets(cifar: string): DataSet[] {
  return [
    { name: 'cifar10-10', data: `folder:${cifar}/train`, ref: `folder:${cifar}/test`, limit: 5000, conditional: true },
    { name: 'cifar10', data: `folder:${cifar}/train`, ref: `folder:${cifar}/test`, limit: 0, conditional: true },
    { name: 'fluent-emoji', data: 'fluent-emoji', ref: 'fluent-emoji', limit: 0, conditional: false },
  ];
}

function run(args: string[], quiet = true): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => { err += d; if (!quiet) process.stderr.write(d); });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`ganforge ${args.join(' ')} exited ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`))));
  });
}

async function unpackCifar(dir: string): Promise<void> {
  if (existsSync(path.join(dir, 'train')) && existsSync(path.join(dir, 'test'))) return;
  const tar = path.resolve(REPO, '../shared/datasets/cifar10-jpeg.tar.gz');
  if (!existsSync(tar)) throw new UserError(`CIFAR-10 is not at ${tar}; unpack it yourself and pass --cifar DIR (DIR/train/<class>/*.jpg, DIR/test/<class>/*.jpg)`);
  await fs.mkdir(dir, { recursive: true });
  process.stderr.write(`bench:style: unpacking ${tar} into ${dir}\n`);
  await new Promise<void>((resolve, reject) => spawn('tar', ['-xzf', tar, '-C', dir], { stdio: 'inherit' }).on('close', (c) => (c === 0 ? resolve() : reject(new Error(`tar exited ${c}`)))));
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const std = (v: number[]) => (v.length < 2 ? 0 : Math.sqrt(v.reduce((a, b) => a + (b - mean(v)) ** 2, 0) / (v.length - 1)));
const fmt = (v: number[], digits = 2) => (v.length ? `${mean(v).toFixed(digits)} ± ${std(v).toFixed(digits)}` : '-');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '10' }, seeds: { type: 'string', default: '0,1' }, count: { type: 'string', default: '5000' },
      sets: { type: 'string', default: 'cifar10-10,cifar10,fluent-emoji' }, models: { type: 'string', default: MODELS.map((m) => m.name).join(',') },
      cifar: { type: 'string', default: '/tmp/ganforge-cifar10' }, out: { type: 'string', default: '/tmp/ganforge-bench-style' }, psi: { type: 'string', default: '0.5,0.7,1' },
    },
    strict: true,
  });
  const minutes = Number(values.minutes);
  const seeds = values.seeds!.split(',').map(Number);
  const count = Number(values.count);
  if (!(minutes > 0) || seeds.some((s) => !Number.isInteger(s)) || !Number.isInteger(count) || count < 2) throw new UserError('--minutes > 0, --seeds integers, --count ≥ 2');
  const sets = dataSets(values.cifar!).filter((s) => values.sets!.split(',').includes(s.name));
  const models = MODELS.filter((m) => values.models!.split(',').includes(m.name));
  if (sets.some((s) => s.name.startsWith('cifar10'))) await unpackCifar(values.cifar!);
  await fs.mkdir(values.out!, { recursive: true });
  process.stdout.write(`bench:style — ${minutes} min per run, seeds ${seeds.join(',')}, ${count} samples, FID/KID/IS in ganforge-cifar10-cnn (not Inception)\n`);
  for (const set of sets) {
    const rows: { model: string; fid: number[] }[] = [];
    for (const model of models) {
      if (model.classOnly && !set.conditional) continue;
      const scores: Record<string, number[]> = { fid: [], kid: [], is: [], steps: [] };
      const curves: Record<string, { precision: number[]; recall: number[] }> = {};
      let failed = '';
      for (const seed of seeds) {
        const dir = path.join(values.out!, `${set.name}-${model.name}-s${seed}`);
        await fs.rm(dir, { recursive: true, force: true });
        try {
          await run(['train', model.family, '--data', set.data, ...(set.limit ? ['--data-limit', String(set.limit)] : []), '--max-minutes', String(minutes), '--steps', '1000000', '--seed', String(seed), '--out', dir, ...model.flags]);
          const logged = (await fs.readFile(path.join(dir, 'metrics.jsonl'), 'utf8')).trim().split('\n');
          scores.steps.push((JSON.parse(logged[logged.length - 1]) as { step: number }).step);
          const out = await run(['eval', dir, '--metrics', 'fid,kid,is', '--ref', set.ref, '--count', String(count), '--net', 'cifar10', '--seed', String(seed), '--json']);
          for (const line of out.trim().split('\n')) {
            const r = JSON.parse(line) as { metric: string; values: Record<string, number> };
            scores[r.metric]?.push(r.values[r.metric]);
          }
          if (model.family === 'stylegan2' || model.family === 'biggan') {
            const plot = path.join(values.out!, `curve-${set.name}-${model.name}-s${seed}.png`);
            const curve = await run(['eval', dir, '--truncation-curve', values.psi!, '--ref', set.ref, '--count', String(Math.min(count, 2000)), '--net', 'cifar10', '--plot', plot, '--json', '--seed', String(seed)]);
            for (const line of curve.trim().split('\n')) {
              const p = JSON.parse(line) as { psi: number; precision: number; recall: number };
              (curves[p.psi] ??= { precision: [], recall: [] }).precision.push(p.precision);
              curves[p.psi].recall.push(p.recall);
            }
          }
        } catch (e) {
          failed = (e as Error).message.split('\n')[0];
          break;
        }
      }
      if (failed) {
        process.stdout.write(`style set=${set.name} model=${model.name} failed: ${failed}\n`);
        continue;
      }
      rows.push({ model: model.name, fid: scores.fid });
      process.stdout.write(`style set=${set.name} model=${model.name} fid=${fmt(scores.fid)} kid×1e3=${fmt(scores.kid.map((k) => 1000 * k))} is=${fmt(scores.is)} steps=${fmt(scores.steps, 0)}\n`);
      for (const [psi, c] of Object.entries(curves)) process.stdout.write(`style set=${set.name} model=${model.name} psi=${psi} precision=${fmt(c.precision, 3)} recall=${fmt(c.recall, 3)}\n`);
    }
    const ranked = rows.filter((r) => r.fid.length).sort((a, b) => mean(a.fid) - mean(b.fid));
    if (ranked.length >= 2) {
      const [a, b] = ranked;
      process.stdout.write(`style set=${set.name} winner=${a.model} fid=${mean(a.fid).toFixed(2)} next=${b.model} fid=${mean(b.fid).toFixed(2)} margin=${(mean(b.fid) - mean(a.fid)).toFixed(2)}\n`);
    }
  }
}

try {
  await main();
} catch (e) {
  if (!(e instanceof UserError)) throw e;
  process.stderr.write(`bench:style: ${e.message}\n`);
  process.exitCode = 2;
}
