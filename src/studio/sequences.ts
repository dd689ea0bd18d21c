import '@tensorflow/tfjs-backend-cpu'; // a backend to sample with, in processes (the studio) that set none
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { loadData } from '../data/registry.js';
import { convertScaling, unscale } from '../data/sequences.js';
import type { DatasetInfo } from '../data/types.js';
import { loadSamplingNetworks, readCheckpointState, resolveCheckpoint, type CheckpointState } from '../gan/checkpoint.js';
import { DATA_KIND_WORDS, allNetworks } from '../gan/family.js';
import { sampleFamily, sampledClasses, sequenceInfoOf } from '../gan/sampling.js';
import { EMBEDDING_PROTOCOL, chooseIndices, sequenceBatch, type Embedding2d, type EmbeddingMethod, type EmbedOptions, type SequenceBatch } from '../metrics/sequence_embedding.js';
import { getModel } from '../models/registry.js';
import { sequenceLoadOptions } from '../gan/config.js';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';

/**
 * The studio's sequence page, server side: real windows of a run's data and samples of its newest checkpoint
 * (sampleFamily, as `ganforge sample` draws them) in original units, and the TimeGAN figure's PCA and t-SNE
 * coordinates (metrics/sequence_embedding.ts). A browser cannot load the run's data set, and sequence generators
 * are small, so both are computed here; t-SNE (seconds at 1,000 + 1,000 sequences) runs in a worker thread so the
 * server keeps answering live pages meanwhile.
 */

/** Sequences a line chart shows by default, and at most. */
export const SHOWN_SEQUENCES = 8;
export const MAX_SHOWN = 64;

/** Real and generated sequences for the line charts: [count, T, F] row-major in original units. */
export interface SequenceView {
  model: string;
  data: string;
  checkpoint: string;
  step: number;
  features: string[];
  window: number;
  seed: number;
  count: number;
  /** Which real windows are shown (indices into the run's data, chosen by the seed). */
  realIndices: number[];
  /** A class-conditional run's classes (rcgan's condition values), and the one shown when one was asked for. */
  classNames?: string[];
  class?: number;
  real: number[];
  fake: number[];
}

/** The TimeGAN figure's coordinates: real and synthetic [count, 2] row-major. */
export interface EmbeddingView {
  method: EmbeddingMethod;
  checkpoint: string;
  step: number;
  seed: number;
  count: number;
  protocol: string;
  real: number[];
  fake: number[];
}

/** The run's data as training saw it, with its class labels when it has them. */
type RealSet = SequenceBatch & { labels?: Int32Array };

interface Newest {
  dir: string;
  state: CheckpointState;
  /** state.json's time: a checkpoint folder rewritten in place is another checkpoint. */
  stamp: number;
}

/** The newest checkpoint of a sequence run, or an error the page can show. */
async function newestSequenceCheckpoint(runDir: string): Promise<Newest> {
  const dir = await resolveCheckpoint(runDir);
  const state = await readCheckpointState(dir);
  if (state.data.kind !== 'sequence') throw new UserError(`${state.config.model} on ${state.data.name} makes ${DATA_KIND_WORDS[state.data.kind]}, not sequences`);
  const stamp = await fs.stat(path.join(dir, 'state.json')).then((s) => s.mtimeMs);
  return { dir, state, stamp };
}

/** Keeps at most `size` entries, dropping the oldest. */
function remember<T>(cache: Map<string, T>, key: string, make: () => T, size: number): T {
  let found = cache.get(key);
  if (found === undefined) {
    found = make();
    cache.set(key, found);
    if (cache.size > size) cache.delete(cache.keys().next().value!);
  }
  return found;
}

/** A failed computation is forgotten, so the next request tries again. */
function forgetOnError<T>(cache: Map<string, Promise<T>>, key: string, p: Promise<T>): Promise<T> {
  return p.catch((e: unknown) => {
    cache.delete(key);
    throw e;
  });
}

/** Sequence views of the runs one studio serves, with their data sets, samples and embeddings cached. */
export class SequenceViews {
  private readonly realData = new Map<string, Promise<RealSet>>();
  private readonly samples = new Map<string, Promise<Float32Array>>();
  private readonly embeddings = new Map<string, Promise<EmbeddingView>>();

  /**
   * `count` real windows (chosen by `seed`) and `count` samples (seeded by `seed`), in original units; for a
   * class-conditional run, `class` K restricts both to that class (windows labelled K, samples drawn with K).
   */
  async sequences(runDir: string, opts: { seed: number; count?: number; class?: number }): Promise<SequenceView> {
    const ckpt = await newestSequenceCheckpoint(runDir);
    const { state } = ckpt;
    const seq = sequenceInfoOf(state.data);
    const classes = sampledClasses(getModel(state.config.model), state.data, opts.class); // checks `class`
    const count = opts.count ?? SHOWN_SEQUENCES;
    const real = await this.real(ckpt);
    const pool = opts.class !== undefined && real.labels ? Int32Array.from(real.labels.keys()).filter((i) => real.labels![i] === opts.class) : null;
    if (pool && pool.length === 0) throw new UserError(`no window of ${state.data.name} has class ${state.data.classNames?.[opts.class!] ?? opts.class}`);
    const picked = chooseIndices(pool?.length ?? real.count, Math.min(count, pool?.length ?? real.count), new Rng(opts.seed));
    const indices = pool ? picked.map((i) => pool[i]) : picked;
    const size = real.window * real.features;
    const chosen = new Float32Array(indices.length * size);
    indices.forEach((row, i) => chosen.set(real.values.subarray(row * size, (row + 1) * size), i * size));
    const fake = await this.sample(ckpt, count, opts.seed, opts.class);
    return {
      model: state.config.model, data: state.data.name, checkpoint: path.basename(ckpt.dir), step: state.step,
      features: seq.features, window: real.window, seed: opts.seed, count: indices.length, realIndices: Array.from(indices),
      ...(classes > 0 ? { classNames: state.data.classNames ?? Array.from({ length: classes }, (_, k) => String(k)) } : {}),
      ...(opts.class !== undefined ? { class: opts.class } : {}),
      real: Array.from(unscale(chosen, seq.scaling)), fake: Array.from(unscale(Float32Array.from(fake), seq.scaling)),
    };
  }

  /** PCA or t-SNE of the run's real windows and as many samples (≤ 1,000 each, `seed` for both), on scaled values. */
  async embedding(runDir: string, opts: { method: EmbeddingMethod; seed: number; count?: number }): Promise<EmbeddingView> {
    const ckpt = await newestSequenceCheckpoint(runDir);
    const key = [ckpt.dir, ckpt.stamp, opts.method, opts.seed, opts.count ?? ''].join('\0');
    return remember(this.embeddings, key, () => forgetOnError(this.embeddings, key, (async () => {
      const real = await this.real(ckpt);
      const count = Math.min(opts.count ?? EMBEDDING_PROTOCOL.count, real.count);
      const fake = sequenceBatch(await this.sample(ckpt, count, opts.seed), ckpt.state.data);
      const e = await embedInWorker(real, fake, { method: opts.method, seed: opts.seed, count });
      return {
        method: e.method, checkpoint: path.basename(ckpt.dir), step: ckpt.state.step, seed: opts.seed, count: e.count, protocol: e.protocol,
        real: Array.from(e.real), fake: Array.from(e.fake),
      };
    })()), 8);
  }

  /** The run's data as training saw it: scaled by the checkpoint's saved scaling, [N, T, F]. */
  private real(ckpt: Newest): Promise<RealSet> {
    const { config, data } = ckpt.state;
    const options = { limit: config.dataLimit || undefined, sequence: sequenceLoadOptions(config) };
    const key = JSON.stringify([config.data, options]);
    return remember(this.realData, key, () => forgetOnError(this.realData, key, loadSequences(config.data, options, data)), 2);
  }

  /** `count` samples of the checkpoint's family with `seed` (and a class), scaled as the model makes them. */
  private sample(ckpt: Newest, count: number, seed: number, k?: number): Promise<Float32Array> {
    const key = [ckpt.dir, ckpt.stamp, count, seed, k ?? ''].join('\0');
    return remember(this.samples, key, () => forgetOnError(this.samples, key, sampleSequences(ckpt, count, seed, k)), 16);
  }
}

async function loadSequences(spec: string, options: Parameters<typeof loadData>[1], data: DatasetInfo): Promise<RealSet> {
  const source = await loadData(spec, options);
  if (source.kind !== 'array' || source.info.kind !== 'sequence') throw new UserError(`${spec} no longer loads as sequence data`);
  const [t, f] = data.shape;
  if (source.info.shape[0] !== t || source.info.shape[1] !== f) {
    throw new UserError(`${spec} now loads as sequences of [${source.info.shape.join(', ')}], but the run was trained on [${t}, ${f}]`);
  }
  const values = convertScaling(Float32Array.from(source.values as Float32Array), sequenceInfoOf(source.info).scaling, sequenceInfoOf(data).scaling);
  return { ...sequenceBatch(values, data), ...(source.labels ? { labels: source.labels } : {}) };
}

async function sampleSequences(ckpt: Newest, count: number, seed: number, k?: number): Promise<Float32Array> {
  const { nets, state } = await loadSamplingNetworks(ckpt.dir);
  try {
    return sampleFamily(getModel(state.config.model), nets, { count, seed, ...(k !== undefined ? { class: k } : {}) }, { config: state.config, data: state.data }).values;
  } finally {
    for (const [, model] of allNetworks(nets)) model.dispose();
  }
}

/** embed2d in a worker thread (the same function, off the server's event loop). */
export function embedInWorker(real: SequenceBatch, fake: SequenceBatch, opts: EmbedOptions): Promise<Embedding2d> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./embedding_worker.js', import.meta.url), { workerData: { real, fake, opts } });
    worker.once('message', (e: Embedding2d) => resolve(e));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the embedding worker exited (${code}) without a result`)));
  });
}
