import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { z } from 'zod';
import { discriminatorOf, playersOf, type FamilyState, type GanFamily } from '../gan/family.js';
import { settingsOf, type RunConfig, type SettingsTable } from '../gan/config.js';
import { applyG, trainableVariables, type StepContext, type StepStats } from '../gan/step.js';
import { allOptimizers, dOptimizer, scheduledRate } from '../gan/optimizers.js';
import type { DatasetInfo } from '../data/types.js';
import { SeededInit } from '../nn/init.js';
import { dcganShapeProblem, upsamplings } from './dcgan.js';
import { ENERGY_POINT_DEFAULTS, energyHonours } from './ebgan.js';

/** BEGAN's own settings. */
export interface BeganSettings {
  diversityRatio: number;
  lambdaK: number;
  kInit: number;
  mPatience: number;
}

export const BEGAN_SETTINGS: SettingsTable = {
  diversityRatio: {
    default: 0.75, schema: z.number().positive().max(1),
    help: 'began: the diversity ratio γ = E[L(G(z))] / E[L(x)] the equilibrium control holds (lower: sharper, less varied samples; the paper shows 0.3–0.7)',
  },
  lambdaK: { default: 0.001, schema: z.number().nonnegative().finite(), help: "began: λ_k, the proportional gain of k's update k ← clip(k + λ_k(γ L(x) − L(G(z))), 0, 1) (BEGAN: 0.001)" },
  kInit: { default: 0, schema: z.number().min(0).max(1), help: 'began: k at the first step, in [0, 1] (BEGAN: 0)' },
  mPatience: {
    default: 1000, schema: z.number().int().nonnegative(),
    help: 'began: both learning rates halve when the mean of M over a window of this many steps is no lower than the best earlier window\'s (0 = no decay)',
  },
};

/** The factor on both learning rates at each decay (BEGAN §4: "decayed by a factor of 2 when M stalls"). */
export const LR_DECAY = 0.5;

/**
 * BEGAN's energy and losses as pure functions of tensors (Berthelot, Schumm & Metz 2017, §3.1–3.3). The energy of
 * an example is the L1 reconstruction error of the autoencoder D, L(v) = |v − D(v)| (η = 1), as a per-element mean.
 */
export const beganLosses = {
  /** Per-example L(v): mean absolute error over every element but the batch axis. v, D(v) [B, ...] → [B]. */
  energy(v: tf.Tensor, vHat: tf.Tensor): tf.Tensor1D {
    return tf.mean(tf.reshape(tf.abs(tf.sub(vHat, v)), [v.shape[0], -1]), 1) as tf.Tensor1D;
  },
  /** L_D = L(x) − k_t · L(G(z)), each the batch mean. */
  d: (lossReal: tf.Scalar, lossFake: tf.Scalar, k: number): tf.Scalar => tf.sub(lossReal, tf.mul(k, lossFake)),
  /** The equilibrium control: k_{t+1} = clip(k_t + λ_k (γ L(x) − L(G(z))), 0, 1). */
  nextK: (k: number, lossReal: number, lossFake: number, gamma: number, lambdaK: number): number =>
    Math.min(1, Math.max(0, k + lambdaK * (gamma * lossReal - lossFake))),
  /** The convergence measure M_global = L(x) + |γ L(x) − L(G(z))| (§3.4.1). */
  convergence: (lossReal: number, lossFake: number, gamma: number): number => lossReal + Math.abs(gamma * lossReal - lossFake),
};

/**
 * BEGAN's state besides its networks: k and the learning-rate decay's bookkeeping (the factor on both rates,
 * the best windowed mean of M, the window being summed). Checkpointed, so a resumed run continues exactly.
 */
export class BeganControl implements FamilyState {
  k: number;
  lrScale = 1;
  decays = 0;
  /** The lowest mean of M over a completed window (Infinity before the first). */
  bestWindowM = Infinity;
  windowSum = 0;
  windowSteps = 0;

  constructor(k = 0, private readonly patience = 0) {
    this.k = k;
  }

  /** Add a step's M to the window; at the window's end, halve the rates when its mean did not beat the best. */
  observe(m: number): void {
    if (this.patience === 0) return;
    this.windowSum += m;
    this.windowSteps++;
    if (this.windowSteps < this.patience) return;
    const mean = this.windowSum / this.windowSteps;
    if (mean < this.bestWindowM) this.bestWindowM = mean;
    else {
      this.lrScale *= LR_DECAY;
      this.decays++;
    }
    this.windowSum = 0;
    this.windowSteps = 0;
  }

  save() {
    const { k, lrScale, decays, windowSum, windowSteps } = this;
    // JSON has no Infinity: null stands for "no window completed yet".
    return { json: { k, lrScale, decays, bestWindowM: Number.isFinite(this.bestWindowM) ? this.bestWindowM : null, windowSum, windowSteps }, tensors: [] };
  }

  restore(saved: { json: unknown }): void {
    const j = saved.json as Record<string, unknown>;
    const num = (key: string) => {
      const v = j?.[key];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`began: the checkpoint's family state ${JSON.stringify(saved.json)} has no finite '${key}'`);
      return v;
    };
    this.k = num('k');
    this.lrScale = num('lrScale');
    this.decays = num('decays');
    this.windowSum = num('windowSum');
    this.windowSteps = num('windowSteps');
    this.bestWindowM = j.bestWindowM === null ? Infinity : num('bestWindowM');
  }

  dispose(): void {}
}

/**
 * BEGAN (Berthelot, Schumm & Metz 2017, "BEGAN: Boundary Equilibrium Generative Adversarial Networks"): D is an
 * autoencoder, and the game is played on the distributions of its L1 reconstruction errors. A proportional
 * controller k keeps E[L(G(z))] = γ E[L(x)]:
 *
 *   L_D = L(x) − k_t L(G(z))        L_G = L(G(z))        k_{t+1} = clip(k_t + λ_k (γ L(x) − L(G(z))), 0, 1)
 *   M   = L(x) + |γ L(x) − L(G(z))|  (the convergence measure, reported every step as began/M with began/k)
 *
 * Networks (§3.5, Fig. 1): 3×3 convolutions with ELUs, two per scale; D's encoder down-samples with stride-2
 * convolutions and its channels grow by --width per scale, to a linear code of --latent-dim (N_h = N_z); its
 * decoder, and G (same architecture, own weights), start from a dense layer to [base, base, --width] and
 * up-sample by nearest neighbour, to a linear output. On 2-D points both are MLPs (--hidden).
 * Defaults: the paper's N_z = N_h = 64, batch 16, Adam at 1e-4 (β1 0.5, β2 0.999, as common re-implementations),
 * k_0 0, λ_k 0.001, γ 0.75; --width 64 instead of the paper's 128 to fit a CPU. Both players update
 * simultaneously from one G(z) (the paper's one step of both gradients): G's update reads D before D's.
 * Learning-rate decay: the paper halves the rate "when M stalls" without a rule; here both rates halve when M's
 * mean over a window of --m-patience steps is no lower than the best earlier window's mean (BeganControl).
 */
export const began: GanFamily = {
  name: 'began',
  summary: 'boundary equilibrium GAN (Berthelot et al. 2017): autoencoder D with L1 energy, equilibrium control k, convergence measure M',
  paper: 'Berthelot, Schumm & Metz 2017, BEGAN: Boundary Equilibrium Generative Adversarial Networks, arXiv:1703.10717',
  settings: BEGAN_SETTINGS,
  discriminatorOutput: 'energy',
  honours: energyHonours,

  defaults: (data) => data.kind === 'points'
    ? ENERGY_POINT_DEFAULTS
    : { latentDim: 64, width: 64, lrG: 1e-4, lrD: 1e-4, beta1: 0.5, beta2: 0.999, batchSize: 16 },

  check(data) {
    if (data.kind === 'points') return null;
    return dcganShapeProblem('began', data);
  },

  build(data, config, rng) {
    const init = new SeededInit(rng);
    if (data.kind === 'points') {
      // Two ELU layers of --hidden per MLP; D is encoder (point → code [latentDim]) and decoder in one model.
      const mlp = (m: tfl.Sequential, inputDim: number, outputDim: number) => {
        m.add(tfl.layers.dense({ ...(m.layers.length === 0 ? { inputShape: [inputDim] } : {}), units: config.hidden, activation: 'elu', kernelInitializer: init.glorotUniform() }));
        m.add(tfl.layers.dense({ units: config.hidden, activation: 'elu', kernelInitializer: init.glorotUniform() }));
        m.add(tfl.layers.dense({ units: outputDim, kernelInitializer: init.glorotUniform() }));
        return m;
      };
      const d = mlp(tfl.sequential({ name: 'discriminator' }), data.shape[0], config.latentDim);
      mlp(d, config.latentDim, data.shape[0]);
      return { generator: mlp(tfl.sequential({ name: 'generator' }), config.latentDim, data.shape[0]), discriminator: d };
    }
    const { base, n } = upsamplings(data.shape[0])!;
    const spec = { base, n, width: config.width, channels: data.shape[2], hDim: config.latentDim };
    const discriminator = tfl.sequential({ name: 'discriminator' });
    encoderLayers(data, spec, init).forEach((l) => discriminator.add(l));
    decoderLayers(spec, init, false).forEach((l) => discriminator.add(l));
    const generator = tfl.sequential({ name: 'generator' });
    decoderLayers(spec, init, true).forEach((l) => generator.add(l));
    return { generator, discriminator };
  },

  createState: (_data, config) => {
    const s = settingsOf<BeganSettings>(config);
    return new BeganControl(s.kInit, s.mPatience);
  },

  step: beganStep,
};

interface ConvSpec { base: number; n: number; width: number; channels: number; hDim: number }

const conv3 = (filters: number, init: SeededInit, strides = 1, inputShape?: number[]) =>
  tfl.layers.conv2d({ ...(inputShape ? { inputShape } : {}), filters, kernelSize: 3, strides, padding: 'same', activation: 'elu', kernelInitializer: init.glorotUniform() });

/** x [B, side, side, C] → code [B, hDim]: conv, then per scale two convs and a stride-2 conv (channels width·(l+1)). */
function encoderLayers(data: DatasetInfo, s: ConvSpec, init: SeededInit): tfl.layers.Layer[] {
  const layers: tfl.layers.Layer[] = [conv3(s.width, init, 1, data.shape)];
  for (let level = 0; level <= s.n; level++) {
    layers.push(conv3(s.width * (level + 1), init), conv3(s.width * (level + 1), init));
    if (level < s.n) layers.push(conv3(s.width * (level + 2), init, 2)); // [B, side/2^(l+1), …]
  }
  layers.push(tfl.layers.flatten(), tfl.layers.dense({ units: s.hDim, kernelInitializer: init.glorotUniform() })); // [B, hDim], linear
  return layers;
}

/** code or z [B, hDim] → image [B, side, side, C]: dense to [base, base, width], per scale two convs and a ×2 nearest up-sampling. */
function decoderLayers(s: ConvSpec, init: SeededInit, first: boolean): tfl.layers.Layer[] {
  const layers: tfl.layers.Layer[] = [
    tfl.layers.dense({ ...(first ? { inputShape: [s.hDim] } : {}), units: s.base * s.base * s.width, kernelInitializer: init.glorotUniform() }),
    tfl.layers.reshape({ targetShape: [s.base, s.base, s.width] }), // [B, base, base, width]
  ];
  for (let level = 0; level <= s.n; level++) {
    layers.push(conv3(s.width, init), conv3(s.width, init));
    if (level < s.n) layers.push(tfl.layers.upSampling2d({ size: [2, 2] })); // nearest neighbour
  }
  layers.push(tfl.layers.conv2d({ filters: s.channels, kernelSize: 3, padding: 'same', kernelInitializer: init.glorotUniform() })); // linear output
  return layers;
}

const TRAINING = { training: true };

/** The batch mean of L over a batch: mean_i |v_i − D(v_i)|. */
function meanEnergy(d: tfl.LayersModel, v: tf.Tensor): tf.Scalar {
  return tf.mean(beganLosses.energy(v, d.apply(v, TRAINING) as tf.Tensor));
}

/** Both players' learning rates for this step: the schedule's (--lr-schedule) times the decay's factor. */
function applyRates(ctx: StepContext, config: RunConfig, scale: number): void {
  const byName = new Map(allOptimizers(ctx.opt));
  for (const p of playersOf(began)) {
    // tfjs's optimizers read `learningRate` at each update (a plain field, protected in its typings).
    const o = byName.get(p.name) as unknown as { learningRate: number } | undefined;
    if (o) o.learningRate = scheduledRate(config, config[p.lr], ctx.step) * scale;
  }
}

/**
 * One BEGAN step: G's update on L(G(z)) and D's on L(x) − k_t L(G(z)), both from the same G(z) and the same D
 * (G's gradient is taken before D moves), then k's update and M from the step's L(x) and L(G(z)).
 */
export function beganStep(ctx: StepContext): StepStats {
  const control = ctx.state;
  if (!(control instanceof BeganControl)) throw new Error('began: the step needs its BeganControl state (createState)');
  const { nets, opt, config } = ctx;
  const s = settingsOf<BeganSettings>(config);
  const D = discriminatorOf(nets);
  applyRates(ctx, config, control.lrScale);

  // G: lower L(G(z)) under D as it is; G(z) is kept for D's update (a constant there).
  let fake!: tf.Tensor;
  const lossG = opt.g.minimize(() => {
    const x = applyG(nets, ctx.z); // [B, ...shape]
    fake = tf.keep(x);
    return meanEnergy(D, x);
  }, true, trainableVariables(nets.generator))!;

  // D: lower L(x), raise L(G(z)) with weight k_t.
  let parts: tf.Scalar[] = [];
  const lossD = dOptimizer(opt).minimize(() => {
    const lossReal = meanEnergy(D, ctx.real), lossFake = meanEnergy(D, fake);
    parts = [tf.keep(lossReal), tf.keep(lossFake)];
    return beganLosses.d(lossReal, lossFake, control.k);
  }, true, trainableVariables(D))!;
  const [g, d, lossReal, lossFake] = [lossG, lossD, ...parts].map((t) => t.dataSync()[0]);
  tf.dispose([lossG, lossD, fake, ...parts]);

  // The equilibrium control and the convergence measure, from this step's energies (before D's update).
  control.k = beganLosses.nextK(control.k, lossReal, lossFake, s.diversityRatio, s.lambdaK);
  const m = beganLosses.convergence(lossReal, lossFake, s.diversityRatio);
  control.observe(m);
  return {
    lossD: d, lossG: g,
    extra: { 'energy/real': lossReal, 'energy/fake': lossFake, 'began/k': control.k, 'began/M': m, 'began/lr-scale': control.lrScale },
  };
}
