import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { FusedGRU } from '../../nn/fused_gru.js';
import { Rng } from '../../util/rng.js';

/**
 * The small recurrent networks that TimeGAN's metrics train after the fact (Yoon et al. 2019, §5): one GRU layer
 * with ⌊F/2⌋ units and a dense read-out, trained with Adam (lr 0.001, the TensorFlow default the authors use).
 * Every recurrent layer of these metrics is made by one factory (fusedGru by default; tfjsGru is its oracle).
 */

/** n sequences of t steps of f features, float32 [n, t, f] row-major, in the run's scaled units. */
export interface Sequences {
  values: Float32Array;
  n: number;
  t: number;
  f: number;
}

/** What a metric asks of its recurrent layer. */
export interface RecurrentLayerArgs {
  units: number;
  /** true: the output at every step, [B, T, units]; false: the last step's, [B, units]. */
  returnSequences: boolean;
  /** Seeds the kernel and recurrent initializers. */
  seed: number;
  name: string;
}

export type RecurrentFactory = (args: RecurrentLayerArgs) => tfl.layers.Layer;

/**
 * tfjs-layers' GRU with sigmoid gates and tanh (reset gate before the recurrent product, as TensorFlow 1's GRUCell),
 * every weight Glorot-uniform (TF 1's GRUCell default; tfjs-layers' orthogonal initializer needs chained ops that
 * are not registered here).
 */
export const tfjsGru: RecurrentFactory = ({ units, returnSequences, seed, name }) => tfl.layers.gru({
  units, returnSequences, name, recurrentActivation: 'sigmoid', // tfjs-layers' default is hardSigmoid; TensorFlow's GRUCell is sigmoid
  kernelInitializer: tfl.initializers.glorotUniform({ seed }),
  recurrentInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }),
});

/**
 * tfjsGru's layer as FusedGRU: the same weights and results, but on aten the whole sequence is one native kernel
 * (and one for its gradient) instead of ~20 small kernels per step, which makes TimeGAN's 2000 + 5000 post-hoc
 * iterations a matter of a minute or two, not of a quarter of an hour. Elsewhere it is tfjs-layers' GRU.
 */
export const fusedGru: RecurrentFactory = ({ units, returnSequences, seed, name }) => new FusedGRU({
  units, returnSequences, name, recurrentActivation: 'sigmoid',
  kernelInitializer: tfl.initializers.glorotUniform({ seed }),
  recurrentInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }),
});

let recurrent: RecurrentFactory = fusedGru;

/** The factory every post-hoc network is built with (default fusedGru). */
export function posthocRecurrent(): RecurrentFactory {
  return recurrent;
}

/** Build post-hoc networks with `factory` from now on (e.g. a fused GRU); returns the previous one. */
export function setPosthocRecurrent(factory: RecurrentFactory): RecurrentFactory {
  const previous = recurrent;
  recurrent = factory;
  return previous;
}

/** TimeGAN's post-hoc hidden size ⌊F/2⌋, at least 1 (a univariate series would otherwise get no units). */
export function posthocUnits(features: number): number {
  return Math.max(1, Math.floor(features / 2));
}

/**
 * input [T, F] → GRU(units) → dense(1): a logit per sequence (returnSequences false) or a value per step
 * (true), passed through a sigmoid when `sigmoid`.
 */
export function posthocNetwork(opts: { steps: number; features: number; units: number; returnSequences: boolean; sigmoid: boolean; seed: number; factory?: RecurrentFactory }): tfl.LayersModel {
  const input = tfl.input({ shape: [opts.steps, opts.features] });
  const gru = (opts.factory ?? recurrent)({ units: opts.units, returnSequences: opts.returnSequences, seed: opts.seed, name: 'posthoc_gru' });
  const h = gru.apply(input) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 1, activation: opts.sigmoid ? 'sigmoid' : 'linear', kernelInitializer: tfl.initializers.glorotUniform({ seed: opts.seed + 2 }), name: 'posthoc_out' }).apply(h) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

/**
 * `iterations` Adam steps on `model`, each minimising `loss()` over the model's own weights only (other trainable
 * variables alive in the process — a GAN being trained — are left alone). `loss` draws its batch from tensors
 * the caller owns; everything a step makes is released by minimize's tidy.
 */
export function trainPosthoc(model: tfl.LayersModel, iterations: number, loss: () => tf.Scalar, learningRate = 0.001): void {
  const optimizer = tf.train.adam(learningRate);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  try {
    for (let it = 0; it < iterations; it++) optimizer.minimize(loss, false, vars);
  } finally {
    optimizer.dispose();
  }
}

/** `k` distinct indices of [0, n) drawn by `rng` (all n, shuffled, when k ≥ n): one mini-batch, as TimeGAN draws it. */
export function batchIndices(n: number, k: number, rng: Rng): Int32Array {
  const m = Math.min(n, k);
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < m; i++) {
    const j = i + rng.int(n - i);
    const t = idx[i]; idx[i] = idx[j]; idx[j] = t;
  }
  return idx.slice(0, m);
}

/** The model's outputs for every row of `x` [n, T, F], `chunk` rows at a time, flattened. */
export function predictAll(model: tfl.LayersModel, x: tf.Tensor3D, chunk = 1024): Float32Array {
  const n = x.shape[0];
  const parts: Float32Array[] = [];
  for (let lo = 0; lo < n; lo += chunk) {
    const out = tf.tidy(() => model.predict(tf.slice(x, [lo, 0, 0], [Math.min(chunk, n - lo), -1, -1])) as tf.Tensor);
    parts.push(out.dataSync() as Float32Array);
    out.dispose();
  }
  const total = parts.reduce((a, p) => a + p.length, 0);
  const all = new Float32Array(total);
  let o = 0;
  for (const p of parts) { all.set(p, o); o += p.length; }
  return all;
}

/** Mean and population standard deviation (numpy's default, which TimeGAN's tables use). */
export function meanStd(values: readonly number[]): { mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return { mean, std: Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length) };
}
