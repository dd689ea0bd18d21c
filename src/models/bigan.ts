import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { GanFamily, GanNetworks } from '../gan/family.js';
import type { DatasetInfo } from '../data/types.js';
import type { RunConfig } from '../gan/config.js';
import { applyD, applyG, discriminatorPhase, trainableVariables, type StepContext, type StepStats } from '../gan/step.js';
import { bothSidesLoss } from '../gan/losses.js';
import { phaseTricks } from '../gan/tricks/index.js';
import { HONOURS, honourList } from '../gan/settings.js';
import { SeededInit } from '../nn/init.js';
import { UserError } from '../util/errors.js';
import { dcgan } from './dcgan.js';
import { vanilla } from './vanilla.js';
import { discriminatorOf } from '../gan/family.js';

/** Name of the encoder E: x → z among GanNetworks.extra (saved as checkpoints/step-N/encoder/). */
export const ENCODER = 'encoder';

/**
 * BiGAN (Donahue, Krähenbühl & Darrell 2016, "Adversarial Feature Learning") — the same model as ALI
 * (Dumoulin et al. 2016, "Adversarially Learned Inference"): besides G: z → x, an encoder E: x → z, and a
 * discriminator that sees joint pairs. D tells real pairs (x, E(x)), x ~ data, from fake pairs (G(z), z),
 * z ~ N(0, I); G and E together try to make the two joint distributions equal. At the optimum E = G⁻¹
 * (Donahue et al., Theorem 2), so G(E(x)) reconstructs x and E(x) is a feature of x learned without labels.
 *
 * The step (their §3.4): one D update on the joint loss, then one update of G and E together on the same
 * loss with the labels swapped ("inverted" targets: fake pairs called real, real pairs called fake), the
 * non-saturating form of the minimax game; under a saddle loss (minimax, the f-divergences) G and E minimise the
 * game's value instead, whose labels do not swap (`bothSidesLoss`). G and E share one Adam over [G's variables, E's variables] — the
 * list is the same every step, so Adam's per-position moments stay with their variables.
 *
 * Defaults (Donahue et al., MNIST): Adam α = 2e-4, β1 = 0.5, latent 50. Differences: our z is N(0, I)
 * (theirs U[−1, 1]), E and G are the DCGAN-shaped networks of this toolkit (E a DCGAN D without batch norm
 * ending in a linear z, so E(x) is the same in training and in `ganforge encode`), no weight decay.
 */
export const bigan: GanFamily = {
  name: 'bigan',
  summary: 'BiGAN / ALI (Donahue et al. 2016; Dumoulin et al. 2016): G plus an encoder E, D on (x, z) pairs',
  paper: 'Donahue, Krähenbühl & Darrell 2016, Adversarial Feature Learning, arXiv:1605.09782; Dumoulin et al. 2016, arXiv:1606.00704',

  // Its own step: one D update on joint pairs, then G and E together; every phase trick, no penalties or clipping.
  honours: (data) => honourList('loss', HONOURS.phaseTricks, HONOURS.ema, 'latentDim', data.kind === 'image' && HONOURS.augment, data.kind === 'points' ? 'hidden' : 'width'),

  defaults(data) {
    // Toy mixtures: vanilla's sizes and rates; a 2-D latent, as the data has two dimensions to invert.
    return data.kind === 'points'
      ? { ...vanilla.defaults(data), latentDim: 2, lrG: 1e-3, lrD: 1e-3 }
      : { ...dcgan.defaults(data), loss: 'non-saturating', lrG: 2e-4, lrD: 2e-4, beta1: 0.5, beta2: 0.999, latentDim: 50 };
  },

  check(data, config) {
    if (config.nCritic !== 1) return `bigan updates D once per G/E update; drop --n-critic ${config.nCritic}`;
    return data.kind === 'points' ? vanilla.check(data, config) : dcgan.check(data, config);
  },

  build(data, config, rng) {
    const base = data.kind === 'points' ? vanilla.build(data, config, rng) : dcgan.build(data, config, rng);
    discriminatorOf(base).dispose(); // replaced by the joint D below
    const init = new SeededInit(rng);
    return {
      generator: base.generator,
      discriminator: jointDiscriminator(data, config, init),
      extra: { [ENCODER]: data.kind === 'points' ? mlpEncoder(data, config, init) : convEncoder(data, config, init) },
    };
  },

  step: biganStep,
};

/** The run's encoder, or an error naming what is missing (a run of another family). */
export function encoderOf(nets: GanNetworks): tfl.LayersModel {
  const e = nets.extra?.[ENCODER];
  if (!e) throw new UserError(`this run has no '${ENCODER}' network; train it with 'ganforge train bigan'`);
  return e;
}

/** E(x): [B, latentDim]. */
export function encode(encoder: tfl.LayersModel, x: tf.Tensor, training = false): tf.Tensor2D {
  return encoder.apply(x, { training }) as tf.Tensor2D;
}

/** One BiGAN iteration: a D update on joint pairs, then a G+E update with swapped labels. */
export function biganStep(ctx: StepContext): StepStats {
  const { nets, opt, loss, real, z } = ctx;
  const encoder = encoderOf(nets);

  // Phase 1 — D step: raise D on (x, E(x)), lower it on (G(z), z). E and G are constants here.
  const ex = tf.tidy(() => encode(encoder, real, true)); // [B, latentDim]
  const fake = tf.tidy(() => applyG(nets, z)); // [B, ...shape]
  const d = discriminatorPhase(nets, opt, loss, real, fake, { yReal: ex, yFake: z });
  tf.dispose([ex, fake, d.realLogits]);

  // Phase 2 — G and E step: the joint loss with real and fake swapped (the game's value itself for a saddle loss,
  // see bothSidesLoss); only G's and E's variables move.
  // The run's tricks act as in the shared G phase: D sees x augmented/noised, feature matching compares D's
  // features of (x, E(x)) and (G(z), z), and the update may be clipped.
  const tricks = phaseTricks(nets);
  const vars = [...trainableVariables(nets.generator), ...trainableVariables(encoder)];
  const lossGE = tricks.minimize(opt.g, () => {
    const realPair = applyD(nets, tricks.dInput(real), encode(encoder, real, true)); // [B, 1]
    const x = applyG(nets, z); // [B, ...shape]
    const fakePair = applyD(nets, tricks.dInput(x), z);
    return tricks.withGeneratorTerms(nets, bothSidesLoss(loss, realPair, fakePair), x, z);
  }, vars, 'g');
  const lossG = lossGE.dataSync()[0];
  lossGE.dispose();
  return { lossD: d.lossD, lossG, dReal: d.dReal, dFake: d.dFake };
}

/** D(x, z): x through a feature branch, z through a dense layer, the two joined by a dense layer to one logit. */
function jointDiscriminator(data: DatasetInfo, config: RunConfig, init: SeededInit): tfl.LayersModel {
  const x = tfl.input({ shape: data.shape, name: 'x' });
  const z = tfl.input({ shape: [config.latentDim], name: 'z' });
  const units = data.kind === 'points' ? config.hidden : config.width * 8;
  let fx: tfl.SymbolicTensor;
  if (data.kind === 'points') {
    fx = x; // [B, 2]: joined with z directly
  } else {
    // DCGAN-shaped x branch without batch norm (a pair's score should not depend on the rest of its batch).
    let h: tfl.SymbolicTensor = x;
    for (const [level, filters] of [config.width, config.width * 2].entries()) {
      h = tfl.layers.conv2d({ filters, kernelSize: 4, strides: 2, padding: 'same', kernelInitializer: init.normal(0.02), name: `x_conv${level}` }).apply(h) as tfl.SymbolicTensor;
      h = tfl.layers.leakyReLU({ alpha: 0.2 }).apply(h) as tfl.SymbolicTensor;
    }
    fx = tfl.layers.flatten().apply(h) as tfl.SymbolicTensor; // [B, (H/4)·(W/4)·2w]
  }
  const fz = tfl.layers.leakyReLU({ alpha: 0.2 }).apply(
    tfl.layers.dense({ units, kernelInitializer: init.glorotUniform(), name: 'z_dense' }).apply(z),
  ) as tfl.SymbolicTensor; // [B, units]
  let h = tfl.layers.concatenate().apply([fx, fz]) as tfl.SymbolicTensor;
  for (let i = 0; i < 2; i++) {
    h = tfl.layers.dense({ units, kernelInitializer: init.glorotUniform(), name: `joint_dense${i}` }).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.leakyReLU({ alpha: 0.2 }).apply(h) as tfl.SymbolicTensor;
  }
  const logit = tfl.layers.dense({ units: 1, kernelInitializer: init.glorotUniform(), name: 'logit' }).apply(h) as tfl.SymbolicTensor;
  return tfl.model({ inputs: [x, z], outputs: logit, name: 'discriminator' });
}

/** E for images: strided 4×4 convs doubling the width (as DCGAN's D, no batch norm), then a linear z. */
function convEncoder(data: DatasetInfo, config: RunConfig, init: SeededInit): tfl.LayersModel {
  const e = tfl.sequential({ name: ENCODER });
  for (const [level, filters] of [config.width, config.width * 2].entries()) {
    e.add(tfl.layers.conv2d({ ...(level === 0 ? { inputShape: data.shape } : {}), filters, kernelSize: 4, strides: 2, padding: 'same', kernelInitializer: init.normal(0.02) }));
    e.add(tfl.layers.leakyReLU({ alpha: 0.2 }));
  }
  e.add(tfl.layers.flatten()); // [B, (H/4)·(W/4)·2w]
  e.add(tfl.layers.dense({ units: config.latentDim, kernelInitializer: init.glorotUniform() })); // z, unbounded like N(0, I)
  return e;
}

/** E for 2-D points: vanilla's MLP shape, ReLU hidden layers, a linear z. */
function mlpEncoder(data: DatasetInfo, config: RunConfig, init: SeededInit): tfl.LayersModel {
  const e = tfl.sequential({ name: ENCODER });
  e.add(tfl.layers.dense({ inputShape: data.shape, units: config.hidden, activation: 'relu', kernelInitializer: init.glorotUniform() }));
  e.add(tfl.layers.dense({ units: config.hidden, activation: 'relu', kernelInitializer: init.glorotUniform() }));
  e.add(tfl.layers.dense({ units: config.latentDim, kernelInitializer: init.glorotUniform() })); // z
  return e;
}
