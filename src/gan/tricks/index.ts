import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { RunConfig } from '../config.js';
import type { AdversarialLoss } from '../losses.js';
import { EMA_GENERATOR, type GanNetworks, discriminatorOf } from '../family.js';
import type { DatasetInfo } from '../../data/types.js';
import type { Rng } from '../../util/rng.js';
import { meanOverRanks, type Collectives } from '../replicas.js';
import { UserError } from '../../util/errors.js';
import { MinibatchDiscrimination, MinibatchStddev } from '../../nn/minibatch.js';
import { smoothLabels } from './label_smoothing.js';
import { addInstanceNoise, instanceNoiseSigma } from './instance_noise.js';
import { diffAugment, parseDiffAugment, type DiffAugmentPolicy } from './diff_augment.js';
import { AdaController, adaAugment, adaCentre, applyAda, drawAda } from './ada.js';
import { featureMatchingLoss, featureModel } from './feature_matching.js';
import { historicalPenalty, updateHistoricalAverage } from './historical_averaging.js';
import { updateEma } from './ema.js';
import { minimizeClipped } from './grad_clip.js';
import { copyNetwork } from './copies.js';

export { smoothLabels, instanceNoiseSigma, addInstanceNoise, diffAugment, parseDiffAugment, featureMatchingLoss, featureModel };
export { historicalPenalty, updateHistoricalAverage, updateEma, minimizeClipped, copyNetwork };
export { AdaController, adaAugment, adaCentre, applyAda, drawAda };

/** Names, among GanNetworks.extra, of the historical averages of D's and G's weights (--historical-averaging[-g]). */
export const D_AVERAGE = 'discriminator-average';
export const G_AVERAGE = 'generator-average';

/** Whether the config turns on a trick that acts inside the D and G phases (the rest act on networks or after the step). */
export function phaseTricksOn(config: RunConfig): boolean {
  return config.labelSmoothing > 0 || config.instanceNoise > 0 || config.featureMatching > 0 || config.historicalAveraging > 0 ||
    config.historicalAveragingG > 0 || config.diffAugment !== '' || config.gradClip > 0 || config.adaTarget > 0;
}

/** A trick's state that outlives a step: plain JSON in and out (a checkpoint keeps it in state.json). */
interface StatefulTrick {
  save(): unknown;
  /** Put back what `save` returned; undefined: the fresh state. */
  restore(saved: unknown): void;
}

/**
 * The state of a run's tricks that is not a network (ADA's p and its running r_t), by trick name. The run's
 * step state owns it; every checkpoint saves it (CheckpointState.tricks) and resume and rollback put it back,
 * so exact resume stays bit-for-bit. createTrickState makes one when the config turns on a trick that has state.
 */
export class TrickState {
  /** ADA's controller (--ada-target). */
  readonly ada?: AdaController;
  private readonly parts: Record<string, StatefulTrick> = {};

  constructor(config: RunConfig) {
    if (config.adaTarget > 0) {
      this.ada = new AdaController({ target: config.adaTarget, interval: config.adaInterval, kimg: config.adaKimg, batchSize: config.batchSize, initialP: config.adaP });
      this.parts.ada = this.ada;
    }
  }

  save(): Record<string, unknown> {
    return Object.fromEntries(Object.entries(this.parts).map(([name, part]) => [name, part.save()]));
  }

  /** Put back a checkpoint's saved state (a trick the checkpoint has nothing for starts fresh). */
  restore(saved: Record<string, unknown> | undefined): void {
    for (const [name, part] of Object.entries(this.parts)) part.restore(saved?.[name]);
  }
}

/** The run's trick state, or undefined when no configured trick keeps one. */
export function createTrickState(config: RunConfig): TrickState | undefined {
  return config.adaTarget > 0 ? new TrickState(config) : undefined;
}

/**
 * What the D and G phases ask of the step's tricks. With none configured it is NO_TRICKS, which changes
 * nothing, so a phase calls these unconditionally.
 */
export interface PhaseTricks {
  discriminatorLoss(loss: AdversarialLoss): AdversarialLoss;
  dInput(x: tf.Tensor): tf.Tensor;
  rememberReal(x: tf.Tensor, y?: tf.Tensor): void;
  withDiscriminatorTerms(nets: GanNetworks, total: tf.Scalar): tf.Scalar;
  withGeneratorTerms(nets: GanNetworks, total: tf.Scalar, fake: tf.Tensor, yFake?: tf.Tensor): tf.Scalar;
  minimize(optimizer: tf.Optimizer, f: () => tf.Scalar, vars: tf.Variable[], player: 'd' | 'g'): tf.Scalar;
}

/** No tricks: the plain loss, inputs and optimizer step. */
export const NO_TRICKS: PhaseTricks = {
  discriminatorLoss: (loss) => loss,
  dInput: (x) => x,
  rememberReal: () => {},
  withDiscriminatorTerms: (_nets, total) => total,
  withGeneratorTerms: (_nets, total) => total,
  minimize: (optimizer, f, vars) => optimizer.minimize(f, true, vars)!,
};

/**
 * The tricks of one training step, as the shared phases (discriminatorPhase, generatorPhase) apply them: what
 * D sees (DiffAugment or ADA, then instance noise), D's targets (label smoothing), extra loss terms (historical
 * averaging, feature matching) and how gradients are applied (clipping). runStep binds one to the run's
 * networks for the step (see bindStepTricks), so every family whose step goes through those phases gets them.
 * ADA reads D's real outputs where D's loss takes them (discriminatorLoss), and moves p when the step ends.
 */
export class StepTricks implements PhaseTricks {
  /** Instance-noise σ at this step. */
  readonly sigma: number;
  private readonly policies: DiffAugmentPolicy[];
  private readonly kept = new Map<string, tf.Scalar>();
  private readonly numbers: Record<string, number> = {};
  private real?: { x: tf.Tensor; y?: tf.Tensor };
  /** ADA's augmentation probability for this step (it moves only between steps). */
  readonly adaP: number;
  private readonly ada?: AdaController;
  private readonly group?: Collectives;
  /** Σ sign(D(x) − centre) of each D update's real batch this step (ADA), and how many outputs they cover. */
  private readonly realSigns: tf.Scalar[] = [];
  private realCount = 0;

  constructor(readonly config: RunConfig, readonly step: number, readonly rng: Rng, run: { tricks?: TrickState; group?: Collectives } = {}) {
    this.sigma = instanceNoiseSigma(step, config.instanceNoise, config.instanceNoiseSteps || config.steps, config.instanceNoiseAnneal);
    this.policies = parseDiffAugment(config.diffAugment) ?? [];
    this.ada = run.tricks?.ada;
    if (config.adaTarget > 0 && !this.ada) throw new Error('--ada-target: the step has no trick state (createTrickState makes ADA\'s controller)');
    this.adaP = this.ada?.p ?? 0;
    this.group = run.group;
  }

  /** D's loss with the real target smoothed (--label-smoothing); with ADA, it also notes the signs of D's real outputs. */
  discriminatorLoss(loss: AdversarialLoss): AdversarialLoss {
    const smoothed = smoothLabels(loss, this.config.labelSmoothing);
    if (!this.ada) return smoothed;
    const centre = adaCentre(loss.name) ?? 0; // checkCombinations refuses losses without one
    return {
      ...smoothed,
      d: (real, fake) => {
        // r_t's ingredients (no gradient flows through sign): Σ sign and the number of outputs.
        this.realSigns.push(tf.keep(tf.tidy(() => tf.sum(tf.sign(centre === 0 ? real : tf.sub(real, centre))))));
        this.realCount += real.size;
        return smoothed.d(real, fake);
      },
    };
  }

  /** What D sees of x (real or generated): DiffAugment or ADA's augmentations, then instance noise. Differentiable in x. */
  dInput(x: tf.Tensor): tf.Tensor {
    return addInstanceNoise(diffAugment(adaAugment(x, this.adaP, this.rng, this.config.adaResample, this.config.adaPipe), this.policies, this.rng), this.sigma, this.rng);
  }

  /** Keep the D phase's real batch (and its labels) for feature matching in the G phase that follows. */
  rememberReal(x: tf.Tensor, y?: tf.Tensor): void {
    if (this.config.featureMatching === 0) return;
    this.forgetReal();
    this.real = { x: tf.keep(tf.clone(x)), y: y && tf.keep(tf.clone(y)) };
  }

  /** D's loss `total` plus the tricks' terms (historical averaging). Call inside D's minimize. */
  withDiscriminatorTerms(nets: GanNetworks, total: tf.Scalar): tf.Scalar {
    const w = this.config.historicalAveraging;
    if (w === 0) return total;
    return tf.add(total, this.note('trick/hist-avg-d', historicalPenalty(discriminatorOf(nets), averageOf(nets, D_AVERAGE), w)));
  }

  /** G's loss `total` plus the tricks' terms (feature matching on `fake` = G(z), historical averaging). Call inside G's minimize. */
  withGeneratorTerms(nets: GanNetworks, total: tf.Scalar, fake: tf.Tensor, yFake?: tf.Tensor): tf.Scalar {
    const terms: tf.Scalar[] = [];
    if (this.config.featureMatching > 0) {
      if (!this.real) throw new Error('--feature-matching: the G phase ran before any D phase of this step, so there is no real batch to match');
      const f = featureModel(discriminatorOf(nets));
      const apply = (x: tf.Tensor, y?: tf.Tensor) => f.apply(y ? [x, y] : x, { training: true }) as tf.Tensor;
      const fm = this.note('trick/feature-matching', featureMatchingLoss(apply(this.real.x, this.real.y), apply(fake, yFake)));
      terms.push(tf.mul(this.config.featureMatching, fm) as tf.Scalar);
    }
    if (this.config.historicalAveragingG > 0) {
      terms.push(this.note('trick/hist-avg-g', historicalPenalty(nets.generator, averageOf(nets, G_AVERAGE), this.config.historicalAveragingG)));
    }
    return terms.length === 0 ? total : tf.add(total, tf.addN(terms));
  }

  /** One update of `player`: optimizer.minimize, or with --grad-clip the clipped gradients applied. Returns the loss. */
  minimize(optimizer: tf.Optimizer, f: () => tf.Scalar, vars: tf.Variable[], player: 'd' | 'g'): tf.Scalar {
    if (this.config.gradClip === 0) return optimizer.minimize(f, true, vars)!;
    const { value, norm } = minimizeClipped(optimizer, f, vars, this.config.gradClip);
    this.numbers[`trick/grad-norm-${player}`] = norm;
    return value;
  }

  /**
   * Read out what the step's tricks report (σ, penalties, gradient norms, ADA's p and r_t), close the step for
   * the tricks with state (ADA may move p) and free what they kept.
   */
  finish(): Record<string, number> {
    const out: Record<string, number> = { ...this.numbers };
    if (this.config.instanceNoise > 0) out['trick/noise-sigma'] = this.sigma;
    for (const [name, t] of this.kept) out[name] = t.dataSync()[0];
    if (this.ada) {
      this.ada.observe(this.realSigns.reduce((s, t) => s + t.dataSync()[0], 0), this.realCount);
      this.ada.endStep(this.group && this.group.worldSize > 1 ? groupTotals(this.group) : undefined);
      out['aug/p'] = this.adaP;
      if (this.ada.rt !== undefined) out['aug/rt'] = this.ada.rt;
    }
    this.discard();
    return out;
  }

  /** Free what the step's tricks kept, without reading it (a step that threw). */
  discard(): void {
    tf.dispose([...this.kept.values(), ...this.realSigns]);
    this.kept.clear();
    this.realSigns.length = 0;
    this.forgetReal();
  }

  /** Keep a scalar's value for the stats channel (the last one of the step wins); returns it for use. */
  private note(name: string, t: tf.Scalar): tf.Scalar {
    this.kept.get(name)?.dispose();
    this.kept.set(name, tf.keep(t));
    return t;
  }

  private forgetReal(): void {
    if (this.real) tf.dispose([this.real.x, ...(this.real.y ? [this.real.y] : [])]);
    this.real = undefined;
  }
}

/**
 * The group's totals of (Σ sign, count) from each rank's own: the mean over ranks times their number. Both are
 * integers, so rounding gives the totals exactly and every rank computes the same r_t and p.
 */
function groupTotals(group: Collectives): (signSum: number, count: number) => [number, number] {
  return (signSum, count) => {
    const [meanSum, meanCount] = meanOverRanks(group, [signSum, count]);
    return [Math.round(meanSum * group.worldSize), Math.round(meanCount * group.worldSize)];
  };
}

function averageOf(nets: GanNetworks, name: string): tfl.LayersModel {
  const m = nets.extra?.[name];
  if (!m) throw new Error(`historical averaging: the run has no '${name}' network (attachTrickNetworks builds it)`);
  return m;
}

// The step's tricks, by the networks they act on: set by runStep for one step, read by the phases, which
// families call with their own arguments only. A WeakMap, so a run's networks never outlive it here.
const bound = new WeakMap<GanNetworks, StepTricks>();

/**
 * Bind this step's tricks to the run's networks (when the config turns any phase trick on); returns them.
 * `run` carries the run's trick state (ADA's controller) and, for a data-parallel run, its group.
 */
export function bindStepTricks(nets: GanNetworks, config: RunConfig, step: number, rng: Rng, run: { tricks?: TrickState; group?: Collectives } = {}): StepTricks | undefined {
  if (!phaseTricksOn(config)) return undefined;
  const tricks = new StepTricks(config, step, rng, run);
  bound.set(nets, tricks);
  return tricks;
}

/** The tricks bound to these networks for the current step, if any. */
export function activeTricks(nets: GanNetworks): StepTricks | undefined {
  return bound.get(nets);
}

/** The tricks a phase applies this step: the bound ones, or NO_TRICKS. */
export function phaseTricks(nets: GanNetworks): PhaseTricks {
  return bound.get(nets) ?? NO_TRICKS;
}

/** End the step's binding; returns what the tricks report for the stats channel. */
export function releaseStepTricks(nets: GanNetworks): Record<string, number> {
  const tricks = bound.get(nets);
  bound.delete(nets);
  return tricks ? tricks.finish() : {};
}

/** End the binding of a step that threw: free what the tricks kept; the tricks' state does not advance. */
export function abandonStepTricks(nets: GanNetworks): void {
  bound.get(nets)?.discard();
  bound.delete(nets);
}

/**
 * Give a run the networks its tricks keep (EMA of G, historical averages), copied from the current G and D,
 * unless they are there already (a resumed run loads them from its checkpoint). Also checks that the
 * discriminator has the minibatch layers the config asks for: a family with its own D builder may not.
 */
export function attachTrickNetworks(nets: GanNetworks, config: RunConfig): void {
  // D is read only when a D trick is on: a family without a discriminator has none to read.
  const want: [boolean, string, () => tfl.LayersModel][] = [
    [config.emaDecay > 0, EMA_GENERATOR, () => nets.generator],
    [config.historicalAveraging > 0, D_AVERAGE, () => discriminatorOf(nets)],
    [config.historicalAveragingG > 0, G_AVERAGE, () => nets.generator],
  ];
  for (const [on, name, model] of want) {
    if (!on || nets.extra?.[name]) continue;
    nets.extra = { ...nets.extra, [name]: copyNetwork(model(), name) };
  }
  const has = (cls: string) => discriminatorOf(nets).layers.some((l) => l.getClassName() === cls);
  if (config.minibatchStddev > 0 && !has(MinibatchStddev.className)) {
    throw new UserError(`--minibatch-stddev: the ${config.model} discriminator has no minibatch-stddev layer (vanilla, dcgan and families built on their D have one)`);
  }
  if (config.minibatchDiscrimination > 0 && !has(MinibatchDiscrimination.className)) {
    throw new UserError(`--minibatch-discrimination: the ${config.model} discriminator has no minibatch-discrimination layer (vanilla, dcgan and families built on their D have one)`);
  }
}

/** After a step's updates (`stepsDone` steps completed): move the EMA of G and the historical averages. */
export function updateAverages(nets: GanNetworks, config: RunConfig, stepsDone: number): void {
  if (config.emaDecay > 0) updateEma(averageOf(nets, EMA_GENERATOR), nets.generator, config.emaDecay);
  if (config.historicalAveraging > 0) updateHistoricalAverage(averageOf(nets, D_AVERAGE), discriminatorOf(nets), stepsDone);
  if (config.historicalAveragingG > 0) updateHistoricalAverage(averageOf(nets, G_AVERAGE), nets.generator, stepsDone);
}

/** null when the tricks fit the data, else a sentence saying why not. */
export function trickProblem(data: DatasetInfo, config: RunConfig): string | null {
  if (config.diffAugment !== '' && data.kind !== 'image') {
    return `--diff-augment augments images, and ${data.name} is 2-D points; leave it off for this data`;
  }
  if (config.adaTarget > 0) {
    if (data.kind !== 'image') return `--ada-target augments images, and ${data.name} is 2-D points; leave it off for this data`;
    const [h, w, c] = data.shape;
    if (h !== w) return `--ada-target rotates D's inputs by 90°, which needs square images; ${data.name} is ${h}×${w} (pass --image-size N)`;
    if (c !== 1 && c !== 3) return `--ada-target's colour transforms work on grey or RGB images; ${data.name} has ${c} channels`;
  }
  return null;
}
