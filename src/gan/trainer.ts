import * as tf from '@tensorflow/tfjs-core';
import { promises as fs } from 'node:fs';
import type { DataSource, DatasetInfo } from '../data/types.js';
import { allNetworks, playersOf, type Probe, type SampleRequest, type SampleResult, type StepStats } from './family.js';
import { StatsChannel } from './stats.js';
import { runStep, type StepState } from './training_step.js';
import { GRID_COUNT, latents, progressPicture, resultPng, sampleFamily } from './sampling.js';
import { CHECKPOINT_FORMAT, loadCheckpoint, saveCheckpoint, type CheckpointState, type EvalBest } from './checkpoint.js';
import { disposeOptimizers, restoreOptimizers } from './optimizers.js';
import { averageGradientsOver } from './replicas.js';
import type { BatchStreamState } from '../data/batches.js';
import { MetricsLog, RunFolder } from './run_folder.js';
import { BatchStream } from '../data/batches.js';
import { Rng } from '../util/rng.js';
import { UserError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';

/** Raised when training keeps diverging after every allowed rollback; the last good checkpoint stays. */
export class DivergenceError extends UserError {
  override name = 'DivergenceError';
}

/** How many examples a translator's progress grid shows (one row each: input | output | target). */
const PROBE_EXAMPLES = 8;

export interface TrainerParts extends StepState {
  source: DataSource;
  /** Training-time evaluation (config.evalEvery); supplied by the layer that owns the metrics. */
  evaluator?: Evaluator;
  /** The best evaluation so far, carried over by a resume. */
  evalBest?: EvalBest;
}

/**
 * Scores the run's networks through the family's sampling (`sample` answers any SampleRequest: noise,
 * classes, input images); `primary` (e.g. 'eval/fid') decides which checkpoint is the best.
 */
export interface Evaluator {
  primary: string;
  lowerIsBetter: boolean;
  evaluate(sample: (request: SampleRequest) => SampleResult): Promise<Record<string, number>>;
}

/**
 * The training loop: fetch a batch, D step, G step, report, sample, snapshot — each a visible line below.
 * Stats leave only through `stats`; the CLI's progress bar and the JSONL log listen there.
 */
export class Trainer {
  readonly stats = new StatsChannel();
  readonly run: RunFolder;
  private readonly log: MetricsLog;
  private readonly probe: Probe;
  private stopRequested = false;
  private rollbacks = 0;
  private earlyStopped = false;
  private lastStats: Record<string, number> = {};

  constructor(readonly parts: TrainerParts) {
    this.run = new RunFolder(parts.config.out);
    this.log = new MetricsLog(this.run.metrics);
    // The progress grid always shows the same latents and examples, so samples/step-*.png compare over time.
    const z = latents(new Rng(parts.config.seed ^ 0x5eed), GRID_COUNT, parts.config.latentDim);
    this.probe = { z, batch: parts.source.info.input || parts.source.info.text ? probeBatch(parts.source, parts.config.seed) : undefined };
  }

  get step(): number {
    return this.parts.step;
  }

  get data(): DatasetInfo {
    return this.parts.source.info;
  }

  /** Ask the loop to stop after the current step (it then checkpoints). Safe to call from a signal handler. */
  requestStop(): void {
    this.stopRequested = true;
  }

  /** Rank 0 of a data-parallel run, or a run alone: the one that writes checkpoints, samples and logs. */
  get leader(): boolean {
    return (this.parts.group?.rank ?? 0) === 0;
  }

  /** Train until `config.steps` (total, counting steps before a resume) or until stopped. */
  async train(): Promise<{ step: number; stopped: boolean; outOfTime: boolean; earlyStopped: boolean }> {
    const { config } = this.parts;
    if (this.leader) {
      await fs.mkdir(this.run.samples, { recursive: true });
      await this.log.truncateAfter(this.step);
    }
    // A fresh run saves step 0 first, so that a divergence always has a good state to roll back to.
    if (this.step === 0) await this.checkpoint();
    let tick = performance.now();
    const deadline = config.maxMinutes > 0 ? Date.now() + config.maxMinutes * 60_000 : Infinity;
    let outOfTime = false;
    let stopping = this.stopRequested || (outOfTime = Date.now() >= deadline);

    while (this.step < config.steps && !stopping) {
      // Fetch a real batch and latents; D step(s), then G step (the family's phases); post-step updates.
      const s: StepStats = runStep(this.parts);

      // Report.
      const now = performance.now();
      if (s.lossD !== undefined) this.stats.report('loss/D', s.lossD);
      this.stats.report('loss/G', s.lossG);
      if (s.dReal !== undefined) this.stats.report('D(x)', s.dReal);
      if (s.dFake !== undefined) this.stats.report('D(G(z))', s.dFake);
      for (const [name, value] of Object.entries(s.extra ?? {})) this.stats.report(name, value);
      this.stats.report('img/s', (config.batchSize * 1000) / (now - tick));
      tick = now;
      // Evaluate (rank 0): scores join this step's stats; the best generator is kept in checkpoints/best.
      const evaluating = this.parts.evaluator !== undefined && config.evalEvery > 0 && this.step % config.evalEvery === 0;
      const scores = evaluating && this.leader ? await this.parts.evaluator!.evaluate((request) => sampleFamily(this.parts.family, this.parts.nets, request, this.parts)) : {};
      for (const [name, value] of Object.entries(scores)) this.stats.report(name, value);
      this.lastStats = this.stats.flush(this.step);
      const verdict = evaluating && this.leader ? this.judge(scores) : { improved: false, early: false };
      // Every decision that could differ between ranks is agreed before anyone acts on it (see Collectives).
      const divergence = this.divergence(s);
      const agreed = await this.agree({
        diverged: divergence !== null, stop: this.stopRequested, late: Date.now() >= deadline, improved: verdict.improved, early: verdict.early,
      });
      if (agreed.diverged) {
        await this.rollback(divergence ?? 'a loss diverged on another rank');
        continue;
      }
      if (this.leader && (this.step % config.logEvery === 0 || evaluating)) await this.log.append({ step: this.step, time: Date.now(), ...this.lastStats });
      if (agreed.improved) await this.checkpoint('best');
      if (agreed.early) {
        this.earlyStopped = true;
        break;
      }

      // Sample the fixed latent grid; snapshot.
      if (this.leader && config.sampleEvery > 0 && this.step % config.sampleEvery === 0) await this.writeSamples(this.run.samplePath(this.step));
      if (config.checkpointEvery > 0 && this.step % config.checkpointEvery === 0) await this.checkpoint();
      outOfTime = agreed.late && !agreed.stop && this.step < config.steps;
      stopping = agreed.stop || agreed.late;
      tick = performance.now();
    }

    await this.checkpoint();
    const earlyStopped = this.earlyStopped;
    if (this.leader && (this.step >= config.steps || outOfTime || earlyStopped)) await this.writeSamples(this.run.final);
    await this.parts.group?.barrier();
    return { step: this.step, stopped: this.step < config.steps && !earlyStopped, outOfTime, earlyStopped };
  }

  /** The ranks' joint decision (any rank's flag counts); alone, the flags themselves. */
  private async agree<K extends string>(flags: Record<K, boolean>): Promise<Record<K, boolean>> {
    const group = this.parts.group;
    if (!group || group.worldSize === 1) return flags;
    const keys = Object.keys(flags) as K[];
    const any = await group.max(keys.map((k) => (flags[k] ? 1 : 0)));
    return Object.fromEntries(keys.map((k, i) => [k, any[i] > 0])) as Record<K, boolean>;
  }

  /** The progress grid (the family's picture of the fixed probe), as a PNG. */
  async writeSamples(file: string): Promise<void> {
    const picture = progressPicture(this.parts.family, this.parts.nets, this.probe, this.parts);
    await writeFileAtomic(file, await resultPng(picture, this.data));
  }

  /**
   * Track the best evaluation: a better score is recorded (the caller saves checkpoints/best); after
   * `earlyStop` evaluations without one, `early` says the loop should stop.
   */
  private judge(scores: Record<string, number>): { improved: boolean; early: boolean } {
    const { primary, lowerIsBetter } = this.parts.evaluator!;
    const value = scores[primary];
    if (value === undefined || !Number.isFinite(value)) return { improved: false, early: false };
    const best = this.parts.evalBest;
    if (!best || (lowerIsBetter ? value < best.value : value > best.value)) {
      this.parts.evalBest = { metric: primary, value, step: this.step, sinceBest: 0 };
      this.stats.notice(`${primary} ${value.toPrecision(4)} at step ${this.step}: the best so far, saved in checkpoints/best`);
      return { improved: true, early: false };
    }
    best.sinceBest++;
    const patience = this.parts.config.earlyStop;
    if (patience > 0 && best.sinceBest >= patience) {
      this.stats.notice(`early stop: ${primary} has not improved on ${best.value.toPrecision(4)} (step ${best.step}) for ${patience} evaluations`);
      return { improved: false, early: true };
    }
    return { improved: false, early: false };
  }

  /** Why this step counts as divergence (NaN/Inf or an exploding loss, among all the losses it reports), or null. */
  private divergence(s: StepStats): string | null {
    const limit = this.parts.config.explodeLoss;
    const extensive = new Set(this.parts.family.extensiveLosses ?? []);
    const losses = Object.entries(s.extra ?? {}).filter(([name]) => name.startsWith('loss/'));
    const d = s.lossD === undefined ? [] : [['loss/D', s.lossD] as const];
    for (const [name, v] of [...d, ['loss/G', s.lossG] as const, ...losses]) {
      if (!Number.isFinite(v)) return `${name} = ${v}`;
      if (limit > 0 && !extensive.has(name) && Math.abs(v) > limit) return `|${name}| = ${Math.abs(v).toPrecision(3)} > --explode-loss ${limit}`;
    }
    return null;
  }

  /**
   * Go back to the newest checkpoint (always a finite one: see checkpoint()) with both learning rates
   * lowered, and carry on from there; after `maxRollbacks` of these, stop with a DivergenceError.
   */
  private async rollback(reason: string): Promise<void> {
    const config = this.parts.config;
    const at = this.step;
    if (++this.rollbacks > config.maxRollbacks) {
      throw new DivergenceError(
        `training diverged at step ${at} (${reason}) after ${config.maxRollbacks} rollback(s) with lowered learning rates; ` +
          `stopped. The last good checkpoint in ${this.run.checkpoints} is intact: resume it with smaller --lr-g/--lr-d (now ${config.lrG}, ${config.lrD}) or another --loss`,
      );
    }
    const ck = await loadCheckpoint(this.run.dir);
    const saved = new Map(allNetworks(ck.nets));
    for (const [name, model] of allNetworks(this.parts.nets)) {
      const from = saved.get(name);
      if (from) model.setWeights(from.getWeights());
    }
    for (const model of saved.values()) model.dispose();
    config.lrG *= config.rollbackLrFactor;
    config.lrD *= config.rollbackLrFactor;
    disposeOptimizers(this.parts.optimizers);
    const optimizers = await restoreOptimizers(config, ck.optimizerWeights, ck.state.optimizerScalars, playersOf(this.parts.family), ck.state.step);
    this.parts.optimizers = this.parts.group ? averageGradientsOver(optimizers, this.parts.group) : optimizers;
    if (ck.familyState) {
      this.parts.familyState?.restore(ck.familyState);
      tf.dispose(ck.familyState.tensors.map((t) => t.tensor));
    }
    this.parts.tricks?.restore(ck.state.tricks);
    this.parts.stream.restore(ck.state.stream as BatchStreamState);
    this.parts.latentRng.setState(ck.state.rng.latent);
    this.parts.step = ck.state.step;
    if (this.leader) {
      await this.run.writeConfig(config);
      await this.log.truncateAfter(this.step);
      await this.log.append({ step: this.step, time: Date.now(), event: 'rollback', from: at, reason, lrG: config.lrG, lrD: config.lrD });
    }
    this.stats.notice(
      `divergence at step ${at} (${reason}): rolled back to step ${this.step}, learning rates ×${config.rollbackLrFactor} → G ${config.lrG}, D ${config.lrD} (rollback ${this.rollbacks}/${config.maxRollbacks})`,
    );
  }

  /** Are all weights of both networks finite? A checkpoint is only written when they are. */
  private weightsFinite(): boolean {
    return tf.tidy(() =>
      allNetworks(this.parts.nets).every(([, model]) => model.getWeights().every((w) => tf.all(tf.isFinite(w)).dataSync()[0] === 1)),
    );
  }

  /**
   * Save a checkpoint (rank 0 writes; every rank calls this at the same step, then waits for the others, so
   * that a rollback on any rank reads a complete one). Ranks hold the same weights, so the finiteness check
   * agrees everywhere.
   */
  async checkpoint(name?: string): Promise<string | null> {
    if (!this.weightsFinite()) {
      await this.rollback('non-finite weights at checkpoint time');
      return null;
    }
    if (!this.leader) {
      await this.parts.group!.barrier();
      return null;
    }
    const state: CheckpointState = {
      format: CHECKPOINT_FORMAT,
      version: 1,
      step: this.step,
      config: this.parts.config,
      data: this.data,
      rng: { latent: this.parts.latentRng.state() },
      stream: this.parts.stream.state(),
      lastStats: this.lastStats,
      evalBest: this.parts.evalBest,
      ...(this.parts.tricks ? { tricks: this.parts.tricks.save() } : {}),
      savedAt: new Date().toISOString(),
    };
    const saved = await saveCheckpoint(this.run, this.parts.nets, this.parts.optimizers, state, this.parts.config.keepCheckpoints, name, this.parts.familyState);
    await this.parts.group?.barrier();
    return saved;
  }

  dispose(): void {
    tf.dispose([this.probe.z, ...(this.probe.batch ? Object.values(this.probe.batch) : [])]);
    for (const [, model] of allNetworks(this.parts.nets)) model.dispose();
    disposeOptimizers(this.parts.optimizers);
    this.parts.familyState?.dispose();
    this.parts.stream.close(); // a streamed folder's decode threads
  }
}

/** The first examples of the data in a fixed order (a stream of their own, so the run's stream is untouched). */
function probeBatch(source: DataSource, seed: number) {
  const count = source.kind === 'array' ? Math.min(PROBE_EXAMPLES, source.count) : PROBE_EXAMPLES;
  return new BatchStream(source, { batchSize: count, rng: new Rng(seed ^ 0x9b0be), shuffle: false }).next();
}
