import * as tf from '@tensorflow/tfjs-core';
import type { RunConfig } from './config.js';
import { DEFAULT_PLAYERS, type Optimizers, type Player } from './family.js';
import type { NamedTensor } from './model_io.js';
import { adam } from '../nn/adam.js';

/** RMSProp's default decay in tfjs, the moving average of squared gradients. */
const RMSPROP_DECAY = 0.9;

/** A player's optimizer at base rate `lr`, with the lazy-regularisation correction c (1: none) applied. */
function makeOptimizer(config: RunConfig, lr: number, c: number): tf.Optimizer {
  return config.optimizer === 'rmsprop' ? tf.train.rmsprop(lr * c, RMSPROP_DECAY ** c) : adam(lr * c, config.beta1 ** c, config.beta2 ** c);
}

/**
 * c = k/(k + 1) for a player a lazy regulariser updates every k-th step (Player.lazyInterval), else 1: the
 * factor on its learning rate and the power on its βs (Karras et al. 2020, appendix B).
 */
export function lazyRatio(player: Player, config: RunConfig): number {
  const k = player.lazyInterval?.(config) ?? 0;
  return k > 0 ? k / (k + 1) : 1;
}

/**
 * Adam (or RMSProp, WGAN's choice) for every player, each with its learning rate (separate G and D rates:
 * TTUR) at the schedule's value for `step`, corrected for a lazy regulariser (lazyRatio). 'g' is always there,
 * 'd' in adversarial families; further players go in `extra`.
 */
export function makeOptimizers(config: RunConfig, players: readonly Player[] = DEFAULT_PLAYERS, step = 0): Optimizers {
  const made = new Map(players.map((p) => [p.name, makeOptimizer(config, scheduledRate(config, config[p.lr], step), lazyRatio(p, config))]));
  const g = made.get('g');
  const d = made.get('d');
  if (!g) throw new Error(`a family's players must include 'g', got ${players.map((p) => p.name).join(', ')}`);
  const extra = players.filter((p) => p.name !== 'g' && p.name !== 'd');
  return {
    g,
    ...(d ? { d } : {}),
    ...(extra.length > 0 ? { extra: Object.fromEntries(extra.map((p) => [p.name, made.get(p.name)!])) } : {}),
  };
}

/**
 * The learning rate at `step` (steps completed) for a base rate: constant, or with --lr-schedule linear
 * constant until `lrDecayStart · steps`, then linearly to 0 at `steps` (pix2pix and CycleGAN: 100 epochs at the
 * base rate, 100 decaying).
 */
export function scheduledRate(config: RunConfig, base: number, step: number): number {
  if (config.lrSchedule === 'constant') return base;
  const start = Math.floor(config.lrDecayStart * config.steps);
  if (step < start) return base;
  return base * Math.max(0, (config.steps - step) / Math.max(1, config.steps - start));
}

/** Set every player's learning rate to the schedule's value before the step that follows `step` steps. */
export function applySchedule(opt: Optimizers, players: readonly Player[], config: RunConfig, step: number): void {
  if (config.lrSchedule === 'constant') return;
  const byName = new Map(allOptimizers(opt));
  for (const p of players) {
    // tfjs's Adam and RMSProp read `learningRate` at each update (a plain field, protected in its typings).
    const o = byName.get(p.name) as unknown as { learningRate: number } | undefined;
    if (o) o.learningRate = scheduledRate(config, config[p.lr], step) * lazyRatio(p, config);
  }
}

/** Every optimizer of a run with the name its state is saved under (optimizer-NAME): g, d (if any), then extras. */
export function allOptimizers(opt: Optimizers): [string, tf.Optimizer][] {
  const d: [string, tf.Optimizer][] = opt.d ? [['d', opt.d]] : [];
  return [['g', opt.g], ...d, ...Object.entries(opt.extra ?? {})];
}

/** D's optimizer, or an error saying the family has no 'd' player. */
export function dOptimizer(opt: Optimizers): tf.Optimizer {
  if (!opt.d) throw new Error("no 'd' optimizer: the family declares no discriminator player");
  return opt.d;
}

export function disposeOptimizers(opt: Optimizers): void {
  for (const [, o] of allOptimizers(opt)) o.dispose();
}

/** Fresh optimizers carrying a checkpoint's moments and step counters exactly (weights and scalars by name). */
export async function restoreOptimizers(
  config: RunConfig,
  weights: Record<string, NamedTensor[]>,
  scalars: Record<string, OptimizerScalars> | undefined,
  players: readonly Player[] = DEFAULT_PLAYERS,
  step = 0,
): Promise<Optimizers> {
  const opt = makeOptimizers(config, players, step);
  for (const [name, o] of allOptimizers(opt)) {
    if (weights[name]) await o.setWeights(weights[name]); // (absent: a checkpoint from before that optimizer existed)
    restoreOptimizerScalars(o, scalars?.[name]);
  }
  tf.dispose(Object.values(weights).flat().map((w) => w.tensor)); // setWeights copied them into variables
  return opt;
}

/**
 * Scalar variables an optimizer keeps besides its per-weight slots (Adam's and Adamax's accumulated
 * β powers). TF.js's `setWeights` recomputes them as β^(t+1) with `pow`, while training accumulates them
 * by repeated multiplication; the two differ in the last float32 bits, which is enough to make a resumed
 * run drift from an uninterrupted one. A checkpoint keeps the accumulated values and puts them back.
 */
export type OptimizerScalars = Record<string, number>;

function scalarVariables(opt: tf.Optimizer): [string, tf.Variable][] {
  return Object.entries(opt as unknown as Record<string, unknown>).filter(
    (e): e is [string, tf.Variable] => e[1] instanceof tf.Variable && e[1].rank === 0,
  );
}

export function captureOptimizerScalars(opt: tf.Optimizer): OptimizerScalars {
  return Object.fromEntries(scalarVariables(opt).map(([name, v]) => [name, v.dataSync()[0]]));
}

/** Call after `setWeights`, which is where TF.js overwrites these. */
export function restoreOptimizerScalars(opt: tf.Optimizer, saved: OptimizerScalars | undefined): void {
  if (!saved) return;
  for (const [name, v] of scalarVariables(opt)) {
    // tidy frees the temporary scalar (the variable keeps its data); it leaked 4 tensors per restore.
    if (name in saved) tf.tidy(() => v.assign(tf.scalar(saved[name])));
  }
}
