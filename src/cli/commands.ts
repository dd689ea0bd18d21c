import * as tf from '@tensorflow/tfjs-core';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { availableParallelism } from 'node:os';
import { startRun, resumeRun } from '../run.js';
import { flagOf, validatePartialConfig, type RunConfig } from '../gan/config.js';
import { DATA_KIND_WORDS, DEFAULT_DATA_KINDS, allNetworks, type GanFamily, type GanNetworks, type SampleRequest, type SampleResult } from '../gan/family.js';
import type { DatasetInfo } from '../data/types.js';
import type { Trainer } from '../gan/trainer.js';
import { loadSamplingNetworks, readCheckpointState, resolveCheckpoint } from '../gan/checkpoint.js';
import { checkTruncation, oneHotLabels, resultPng, sampleFamily, sampledClasses, sequenceInfoOf } from '../gan/sampling.js';
import { unscale } from '../data/sequences.js';
import { defaultDecodeThreads, libuvPoolSize } from '../data/decode_pool.js';
import { stringify } from 'csv-stringify/sync';
import { parseMixLayers, parseSeedList, styleMixGrid } from '../gan/style_mixing.js';
import { MetricsLog, RunFolder, listDirs } from '../gan/run_folder.js';
import { MODELS, getModel } from '../models/registry.js';
import { encodeNpy } from '../io/npy.js';
import { toUint8Images } from '../io/png.js';
import { initBackend, backendReport } from '../backend/index.js';
import { UserError, unknownChoice } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { PRESETS } from './presets.js';
import { attachProgress } from './progress.js';
import { launch, launching, type LaunchOptions } from './launch.js';
import { joinGroup, rankEnv, type JoinedGroup } from '../distributed/group.js';

export async function trainCommand(model: string, flags: Partial<RunConfig>, opts: { config?: string; preset?: string; backend?: string } & Partial<LaunchOptions>): Promise<void> {
  const family = getModel(model);
  let preset: Partial<RunConfig> | undefined;
  if (opts.preset !== undefined) {
    preset = PRESETS[opts.preset]?.config;
    if (!preset) throw unknownChoice('preset', opts.preset, Object.keys(PRESETS));
  }
  const layers: Partial<RunConfig>[] = [];
  if (opts.config !== undefined) layers.push(await readConfigFile(opts.config, family));
  refuseOtherFamilies(family, flags);
  layers.push(validatePartialConfig({ ...flags, model }, 'command line', family.settings));
  const user = Object.assign({}, ...layers) as Partial<RunConfig>;
  if (isLaunch(opts)) return void (process.exitCode = await launch(opts));
  shareCores();
  await initBackend({ prefer: opts.backend }); // validates the name
  const group = await joinFromEnvironment();
  await runToEnd(() => startRun(user, { preset, group }), group);
}

/** With --nproc-per-node/--nnodes and no RANK in the environment, this process starts the ranks. */
function isLaunch(opts: Partial<LaunchOptions>): opts is LaunchOptions {
  return opts.nprocPerNode !== undefined && launching(opts as LaunchOptions);
}

/**
 * A rank started by another launcher (torchrun sets OMP_NUM_THREADS=1, a job script may set nothing) gets
 * its share of the node's cores unless GANFORGE_THREADS says otherwise: N ranks with every core each would
 * fight over them. Must run before the backend starts.
 */
function shareCores(): void {
  const env = rankEnv();
  if (!env || env.worldSize === 1 || process.env.GANFORGE_THREADS) return;
  const perNode = Number(process.env.LOCAL_WORLD_SIZE) || 1;
  process.env.GANFORGE_THREADS = process.env.OMP_NUM_THREADS || String(Math.max(1, Math.floor(availableParallelism() / perNode)));
}

/** Join the data-parallel group a launcher (ours, torchrun, a job script) describes in the environment, if any. */
async function joinFromEnvironment(): Promise<JoinedGroup | undefined> {
  const env = rankEnv();
  if (!env || env.worldSize === 1) return undefined;
  return joinGroup(env, process.env.GANFORGE_DEVICE?.trim().toLowerCase() === 'cuda' ? 'cuda' : 'cpu');
}

/** A flag that belongs to another family's settings (e.g. --lambda-l1 for cgan) gets an error saying whose it is. */
function refuseOtherFamilies(family: GanFamily, given: Partial<RunConfig>): void {
  const own = new Set(Object.keys(family.settings ?? {}));
  for (const key of Object.keys(given)) {
    if (own.has(key)) continue;
    const owners = Object.values(MODELS).filter((f) => f.settings && key in f.settings).map((f) => f.name);
    if (owners.length > 0) throw new UserError(`${flagOf(key)} is a setting of ${owners.join(', ')}; ${family.name} does not use it`);
  }
}

export async function resumeCommand(dir: string, opts: { steps?: number; backend?: string } & Partial<LaunchOptions>): Promise<void> {
  if (isLaunch(opts)) return void (process.exitCode = await launch(opts));
  shareCores();
  await initBackend({ prefer: opts.backend }); // validates the name
  const group = await joinFromEnvironment();
  await runToEnd(() => resumeRun(dir, { steps: opts.steps, group }), group);
}

async function readConfigFile(file: string, family: GanFamily): Promise<Partial<RunConfig>> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw new UserError(`--config: cannot read '${file}'`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new UserError(`--config ${file}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) refuseOtherFamilies(family, parsed as Partial<RunConfig>);
  return validatePartialConfig(parsed, `--config ${file}`, family.settings);
}

/**
 * Train with a progress display. The first Ctrl-C (or SIGTERM) lets the current step finish, writes a
 * checkpoint and exits 0; a second one exits at once. In a data-parallel group only rank 0 shows progress,
 * and a failure of the group (a rank gone, a timeout) ends this rank with a message naming it.
 */
async function runToEnd(make: () => Promise<Trainer>, group?: JoinedGroup): Promise<void> {
  try {
    await trainToEnd(await make());
  } catch (e) {
    if (!group || e instanceof UserError || !(e instanceof Error)) throw e;
    throw new UserError(`rank ${group.rank} of ${group.worldSize}: ${e.message.split('\n')[0]}`);
  } finally {
    group?.leave();
  }
}

async function trainToEnd(trainer: Trainer): Promise<void> {
  const { config } = trainer.parts;
  const say = (line: string) => trainer.leader && process.stderr.write(line);
  const ranks = trainer.parts.group ? ` on ${trainer.parts.group.worldSize} ranks (global batch ${config.batchSize})` : '';
  say(`ganforge: training ${config.model} on ${trainer.data.name} [${trainer.data.shape.join('×')}] with ${tf.getBackend()}${ranks} → ${config.out}\n`);
  let signals = 0;
  const onSignal = (sig: string) => {
    if (++signals > 1) process.exit(130);
    say(`\nganforge: ${sig}: finishing this step and writing a checkpoint (again to quit at once)\n`);
    trainer.requestStop();
  };
  const sigint = () => onSignal('SIGINT');
  const sigterm = () => onSignal('SIGTERM');
  process.on('SIGINT', sigint);
  process.on('SIGTERM', sigterm);
  const detach = trainer.leader ? attachProgress(trainer) : () => {};
  trainer.stats.onNotice((message) => say(`\nganforge: ${message}\n`));
  try {
    const result = await trainer.train();
    detach();
    const why = result.outOfTime ? ` (time limit of ${config.maxMinutes} min reached)` : result.stopped ? ' (stopped; continue with ganforge resume)' : '';
    say(`ganforge: step ${result.step}/${config.steps}${why}; run folder ${config.out}\n`);
  } finally {
    detach();
    process.off('SIGINT', sigint);
    process.off('SIGTERM', sigterm);
    trainer.dispose();
  }
}

export interface SampleOptions {
  count: number;
  seed: number;
  out: string;
  /** An index, or a class name (resolved against the run's classes). */
  class?: number | string;
  code?: string[];
  vary?: string;
  raw?: boolean;
  backend?: string;
  truncation?: number;
  standingStats?: number;
  styleMix?: string[];
  mixLayers?: string;
  text?: string[];
  textFile?: string;
  textTo?: string;
  /** A class by its name (or index): rcgan's condition value, any class-conditional run's class. */
  condition?: string;
}

export async function sampleCommand(target: string, opts: SampleOptions): Promise<void> {
  const ext = path.extname(opts.out).toLowerCase();
  if (ext !== '.npy' && ext !== '.png' && ext !== '.csv') throw new UserError(`--out must end in .npy, .png or .csv (sequence runs), got '${opts.out}'`);
  if (!Number.isInteger(opts.count) || opts.count < 1) throw new UserError(`--count must be a positive integer, got ${opts.count}`);
  if (opts.mixLayers !== undefined && !opts.styleMix) throw new UserError('--mix-layers goes with --style-mix ROW_SEEDS COL_SEEDS');
  if (opts.standingStats !== undefined && (!Number.isInteger(opts.standingStats) || opts.standingStats < 1)) throw new UserError(`--standing-stats must be a positive integer (passes; BigGAN uses 16), got ${opts.standingStats}`);
  if (opts.standingStats !== undefined && opts.styleMix) throw new UserError('--standing-stats recomputes batch-norm statistics; --style-mix samples a style space, which has none');
  if (opts.styleMix && (opts.styleMix.length !== 2 || ext !== '.png')) {
    throw new UserError(`--style-mix takes two comma lists of seeds, ROW_SEEDS COL_SEEDS (e.g. --style-mix 1,2,3 10,11), and writes a .png${ext !== '.png' ? ` (--out is '${opts.out}')` : ''}`);
  }
  await initBackend({ prefer: opts.backend }); // validates the name
  const { nets, state, ema } = await loadSamplingNetworks(target, { raw: opts.raw }); // the EMA copy of G unless --raw
  const { data, config } = state;
  if (ext === '.csv' && data.kind !== 'sequence') throw new UserError(`--out ${opts.out}: CSV is for sequence runs; this run's data (${data.name}) is ${DATA_KIND_WORDS[data.kind]}: write .png or .npy`);
  if (opts.condition !== undefined) {
    if (opts.class !== undefined) throw new UserError('--condition and --class both pick the class; pass one');
    opts = { ...opts, class: conditionClass(opts.condition, data) };
  } else if (typeof opts.class === 'string') {
    opts = { ...opts, class: conditionClass(opts.class, data, '--class') };
  }
  const k = opts.class as number | undefined;
  // The family decides what sampling means: noise, a class (--class), infogan's codes (--code/--vary), truncation.
  let result;
  try {
    const family = getModel(config.model);
    const text = await sentencesOf(opts);
    const request = { count: opts.count, seed: opts.seed, class: k, code: opts.code, vary: opts.vary, truncation: opts.truncation, standingStats: opts.standingStats, text, textTo: opts.textTo };
    result = opts.styleMix ? mixGrid(family, nets, request, opts.styleMix, opts.mixLayers, { config, data }) : sampleFamily(family, nets, request, { config, data });
  } finally {
    for (const [, model] of allNetworks(nets)) model.dispose();
  }
  const { count } = result;
  await fs.mkdir(path.dirname(path.resolve(opts.out)), { recursive: true });
  if (ext === '.png') {
    await writeFileAtomic(opts.out, await resultPng(result, data));
  } else if (data.kind === 'sequence') {
    // Original units: the scaling saved with the run undone, [N, T, F] in .npy or one row per time step in .csv.
    const values = unscale(result.values, sequenceInfoOf(data).scaling);
    const classes = sampledClassNames(count, data, k);
    await writeFileAtomic(opts.out, ext === '.csv' ? sequencesCsv(values, count, data, classes) : encodeNpy(values, [count, ...result.shape]));
  } else if (data.kind === 'image') {
    await writeFileAtomic(opts.out, encodeNpy(toUint8Images(result.values), [count, ...result.shape])); // uint8 [N, H, W, C]
  } else {
    await writeFileAtomic(opts.out, encodeNpy(result.values, [count, ...result.shape])); // float32 [N, 2]
  }
  process.stderr.write(`ganforge: wrote ${count} samples from step ${state.step}${ema ? ' (EMA generator)' : ''} to ${opts.out}\n`);
}

/** The sentences of --text and --text-file (in that order), or undefined when neither is given. */
async function sentencesOf(opts: SampleOptions): Promise<string[] | undefined> {
  const given = [...(opts.text ?? [])];
  if (opts.textFile !== undefined) {
    let body: string;
    try {
      body = await fs.readFile(opts.textFile, 'utf8');
    } catch (e) {
      throw new UserError(`--text-file ${opts.textFile}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    const lines = body.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
    if (lines.length === 0) throw new UserError(`--text-file ${opts.textFile} holds no sentence (one per line)`);
    given.push(...lines);
  }
  if (opts.textTo !== undefined && given.length === 0) throw new UserError('--text-to interpolates from a --text sentence: give one');
  return given.length > 0 ? given : undefined;
}

/** `sample --style-mix ROWS COLS [--mix-layers a-b]`: the style-mixing figure, through the family's style space. */
function mixGrid(family: GanFamily, nets: GanNetworks, request: SampleRequest, seeds: string[], layers: string | undefined, run: { config: RunConfig; data: DatasetInfo }): SampleResult {
  const space = family.styleSpace?.(nets, run);
  if (!space) throw new UserError(`--style-mix needs a model with a style space (stylegan2); ${family.name} has none`);
  checkTruncation(family, request.truncation);
  const k = sampledClasses(family, run.data, request.class);
  const range = parseMixLayers(layers ?? `0-${Math.max(0, Math.floor(space.numWs / 2) - 1)}`, space);
  const classes = k > 0 ? oneHotLabels([request.class ?? 0], k) : undefined;
  try {
    return styleMixGrid(space, { rows: parseSeedList(seeds[0], '--style-mix ROW_SEEDS'), cols: parseSeedList(seeds[1], '--style-mix COL_SEEDS'), layers: range, truncation: request.truncation }, run.data.shape, classes);
  } finally {
    classes?.dispose();
  }
}

export async function infoCommand(dir: string): Promise<void> {
  const run = await RunFolder.open(dir);
  const config = JSON.parse(await fs.readFile(run.config, 'utf8')) as RunConfig;
  const checkpoints = await listDirs(run.checkpoints, /^step-\d+$/);
  const lines = [`run      ${dir}`, `model    ${config.model}`, `data     ${config.data}`];
  try {
    const state = await readCheckpointState(await resolveCheckpoint(dir));
    lines.push(`step     ${state.step} of ${config.steps}`);
    const seq = state.data.sequence;
    if (seq) {
      const scaled = seq.features.map((f, j) => `${f} (${seq.scaling.kind}: offset ${seq.scaling.offset[j].toPrecision(4)}, scale ${seq.scaling.scale[j].toPrecision(4)})`);
      lines.push(`series   ${state.data.count ?? '?'} windows of ${seq.window} steps (stride ${seq.stride}) from ${seq.series} series${seq.conditionColumn ? `, condition '${seq.conditionColumn}'` : ''}${seq.origin ? `; ${seq.origin}` : ''}`);
      lines.push(`features ${scaled.join(', ')}`);
    }
    const last = Object.entries(state.lastStats).map(([k, v]) => `${k} ${Number(v).toPrecision(4)}`);
    if (last.length) lines.push(`last     ${last.join(', ')}`);
  } catch {
    lines.push(`step     0 of ${config.steps} (no checkpoint yet)`);
  }
  const logged = await new MetricsLog(run.metrics).readAll();
  lines.push(`logged   ${logged.length} lines in metrics.jsonl`);
  lines.push(`saved    ${checkpoints.length ? checkpoints.join(', ') : 'no checkpoints'}`);
  lines.push('config');
  for (const [k, v] of Object.entries(config)) lines.push(`  ${k.padEnd(16)} ${JSON.stringify(v)}`);
  process.stdout.write(lines.join('\n') + '\n');
}

export function modelsCommand(): void {
  for (const family of Object.values(MODELS)) {
    const takes = (family.dataKinds ?? DEFAULT_DATA_KINDS).join(', ');
    process.stdout.write(`${family.name.padEnd(10)} ${family.summary} [${takes}]\n${' '.repeat(11)}${family.paper}\n`);
  }
}

export async function doctorCommand(): Promise<void> {
  await initBackend({ quiet: true });
  const decode = `image decode threads (streamed folders): ${defaultDecodeThreads()} (libuv pool ${libuvPoolSize()})`;
  process.stdout.write([...(await backendReport()), decode].join('\n') + '\n');
}

/**
 * `--condition VALUE`: the class whose name is VALUE (a CSV condition column's value, a folder's sub-folder), or
 * its index; refused for an unconditional run, naming what would make one.
 */
export function conditionClass(value: string, data: DatasetInfo, flag = '--condition'): number {
  const names = data.classNames ?? [];
  if (names.length === 0) {
    throw new UserError(`${flag} ${value}: this run of ${data.name} is unconditional (its data has no classes); train a conditional family (rcgan, cgan, acgan) on data with classes (--condition-column for CSV series) to sample by condition`);
  }
  const at = names.indexOf(value);
  if (at >= 0) return at;
  const k = Number(value);
  if (/^\d+$/.test(value) && k < names.length) return k;
  throw new UserError(`${flag} ${value}: not one of this run's ${flag === '--class' ? 'classes' : 'conditions'} (${names.slice(0, 20).join(', ')}${names.length > 20 ? ', …' : ''})`);
}

/** The class name of each sample, when the run is class-conditional: the one asked for, else the classes cycled as sampling draws them. */
function sampledClassNames(count: number, data: DatasetInfo, k: number | undefined): string[] | undefined {
  const names = data.classNames;
  if (!names || names.length === 0) return undefined;
  return Array.from({ length: count }, (_, i) => names[k ?? i % names.length]);
}

/** Sequences as CSV: one row per (sample, step), the features in their original units (and the condition, if any). */
export function sequencesCsv(values: Float32Array, count: number, data: DatasetInfo, classes?: string[]): string {
  const seq = sequenceInfoOf(data);
  const [t, f] = data.shape;
  const condition = classes ? [seq.conditionColumn ?? 'class'] : [];
  const rows: (string | number)[][] = [];
  for (let n = 0; n < count; n++) {
    for (let i = 0; i < t; i++) {
      const row: (string | number)[] = [n, i];
      if (classes) row.push(classes[n]);
      for (let j = 0; j < f; j++) row.push(values[(n * t + i) * f + j]);
      rows.push(row);
    }
  }
  return stringify(rows, { header: true, columns: ['sample', 'step', ...condition, ...seq.features] });
}
