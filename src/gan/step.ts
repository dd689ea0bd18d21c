import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { AdversarialLoss } from './losses.js';
import type { GanNetworks, Optimizers, StepContext, StepStats } from './family.js';
import { gradientPenalty, lazyWeight, r1Penalty, r2Penalty, type Critic } from './regularizers.js';
import { activeTricks, phaseTricks } from './tricks/index.js';
import { oneHotLabels } from './sampling.js';
import type { Rng } from '../util/rng.js';
import { dOptimizer } from './optimizers.js';
import { discriminatorOf } from './family.js';

// The step's types live with the family contract; re-exported here for the families that compose steps.
export type { FamilyStep, Optimizers, StepContext, StepStats } from './family.js';

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
  return discriminatorOf(nets).apply(y ? [x, y] : x, TRAINING) as tf.Tensor;
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
  options: { yReal?: tf.Tensor; yFake?: tf.Tensor; penalties?: Penalties; scale?: number } = {},
): DPhaseResult {
  const { yReal, yFake, penalties, scale = 1 } = options;
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
    // `scale` weighs the adversarial loss against D's other terms (pix2pix halves it to slow D down).
    let total = scale === 1 ? lossOfD.d(lr, lf) : (tf.mul(scale, lossOfD.d(lr, lf)) as tf.Scalar);
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
  const lossD = tricks.minimize(dOptimizer(opt), objective, trainableVariables(discriminatorOf(nets)), 'd');
  const [ld, dr, df] = [lossD, dReal, dFake].map((t) => t.dataSync()[0]);
  const values = Object.fromEntries(Object.entries(kept).map(([k, t]) => [k, t.dataSync()[0]]));
  tf.dispose([lossD, dReal, dFake, ...Object.values(kept)]);
  kept = {};
  return { lossD: ld, dReal: dr, dFake: df, realLogits, penalties: values };
}

/**
 * Extra terms of G's loss, by report name, as functions of G's output (e.g. pix2pix's L1 to the target): each
 * adds `weight · value` to G's loss and reports its unweighted value.
 */
export type GeneratorTerms = (fake: tf.Tensor) => Record<string, { weight: number; value: tf.Scalar }>;

/** How a step's G and D see their inputs beyond the plain "G(z) vs x" (translators, conditional pairs). */
export interface PhaseInputs {
  /** What G takes (default z, or [z, yFake] when yFake is given): e.g. the input image of a translator. */
  gInput?: tf.Tensor | tf.Tensor[];
  /** D's condition for the real and the generated batch (D([x, y])): one-hot classes, or a translator's input image. */
  yReal?: tf.Tensor;
  yFake?: tf.Tensor;
  /** Weight of D's adversarial loss (pix2pix: 0.5). */
  dScale?: number;
  /** Further terms of G's loss. */
  gTerms?: GeneratorTerms;
  /** Weight of G's adversarial term (default 1; 0 leaves only the terms, e.g. an L1-only baseline). */
  ganWeight?: number;
}

/** G's loss `adversarial` plus the terms, with each term's value kept for the stats (disposed by the caller). */
function withTerms(adversarial: tf.Scalar, fake: tf.Tensor, inputs: PhaseInputs, kept: Record<string, tf.Scalar>): tf.Scalar {
  const { gTerms, ganWeight = 1 } = inputs;
  if (!gTerms && ganWeight === 1) return adversarial;
  kept['loss/G_GAN'] = tf.keep(tf.clone(adversarial));
  let total = ganWeight === 1 ? adversarial : (tf.mul(ganWeight, adversarial) as tf.Scalar);
  if (!gTerms) return total;
  for (const [name, { weight, value }] of Object.entries(gTerms(fake))) {
    kept[name] = tf.keep(value);
    if (weight !== 0) total = tf.add(total, tf.mul(weight, value)) as tf.Scalar;
  }
  return total;
}

/** Read and free the kept scalars. */
function readKept(kept: Record<string, tf.Scalar>): Record<string, number> {
  const out = Object.fromEntries(Object.entries(kept).map(([k, t]) => [k, t.dataSync()[0]]));
  tf.dispose(Object.values(kept));
  return out;
}

function gInputOf(z: tf.Tensor, inputs: PhaseInputs): tf.Tensor | tf.Tensor[] {
  return inputs.gInput ?? (inputs.yFake ? [z, inputs.yFake] : z);
}

/**
 * G phase: one update of G to raise D(G(z)); only G's variables move. With tricks bound (see
 * discriminatorPhase), D sees G(z) augmented and noised as in the D phase, G's loss gains feature matching
 * and historical averaging, and its gradients may be clipped.
 */
export function generatorPhase(
  nets: GanNetworks, opt: Optimizers, loss: AdversarialLoss, z: tf.Tensor, realLogits: tf.Tensor, yFake?: tf.Tensor,
): number {
  return generatorPhaseWith(nets, opt, loss, z, realLogits, { yFake }).lossG;
}

/** generatorPhase with a translator's or conditional pair's inputs and extra loss terms; returns the terms' values too. */
export function generatorPhaseWith(
  nets: GanNetworks, opt: Optimizers, loss: AdversarialLoss, z: tf.Tensor, realLogits: tf.Tensor, inputs: PhaseInputs,
): { lossG: number; terms: Record<string, number> } {
  const tricks = phaseTricks(nets);
  const kept: Record<string, tf.Scalar> = {};
  const objective = () => {
    const x = nets.generator.apply(gInputOf(z, inputs), TRAINING) as tf.Tensor; // [B, ...shape]
    const adversarial = loss.g(applyD(nets, tricks.dInput(x), inputs.yFake), realLogits);
    // feature matching, historical averaging; then the family's own terms
    return withTerms(tricks.withGeneratorTerms(nets, adversarial, x, inputs.yFake), x, inputs, kept);
  };
  const lossG = tricks.minimize(opt.g, objective, trainableVariables(nets.generator), 'g');
  const v = lossG.dataSync()[0];
  lossG.dispose();
  return { lossG: v, terms: readKept(kept) };
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
 * D's update runs with G's tape paused (untaped): it is then an ordinary first-order update, as fast as a
 * separate one.
 */
export function adversarialStep(nets: GanNetworks, opt: Optimizers, loss: AdversarialLoss, real: tf.Tensor, z: tf.Tensor, inputs: PhaseInputs = {}): StepStats {
  if (activeTricks(nets)) return twoPassStep(nets, opt, loss, real, z, inputs);
  let d!: DPhaseResult;
  const kept: Record<string, tf.Scalar> = {};
  const lossG = opt.g.minimize(() => {
    const fake = nets.generator.apply(gInputOf(z, inputs), TRAINING) as tf.Tensor; // [B, ...shape], taped for G's gradient
    // Phase 1 — D step: raise D on x, lower it on G(z). G's tape is paused meanwhile (see untaped).
    d = untaped(() => discriminatorPhase(nets, opt, loss, real, fake, { yReal: inputs.yReal, yFake: inputs.yFake, scale: inputs.dScale }));
    // Phase 2 — G step: raise D(G(z)) under the updated D (plus the family's terms); only G's variables move.
    return withTerms(loss.g(applyD(nets, fake, inputs.yFake), d.realLogits), fake, inputs, kept);
  }, true, trainableVariables(nets.generator))!;
  const lossValue = lossG.dataSync()[0];
  tf.dispose([lossG, d.realLogits]);
  const terms = readKept(kept);
  return { lossD: d.lossD, lossG: lossValue, dReal: d.dReal, dFake: d.dFake, ...(Object.keys(terms).length > 0 ? { extra: terms } : {}) };
}

/**
 * Runs `f` with the open gradient tape (if any) paused, so nothing `f` computes is recorded on it: to the
 * enclosing gradient, `f`'s results are constants. adversarialStep runs D's update this way inside G's gradient
 * scope. The maths is unchanged — D's update never was a path from G's variables to G's loss: it reads G's
 * output as a constant and moves only D's variables, whose new values G's loss reads as values — but with the
 * outer tape on, the update's own gradient had to stay differentiable: tfjs recorded every op of D's backward
 * pass on G's tape and kept D's saved activations until G's scope closed, and the aten backend, which cannot
 * know that no second-order gradient will follow, replaced its fused batch/instance-norm gradients with their
 * composed (differentiable, several times slower) forms. Paused, D's update is a plain first-order one.
 * A gradient taken inside `f` (e.g. a penalty's ∇ₓD within D's own minimize) still nests within f's own tape.
 */
export function untaped<T>(f: () => T): T {
  // tfjs has no public switch for this; the engine's state is public and only these two fields open a tape
  // (startTape begins a fresh tape list when the depth is 0). Both are restored even when f throws.
  const state = tf.engine().state;
  const { gradientDepth, activeTape } = state;
  state.gradientDepth = 0;
  try {
    return f();
  } finally {
    state.gradientDepth = gradientDepth;
    state.activeTape = activeTape;
  }
}

/** adversarialStep as two separate phases (G forward twice): the form the stabilising tricks hook into. */
function twoPassStep(nets: GanNetworks, opt: Optimizers, loss: AdversarialLoss, real: tf.Tensor, z: tf.Tensor, inputs: PhaseInputs): StepStats {
  const fake = tf.tidy(() => nets.generator.apply(gInputOf(z, inputs), TRAINING) as tf.Tensor); // [B, ...shape]
  const d = discriminatorPhase(nets, opt, loss, real, fake, { yReal: inputs.yReal, yFake: inputs.yFake, scale: inputs.dScale });
  fake.dispose();
  const g = generatorPhaseWith(nets, opt, loss, z, d.realLogits, inputs);
  d.realLogits.dispose();
  return { lossD: d.lossD, lossG: g.lossG, dReal: d.dReal, dFake: d.dFake, ...(Object.keys(g.terms).length > 0 ? { extra: g.terms } : {}) };
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
  return classLabels(ctx, ctx.labels, ctx.real.shape[0], model);
}

/** One-hot labels of a real batch's classes and classes drawn uniformly from the run's RNG for a generated one. */
function classLabels(ctx: StepContext, labels: tf.Tensor1D | undefined, n: number, model: string): { yReal: tf.Tensor2D; yFake: tf.Tensor2D } {
  const k = ctx.data.numClasses ?? 0;
  if (!labels || k === 0) throw new Error(`${model}: the batch carries no class labels`);
  return {
    yReal: oneHotLabels(labels.dataSync(), k),
    yFake: oneHotLabels(Array.from({ length: n }, () => ctx.rng.int(k)), k), // ~ U{0..K−1}
  };
}

/** n numbers from U[0, 1) drawn from `rng`: [n]. */
export function uniform(rng: Rng, n: number): tf.Tensor1D {
  return tf.tensor1d(Float32Array.from({ length: n }, () => rng.uniform()));
}

/** One critic update's inputs: a real batch, a generated one (a constant here) and, for a class-conditional pair, their one-hot labels. */
export interface CriticDraw {
  real: tf.Tensor;
  fake: tf.Tensor;
  yReal?: tf.Tensor2D;
  yFake?: tf.Tensor2D;
}

/**
 * The inner loop of WGAN's Algorithm 1: `config.nCritic` critic updates, the first on the step's own batch
 * and latents, later ones on fresh draws from the checkpointed stream and RNG. With `conditional`, each update
 * sees the real batch's labels and generated classes drawn from the run's RNG. `update(draw)` makes one
 * update; the last update's result is returned (its realLogits the caller's to dispose) with the first
 * update's generated labels, which the G phase reuses with the step's latents (also the caller's).
 */
export function criticUpdates(
  ctx: StepContext, update: (draw: CriticDraw) => DPhaseResult, conditional = false,
): DPhaseResult & { yFake?: tf.Tensor2D } {
  let d: DPhaseResult | undefined;
  let firstYFake: tf.Tensor2D | undefined;
  for (let i = 0; i < ctx.config.nCritic; i++) {
    const batch = i === 0 ? undefined : ctx.nextBatch();
    const real = batch?.x ?? ctx.real; // [B, ...shape]
    const z = i === 0 ? ctx.z : ctx.latents();
    const y = conditional ? classLabels(ctx, batch ? batch.labels : ctx.labels, real.shape[0], 'conditional step') : undefined;
    const fake = tf.tidy(() => applyG(ctx.nets, z, y?.yFake));
    d?.realLogits.dispose();
    d = update({ real, fake, yReal: y?.yReal, yFake: y?.yFake });
    if (i === 0) firstYFake = y?.yFake;
    else if (y) y.yFake.dispose();
    tf.dispose([fake, ...(y ? [y.yReal] : []), ...(batch ? [z, batch.x] : []), ...(batch?.labels ? [batch.labels] : []), ...(batch?.input ? [batch.input] : [])]);
  }
  return { ...d!, yFake: firstYFake };
}

/**
 * The step of every family without its own: `--n-critic` D updates (the first on the step's batch and
 * latents, later ones on fresh draws), each with the configured penalties (--gp-weight, --r1-gamma,
 * --r2-gamma) and `--clip-value` weight clipping, then one G update on the step's latents. A class-conditional
 * family (condition 'class') gets the labels in both players. wgan, wgan-gp, sngan, lsgan and cgan are only
 * defaults over this step. With the defaults (n_critic 1, no penalties, no clipping, unconditional) it is
 * exactly `adversarialStep`.
 */
export function standardStep(ctx: StepContext): StepStats {
  const { nets, opt, loss, config } = ctx;
  const penalties = configuredPenalties(ctx);
  const conditional = ctx.condition === 'class';
  if (!conditional && config.nCritic === 1 && !penalties && config.clipValue === 0) return adversarialStep(nets, opt, loss, ctx.real, ctx.z);

  const d = criticUpdates(ctx, ({ real, fake, yReal, yFake }) => {
    const result = discriminatorPhase(nets, opt, loss, real, fake, { yReal, yFake, penalties });
    if (config.clipValue > 0) clipWeights(discriminatorOf(nets), config.clipValue); // w ← clip(w, −c, c)
    return result;
  }, conditional);
  // G phase on the step's latents (and the first critic update's generated classes).
  const lossG = generatorPhase(nets, opt, loss, ctx.z, d.realLogits, d.yFake);
  tf.dispose([d.realLogits, ...(d.yFake ? [d.yFake] : [])]);
  const extra: Record<string, number> = { ...d.penalties };
  // With the Wasserstein loss, −(D's loss without its penalties) estimates W(P_r, P_g) (WGAN's learning curve).
  if (config.loss === 'wasserstein') extra['critic/w-dist'] = Object.values(d.penalties).reduce((a, b) => a + b, 0) - d.lossD;
  return { lossD: d.lossD, lossG, dReal: d.dReal, dFake: d.dFake, extra };
}
