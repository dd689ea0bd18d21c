import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { z } from 'zod';
import { discriminatorOf, type GanFamily } from '../gan/family.js';
import { settingsOf, type SettingsTable } from '../gan/config.js';
import { applyG, trainableVariables, untaped, type StepContext, type StepStats } from '../gan/step.js';
import { dOptimizer } from '../gan/optimizers.js';
import { honourList, HONOURS } from '../gan/settings.js';
import type { DatasetInfo } from '../data/types.js';
import { SeededInit } from '../nn/init.js';
import { buildGenerator, dcganShapeProblem, upsamplings } from './dcgan.js';
import { batchNormalization } from '../nn/batch_norm.js';

/** EBGAN's own settings. */
export interface EbganSettings {
  margin: number;
  ptWeight: number;
}

export const EBGAN_SETTINGS: SettingsTable = {
  margin: {
    default: 0.3, schema: z.number().positive().finite(),
    help: "ebgan: margin m of D's hinge on generated energies, max(0, m − D(G(z))); the energy is a per-element mean squared error on [−1, 1] pixels (or point coordinates), so m is on that scale (0.3: D pushes G's reconstruction error up to a mean squared error of 0.3 per element; at 1 the hinge never rests and G's samples turned to noise or one mode in npm run bench:zoo)",
  },
  ptWeight: {
    default: 0.1, schema: z.number().nonnegative().finite(),
    help: "ebgan: weight of the pull-away term on D's codes of the generated batch in G's loss (EBGAN-PT: 0.1; 0 = plain EBGAN)",
  },
};

/**
 * EBGAN's energies and losses as pure functions of tensors (Zhao, Mathieu & LeCun 2017, §2.1, §2.3).
 * The energy of an example is its autoencoder reconstruction error, D(x) = mean over elements of (Dec(Enc(x)) − x)².
 */
export const ebganLosses = {
  /** Per-example energy: mean squared error over every element but the batch axis. x, xHat [B, ...] → [B]. */
  energy(x: tf.Tensor, xHat: tf.Tensor): tf.Tensor1D {
    const b = x.shape[0];
    return tf.mean(tf.reshape(tf.squaredDifference(xHat, x), [b, -1]), 1) as tf.Tensor1D;
  },

  /** D's loss (eq. 1): mean D(x) + mean max(0, m − D(G(z))), the hinge per example. */
  d: (energyReal: tf.Tensor1D, energyFake: tf.Tensor1D, margin: number): tf.Scalar =>
    tf.add(tf.mean(energyReal), tf.mean(tf.relu(tf.sub(margin, energyFake)))),

  /** G's loss (eq. 2 with §2.3's regulariser): mean D(G(z)) + w · f_PT(codes of G(z)). */
  g: (energyFake: tf.Tensor1D, pullAway: tf.Scalar, weight: number): tf.Scalar =>
    weight === 0 ? tf.mean(energyFake) : tf.add(tf.mean(energyFake), tf.mul(weight, pullAway)),

  /**
   * The pull-away term (§2.3): f_PT(S) = 1 / (N(N − 1)) Σ_i Σ_{j≠i} (S_iᵀS_j / (‖S_i‖ ‖S_j‖))², the mean squared
   * cosine similarity between distinct codes of the batch; it is low when the codes point in different directions,
   * which keeps G from putting the whole batch on one mode. S [N, ...] is flattened to [N, d]. The diagonal is
   * subtracted as computed (not as N), so a zero code (cosine 0 with the ε) stays exact.
   */
  pullAway(codes: tf.Tensor): tf.Scalar {
    const n = codes.shape[0];
    const s = tf.reshape(codes, [n, -1]); // [N, d]
    const unit = tf.div(s, tf.add(tf.sqrt(tf.sum(tf.square(s), 1, true)), 1e-8)); // [N, d], rows of norm ≈ 1
    const cos = tf.matMul(unit, unit, false, true); // [N, N]
    const diagonal = tf.sum(tf.square(tf.sum(tf.square(unit), 1))); // Σ_i (S_iᵀS_i / ‖S_i‖²)²
    return tf.div(tf.sub(tf.sum(tf.square(cos)), diagonal), n * (n - 1));
  },
};

const TRAINING = { training: true };

/** D's reconstruction and its code of a batch: [x̂ [B, ...shape], code [B, d]]. */
export function autoencode(d: tfl.LayersModel, x: tf.Tensor): [tf.Tensor, tf.Tensor] {
  const [xHat, code] = d.apply(x, TRAINING) as tf.Tensor[];
  return [xHat, code];
}

/**
 * EBGAN (Zhao, Mathieu & LeCun 2017, "Energy-based Generative Adversarial Network"): D is an energy function,
 * here an autoencoder whose energy is the reconstruction error (§2.3). D learns low energy on data and a high
 * one (at least the margin m) on G's samples; G learns samples of low energy, with the pull-away term on D's
 * codes of its batch against mode collapse (EBGAN-PT).
 *
 *   D:  min  mean D(x) + mean max(0, m − D(G(z)))           D(v) = mean (Dec(Enc(v)) − v)²
 *   G:  min  mean D(G(z)) + 0.1 · f_PT(Enc(G(z)))
 *
 * Networks (§4.3, the paper's 64×64 setting built on DCGAN): G is DCGAN's; D's encoder is DCGAN's strided
 * convolutions (4×4, stride 2, batch norm after every layer but the first, LeakyReLU 0.2), its code the last
 * feature map, and the decoder mirrors it with transposed convolutions to a tanh image. On 2-D points both are
 * MLPs (--hidden), D's code of size --latent-dim. The pull-away weight is the paper's 0.1. The paper tunes m per
 * dataset on its own energy scale; ours is a per-element mean, where D's energy on data was 0.03–0.26 over the
 * first 300 Fashion-MNIST steps, and m 0.3 keeps the hinge within reach of G's samples: at m 1, D pushed them
 * toward a mean squared error of 1 per pixel, the hinge never rested and the codes of G's batch aligned (pull-away
 * 0.6–0.7, one mode or noise on 3 of 3 Fashion-MNIST seeds; bench:zoo, README). Adam at DCGAN's 2e-4, β1 0.5. Each
 * step updates D, then G on the same latents under the updated D (G runs forward once).
 * The family has no use for --loss, --n-critic, penalties or D tricks: its losses are its own, and they are refused.
 */
/**
 * What the autoencoder-D families (ebgan, began) share: the settings they honour (an EMA of G, the latent size, and
 * --hidden on points or --width on images; their losses and D-side tricks are their own) and their 2-D point defaults.
 */
export const energyHonours: GanFamily['honours'] = (data) => honourList(HONOURS.ema, 'latentDim', data.kind === 'points' ? 'hidden' : 'width');
export const ENERGY_POINT_DEFAULTS = { latentDim: 16, hidden: 128, lrG: 1e-3, lrD: 1e-3, beta1: 0.5, batchSize: 256, steps: 3000, sampleEvery: 500, checkpointEvery: 1000 };

export const ebgan: GanFamily = {
  name: 'ebgan',
  summary: 'energy-based GAN (Zhao et al. 2017): autoencoder D with reconstruction energy, hinge margin, pull-away term',
  paper: 'Zhao, Mathieu & LeCun 2017, Energy-based Generative Adversarial Network, ICLR 2017, arXiv:1609.03126',
  settings: EBGAN_SETTINGS,
  discriminatorOutput: 'energy',
  honours: energyHonours,

  defaults: (data) => data.kind === 'points'
    ? ENERGY_POINT_DEFAULTS
    : { latentDim: 100, width: 64, lrG: 2e-4, lrD: 2e-4, beta1: 0.5, batchSize: 64 },

  check(data, config) {
    if (config.batchSize < 2) return `--batch-size ${config.batchSize}: the pull-away term compares codes within a batch and needs at least 2 examples`;
    if (data.kind === 'points') return null;
    return dcganShapeProblem('ebgan', data);
  },

  build(data, config, rng) {
    const init = new SeededInit(rng);
    if (data.kind === 'points') return { generator: mlpGenerator(data, config.latentDim, config.hidden, init), discriminator: mlpAutoencoder(data, config.latentDim, config.hidden, init) };
    const [side, , channels] = data.shape;
    const { base, n } = upsamplings(side)!;
    const widthAt = (level: number) => config.width * 2 ** level;
    return { generator: buildGenerator(config.latentDim, base, n, channels, widthAt, init), discriminator: convAutoencoder(data, n, widthAt, init) };
  },

  step: ebganStep,
};

/** G on points: z → two ReLU layers of --hidden → a point. */
function mlpGenerator(data: DatasetInfo, latentDim: number, hidden: number, init: SeededInit): tfl.LayersModel {
  const g = tfl.sequential({ name: 'generator' });
  g.add(tfl.layers.dense({ inputShape: [latentDim], units: hidden, activation: 'relu', kernelInitializer: init.glorotUniform() }));
  g.add(tfl.layers.dense({ units: hidden, activation: 'relu', kernelInitializer: init.glorotUniform() }));
  g.add(tfl.layers.dense({ units: data.shape[0], kernelInitializer: init.glorotUniform() }));
  return g;
}

/** D on points: x → ReLU(--hidden) → code [B, codeDim] → ReLU(--hidden) → x̂; outputs [x̂, code]. */
function mlpAutoencoder(data: DatasetInfo, codeDim: number, hidden: number, init: SeededInit): tfl.LayersModel {
  const x = tfl.input({ shape: data.shape });
  const dense = (units: number, activation: 'relu' | 'linear') => tfl.layers.dense({ units, activation, kernelInitializer: init.glorotUniform() });
  const code = dense(codeDim, 'linear').apply(dense(hidden, 'relu').apply(x)) as tfl.SymbolicTensor; // [B, codeDim]
  const xHat = dense(data.shape[0], 'linear').apply(dense(hidden, 'relu').apply(code)) as tfl.SymbolicTensor; // [B, 2]
  return tfl.model({ name: 'discriminator', inputs: x, outputs: [xHat, code] });
}

/**
 * D on images: n strided 4×4 convolutions down to [base, base, width·2^(n−1)] (the code), then n transposed ones
 * back to [side, side, C] with tanh; outputs [x̂, the code flattened].
 */
function convAutoencoder(data: DatasetInfo, n: number, widthAt: (l: number) => number, init: SeededInit): tfl.LayersModel {
  const x = tfl.input({ shape: data.shape });
  const conv = (filters: number, transpose: boolean) =>
    (transpose ? tfl.layers.conv2dTranspose : tfl.layers.conv2d)({ filters, kernelSize: 4, strides: 2, padding: 'same', kernelInitializer: init.normal(0.02) });
  const bn = () => batchNormalization({ momentum: 0.9, epsilon: 1e-5 });
  let h = x as tfl.SymbolicTensor;
  for (let level = 0; level < n; level++) {
    h = conv(widthAt(level), false).apply(h) as tfl.SymbolicTensor;
    if (level > 0) h = bn().apply(h) as tfl.SymbolicTensor; // DCGAN: none on the input layer
    h = tfl.layers.leakyReLU({ alpha: 0.2 }).apply(h) as tfl.SymbolicTensor;
  }
  const code = tfl.layers.flatten().apply(h) as tfl.SymbolicTensor; // [B, base·base·width·2^(n−1)]
  for (let level = n - 2; level >= 0; level--) {
    h = conv(widthAt(level), true).apply(h) as tfl.SymbolicTensor;
    h = bn().apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.leakyReLU({ alpha: 0.2 }).apply(h) as tfl.SymbolicTensor;
  }
  h = conv(data.shape[2], true).apply(h) as tfl.SymbolicTensor;
  const xHat = tfl.layers.activation({ activation: 'tanh' }).apply(h) as tfl.SymbolicTensor; // [B, side, side, C]
  return tfl.model({ name: 'discriminator', inputs: x, outputs: [xHat, code] });
}

/**
 * One EBGAN step: D's update on the real batch and G(z) (a constant to D), then G's on the same G(z) under the
 * updated D. As in the shared adversarialStep, G runs forward once: D's update runs inside G's gradient scope with
 * G's tape paused. Reports D's energies before its update (energy/real, energy/fake) and the pull-away term.
 */
export function ebganStep(ctx: StepContext): StepStats {
  const { nets, opt, config } = ctx;
  const s = settingsOf<EbganSettings>(config);
  const D = discriminatorOf(nets);
  let dStats!: number[];
  let kept: tf.Scalar[] = [];
  const lossG = opt.g.minimize(() => {
    const fake = applyG(nets, ctx.z); // [B, ...shape], taped for G's gradient
    // D: lower the energy of data, raise that of G's samples up to the margin.
    dStats = untaped(() => {
      let means: tf.Scalar[] = [];
      const lossD = dOptimizer(opt).minimize(() => {
        const eReal = ebganLosses.energy(ctx.real, autoencode(D, ctx.real)[0]); // [B]
        const eFake = ebganLosses.energy(fake, autoencode(D, fake)[0]);
        means = [tf.keep(tf.mean(eReal)), tf.keep(tf.mean(eFake))];
        return ebganLosses.d(eReal, eFake, s.margin);
      }, true, trainableVariables(D))!;
      return readAll([lossD, ...means]);
    });
    // G: lower its samples' energy under the updated D, with the pull-away term on D's codes of them.
    const [xHat, code] = autoencode(D, fake);
    const pt = ebganLosses.pullAway(code);
    kept = [tf.keep(pt)];
    return ebganLosses.g(ebganLosses.energy(fake, xHat), pt, s.ptWeight);
  }, true, trainableVariables(nets.generator))!;
  const [g, pt] = readAll([lossG, ...kept]);
  const [lossD, energyReal, energyFake] = dStats;
  return { lossD, lossG: g, extra: { 'energy/real': energyReal, 'energy/fake': energyFake, 'energy/pull-away': pt } };
}

/** Read and free scalars. */
function readAll(ts: tf.Tensor[]): number[] {
  const out = ts.map((t) => t.dataSync()[0]);
  tf.dispose(ts);
  return out;
}
