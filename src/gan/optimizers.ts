import * as tf from '@tensorflow/tfjs-core';
import type { RunConfig } from './config.js';
import type { Optimizers } from './step.js';
import type { NamedTensor } from './model_io.js';

/** Adam (or RMSProp, WGAN's choice) for both players, with the run's (possibly separate: TTUR) learning rates. */
export function makeOptimizers(config: RunConfig): Optimizers {
  if (config.optimizer === 'rmsprop') return { g: tf.train.rmsprop(config.lrG), d: tf.train.rmsprop(config.lrD) };
  return {
    g: tf.train.adam(config.lrG, config.beta1, config.beta2),
    d: tf.train.adam(config.lrD, config.beta1, config.beta2),
  };
}

/** Fresh optimizers carrying a checkpoint's moments and step counters exactly. */
export async function restoreOptimizers(
  config: RunConfig,
  weights: { g: NamedTensor[]; d: NamedTensor[] },
  scalars: { g: OptimizerScalars; d: OptimizerScalars } | undefined,
): Promise<Optimizers> {
  const opt = makeOptimizers(config);
  await opt.g.setWeights(weights.g);
  await opt.d.setWeights(weights.d);
  restoreOptimizerScalars(opt.g, scalars?.g);
  restoreOptimizerScalars(opt.d, scalars?.d);
  tf.dispose([...weights.g, ...weights.d].map((w) => w.tensor)); // setWeights copied them into variables
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
