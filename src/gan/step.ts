import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { AdversarialLoss } from './losses.js';
import type { GanNetworks, Optimizers } from './family.js';
import type { RunConfig } from './config.js';
import type { Batch } from '../data/types.js';
import type { Rng } from '../util/rng.js';
import { gradientPenalty, lazyWeight, r1Penalty, r2Penalty, type Critic } from './regularizers.js';
import { activeTricks, phaseTricks } from './tricks/index.js';
import { generatorClasses, oneHotLabels } from './sampling.js';

/** What one adversarial step reports. Means of D's sigmoid output show who is winning. */
export interface StepStats {
  lossD: number;
  lossG: number;
  /** mean σ(D(x)) on the real batch, in (0, 1) (for score-valued critics: a monotone summary of the score) */
  dReal: number;
  /** mean σ(D(G(z))) on the generated batch, before D's update */
  dFake: number;
  /** Further named numbers for the stats channel (e.g. 'reg/gp', 'critic/w-dist'). */
  extra?: Record<string, number>;
}

export type { Optimizers } from './family.js';

/**
 * Everything a family's step may use. The trainer builds it once per step; the step draws any further real
 * batches and latents it needs (an n_critic loop) through `nextBatch` and `latents`, whose state is
 * checkpointed, so a resumed run draws the same ones. The step disposes what it draws; the trainer disposes
 * `real`, `labels` and `z`.
 */
export interface StepContext {
  nets: GanNetworks;
  opt: Optimizers;
  loss: AdversarialLoss;
  config: RunConfig;
  /** Steps completed before this one (0 on the first step): drives lazy regularization. */
  step: number;
  /** The step's real batch [B, ...shape] and its class labels [B] int32, when the data has them. */
  real: tf.Tensor;
  labels?: tf.Tensor1D;
  /** The step's latents [B, latentDim]. */
  z: tf.Tensor2D;
  /** Another real batch from the run's stream. */
  nextBatch(): Batch;
  /** Fresh latents [B, latentDim] from the run's latent RNG. */
  latents(): tf.Tensor2D;
  /** The run's latent RNG, for other randomness a step needs (GP's ε, sampled class labels). */
  rng: Rng;
}

/** A family's own training step (see GanFamily.step). */
export type FamilyStep = (ctx: StepContext) => StepStats;

export function trainableVariables(model: tfl.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

const TRAINING = { training: true };

/** G(z), or G([z, y]) for a conditional generator; `y` is a one-hot [B, K] float tensor. */
export function applyG(nets: GanNetworks, z: tf.Tensor, y?: tf.Tensor, training = true): tf.Tensor {
  return nets.generator.apply(y ? [z, y] : z, { training }) as tf.Tensor;
}

/** D(x), or D([x, y]) for a conditional discriminator: logits [B, 1]. */
export function applyD(nets: GanNetworks, x: tf.Tensor, y?: tf.Tensor): tf.Tensor {
  return nets.discriminator.apply(y ? [x, y] : x, TRAINING) as tf.Tensor;
}

/** Penalties added to D's loss, by report name; built inside D's minimize so they are differentiated too. */
export type Penalties = (critic: Critic, real: tf.Tensor, fake: tf.Tensor) => Record<string, tf.Scalar>;

export interface DPhaseResult {
  lossD: number;
  dReal: number;
  dFake: number;
  /** D's logits on the real batch, kept for relativistic G losses; the caller disposes it. */
  realLogits: tf.Tensor;
  /** Each penalty's value, by name. */
  penalties: Record<string, number>;
}

/**
 * D phase: one update of D on a real batch and a generated one (G's output is a constant here), with
 * optional penalties. `yReal`/`yFake` are one-hot labels for a conditional D. The run's stabilising tricks
 * (src/gan/tricks: DiffAugment, instance noise, label smoothing, historical averaging, gradient clipping)
 * apply here when runStep has bound them to `nets`.
 */
export function discriminatorPhase(
  nets: GanNetworks, opt: Optimizers, loss: AdversarialLoss, real: tf.Tensor, fake: tf.Tensor,
  options: { yReal?: tf.Tensor; yFake?: tf.Tensor; penalties?: Penalties } = {},
): DPhaseResult {
  const { yReal, yFake, penalties } = options;
  const tricks = phaseTricks(nets);
  const lossOfD = tricks.discriminatorLoss(loss);
  tricks.rememberReal(real, yReal);
  let dReal!: tf.Scalar, dFake!: tf.Scalar, realLogits!: tf.Tensor;
  let kept: Record<string, tf.Scalar> = {};
  const objective = () => {
    // What D sees: the batches themselves, or augmented and noised copies (--diff-augment, --instance-noise).
    const xr = tricks.dInput(real);
    const xf = tricks.dInput(fake);
    const lr = applyD(nets, xr, yReal); // [B, 1]
    const lf = applyD(nets, xf, yFake);
    dReal = tf.keep(tf.mean(tf.sigmoid(lr)));
    dFake = tf.keep(tf.mean(tf.sigmoid(lf)));
    realLogits = tf.keep(lr); // read by relativistic G losses; no gradient flows through it there
    let total = lossOfD.d(lr, lf);
    if (penalties) {
      // A penalty sees D with the real batch's labels bound (conditional D); x̂ interpolates both batches.
      const terms = penalties((x) => applyD(nets, x, yReal), xr, xf);
      for (const [name, t] of Object.entries(terms)) {
        kept[name] = tf.keep(t);
        total = tf.add(total, t) as tf.Scalar;
      }
    }
    return tricks.withDiscriminatorTerms(nets, total); // historical averaging
  };
  const lossD = tricks.minimize(opt.d, objective, trainableVariables(nets.discriminator), 'd');
  const [ld, dr, df] = [lossD, dReal, dFake].map((t) => t.dataSync()[0]);
  const values = Object.fromEntries(Object.entries(kept).map(([k, t]) => [k, t.dataSync()[0]]));
  tf.dispose([lossD, dReal, dFake, ...Object.values(kept)]);
  kept = {};
  return { lossD: ld, dReal: dr, dFake: df, realLogits, penalties: values };
}

/**
 * G phase: one update of G to raise D(G(z)); only G's variables move. With tricks bound (see
 * discriminatorPhase), D sees G(z) augmented and noised as in the D phase, G's loss gains feature matching
 * and historical averaging, and its gradients may be clipped.
 */
export function generatorPhase(
  nets: GanNetworks, opt: Optimizers, loss: AdversarialLoss, z: tf.Tensor, realLogits: tf.Tensor, yFake?: tf.Tensor,
): number {
  const tricks = phaseTricks(nets);
  const objective = () => {
    const x = applyG(nets, z, yFake); // [B, ...shape]
    const adversarial = loss.g(applyD(nets, tricks.dInput(x), yFake), realLogits);
    return tricks.withGeneratorTerms(nets, adversarial, x, yFake); // feature matching, historical averaging
  };
  const lossG = tricks.minimize(opt.g, objective, trainableVariables(nets.generator), 'g');
  const v = lossG.dataSync()[0];
  lossG.dispose();
  return v;
}

/** WGAN's Lipschitz device (Arjovsky et al. 2017, Algorithm 1): clamp every weight of D to [−c, c]. */
export function clipWeights(model: tfl.LayersModel, c: number): void {
  tf.tidy(() => {
    for (const v of trainableVariables(model)) v.assign(tf.clipByValue(v, -c, c));
  });
}

/**
 * One step of Algorithm 1 (Goodfellow et al. 2014) with k = 1: a discriminator update on a real batch and a
 * generated batch, then a generator update on the same latents. Everything runs inside minimize/tidy, so no
 * tensor outlives the step except the optimizers' own state.
 *
 * G runs forward once: the D update happens inside G's gradient scope, on G's taped output (to D's update
 * that output is a constant: D's minimize differentiates only D's variables, and D's new weights reach the
 * tape only as values, never as a path back to G). The G loss then reads D's updated weights, as in the
 * two-pass form; a second forward pass through G (and a second batch-norm statistics update) is saved.
 */
export function adversarialStep(nets: GanNetworks, opt: Optimizers, loss: AdversarialLoss, real: tf.Tensor, z: tf.Tensor): StepStats {
  if (activeTricks(nets)) return twoPassStep(nets, opt, loss, real, z);
  let d!: DPhaseResult;
  const lossG = opt.g.minimize(() => {
    const fake = applyG(nets, z); // [B, ...shape], taped for G's gradient
    // Phase 1 — D step: raise D on x, lower it on G(z).
    d = discriminatorPhase(nets, opt, loss, real, fake);
    // Phase 2 — G step: raise D(G(z)) under the updated D; only G's variables move.
    return loss.g(applyD(nets, fake), d.realLogits);
  }, true, trainableVariables(nets.generator))!;
  const lossValue = lossG.dataSync()[0];
  tf.dispose([lossG, d.realLogits]);
  return { lossD: d.lossD, lossG: lossValue, dReal: d.dReal, dFake: d.dFake };
}

/** adversarialStep as two separate phases (G forward twice): the form the stabilising tricks hook into. */
function twoPassStep(nets: GanNetworks, opt: Optimizers, loss: AdversarialLoss, real: tf.Tensor, z: tf.Tensor): StepStats {
  const fake = tf.tidy(() => applyG(nets, z)); // [B, ...shape]
  const d = discriminatorPhase(nets, opt, loss, real, fake);
  fake.dispose();
  const lossG = generatorPhase(nets, opt, loss, z, d.realLogits);
  d.realLogits.dispose();
  return { lossD: d.lossD, lossG, dReal: d.dReal, dFake: d.dFake };
}

/** The penalties the run's config asks for at this step: GP (--gp-weight), lazy R1/R2 (--r1-gamma, --r2-gamma, --reg-interval). */
export function configuredPenalties(ctx: StepContext): Penalties | undefined {
  const { config, step } = ctx;
  const r1 = lazyWeight(step, config.regInterval, config.r1Gamma);
  const r2 = lazyWeight(step, config.regInterval, config.r2Gamma);
  const gp = config.gpWeight;
  if (r1 === 0 && r2 === 0 && gp === 0) return undefined;
  return (critic, real, fake) => {
    const out: Record<string, tf.Scalar> = {};
    if (gp > 0) out['reg/gp'] = gradientPenalty(critic, real, fake, uniform(ctx.rng, real.shape[0]), gp);
    if (r1 > 0) out['reg/r1'] = r1Penalty(critic, real, r1);
    if (r2 > 0) out['reg/r2'] = r2Penalty(critic, fake, r2);
    return out;
  };
}

/**
 * A conditional step's class labels, one-hot [B, K] each: the real batch's own, and for the generated batch
 * classes drawn uniformly from the run's RNG. The caller disposes both.
 */
export function conditionalLabels(ctx: StepContext, model: string): { yReal: tf.Tensor2D; yFake: tf.Tensor2D } {
  if (!ctx.labels) throw new Error(`${model}: the batch carries no labels`);
  const k = generatorClasses(ctx.nets.generator);
  const n = ctx.real.shape[0];
  return {
    yReal: oneHotLabels(ctx.labels.dataSync(), k),
    yFake: oneHotLabels(Array.from({ length: n }, () => ctx.rng.int(k)), k), // ~ U{0..K−1}
  };
}

/** n numbers from U[0, 1) drawn from `rng`: [n]. */
export function uniform(rng: Rng, n: number): tf.Tensor1D {
  return tf.tensor1d(Float32Array.from({ length: n }, () => rng.uniform()));
}

/**
 * The inner loop of WGAN's Algorithm 1: `config.nCritic` critic updates, the first on the step's own batch
 * and latents, later ones on fresh draws from the checkpointed stream and RNG. `update(real, fake)` makes
 * one update (G's output is a constant there); the last update's result is returned, its realLogits the
 * caller's to dispose.
 */
export function criticUpdates(ctx: StepContext, update: (real: tf.Tensor, fake: tf.Tensor) => DPhaseResult): DPhaseResult {
  let d: DPhaseResult | undefined;
  for (let i = 0; i < ctx.config.nCritic; i++) {
    const batch = i === 0 ? undefined : ctx.nextBatch();
    const real = batch?.x ?? ctx.real; // [B, ...shape]
    const z = i === 0 ? ctx.z : ctx.latents();
    const fake = tf.tidy(() => applyG(ctx.nets, z));
    d?.realLogits.dispose();
    d = update(real, fake);
    tf.dispose([fake, ...(batch ? [z, batch.x] : []), ...(batch?.labels ? [batch.labels] : [])]);
  }
  return d!;
}

/**
 * The step for any unconditional family without its own: `--n-critic` D updates (the first on the step's
 * batch and latents, later ones on fresh draws), each with the configured penalties and `--clip-value`
 * weight clipping, then one G update on the step's latents. With the defaults (n_critic 1, no penalties,
 * no clipping) it is exactly `adversarialStep`.
 */
export function standardStep(ctx: StepContext): StepStats {
  const { nets, opt, loss, config } = ctx;
  const penalties = configuredPenalties(ctx);
  if (config.nCritic === 1 && !penalties && config.clipValue === 0) return adversarialStep(nets, opt, loss, ctx.real, ctx.z);

  const d = criticUpdates(ctx, (real, fake) => {
    const result = discriminatorPhase(nets, opt, loss, real, fake, { penalties });
    if (config.clipValue > 0) clipWeights(nets.discriminator, config.clipValue);
    return result;
  });
  // G phase on the step's latents.
  const lossG = generatorPhase(nets, opt, loss, ctx.z, d.realLogits);
  d.realLogits.dispose();
  return { lossD: d.lossD, lossG, dReal: d.dReal, dFake: d.dFake, extra: d.penalties };
}
