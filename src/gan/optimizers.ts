import * as tf from '@tensorflow/tfjs-core';
import type { RunConfig } from './config.js';
import type { Optimizers } from './step.js';
import type { NamedTensor } from './model_io.js';
import { adam } from '../nn/adam.js';

function makeOptimizer(config: RunConfig, lr: number): tf.Optimizer {
  return config.optimizer === 'rmsprop' ? tf.train.rmsprop(lr) : adam(lr, config.beta1, config.beta2);
}

/**
 * Adam (or RMSProp, WGAN's choice) for both players, with the run's (possibly separate: TTUR) learning rates,
 * plus the family's further optimizers (`extraNames`), which take G's learning rate.
 */
export function makeOptimizers(config: RunConfig, extraNames: readonly string[] = []): Optimizers {
  const opt: Optimizers = { g: makeOptimizer(config, config.lrG), d: makeOptimizer(config, config.lrD) };
  if (extraNames.length > 0) opt.extra = Object.fromEntries(extraNames.map((name) => [name, makeOptimizer(config, config.lrG)]));
  return opt;
}

/** Every optimizer of a run with the name its state is saved under (optimizer-NAME): g, d, then extras. */
export function allOptimizers(opt: Optimizers): [string, tf.Optimizer][] {
  return [['g', opt.g], ['d', opt.d], ...Object.entries(opt.extra ?? {})];
}

export function disposeOptimizers(opt: Optimizers): void {
  for (const [, o] of allOptimizers(opt)) o.dispose();
}

/** Fresh optimizers carrying a checkpoint's moments and step counters exactly (weights and scalars by name). */
export async function restoreOptimizers(
  config: RunConfig,
  weights: Record<string, NamedTensor[]>,
  scalars: Record<string, OptimizerScalars> | undefined,
  extraNames: readonly string[] = [],
): Promise<Optimizers> {
  const opt = makeOptimizers(config, extraNames);
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
