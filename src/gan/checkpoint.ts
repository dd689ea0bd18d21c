import * as tf from '@tensorflow/tfjs-core';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { DatasetInfo } from '../data/types.js';
import type { RunConfig } from './config.js';
import { EMA_GENERATOR, allNetworks, type FamilyState, type GanNetworks, type Optimizers } from './family.js';
import type { RngState } from '../util/rng.js';
import { loadModel, loadNamedTensors, saveModel, saveNamedTensors, type NamedTensor } from './model_io.js';
import { RunFolder, listDirs } from './run_folder.js';
import { allOptimizers, captureOptimizerScalars, type OptimizerScalars } from './optimizers.js';
import { UserError } from '../util/errors.js';
import { exists, syncDir, writeFileAtomic } from '../util/fs.js';

export const CHECKPOINT_FORMAT = 'ganforge-checkpoint';

export interface EvalBest {
  metric: string;
  value: number;
  step: number;
  sinceBest: number;
}

/** Everything besides weights that a resume needs to continue exactly where the run stopped. */
export interface CheckpointState {
  format: typeof CHECKPOINT_FORMAT;
  version: 1;
  step: number;
  config: RunConfig;
  data: DatasetInfo;
  rng: { latent: RngState };
  /** The batch stream's position (epoch, cursor, shuffle state). */
  stream: unknown;
  lastStats: Record<string, number>;
  /** Training-time evaluation: the best score so far, its step, and evaluations since it improved. */
  evalBest?: EvalBest;
  /** Optimizer scalars setWeights does not restore exactly (see optimizers.ts), by optimizer name (g, d, …). */
  optimizerScalars?: Record<string, OptimizerScalars>;
  /**
   * Networks and optimizers besides G, D and their two optimizers (GanNetworks.extra, Optimizers.extra), and
   * whether the family's own state was saved (family-state.json with its tensors in family-state-tensors.*);
   * `noDiscriminator` for a family without D (no discriminator/ nor optimizer-d).
   */
  extras?: { nets: string[]; optimizers: string[]; familyState?: boolean; noDiscriminator?: boolean };
  /** The run's trick state by trick name (TrickState.save: e.g. ADA's p), plain JSON. */
  tricks?: Record<string, unknown>;
  savedAt: string;
}

/**
 * A checkpoint is a folder: generator/ and discriminator/ in TF.js's layers-model format (loadable in a
 * browser), optimizer-g/-d moments, state.json. It is written under a temporary name and renamed into place,
 * so a crash mid-save leaves the previous checkpoint untouched; `latest` names the newest complete one.
 */
export async function saveCheckpoint(
  run: RunFolder, nets: GanNetworks, opt: Optimizers, state: CheckpointState, keep: number, name?: string, familyState?: FamilyState,
): Promise<string> {
  await fs.mkdir(run.checkpoints, { recursive: true });
  // A named checkpoint (e.g. 'best') sits beside the step series: `latest` never names it, pruning skips it.
  const final = name === undefined ? run.checkpointPath(state.step) : path.join(run.checkpoints, name);
  const tmp = path.join(run.checkpoints, `.tmp-${path.basename(final)}-${process.pid}`);
  await fs.rm(tmp, { recursive: true, force: true });
  await fs.mkdir(tmp);
  for (const [netName, model] of allNetworks(nets)) await saveModel(model, path.join(tmp, netName));
  const optimizerScalars: Record<string, OptimizerScalars> = {};
  for (const [optName, o] of allOptimizers(opt)) {
    const weights = await o.getWeights();
    try {
      await saveNamedTensors(weights, tmp, `optimizer-${optName}`);
    } finally {
      // getWeights hands out the optimizer's own variables plus a new scalar step counter ('iter') each
      // call; only the latter is ours to free (it leaked two tensors per checkpoint).
      tf.dispose(weights.map((w) => w.tensor).filter((t) => !(t instanceof tf.Variable)));
    }
    optimizerScalars[optName] = captureOptimizerScalars(o);
  }
  if (familyState) {
    const saved = familyState.save();
    await writeFileAtomic(path.join(tmp, 'family-state.json'), JSON.stringify(saved.json));
    try {
      await saveNamedTensors(saved.tensors, tmp, FAMILY_TENSORS);
    } finally {
      tf.dispose(saved.tensors.map((t) => t.tensor)); // save() made them for us
    }
  }
  const extras = {
    nets: Object.keys(nets.extra ?? {}),
    optimizers: Object.keys(opt.extra ?? {}),
    ...(familyState ? { familyState: true } : {}),
    ...(nets.discriminator ? {} : { noDiscriminator: true }),
  };
  await writeFileAtomic(path.join(tmp, 'state.json'), JSON.stringify({ ...state, optimizerScalars, extras }, null, 1));
  await syncDir(tmp);
  // Replacing a checkpoint of the same step (the end-of-training save right after a periodic one, or a
  // resume that reaches a step again): deleting the old folder first would leave, for a moment, a
  // half-deleted folder or none at all (with keep 1 the only checkpoint). Rename it aside instead; until
  // the new folder is in place resolveCheckpoint still finds it there, complete.
  const aside = path.join(run.checkpoints, `${ASIDE_PREFIX}${path.basename(final)}-${process.pid}`);
  const replacing = await exists(final);
  if (replacing) {
    await fs.rm(aside, { recursive: true, force: true });
    await fs.rename(final, aside);
  }
  await fs.rename(tmp, final);
  await syncDir(run.checkpoints);
  if (name === undefined) await writeFileAtomic(path.join(run.checkpoints, 'latest'), path.basename(final));
  if (replacing) await fs.rm(aside, { recursive: true, force: true });
  if (name === undefined) await pruneCheckpoints(run, keep);
  return final;
}

/** File stem of a family state's tensors (family-state-tensors.json/.bin). */
const FAMILY_TENSORS = 'family-state-tensors';

/** Name prefix of a checkpoint folder moved aside while a new one of the same step replaces it. */
const ASIDE_PREFIX = '.old-';

async function pruneCheckpoints(run: RunFolder, keep: number): Promise<void> {
  const all = await listDirs(run.checkpoints, /^step-\d+$/);
  for (const name of all.slice(0, Math.max(0, all.length - keep))) {
    await fs.rm(path.join(run.checkpoints, name), { recursive: true, force: true });
  }
  // Half-written folders of processes that were killed mid-save (their pid ends the name) are never
  // loaded, but each can be a full checkpoint's size: remove those whose writer is gone.
  for (const name of await listDirs(run.checkpoints, /^\.tmp-.*-\d+$/)) {
    const pid = Number(/-(\d+)$/.exec(name)![1]);
    if (pid !== process.pid && !processAlive(pid)) await fs.rm(path.join(run.checkpoints, name), { recursive: true, force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: existence check only
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/** Every file loadCheckpoint reads (D's only in adversarial runs): a folder cut short by a crash mid-delete may lack any one of them. */
const CHECKPOINT_FILES = ['state.json', 'generator/model.json', 'generator/weights.bin', 'optimizer-g.json', 'optimizer-g.bin'];
const DISCRIMINATOR_FILES = ['discriminator/model.json', 'discriminator/weights.bin', 'optimizer-d.json', 'optimizer-d.bin'];

async function isComplete(dir: string): Promise<boolean> {
  for (const f of CHECKPOINT_FILES) {
    if (!(await exists(path.join(dir, f)))) return false;
  }
  let extras: CheckpointState['extras'];
  try {
    extras = (JSON.parse(await fs.readFile(path.join(dir, 'state.json'), 'utf8')) as CheckpointState).extras;
  } catch {
    return false;
  }
  const files = [
    ...(extras?.noDiscriminator ? [] : DISCRIMINATOR_FILES),
    ...(extras?.nets ?? []).flatMap((n) => [`${n}/model.json`, `${n}/weights.bin`]),
    ...(extras?.optimizers ?? []).flatMap((n) => [`optimizer-${n}.json`, `optimizer-${n}.bin`]),
    ...(extras?.familyState ? ['family-state.json', `${FAMILY_TENSORS}.json`, `${FAMILY_TENSORS}.bin`] : []),
  ];
  for (const f of files) {
    if (!(await exists(path.join(dir, f)))) return false;
  }
  return true;
}

/**
 * Accepts a run folder or a checkpoint folder and returns the checkpoint folder to load: the one `latest`
 * names, or else the newest complete one.
 */
export async function resolveCheckpoint(target: string): Promise<string> {
  if (!(await exists(target))) throw new UserError(`'${target}' does not exist; pass a run folder (the --out of 'ganforge train') or a checkpoint folder`);
  if (await exists(path.join(target, 'state.json'))) {
    if (!(await isComplete(target))) throw new UserError(`checkpoint '${target}' is incomplete (missing model or optimizer files)`);
    return target;
  }
  const run = await RunFolder.open(target);
  const candidates: string[] = [];
  try {
    candidates.push((await fs.readFile(path.join(run.checkpoints, 'latest'), 'utf8')).trim());
  } catch {
    /* no pointer yet: fall back to scanning */
  }
  candidates.push(...(await listDirs(run.checkpoints, /^step-\d+$/)).reverse());
  // Last resort: a complete checkpoint moved aside by a save that was cut off before its replacement landed.
  candidates.push(...(await listDirs(run.checkpoints, /^\.old-step-\d+-\d+$/)).reverse());
  for (const name of candidates) {
    const dir = path.join(run.checkpoints, name);
    if (name && (await isComplete(dir))) return dir;
  }
  throw new UserError(`run '${target}' has no checkpoint yet; train it with --checkpoint-every N, or let it finish`);
}

export async function readCheckpointState(dir: string): Promise<CheckpointState> {
  let state: CheckpointState;
  try {
    state = JSON.parse(await fs.readFile(path.join(dir, 'state.json'), 'utf8')) as CheckpointState;
  } catch (e) {
    throw new UserError(`checkpoint '${dir}': cannot read state.json (${(e as Error).message})`);
  }
  if (state.format !== CHECKPOINT_FORMAT) throw new UserError(`'${dir}/state.json' is not a ganforge checkpoint`);
  return state;
}

export interface LoadedCheckpoint {
  dir: string;
  state: CheckpointState;
  nets: GanNetworks;
  /** Each optimizer's saved state by name (g, d, and a family's extra ones). */
  optimizerWeights: Record<string, NamedTensor[]>;
  /** The family's own state as saved (FamilyState.restore takes it; the tensors are the caller's to free). */
  familyState?: { json: unknown; tensors: NamedTensor[] };
}

/** G, and D unless the checkpoint's family has none. */
async function loadMainNetworks(dir: string, state: CheckpointState): Promise<GanNetworks> {
  const generator = await loadModel(path.join(dir, 'generator'));
  return state.extras?.noDiscriminator ? { generator } : { generator, discriminator: await loadModel(path.join(dir, 'discriminator')) };
}

export async function loadCheckpoint(target: string): Promise<LoadedCheckpoint> {
  const dir = await resolveCheckpoint(target);
  try {
    return await loadCheckpointAt(dir);
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    // A damaged checkpoint (a truncated file, say) need not end the run: name the earlier ones to resume from.
    const earlier = (await listDirs(path.dirname(dir), /^step-\d+$/)).filter((n) => n < path.basename(dir)).reverse();
    const complete: string[] = [];
    for (const name of earlier) if (await isComplete(path.join(path.dirname(dir), name))) complete.push(name);
    if (complete.length === 0) throw e;
    throw new UserError(`${e.message}\nearlier checkpoints of this run: ${complete.join(', ')}; resume from one by its folder, e.g. ganforge resume ${path.join(path.dirname(dir), complete[0])}`);
  }
}

async function loadCheckpointAt(dir: string): Promise<LoadedCheckpoint> {
  const state = await readCheckpointState(dir);
  const nets = await loadMainNetworks(dir, state);
  const extraNets = state.extras?.nets ?? [];
  if (extraNets.length > 0) nets.extra = {};
  for (const name of extraNets) nets.extra![name] = await loadModel(path.join(dir, name));
  const optimizerWeights: Record<string, NamedTensor[]> = {};
  const dOptimizer = state.extras?.noDiscriminator ? [] : ['d'];
  for (const name of ['g', ...dOptimizer, ...(state.extras?.optimizers ?? [])]) optimizerWeights[name] = await loadNamedTensors(dir, `optimizer-${name}`);
  const familyState = state.extras?.familyState
    ? { json: JSON.parse(await fs.readFile(path.join(dir, 'family-state.json'), 'utf8')) as unknown, tensors: await loadNamedTensors(dir, FAMILY_TENSORS) }
    : undefined;
  return { dir, state, nets, optimizerWeights, familyState };
}

/** One saved network of a checkpoint by name (e.g. bigan's 'encoder'), or a clear error naming what is there. */
export async function loadNetwork(target: string, name: string) {
  const dir = await resolveCheckpoint(target);
  const state = await readCheckpointState(dir);
  const names = ['generator', ...(state.extras?.noDiscriminator ? [] : ['discriminator']), ...(state.extras?.nets ?? [])];
  if (!names.includes(name)) {
    throw new UserError(`checkpoint '${dir}' (model ${state.config.model}) has no '${name}' network; it holds ${names.join(', ')}`);
  }
  return { dir, state, model: await loadModel(path.join(dir, name)) };
}

/**
 * Only the generator sampling should use and what sampling needs: the EMA copy of G when the run keeps one
 * (`raw: true` asks for the trained G itself); no discriminator or optimizer state is read.
 */
export async function loadGenerator(target: string, opts: { raw?: boolean } = {}) {
  const dir = await resolveCheckpoint(target);
  const state = await readCheckpointState(dir);
  const ema = !opts.raw && (state.extras?.nets ?? []).includes(EMA_GENERATOR);
  return { dir, state, ema, generator: await loadModel(path.join(dir, ema ? EMA_GENERATOR : 'generator')) };
}

/**
 * Every network of a checkpoint, for sampling through the family (`sampleFamily`): no optimizer state is read.
 * `raw: true` leaves out the EMA copy of G, so sampling uses the trained G itself.
 */
export async function loadSamplingNetworks(target: string, opts: { raw?: boolean } = {}) {
  const dir = await resolveCheckpoint(target);
  const state = await readCheckpointState(dir);
  const names = (state.extras?.nets ?? []).filter((n) => !(opts.raw && n === EMA_GENERATOR));
  const nets = await loadMainNetworks(dir, state);
  if (names.length > 0) nets.extra = {};
  for (const name of names) nets.extra![name] = await loadModel(path.join(dir, name));
  return { dir, state, nets, ema: names.includes(EMA_GENERATOR) };
}
