import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { GanFamily, GanNetworks } from '../gan/family.js';
import { clipWeights, configuredPenalties, discriminatorPhase, trainableVariables, type StepContext, type StepStats } from '../gan/step.js';
import { phaseTricks } from '../gan/tricks/index.js';
import { HONOURS, honourList } from '../gan/settings.js';
import { SeededInit } from '../nn/init.js';
import { discriminatorOf } from '../gan/family.js';

/**
 * Adversarial autoencoder (Makhzani, Shlens, Jaitly, Goodfellow & Frey 2015, "Adversarial Autoencoders",
 * §2): an autoencoder whose code distribution is matched to a prior p(z) by a GAN played in latent space.
 *
 *   encoder  q(z|x)   x → z, deterministic (the paper's first choice of q, §2)
 *   decoder  p(x|z)   z → x          — ganforge's GENERATOR, so sampling decodes z ~ p(z) = N(0, I)
 *   D                 z → logit     — prior samples are "real", encoder codes q(z) are "fake"
 *
 * Each step runs the paper's two phases on one mini-batch:
 *   1. reconstruction: encoder and decoder minimise the reconstruction error ‖x − p(q(x))‖²;
 *   2. regularisation: D learns to tell z ~ p(z) from z = q(x), then the encoder (the adversarial
 *      generator) learns to make q(x) look like prior samples.
 * Once the aggregated posterior q(z) = E_x q(z|x) matches p(z), the decoder maps the prior to the data.
 *
 * Networks follow the paper's MNIST setup (two hidden ReLU layers of 1,000 units in each of encoder, decoder
 * and D, a linear code, a Gaussian prior on an 8-dimensional z) with `--hidden` units per layer instead of
 * 1,000, so the three networks fit a CPU budget. The paper trains with SGD + momentum at separate rates per phase; we use
 * Adam for all three updates.
 *
 * Optimizers: `opt.g` moves the encoder in the adversarial phase (it is the generator of the latent-space
 * GAN), `dOptimizer(opt)` moves D, and `opt.extra.reconstruction` moves encoder + decoder. Adam keeps its moments by
 * position in the variable list, so the two encoder updates (one over the encoder alone, one over encoder
 * and decoder) cannot share an optimizer.
 */
export const aae: GanFamily = {
  name: 'aae',
  summary: 'adversarial autoencoder (Makhzani et al. 2015): autoencoder whose codes a latent-space GAN pushes to N(0, I)',
  paper: 'Makhzani, Shlens, Jaitly, Goodfellow & Frey 2015, Adversarial Autoencoders, arXiv:1511.05644',

  // The reconstruction phase is a third player over encoder + decoder.
  players: [
    { name: 'g', lr: 'lrG', moves: 'the encoder, as the latent-space generator' },
    { name: 'd', lr: 'lrD', moves: 'the latent discriminator' },
    { name: 'reconstruction', lr: 'lrG', moves: 'encoder and decoder, on the reconstruction error' },
  ],
  // D plays in latent space: penalties, clipping, label smoothing, instance noise, feature matching, historical
  // averaging of D and gradient clipping apply there; DiffAugment (images) and averaging of the decoder do not.
  honours: (data) => honourList(HONOURS.standardStep, HONOURS.phaseTricks, HONOURS.ema, 'latentDim', 'hidden')
    .filter((k) => k !== 'nCritic' && k !== 'historicalAveragingG'),

  defaults(data) {
    // An autoencoder tolerates a larger step than an image GAN. Measured with Adam(1e-3, β1 0.5), batch 64,
    // hidden 128: Fashion-MNIST's reconstruction MSE (pixels in [-1, 1]) falls 0.69 → 0.15 in 100 steps while
    // the codes' Fréchet distance to N(0, I) ends near 10–15 (test/models/aae.test.ts). On ring8 with a 2-d
    // code: MSE 2.0 → 0.01–0.05 and codes within 0.1–0.6 of N(0, I) after 400–1,000 steps.
    return data.kind === 'points'
      ? { latentDim: 2, hidden: 128, lrG: 1e-3, lrD: 1e-3, beta1: 0.5, batchSize: 256, steps: 3000, sampleEvery: 500, checkpointEvery: 1000 }
      : { latentDim: 8, hidden: 512, lrG: 1e-3, lrD: 1e-3, beta1: 0.5 };
  },

  check(data, config) {
    if (data.kind === 'image' && data.shape.length !== 3) return `aae needs images shaped [H, W, C], got [${data.shape.join(', ')}]`;
    // The regularisation phase makes one D update per step; a critic loop would need fresh batches of codes.
    if (config.nCritic !== 1) return `aae makes one discriminator update per step (--n-critic ${config.nCritic} given); drop --n-critic or set it to 1`;
    return null;
  },

  build(data, config, rng) {
    const init = new SeededInit(rng);
    const size = data.shape.reduce((a, b) => a * b, 1);
    const isImage = data.kind === 'image';
    const dense = (units: number, activation: 'relu' | 'tanh' | 'linear', inputShape?: number[]) =>
      tfl.layers.dense({ ...(inputShape ? { inputShape } : {}), units, activation, kernelInitializer: init.glorotUniform() });

    // q(z|x): x [B, ...shape] → z [B, latentDim], a linear code (the prior's support is all of R^d).
    const encoder = tfl.sequential({ name: 'encoder' });
    if (isImage) encoder.add(tfl.layers.flatten({ inputShape: data.shape })); // [B, H·W·C]
    encoder.add(dense(config.hidden, 'relu', isImage ? undefined : data.shape));
    encoder.add(dense(config.hidden, 'relu'));
    encoder.add(dense(config.latentDim, 'linear'));

    // p(x|z): z → x, tanh for images in [-1, 1], linear for points.
    const decoder = tfl.sequential({ name: 'generator' });
    decoder.add(dense(config.hidden, 'relu', [config.latentDim]));
    decoder.add(dense(config.hidden, 'relu'));
    decoder.add(dense(size, isImage ? 'tanh' : 'linear'));
    if (isImage) decoder.add(tfl.layers.reshape({ targetShape: data.shape })); // [B, H, W, C]

    // D: z [B, latentDim] → logit [B, 1]; it never sees data, only codes.
    const discriminator = tfl.sequential({ name: 'discriminator' });
    discriminator.add(dense(config.hidden, 'relu', [config.latentDim]));
    discriminator.add(dense(config.hidden, 'relu'));
    discriminator.add(dense(1, 'linear'));

    return { generator: decoder, discriminator, extra: { encoder } };
  },

  step: aaeStep,
};

const TRAINING = { training: true };

/** The encoder of an aae run: q(z|x). */
export function aaeEncoder(nets: GanNetworks): tfl.LayersModel {
  const encoder = nets.extra?.encoder;
  if (!encoder) throw new Error("aae: the networks hold no 'encoder' (GanNetworks.extra.encoder)");
  return encoder;
}

/** Codes q(x) in inference mode: [n, latentDim]. */
export function encode(nets: GanNetworks, x: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => aaeEncoder(nets).apply(x, { training: false }) as tf.Tensor2D);
}

/**
 * Mean squared reconstruction error per element, ‖x − p(q(x))‖² / dim, averaged over the batch. Call it
 * inside tf.tidy or an optimizer's minimize, which own its intermediates.
 */
export function reconstructionError(nets: GanNetworks, x: tf.Tensor, training = false): tf.Scalar {
  const code = aaeEncoder(nets).apply(x, { training }) as tf.Tensor; // [B, latentDim]
  const xHat = nets.generator.apply(code, { training }) as tf.Tensor; // [B, ...shape]
  return tf.mean(tf.squaredDifference(xHat, x));
}

/** One AAE step (§2): the reconstruction phase, then the regularisation phase on the same mini-batch. */
export function aaeStep(ctx: StepContext): StepStats {
  const recon = reconstructionPhase(ctx);
  const reg = regularisationPhase(ctx);
  return { ...reg, extra: { 'loss/recon': recon, ...reg.extra } };
}

/** Phase 1 — reconstruction: encoder and decoder minimise ‖x − p(q(x))‖² on the step's batch. Returns the error. */
export function reconstructionPhase(ctx: StepContext): number {
  const { nets, opt } = ctx;
  const reconstruction = opt.extra?.reconstruction;
  if (!reconstruction) throw new Error("aae: no 'reconstruction' optimizer (declare it among the players)");
  // Always this order (encoder, then decoder): the optimizer's Adam moments are kept by position.
  const vars = [...trainableVariables(aaeEncoder(nets)), ...trainableVariables(nets.generator)];
  const loss = reconstruction.minimize(() => reconstructionError(nets, ctx.real, true), true, vars)!;
  const value = loss.dataSync()[0];
  loss.dispose();
  return value;
}

/**
 * Phase 2 — regularisation: D learns to tell the prior's samples (the step's latents z ~ N(0, I), "real")
 * from the codes q(x) of the step's batch ("fake"); then the encoder, as the latent-space GAN's generator,
 * learns to make D take q(x) for a prior sample. The decoder does not move here.
 */
export function regularisationPhase(ctx: StepContext): StepStats {
  const { nets, opt, loss, config } = ctx;
  const encoder = aaeEncoder(nets);
  const x = ctx.real; // [B, ...shape]

  // D update; the codes are constants here (penalties and clipping from the config apply to this D too).
  const codes = tf.tidy(() => encoder.apply(x, TRAINING) as tf.Tensor); // [B, latentDim]
  const d = discriminatorPhase(nets, opt, loss, ctx.z, codes, { penalties: configuredPenalties(ctx) });
  codes.dispose();
  if (config.clipValue > 0) clipWeights(discriminatorOf(nets), config.clipValue);

  // Encoder update through the G loss; `realLogits` (D on the prior) serves relativistic losses. The run's
  // tricks act as in the shared G phase: instance noise on the codes D sees, feature matching of D's features
  // on prior samples vs codes, gradient clipping.
  const tricks = phaseTricks(nets);
  const lossG = tricks.minimize(opt.g, () => {
    const q = encoder.apply(x, TRAINING) as tf.Tensor; // [B, latentDim]
    const adversarial = loss.g(discriminatorOf(nets).apply(tricks.dInput(q), TRAINING) as tf.Tensor, d.realLogits);
    return tricks.withGeneratorTerms(nets, adversarial, q);
  }, trainableVariables(encoder), 'g');
  d.realLogits.dispose();
  const g = lossG.dataSync()[0];
  lossG.dispose();
  return { lossD: d.lossD, lossG: g, dReal: d.dReal, dFake: d.dFake, extra: d.penalties };
}
