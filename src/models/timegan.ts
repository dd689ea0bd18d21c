import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { z } from 'zod';
import { discriminatorOf, extraNetwork, type FamilyState, type GanFamily, type GanNetworks, type SampleRequest, type SampleResult } from '../gan/family.js';
import { settingsOf, type RunConfig, type SettingsTable } from '../gan/config.js';
import type { DatasetInfo } from '../data/types.js';
import { trainableVariables, type StepContext, type StepStats } from '../gan/step.js';
import { SeededInit } from '../nn/init.js';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { readTidy } from '../util/tensors.js';
import { timeganNets } from './nets/timegan_nets.js';

/** TimeGAN's own settings. */
export interface TimeganSettings {
  embeddingSteps: number;
  supervisedSteps: number;
  gruLayers: number;
  gamma: number;
  dThreshold: number;
}

export const TIMEGAN_SETTINGS: SettingsTable = {
  embeddingSteps: { default: 0, schema: z.number().int().nonnegative(), help: 'timegan phase 1: steps of the autoencoder (embedder + recovery) alone (0 = a third of --steps; the authors run as many as the joint phase)' },
  supervisedSteps: { default: 0, schema: z.number().int().nonnegative(), help: 'timegan phase 2: steps of the supervisor alone on the embedder\'s latents (0 = a third of --steps); the joint phase gets the rest of --steps' },
  gruLayers: { default: 3, schema: z.number().int().min(1).max(8), help: 'timegan: GRU layers of each network (the supervisor has one fewer; TimeGAN: 3); --hidden is their size (TimeGAN: 24)' },
  gamma: { default: 1, schema: z.number().nonnegative().finite(), help: 'timegan: weight γ of the adversarial losses on the generator\'s unsupervised latents Ê (TimeGAN: 1)' },
  dThreshold: { default: 0.15, schema: z.number().nonnegative().finite(), help: 'timegan: D is updated only when its loss is above this (TimeGAN: 0.15)' },
};

/** Names among GanNetworks.extra; G is `generator`, D `discriminator`. */
export const EMBEDDER = 'embedder';
export const RECOVERY = 'recovery';
export const SUPERVISOR = 'supervisor';

/** The weights of the joint losses as the authors' code has them (the paper's λ and η are written differently). */
export const SUPERVISED_WEIGHT = 100;
export const MOMENT_WEIGHT = 100;
export const RECON_WEIGHT = 10;
export const EMBEDDER_SUPERVISED_WEIGHT = 0.1;

/** The three training phases, in order. */
export const PHASES = ['embedding', 'supervised', 'joint'] as const;
export type Phase = (typeof PHASES)[number];

/**
 * TimeGAN's losses as pure functions of tensors (Yoon et al. 2019, §4 and eq. 7–9, with the constants of the
 * authors' code). Sequences are [B, T, F], latents [B, T, H], logits [B, T, 1]; every mean is over all elements.
 * Binary cross-entropy on a logit l: −log σ(l) = softplus(−l) for target 1, −log(1 − σ(l)) = softplus(l) for 0.
 */
export const timeganLosses = {
  /** ‖X − X̃‖² (mean): the autoencoder's reconstruction error. */
  reconstruction: (x: tf.Tensor, xTilde: tf.Tensor): tf.Scalar => tf.mean(tf.squaredDifference(x, xTilde)),

  /** The supervised loss: S(H) at t against H at t + 1, ‖H[:, 1:] − S(H)[:, :−1]‖² (mean). */
  supervised(h: tf.Tensor, hSupervised: tf.Tensor): tf.Scalar {
    const [b, t, d] = h.shape;
    return tf.mean(tf.squaredDifference(tf.slice(h, [0, 1, 0], [b, t - 1, d]), tf.slice(hSupervised, [0, 0, 0], [b, t - 1, d])));
  },

  /**
   * The moment loss: mean |σ(X̂) − σ(X)| + mean |μ(X̂) − μ(X)|, the statistics over the batch at each (t, f),
   * σ = √(population variance + 1e−6).
   */
  moments(xHat: tf.Tensor, x: tf.Tensor): tf.Scalar {
    const a = tf.moments(xHat, 0), b = tf.moments(x, 0); // each [T, F]
    const std = (v: tf.Tensor) => tf.sqrt(tf.add(v, 1e-6));
    return tf.add(tf.mean(tf.abs(tf.sub(std(a.variance), std(b.variance)))), tf.mean(tf.abs(tf.sub(a.mean, b.mean))));
  },

  /** D's loss: BCE(D(H), 1) + BCE(D(Ĥ), 0) + γ BCE(D(Ê), 0). */
  discriminator: (yReal: tf.Tensor, yFake: tf.Tensor, yFakeE: tf.Tensor, gamma: number): tf.Scalar =>
    tf.addN([tf.mean(tf.softplus(tf.neg(yReal))), tf.mean(tf.softplus(yFake)), tf.mul(gamma, tf.mean(tf.softplus(yFakeE)))]) as tf.Scalar,

  /** G's adversarial loss: BCE(D(Ĥ), 1) + γ BCE(D(Ê), 1). */
  adversarial: (yFake: tf.Tensor, yFakeE: tf.Tensor, gamma: number): tf.Scalar =>
    tf.add(tf.mean(tf.softplus(tf.neg(yFake))), tf.mul(gamma, tf.mean(tf.softplus(tf.neg(yFakeE))))),

  /** G and S's joint loss: adversarial + 100 √supervised + 100 moments. */
  generator: (adversarial: tf.Scalar, supervised: tf.Scalar, moments: tf.Scalar): tf.Scalar =>
    tf.addN([adversarial, tf.mul(SUPERVISED_WEIGHT, tf.sqrt(supervised)), tf.mul(MOMENT_WEIGHT, moments)]) as tf.Scalar,

  /** The autoencoder's loss in the joint phase: 10 √reconstruction + 0.1 supervised (phase 1: the first term alone). */
  embedder: (reconstruction: tf.Scalar, supervised: tf.Scalar): tf.Scalar =>
    tf.add(tf.mul(RECON_WEIGHT, tf.sqrt(reconstruction)), tf.mul(EMBEDDER_SUPERVISED_WEIGHT, supervised)),
};

/** TimeGAN's random sequence Z ~ U[0, 1)^{T × F}, one per example: [n, T, F]. */
export function timeganLatents(rng: Rng, n: number, window: number, features: number): tf.Tensor3D {
  const values = new Float32Array(n * window * features);
  for (let i = 0; i < values.length; i++) values[i] = rng.uniform();
  return tf.tensor3d(values, [n, window, features]);
}

/** How many steps each phase runs under a config; the joint phase runs to the end of --steps. */
export function phaseSteps(config: RunConfig): Record<Phase, number> {
  const s = settingsOf<TimeganSettings>(config);
  const third = Math.floor(config.steps / 3);
  const embedding = s.embeddingSteps || third, supervised = s.supervisedSteps || third;
  return { embedding, supervised, joint: config.steps - embedding - supervised };
}

/**
 * Where training is in the three phases: the phase and the steps done in it, checkpointed with the run so a
 * resume continues inside the phase. The joint phase has no end of its own: a run resumed with a larger --steps
 * goes on training jointly.
 */
export class TimeganSchedule implements FamilyState {
  phase: Phase = 'embedding';
  step = 0;

  constructor(private readonly budget: Record<Phase, number>) {}

  /** The phase the next step belongs to, moving on from a phase that has had its steps. */
  current(): Phase {
    while (this.phase !== 'joint' && this.step >= this.budget[this.phase]) {
      this.phase = PHASES[PHASES.indexOf(this.phase) + 1];
      this.step = 0;
    }
    return this.phase;
  }

  save() {
    return { json: { phase: this.phase, step: this.step }, tensors: [] };
  }

  restore(saved: { json: unknown }): void {
    const { phase, step } = saved.json as { phase: Phase; step: number };
    if (!PHASES.includes(phase) || !Number.isInteger(step) || step < 0) throw new Error(`timegan: the checkpoint's phase state ${JSON.stringify(saved.json)} is not a phase and a step count`);
    this.phase = phase;
    this.step = step;
  }

  dispose(): void {}
}

/**
 * TimeGAN (Yoon, Jarrett & van der Schaar 2019, "Time-series Generative Adversarial Networks"): an autoencoder
 * gives the GAN a latent space where a supervisor learns the step-to-step dynamics.
 *
 *   E: X → H, R: H → X̃ (embedding and recovery); G: Z → Ê, S: H → next H (generator, supervisor); D: H → logits
 *   phase 1 (embedding):   E, R  min 10 √‖X − X̃‖²
 *   phase 2 (supervised):  S     min ‖H[t+1] − S(H)[t]‖²                              (G has no gradient here)
 *   phase 3 (joint), per step, twice: G, S min BCE(D(Ĥ), 1) + γ BCE(D(Ê), 1) + 100 √L_S + 100 L_moments,
 *                                     Ĥ = S(G(Z)), X̂ = R(Ĥ); then E, R min 10 √L_recon + 0.1 L_S;
 *                          then once: D  min BCE(D(H), 1) + BCE(D(Ĥ), 0) + γ BCE(D(Ê), 0), only if that is > 0.15
 *   sample: X̂ = R(S(G(Z))), Z ~ U[0, 1)^{T × F}
 *
 * Each of the authors' five Adam optimizers is a player (Adam defaults: lr 1e-3, β 0.9, 0.999); every update
 * draws its own batch and Z as theirs do (a joint step reads three batches). GRU stacks of --hidden 24 units,
 * --gru-layers 3, batch 128. `--steps` counts all three phases; --embedding-steps and --supervised-steps (each a
 * third of --steps by default, the authors' equal split) come first, the joint phase gets the rest. The phase
 * and its step are checkpointed (TimeganSchedule).
 */
export const timegan: GanFamily = {
  name: 'timegan',
  summary: 'TimeGAN (Yoon et al. 2019): GRU embedder/recovery/supervisor/generator/discriminator, three phases, on sequences',
  paper: 'Yoon, Jarrett & van der Schaar 2019, Time-series Generative Adversarial Networks, NeurIPS 2019',
  dataKinds: ['sequence'],
  honours: ['hidden'],
  settings: TIMEGAN_SETTINGS,
  players: [
    { name: 'g', lr: 'lrG', moves: 'generator G and supervisor S on the joint loss (phase 3)' },
    { name: 'd', lr: 'lrD', moves: 'the discriminator, when its loss is above --d-threshold (phase 3)' },
    { name: EMBEDDER, lr: 'lrG', moves: 'embedder E and recovery R on the reconstruction loss (phase 1)' },
    { name: SUPERVISOR, lr: 'lrG', moves: 'the supervisor S on the supervised loss (phase 2)' },
    { name: 'embedder-joint', lr: 'lrG', moves: 'embedder E and recovery R on reconstruction + 0.1·supervised (phase 3)' },
  ],

  defaults: () => ({ hidden: 24, batchSize: 128, lrG: 1e-3, lrD: 1e-3, beta1: 0.9, beta2: 0.999, steps: 3000 }),

  check(data, config) {
    const [t, f] = data.shape;
    if (data.shape.length !== 2 || !(t >= 2) || !(f >= 1)) return `timegan needs sequences [T ≥ 2, F] (its supervisor predicts the next step), got ${data.shape.join('×')}; pass --window 24`;
    const steps = phaseSteps(config);
    if (steps.joint < 1) return `--embedding-steps ${steps.embedding} and --supervised-steps ${steps.supervised} leave no joint steps of --steps ${config.steps}; the joint phase gets what the first two leave`;
    return null;
  },

  build(data, config, rng) {
    const [window, features] = data.shape;
    const s = settingsOf<TimeganSettings>(config);
    // Scaled data in [0, 1] (minmax, fixed) suit R's sigmoid, as the authors'; standardised data want a linear R.
    const boundedData = data.sequence?.scaling.kind !== 'standard';
    const nets = timeganNets({ window, features, hidden: config.hidden, layers: s.gruLayers, boundedData }, new SeededInit(rng));
    return {
      generator: nets.generator,
      discriminator: nets.discriminator,
      extra: { [EMBEDDER]: nets.embedder, [RECOVERY]: nets.recovery, [SUPERVISOR]: nets.supervisor },
    };
  },

  createState: (_data, config) => new TimeganSchedule(phaseSteps(config)),

  step: timeganStep,

  sample: timeganSample,
};

interface Nets { E: tfl.LayersModel; R: tfl.LayersModel; G: tfl.LayersModel; S: tfl.LayersModel; D: tfl.LayersModel }

function netsOf(nets: GanNetworks): Nets {
  return {
    E: extraNetwork(nets, EMBEDDER, 'timegan'), R: extraNetwork(nets, RECOVERY, 'timegan'), S: extraNetwork(nets, SUPERVISOR, 'timegan'),
    G: nets.generator, D: discriminatorOf(nets),
  };
}

const run = (model: tfl.LayersModel, x: tf.Tensor) => model.apply(x, { training: true }) as tf.Tensor;
const varsOf = (...models: tfl.LayersModel[]) => models.flatMap(trainableVariables);

function playerOpt(ctx: StepContext, name: string): tf.Optimizer {
  const opt = name === 'g' ? ctx.opt.g : name === 'd' ? ctx.opt.d : ctx.opt.extra?.[name];
  if (!opt) throw new Error(`timegan: no '${name}' optimizer (declare it among the players)`);
  return opt;
}

/** Reads and frees scalars. */
function values(ts: tf.Tensor[]): number[] {
  const out = ts.map((t) => t.dataSync()[0]);
  tf.dispose(ts);
  return out;
}

/** One TimeGAN step: a step of the phase the schedule is in (TimeganSchedule, the family state). */
export function timeganStep(ctx: StepContext): StepStats {
  const schedule = ctx.state;
  if (!(schedule instanceof TimeganSchedule)) throw new Error('timegan: the step needs its TimeganSchedule state (createState)');
  const phase = schedule.current();
  const stats = phase === 'embedding' ? embeddingPhase(ctx) : phase === 'supervised' ? supervisedPhase(ctx) : jointPhase(ctx);
  schedule.step++;
  return { ...stats, extra: { ...stats.extra, 'timegan/phase': PHASES.indexOf(phase) + 1 } };
}

/** Phase 1: E and R on 10 √‖X − X̃‖². Reports √‖X − X̃‖² as loss/embedding (the authors' e_loss). */
export function embeddingPhase(ctx: StepContext): StepStats {
  const { E, R } = netsOf(ctx.nets);
  const x = ctx.real; // [B, T, F]
  const loss = playerOpt(ctx, EMBEDDER).minimize(() => tf.mul(RECON_WEIGHT, tf.sqrt(timeganLosses.reconstruction(x, run(R, run(E, x))))) as tf.Scalar, true, varsOf(E, R))!;
  const [value] = values([loss]);
  return { lossG: value, extra: { 'loss/embedding': value / RECON_WEIGHT } };
}

/** Phase 2: S on the supervised loss over E's latents of real data. Reports its square root as loss/supervised. */
export function supervisedPhase(ctx: StepContext): StepStats {
  const { E, S } = netsOf(ctx.nets);
  const h = tf.tidy(() => run(E, ctx.real)); // [B, T, H], a constant to S
  const loss = playerOpt(ctx, SUPERVISOR).minimize(() => timeganLosses.supervised(h, run(S, h)), true, varsOf(S))!;
  h.dispose();
  const [value] = values([loss]);
  return { lossG: value, extra: { 'loss/supervised': Math.sqrt(value) } };
}

/**
 * Phase 3: twice (G and S on the joint loss, then E and R on theirs, on one batch and Z), then D on a third batch
 * and Z when its loss there is above --d-threshold. lossG and the G-side losses are the second G update's.
 */
export function jointPhase(ctx: StepContext): StepStats {
  const { E, R, G, S, D } = netsOf(ctx.nets);
  const s = settingsOf<TimeganSettings>(ctx.config);
  const [window, features] = ctx.data.shape;
  const zOf = (x: tf.Tensor) => timeganLatents(ctx.rng, x.shape[0], window, features); // [B, T, F]
  let g: number[] = [];
  let lossE = 0;
  for (let k = 0; k < 2; k++) {
    const batch = k === 0 ? undefined : ctx.nextBatch();
    const x = batch?.x ?? ctx.real; // [B, T, F]
    const zs = zOf(x);
    // G and S: E's latents of the real batch are constants here.
    const h = tf.tidy(() => run(E, x)); // [B, T, H]
    let parts: tf.Tensor[] = [];
    const lossG = playerOpt(ctx, 'g').minimize(() => {
      const eHat = run(G, zs);
      const hHat = run(S, eHat);
      const adversarial = timeganLosses.adversarial(run(D, hHat), run(D, eHat), s.gamma);
      const supervised = timeganLosses.supervised(h, run(S, h));
      const moments = timeganLosses.moments(run(R, hHat), x);
      parts = [tf.keep(adversarial), tf.keep(supervised), tf.keep(moments)];
      return timeganLosses.generator(adversarial, supervised, moments);
    }, true, varsOf(G, S))!;
    g = values([lossG, ...parts]);
    // E and R, with the updated S in the supervised term.
    const lossEmb = playerOpt(ctx, 'embedder-joint').minimize(() => {
      const hE = run(E, x);
      return timeganLosses.embedder(timeganLosses.reconstruction(x, run(R, hE)), timeganLosses.supervised(hE, run(S, hE)));
    }, true, varsOf(E, R))!;
    [lossE] = values([lossEmb]);
    tf.dispose([h, zs, batch?.x, batch?.labels].filter((t) => t !== undefined));
  }
  const d = discriminatorUpdate(ctx, { E, G, S, D }, s);
  const [lossG, adversarial, supervised, moments] = g;
  return {
    lossG, lossD: d.loss, dReal: d.dReal, dFake: d.dFake,
    extra: { 'loss/adversarial': adversarial, 'loss/supervised': Math.sqrt(supervised), 'loss/moments': moments, 'loss/embedder': lossE, 'timegan/d-updated': d.updated ? 1 : 0 },
  };
}

/** D's loss on a fresh batch and Z, and D's update when that loss is above --d-threshold. */
export function discriminatorUpdate(ctx: StepContext, nets: Pick<Nets, 'E' | 'G' | 'S' | 'D'>, s: TimeganSettings): { loss: number; dReal: number; dFake: number; updated: boolean } {
  const { E, G, S, D } = nets;
  const [window, features] = ctx.data.shape;
  const batch = ctx.nextBatch();
  const zs = timeganLatents(ctx.rng, batch.x.shape[0], window, features);
  const [h, eHat, hHat] = tf.tidy(() => {
    const e = run(G, zs);
    return [run(E, batch.x), e, run(S, e)]; // each [B, T, H], constants to D
  });
  const dLoss = () => timeganLosses.discriminator(run(D, h), run(D, hHat), run(D, eHat), s.gamma);
  const [loss, dReal, dFake] = values(tf.tidy(() => {
    const yReal = run(D, h), yFake = run(D, hHat);
    return [timeganLosses.discriminator(yReal, yFake, run(D, eHat), s.gamma), tf.mean(tf.sigmoid(yReal)), tf.mean(tf.sigmoid(yFake))];
  }));
  const updated = loss > s.dThreshold;
  if (updated) playerOpt(ctx, 'd').minimize(dLoss, false, varsOf(D));
  tf.dispose([zs, h, eHat, hHat, batch.x, ...(batch.labels ? [batch.labels] : [])]);
  return { loss, dReal, dFake, updated };
}

/** Sequences X̂ = R(S(G(Z))) in scaled units [count, T, F], Z ~ U[0, 1) drawn from the request's seed. */
export function timeganSample(nets: GanNetworks, request: SampleRequest, runInfo: { config: RunConfig; data: DatasetInfo }): SampleResult {
  if (request.class !== undefined) throw new UserError('--class: timegan is unconditional; its sequences are drawn from noise alone');
  if (request.input || request.direction) throw new UserError('timegan generates sequences from noise; it takes no input and has one direction');
  if (request.code?.length || request.vary !== undefined) throw new UserError('--code/--vary set the latent codes of a model that has them (infogan); timegan has none');
  const { G, S, R } = netsOf(nets);
  const [window, features] = runInfo.data.shape;
  const zAll = timeganLatents(new Rng(request.seed), request.count, window, features);
  const out = new Float32Array(request.count * window * features);
  const chunk = 256;
  try {
    for (let start = 0; start < request.count; start += chunk) {
      const size = Math.min(chunk, request.count - start);
      const infer = (m: tfl.LayersModel, x: tf.Tensor) => m.apply(x, { training: false }) as tf.Tensor;
      out.set(readTidy(() => infer(R, infer(S, infer(G, tf.slice(zAll, [start, 0, 0], [size, -1, -1]))))), start * window * features);
    }
  } finally {
    zAll.dispose();
  }
  return { values: out, count: request.count, shape: runInfo.data.shape };
}
