import * as tf from '@tensorflow/tfjs-core';
import { promises as fs } from 'node:fs';
import type { DataSource, DatasetInfo } from '../data/types.js';
import type { GanFamily, GanNetworks } from './family.js';
import type { RunConfig } from './config.js';
import { LOSSES } from './losses.js';
import { StatsChannel } from './stats.js';
import { adversarialStep, type Optimizers, type StepStats } from './step.js';
import { generate, latents, samplesPng } from './sampling.js';
import { CHECKPOINT_FORMAT, saveCheckpoint, type CheckpointState } from './checkpoint.js';
import { MetricsLog, RunFolder } from './run_folder.js';
import { BatchStream } from '../data/batches.js';
import { Rng } from '../util/rng.js';
import { UserError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';

/** Raised when a loss turns NaN/Inf; the run folder keeps its last good checkpoint. */
export class DivergenceError extends UserError {}

/** How many samples the fixed progress grid shows. */
const GRID = 64;

export interface TrainerParts {
  config: RunConfig;
  family: GanFamily;
  source: DataSource;
  nets: GanNetworks;
  optimizers: Optimizers;
  stream: BatchStream;
  latentRng: Rng;
  step: number;
}

/**
 * The training loop: fetch a batch, D step, G step, report, sample, snapshot — each a visible line below.
 * Stats leave only through `stats`; the CLI's progress bar and the JSONL log listen there.
 */
export class Trainer {
  readonly stats = new StatsChannel();
  readonly run: RunFolder;
  private readonly log: MetricsLog;
  private readonly fixedZ: tf.Tensor2D;
  private stopRequested = false;
  private lastStats: Record<string, number> = {};

  constructor(readonly parts: TrainerParts) {
    this.run = new RunFolder(parts.config.out);
    this.log = new MetricsLog(this.run.metrics);
    // The progress grid always shows the same latents, so samples/step-*.png are comparable over time.
    this.fixedZ = latents(new Rng(parts.config.seed ^ 0x5eed), GRID, parts.config.latentDim);
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

  /** Train until `config.steps` (total, counting steps before a resume) or until stopped. */
  async train(): Promise<{ step: number; stopped: boolean; outOfTime: boolean }> {
    const { config } = this.parts;
    await fs.mkdir(this.run.samples, { recursive: true });
    await this.log.truncateAfter(this.step);
    const loss = LOSSES[config.loss];
    let tick = performance.now();
    const deadline = config.maxMinutes > 0 ? Date.now() + config.maxMinutes * 60_000 : Infinity;
    let outOfTime = false;

    while (this.step < config.steps && !this.stopRequested && !(outOfTime = Date.now() >= deadline)) {
      // Fetch a real batch and the latents for this step.
      const batch = this.parts.stream.next(); // x: [B, ...shape]
      const z = latents(this.parts.latentRng, config.batchSize, config.latentDim); // [B, latentDim]

      // D step, then G step.
      const s: StepStats = adversarialStep(this.parts.nets, this.parts.optimizers, loss, batch.x, z);
      tf.dispose([batch.x, batch.labels, z].filter((t) => t !== undefined));
      this.parts.step++;

      // Report.
      const now = performance.now();
      this.stats.report('loss/D', s.lossD);
      this.stats.report('loss/G', s.lossG);
      this.stats.report('D(x)', s.dReal);
      this.stats.report('D(G(z))', s.dFake);
      this.stats.report('img/s', (config.batchSize * 1000) / (now - tick));
      tick = now;
      this.lastStats = this.stats.flush(this.step);
      if (!Number.isFinite(s.lossD) || !Number.isFinite(s.lossG)) {
        throw new DivergenceError(
          `training diverged at step ${this.step} (loss/D = ${s.lossD}, loss/G = ${s.lossG}); the last checkpoint in ${this.run.checkpoints} is intact — lower --lr-g/--lr-d and resume`,
        );
      }
      if (this.step % config.logEvery === 0) await this.log.append({ step: this.step, time: Date.now(), ...this.lastStats });

      // Sample the fixed latent grid; snapshot.
      if (config.sampleEvery > 0 && this.step % config.sampleEvery === 0) await this.writeSamples(this.run.samplePath(this.step));
      if (config.checkpointEvery > 0 && this.step % config.checkpointEvery === 0) await this.checkpoint();
      tick = performance.now();
    }

    await this.checkpoint();
    if (this.step >= config.steps || outOfTime) await this.writeSamples(this.run.final);
    return { step: this.step, stopped: this.step < config.steps, outOfTime };
  }

  /** The fixed latent grid through G, as a PNG. */
  async writeSamples(file: string): Promise<void> {
    const values = generate(this.parts.nets.generator, this.fixedZ);
    await writeFileAtomic(file, await samplesPng(values, GRID, this.data));
  }

  async checkpoint(): Promise<string> {
    const state: CheckpointState = {
      format: CHECKPOINT_FORMAT,
      version: 1,
      step: this.step,
      config: this.parts.config,
      data: this.data,
      rng: { latent: this.parts.latentRng.state() },
      stream: this.parts.stream.state(),
      lastStats: this.lastStats,
      savedAt: new Date().toISOString(),
    };
    return saveCheckpoint(this.run, this.parts.nets, this.parts.optimizers, state, this.parts.config.keepCheckpoints);
  }

  dispose(): void {
    this.fixedZ.dispose();
    this.parts.nets.generator.dispose();
    this.parts.nets.discriminator.dispose();
    this.parts.optimizers.g.dispose();
    this.parts.optimizers.d.dispose();
  }
}
