import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { z } from 'zod';
import { discriminatorOf, extraNetwork, type GanFamily, type GanNetworks, type StepContext, type StepStats } from '../gan/family.js';
import { settingsOf, type RunConfig, type SettingsTable } from '../gan/config.js';
import { HONOURS, honourList } from '../gan/settings.js';
import { dOptimizer } from '../gan/optimizers.js';
import { trainableVariables, untaped } from '../gan/step.js';
import type { DatasetInfo } from '../data/types.js';
import { SeededInit } from '../nn/init.js';
import { caKlDivergence } from '../nn/conditioning_augmentation.js';
import { Reparameterize } from '../nn/text_fusion.js';
import { ENCODER } from './bigan.js';
import { batchNormalization } from '../nn/batch_norm.js';

/** vaegan's own settings (flags --gamma, --feature-layer). */
export interface VaeGanSettings {
  gamma: number;
  featureLayer: number;
  equilibrium: number;
  equilibriumMargin: number;
}

/** D's convolution blocks; Dis_l is the output of block l (1-based). */
const D_BLOCKS = 4;

export const VAEGAN_SETTINGS: SettingsTable = {
  gamma: {
    // The authors' model class defaults to 1e-2; their CelebA script uses 1e-6 with a deeper feature layer. Here, at
    // Dis_3 on Fashion-MNIST, 1e-6 left the decoder almost only the GAN's signal and one seed of three collapsed
    // (npm run bench:vaegan-gamma: FID 118.5 ± 92.0 against 52.4 ± 1.8 at 1e-2; README).
    default: 1e-2, schema: z.number().nonnegative().finite(),
    help: "weight γ of the feature-space reconstruction error L_llike in the decoder's loss γ·L_llike − L_GAN (the authors' model default 1e-2; their CelebA script: 1e-6 at a deeper layer; the encoder always takes L_llike at weight 1)",
  },
  featureLayer: {
    default: 3, schema: z.number().int().min(1).max(D_BLOCKS),
    help: `the layer l of D whose features Dis_l(x) measure reconstructions: the output of D's l-th convolution block, 1–${D_BLOCKS} (the authors' code: 3)`,
  },
  equilibrium: {
    default: 0.68, schema: z.number().positive().finite(),
    help: "the level of D's cross-entropy on real and on generated images that --equilibrium-margin balances the players around (the authors' code: 0.68, about ln 2, where D cannot tell)",
  },
  equilibriumMargin: {
    default: 0.4, schema: z.number().nonnegative().finite(),
    help: "skip D's update while its cross-entropy on real or on generated images is below equilibrium − margin (D too sure), the decoder's while either is above equilibrium + margin (D fooled); when both would be skipped both update. 0 turns the rule off (the authors' code: 0.4)",
  },
};

const TRAINING = { training: true };

/**
 * VAE/GAN (Larsen, Sønderby, Larochelle & Winther 2016, "Autoencoding beyond pixels using a learned similarity
 * metric"): a VAE whose decoder is also a GAN's generator, and whose reconstruction error is measured in the
 * features of the GAN's discriminator instead of in pixels.
 *
 *   encoder  x → [μ, log σ²],  z = μ + σ ⊙ ε       (ε: the step's latents; Reparameterize)
 *   decoder  z → x̃                                 ganforge's GENERATOR: sampling decodes z_p ~ N(0, I)
 *   D        x → logit; Dis_l(x) = the output of its l-th convolution block
 *
 * The losses of Algorithm 1, on a batch x with z ~ q(z|x) and z_p ~ N(0, I):
 *
 *   L_prior = KL(q(z|x) ‖ N(0, I)) = ½ Σ_d (μ² + σ² − log σ² − 1), averaged over the batch
 *   L_llike = −log N(Dis_l(x) | Dis_l(Dec(z)), I) = ½ ‖Dis_l(x) − Dis_l(Dec(z))‖², summed over features,
 *             averaged over the batch (the constant dropped): a Gaussian observation model in D's features
 *   L_GAN   = log D(x) + log(1 − D(Dec(z))) + log(1 − D(Dec(z_p)))
 *
 * Each player takes only its own error signals (§2.2 "limiting error signals to relevant networks"):
 *
 *   encoder  minimises L_prior + L_llike            (no GAN gradient reaches it)
 *   decoder  minimises γ·L_llike − L_GAN            (in the run's --loss; the default non-saturating form
 *                                                    replaces −log(1 − D(·)) by −log D(·) on both fakes)
 *   D        maximises L_GAN, i.e. minimises the run's D loss with x real and [Dec(z); Dec(z_p)] fake
 *                                                    (one batch of 2B fakes, so real and fake weigh alike)
 *
 * One step is three updates on the same batch, ε and z_p: D, then the decoder (against the updated D), then the
 * encoder (through the updated decoder and D). D's features are not moved by L_llike. The decoder runs forward once
 * for the first two: D's update sits inside the decoder's gradient scope with the tape paused (`untaped`).
 *
 * Networks follow the paper's appendix (CelebA 64×64) scaled by --width w (w = 64 gives its sizes): encoder
 * 5×5 convs w, 2w, 4w with stride 2, then a dense 32w, each with batch norm and ReLU, then μ and log σ² (dense);
 * decoder a dense to [s, s, 4w], then ×2 transposed 5×5 convs down to w/2 channels, batch norm and ReLU, then a
 * 5×5 conv to the image's channels with tanh; D 5×5 convs w/2 (stride 1), 2w, 4w, 4w (stride 2, batch norm),
 * ReLU after each, a dense 8w with batch norm and ReLU, and a logit. RMSProp with lr 3e-4, as the paper.
 *
 * Balance (the authors' code, not the paper's text): D's binary cross-entropies on the real batch and on the fakes,
 * from the forward pass of its update, decide who moves. D's update is skipped while either is below
 * equilibrium − margin (D too sure), the decoder's while either is above equilibrium + margin (D fooled); both move
 * when both would be skipped. The encoder always moves. Without it, a D that wins early leaves the decoder a
 * vanishing GAN signal; at 300 steps on Fashion-MNIST the rule moved FID 55.1 ± 3.1 → 52.4 ± 1.8 (3 seeds,
 * bench:vaegan-gamma). Data-parallel ranks decide on the mean of their cross-entropies.
 */
export const vaegan: GanFamily = {
  name: 'vaegan',
  summary: 'VAE/GAN (Larsen et al. 2016): a VAE whose decoder is a GAN generator, reconstructions measured in D\'s features; ganforge encode',
  paper: 'Larsen, Sønderby, Larochelle & Winther 2016, Autoencoding beyond pixels using a learned similarity metric, arXiv:1512.09300',
  dataKinds: ['image'],
  // The run's adversarial loss for D and the decoder; its own networks (no penalties, tricks or minibatch layers).
  honours: honourList('loss', 'latentDim', 'width', HONOURS.ema),
  settings: VAEGAN_SETTINGS,
  players: [
    { name: 'g', lr: 'lrG', moves: 'the decoder (the generator), on γ·L_llike − L_GAN' },
    { name: 'd', lr: 'lrD', moves: 'the discriminator, on L_GAN' },
    { name: 'encoder', lr: 'lrG', moves: 'the encoder, on L_prior + L_llike' },
  ],
  // L_llike is a Gaussian log-likelihood summed over D's feature map, L_prior a KL summed over z: thousands at the
  // start for any image size, not a sign of divergence.
  extensiveLosses: ['loss/encoder', 'loss/prior', 'loss/llike', 'loss/llike_decoder'],

  defaults: () => ({ optimizer: 'rmsprop', lrG: 3e-4, lrD: 3e-4, latentDim: 128, width: 64, batchSize: 64, loss: 'non-saturating' }),

  check(data, config) {
    const [h, w] = data.shape;
    if (h !== w) return `vaegan needs square images, got ${h}×${w}; pass --image-size N to resize`;
    if (upsamplings(h) === null) return `vaegan needs an image side of base·2^n with base ≤ 8 and 1 ≤ n ≤ 3 (e.g. 28, 32, 64), got ${h}; pass --image-size 32 or 64`;
    if (config.width < 2 || config.width % 2 !== 0) return `vaegan halves --width for its outermost layers; pass an even --width ≥ 2 (got ${config.width})`;
    if (config.nCritic !== 1) return `vaegan updates D once per step; drop --n-critic ${config.nCritic}`;
    return null;
  },

  build(data, config, rng) {
    const init = new SeededInit(rng);
    return {
      generator: buildDecoder(data, config, init),
      discriminator: buildDiscriminator(data, config, init),
      extra: { [ENCODER]: buildEncoder(data, config, init) },
    };
  },

  step: vaeganStep,
};

function own(config: RunConfig): RunConfig & VaeGanSettings {
  return settingsOf<VaeGanSettings>(config);
}

/** Image side s = base·2^n with base ≤ 8 and 1 ≤ n ≤ 3: the decoder starts at base × base and doubles n times. */
function upsamplings(side: number): { base: number; n: number } | null {
  let base = side, n = 0;
  while (base > 8 && base % 2 === 0) {
    base /= 2;
    n++;
  }
  return base <= 8 && n >= 1 && n <= 3 ? { base, n } : null;
}

const bn = () => batchNormalization({ momentum: 0.9, epsilon: 1e-5 });

/** x [B, H, W, C] → [μ, log σ²], each [B, latentDim]. `ganforge encode` takes the first output, the mean. */
function buildEncoder(data: DatasetInfo, config: RunConfig, init: SeededInit): tfl.LayersModel {
  const x = tfl.input({ shape: data.shape, name: 'x' });
  let h: tfl.SymbolicTensor = x;
  for (const filters of [config.width, 2 * config.width, 4 * config.width]) {
    h = tfl.layers.conv2d({ filters, kernelSize: 5, strides: 2, padding: 'same', kernelInitializer: init.normal(0.02) }).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.reLU().apply(bn().apply(h)) as tfl.SymbolicTensor;
  }
  h = tfl.layers.flatten().apply(h) as tfl.SymbolicTensor; // [B, ⌈H/8⌉·⌈W/8⌉·4w]
  h = tfl.layers.dense({ units: 32 * config.width, kernelInitializer: init.glorotUniform() }).apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.reLU().apply(bn().apply(h)) as tfl.SymbolicTensor;
  const mu = tfl.layers.dense({ units: config.latentDim, kernelInitializer: init.glorotUniform(), name: 'mu' }).apply(h) as tfl.SymbolicTensor;
  const logVar = tfl.layers.dense({ units: config.latentDim, kernelInitializer: init.glorotUniform(), name: 'log_var' }).apply(h) as tfl.SymbolicTensor;
  return tfl.model({ inputs: x, outputs: [mu, logVar], name: ENCODER });
}

/** z [B, latentDim] → x̃ [B, H, W, C] in [−1, 1]. */
function buildDecoder(data: DatasetInfo, config: RunConfig, init: SeededInit): tfl.LayersModel {
  const [side, , channels] = data.shape;
  const { base, n } = upsamplings(side)!;
  const g = tfl.sequential({ name: 'generator' });
  g.add(tfl.layers.dense({ inputShape: [config.latentDim], units: base * base * 4 * config.width, kernelInitializer: init.normal(0.02) }));
  g.add(bn());
  g.add(tfl.layers.reLU());
  g.add(tfl.layers.reshape({ targetShape: [base, base, 4 * config.width] })); // [B, base, base, 4w]
  // The paper's 64 px decoder doubles three times through 4w, 2w, w/2 channels; smaller images keep the last n.
  for (const filters of [4 * config.width, 2 * config.width, config.width / 2].slice(3 - n)) {
    g.add(tfl.layers.conv2dTranspose({ filters, kernelSize: 5, strides: 2, padding: 'same', kernelInitializer: init.normal(0.02) }));
    g.add(bn());
    g.add(tfl.layers.reLU());
  }
  g.add(tfl.layers.conv2d({ filters: channels, kernelSize: 5, padding: 'same', kernelInitializer: init.normal(0.02) }));
  g.add(tfl.layers.activation({ activation: 'tanh' })); // [B, side, side, channels]
  return g;
}

/** Name of the last layer of D's convolution block l: Dis_l is its output. */
const featureName = (l: number) => `features${l}`;

/** x → logit [B, 1]; block l ends in the ReLU named `features{l}`. */
function buildDiscriminator(data: DatasetInfo, config: RunConfig, init: SeededInit): tfl.LayersModel {
  const d = tfl.sequential({ name: 'discriminator' });
  const blocks = [[config.width / 2, 1], [2 * config.width, 2], [4 * config.width, 2], [4 * config.width, 2]];
  blocks.forEach(([filters, strides], i) => {
    d.add(tfl.layers.conv2d({ ...(i === 0 ? { inputShape: data.shape } : {}), filters, kernelSize: 5, strides, padding: 'same', kernelInitializer: init.normal(0.02) }));
    if (i > 0) d.add(bn()); // the paper's D: no batch norm on its first layer
    d.add(tfl.layers.reLU({ name: featureName(i + 1) }));
  });
  d.add(tfl.layers.flatten()); // [B, ⌈H/8⌉·⌈W/8⌉·4w]
  d.add(tfl.layers.dense({ units: 8 * config.width, kernelInitializer: init.glorotUniform() }));
  d.add(bn());
  d.add(tfl.layers.reLU());
  d.add(tfl.layers.dense({ units: 1, kernelInitializer: init.glorotUniform() })); // logit
  return d;
}

/** The run's encoder (nets.extra.encoder). */
export function vaeganEncoder(nets: GanNetworks): tfl.LayersModel {
  return extraNetwork(nets, ENCODER, 'vaegan');
}

const featureModels = new WeakMap<tfl.LayersModel, Map<number, tfl.LayersModel>>();

/** Dis_l: D's layers up to the end of its l-th convolution block, sharing D's weights (made once per D and l). */
export function discriminatorFeatures(d: tfl.LayersModel, l: number): tfl.LayersModel {
  let byLayer = featureModels.get(d);
  if (!byLayer) featureModels.set(d, (byLayer = new Map()));
  let model = byLayer.get(l);
  if (!model) {
    model = tfl.model({ inputs: d.inputs, outputs: d.getLayer(featureName(l)).output as tfl.SymbolicTensor, name: `discriminator-features${l}` });
    byLayer.set(l, model);
  }
  return model;
}

/** L_prior: KL(N(μ, diag σ²) ‖ N(0, I)) summed over the latent dimensions, averaged over the batch. */
export function priorLoss(mu: tf.Tensor, logVar: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mul(caKlDivergence(mu, logVar), mu.shape[1]!) as tf.Scalar); // the mean over [B, d] times d
}

/**
 * L_llike: ½‖Dis_l(x) − Dis_l(x̃)‖² summed over features, averaged over the batch. x and x̃ go through D as one
 * batch of 2B, so D's batch norm normalises both with the same statistics (as the authors' code does).
 */
export function featureLikelihoodLoss(features: tfl.LayersModel, x: tf.Tensor, xTilde: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const b = x.shape[0]!;
    const f = features.apply(tf.concat([x, xTilde], 0), TRAINING) as tf.Tensor; // [2B, h, w, c]
    const [fx, fTilde] = tf.split(f, 2, 0);
    return tf.div(tf.mul(0.5, tf.sum(tf.squaredDifference(fx, fTilde))), b) as tf.Scalar;
  });
}

const reparameterize = new Reparameterize({ name: 'vaegan-reparameterize' });

/** [μ, log σ², z = μ + σ ⊙ ε] of q(z|x) in training mode. */
function posterior(encoder: tfl.LayersModel, x: tf.Tensor, eps: tf.Tensor): [tf.Tensor, tf.Tensor, tf.Tensor] {
  const [mu, logVar] = encoder.apply(x, TRAINING) as tf.Tensor[]; // [B, latentDim] each
  return [mu, logVar, reparameterize.apply([mu, logVar, eps]) as tf.Tensor];
}

/** The encoder's objective L_prior + L_llike on a batch and its ε (what the encoder phase minimises), with its parts. */
export function encoderObjective(nets: GanNetworks, config: RunConfig, x: tf.Tensor, eps: tf.Tensor): { total: tf.Scalar; prior: tf.Scalar; llike: tf.Scalar } {
  const [mu, logVar, zq] = posterior(vaeganEncoder(nets), x, eps);
  const prior = priorLoss(mu, logVar);
  const xTilde = nets.generator.apply(zq, TRAINING) as tf.Tensor; // [B, H, W, C]
  const llike = featureLikelihoodLoss(discriminatorFeatures(discriminatorOf(nets), own(config).featureLayer), x, xTilde);
  return { total: tf.add(prior, llike) as tf.Scalar, prior, llike };
}

/**
 * Who updates this step under the balance rule (see vaegan above), from D's mean cross-entropies on real and on
 * generated images. margin 0: both, always.
 */
export function balancedUpdates(bceReal: number, bceFake: number, equilibrium: number, margin: number): { d: boolean; decoder: boolean } {
  if (margin === 0) return { d: true, decoder: true };
  const d = !(bceReal < equilibrium - margin || bceFake < equilibrium - margin);
  const decoder = !(bceReal > equilibrium + margin || bceFake > equilibrium + margin);
  return d || decoder ? { d, decoder } : { d: true, decoder: true };
}

/** One VAE/GAN step (Algorithm 1): D on L_GAN, the decoder on γ·L_llike − L_GAN, the encoder on L_prior + L_llike. */
export function vaeganStep(ctx: StepContext): StepStats {
  const { nets, opt, loss, config, real: x } = ctx;
  const { gamma, featureLayer, equilibrium, equilibriumMargin } = own(config);
  const encoder = vaeganEncoder(nets);
  const features = discriminatorFeatures(discriminatorOf(nets), featureLayer);
  const encoderOpt = opt.extra?.encoder;
  if (!encoderOpt) throw new Error("vaegan: no 'encoder' optimizer (declare it among the players)");
  const eps = ctx.z; // the reparameterisation's noise [B, latentDim]
  const zp = ctx.latents(); // prior samples z_p [B, latentDim]

  // z ~ q(z|x) once: a constant to D's and the decoder's updates (neither moves the encoder).
  const zq = tf.tidy(() => posterior(encoder, x, eps)[2]); // [B, latentDim]

  // The decoder runs forward once, on its tape; D's update takes its outputs as constants, off the tape. Each
  // player's gradients are computed whether or not it moves (every data-parallel rank then issues the same
  // collectives) and applied as the balance rule says.
  const D = discriminatorOf(nets);
  let d!: DUpdate;
  let llikeDec: tf.Scalar | undefined;
  const dec = opt.g.computeGradients(() => {
    const xTilde = nets.generator.apply(zq, TRAINING) as tf.Tensor; // [B, H, W, C]
    const xp = nets.generator.apply(zp, TRAINING) as tf.Tensor;
    const fake = tf.concat([xTilde, xp], 0); // [2B, H, W, C]
    // Phase 1 — D: x is real; the reconstructions Dec(z) and the prior's decodings Dec(z_p) are fake.
    d = untaped(() => discriminatorUpdate(ctx, D, x, fake, equilibrium, equilibriumMargin));
    // Phase 2 — decoder: γ·L_llike plus the run's G loss on both fakes, under the (updated) D. Only the decoder's
    // variables are in the list and z is a constant, so no GAN gradient reaches the encoder.
    const llike = featureLikelihoodLoss(features, x, xTilde);
    llikeDec = tf.keep(llike);
    const adversarial = loss.g(D.apply(fake, TRAINING) as tf.Tensor, d.realLogits);
    return tf.add(tf.mul(gamma, llike), adversarial) as tf.Scalar;
  }, trainableVariables(nets.generator));
  if (d.moves.decoder) opt.g.applyGradients(dec.grads);
  tf.dispose(Object.values(dec.grads));
  const decLoss = dec.value;
  d.realLogits.dispose();
  zq.dispose();

  // Phase 3 — encoder: the VAE's bound in D's features, L_prior + L_llike; the decoder and D do not move.
  const parts: { prior?: tf.Scalar; llike?: tf.Scalar } = {};
  const encLoss = encoderOpt.minimize(() => {
    const o = encoderObjective(nets, config, x, eps);
    parts.prior = tf.keep(o.prior);
    parts.llike = tf.keep(o.llike);
    return o.total;
  }, true, trainableVariables(encoder))!;

  const kept = [decLoss, encLoss, parts.prior!, parts.llike!, llikeDec!];
  const [lossG, lossE, prior, llike, llikeD] = kept.map((t) => t.dataSync()[0]);
  tf.dispose([...kept, zp]);
  return {
    lossD: d.lossD, lossG, dReal: d.dReal, dFake: d.dFake,
    extra: {
      'loss/encoder': lossE, 'loss/prior': prior, 'loss/llike': llike, 'loss/llike_decoder': llikeD,
      'balance/bce_real': d.bceReal, 'balance/bce_fake': d.bceFake, 'balance/d_moved': Number(d.moves.d), 'balance/decoder_moved': Number(d.moves.decoder),
    },
  };
}

interface DUpdate {
  lossD: number;
  dReal: number;
  dFake: number;
  bceReal: number;
  bceFake: number;
  /** D's logits on the real batch (the caller frees them): relativistic G losses read them. */
  realLogits: tf.Tensor;
  moves: { d: boolean; decoder: boolean };
}

/**
 * D's gradient of the run's D loss with x real and `fake` fake, its cross-entropies from the same forward pass, the
 * balance rule's decision (on the ranks' mean when data-parallel), and D's update if the rule lets it move.
 */
function discriminatorUpdate(ctx: StepContext, D: tfl.LayersModel, x: tf.Tensor, fake: tf.Tensor, equilibrium: number, margin: number): DUpdate {
  const dOpt = dOptimizer(ctx.opt);
  let realLogits!: tf.Tensor;
  const kept: tf.Scalar[] = [];
  const { value, grads } = dOpt.computeGradients(() => {
    const lr = D.apply(x, TRAINING) as tf.Tensor; // [B, 1]
    const lf = D.apply(fake, TRAINING) as tf.Tensor; // [2B, 1]
    realLogits = tf.keep(lr);
    // −log σ(l) on real and −log(1 − σ(l)) on fake, means; then D's mean outputs.
    kept.push(tf.keep(tf.mean(tf.softplus(tf.neg(lr)))), tf.keep(tf.mean(tf.softplus(lf))), tf.keep(tf.mean(tf.sigmoid(lr))), tf.keep(tf.mean(tf.sigmoid(lf))));
    return ctx.loss.d(lr, lf);
  }, trainableVariables(D));
  const [lossD, bceRealLocal, bceFakeLocal, dReal, dFake] = [value, ...kept].map((t) => t.dataSync()[0]);
  const [bceReal, bceFake] = ctx.groupMean ? ctx.groupMean([bceRealLocal, bceFakeLocal]) : [bceRealLocal, bceFakeLocal];
  const moves = balancedUpdates(bceReal, bceFake, equilibrium, margin);
  if (moves.d) dOpt.applyGradients(grads);
  tf.dispose([value, ...kept, ...Object.values(grads)]);
  return { lossD, dReal, dFake, bceReal, bceFake, realLogits, moves };
}
