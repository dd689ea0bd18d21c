import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { LayerVariable } from '@tensorflow/tfjs-layers/dist/variables.js';

/** A batch-norm layer's moving statistics and the momentum μ of their update m ← μ·m + (1 − μ)·batch. */
export interface MovingStatistics {
  layer: string;
  mean: LayerVariable;
  variance: LayerVariable;
  momentum: number;
}

/**
 * The batch-norm layers of `model` that keep moving statistics — tfjs's BatchNormalization and
 * ClassConditionalBatchNorm alike: every layer with weights named `moving_mean` and `moving_variance` and a
 * `momentum` in its config.
 */
export function movingStatistics(model: tfl.LayersModel): MovingStatistics[] {
  const found: MovingStatistics[] = [];
  for (const layer of model.layers) {
    const named = (suffix: string) => layer.weights.find((w) => w.originalName.endsWith(`/${suffix}`));
    const [mean, variance] = [named('moving_mean'), named('moving_variance')];
    const momentum = layer.getConfig()['momentum'];
    if (mean && variance && typeof momentum === 'number' && momentum < 1) found.push({ layer: layer.name, mean, variance, momentum });
  }
  return found;
}

/**
 * Runs `use` with BigGAN's "standing statistics" in `model` (Brock, Donahue & Simonyan 2019, §4 and
 * Appendix C.1: "we compute 'standing statistics' … by running G through multiple forward passes, typically
 * 100 … and averaging the statistics"): every batch-norm layer's moving mean and variance become the average of
 * its batch statistics over `passes` training-mode forward passes on the inputs `draw(pass)` returns (fresh
 * latents, and classes). Afterwards every non-trainable weight — those statistics, and the power-iteration
 * vectors ũ that training-mode passes through spectrally normalised layers move — is put back exactly as it was,
 * so sampling with standing statistics never changes the networks (nor any checkpoint written from them).
 *
 * Each layer reports its batch statistic b through its own update rule: with the moving value set to 0 before
 * a pass, the pass leaves (1 − μ)·b, so the statistic is exactly the one the layer normalises with in training.
 *
 * @example
 * const images = withStandingStatistics(G, 16, () => [latents(rng, 64, 128), labels(64)], () => G.predict([z, y]));
 */
export function withStandingStatistics<T>(model: tfl.LayersModel, passes: number, draw: (pass: number) => tf.Tensor | tf.Tensor[], use: () => T): T {
  if (!(Number.isInteger(passes) && passes > 0)) throw new Error(`standing statistics need a positive whole number of passes, got ${passes}`);
  const layers = movingStatistics(model);
  if (layers.length === 0) throw new Error(`'${model.name}' has no batch-norm layer: standing statistics have nothing to recompute`);
  const saved = model.nonTrainableWeights.map((w) => ({ w, value: tf.keep(tf.clone(w.read())) }));
  let sums = layers.map((l) => ({ mean: tf.zerosLike(l.mean.read()), variance: tf.zerosLike(l.variance.read()) }));
  try {
    for (let pass = 0; pass < passes; pass++) {
      const next = tf.tidy(() => {
        for (const l of layers) {
          l.mean.write(tf.zerosLike(l.mean.read()));
          l.variance.write(tf.zerosLike(l.variance.read()));
        }
        model.apply(draw(pass), { training: true }); // each layer: moving value = (1 − μ)·batch statistic
        return layers.map((l, i) => ({
          mean: tf.add(sums[i].mean, tf.div(l.mean.read(), 1 - l.momentum)),
          variance: tf.add(sums[i].variance, tf.div(l.variance.read(), 1 - l.momentum)),
        }));
      });
      tf.dispose(sums.flatMap((s) => [s.mean, s.variance]));
      sums = next;
    }
    for (const { w, value } of saved) w.write(value); // ũ back where training left it
    tf.tidy(() => layers.forEach((l, i) => {
      l.mean.write(tf.div(sums[i].mean, passes));
      l.variance.write(tf.div(sums[i].variance, passes));
    }));
    return use();
  } finally {
    for (const { w, value } of saved) w.write(value);
    tf.dispose([...saved.map((s) => s.value), ...sums.flatMap((s) => [s.mean, s.variance])]);
  }
}
