import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { z } from 'zod';
import { EMA_GENERATOR, conditionOf, extraNetwork, type GanFamily, type GanNetworks } from '../gan/family.js';
import { settingsOf, type RunConfig, type SettingsTable } from '../gan/config.js';
import { HONOURS, honourList } from '../gan/settings.js';
import { configuredPenalties, criticUpdates, discriminatorPhase, generatorPhaseWith, type GeneratorTerms, type StepContext, type StepStats } from '../gan/step.js';
import { copyNetwork, updateEma } from '../gan/tricks/index.js';
import { orthogonalRegularization } from '../nn/orthogonal_regularization.js';
import { BIGGAN_SIDES, bigganDiscriminator, bigganGenerator, sizeProblem, type BigGanSize } from './nets/biggan_nets.js';
import type { DatasetInfo } from '../data/types.js';
import type { Rng } from '../util/rng.js';

/** BigGAN's own settings (flags --attention, --ortho-reg, --g-ema-decay, --g-ema-start). */
export interface BigGanSettings {
  /** Resolution of the self-attention block in G and D; 0: none. */
  attention: number;
  /** β of the orthogonal regulariser on G's weights; 0: off. */
  orthoReg: number;
  /** Decay of the moving average of G's weights that sampling uses; 0: no average. */
  gEmaDecay: number;
  /** Steps during which the average copies G before it starts averaging. */
  gEmaStart: number;
}

export const BIGGAN_SETTINGS: SettingsTable = {
  attention: {
    default: 0, schema: z.number().int().nonnegative(),
    help: "resolution of the self-attention block in G and D, 0 = none (the CIFAR script: none; the paper's 128 px model: 64)",
  },
  orthoReg: {
    default: 0, schema: z.number().nonnegative().finite(),
    help: "orthogonal regularisation β on G's weights (the paper: 1e-4; the released models and the CIFAR script: 0 = off)",
  },
  gEmaDecay: {
    default: 0.9999, schema: z.number().min(0).lt(1),
    help: "decay of the moving average of G's weights that sampling and evaluation use (0 = none; BigGAN: 0.9999)",
  },
  gEmaStart: {
    default: 1000, schema: z.number().int().nonnegative(),
    help: "steps during which G's moving average copies G before it starts averaging (BigGAN-PyTorch's ema_start; CIFAR: 1000)",
  },
};

/**
 * BigGAN (Brock, Donahue & Simonyan 2019, "Large Scale GAN Training for High Fidelity Natural Image Synthesis"),
 * at the small scales of its CIFAR-10 model (32 px) up to its 128 px architecture:
 *
 *   G: hierarchical z — one chunk for the 4×4 linear layer, one per residual block, each block's chunk joined to
 *      a shared class embedding E(y) and fed to its class-conditional batch norms; SN on every weight but E.
 *   D: residual blocks, a sum over positions and the projection output ψ(h) + ⟨E_D(y), h⟩; SN on every weight.
 *   Loss: hinge (Lim & Ye 2017; the paper's §2). Per step, n_D = 4 D updates (each on its own batch, z and
 *   classes), then one G update; then the moving average of G's weights.
 *   Optional: self-attention at one resolution (--attention), orthogonal regularisation β‖WᵀW ⊙ (1 − I)‖²_F on
 *   G's weights as the paper writes it (--ortho-reg, §3.1; BigGAN-PyTorch's utils.ortho adds the gradient of half
 *   of it: the same pull is β here and 2β there), the truncation trick at sampling (`sample --truncation ψ`:
 *   z ~ N(0, I) truncated to [−2, 2], times ψ) and standing statistics (`sample --standing-stats N`).
 *
 * Defaults are those of the authors' CIFAR-10 script (BigGAN-PyTorch, scripts/launch_cifar_ema.sh): batch 50,
 * n_D 4, Adam lr 2e-4 for both players with β1 = 0, β2 = 0.999, ch 64 (--width), dim z 128, no attention
 * (G_attn 0, D_attn 0; the paper's 128 px model attends at 64×64: --attention 64), no orthogonal regularisation
 * (G_ortho 0), G's EMA with decay 0.9999 from step 1000.
 * Where that script departs from the paper's ImageNet model — it uses per-block class embeddings instead of a
 * shared one and no hierarchical z — this family follows the paper (shared embedding, hierarchical z). Weights
 * start from Glorot (the blocks of src/nn; spectral norm fixes their scale, only their direction matters).
 *
 * The condition is optional: on labelled data G and D are class-conditional as in the paper (sample --class K);
 * on data without classes G's batch norms are conditioned on the z chunks alone and D has no projection term.
 */
export const biggan: GanFamily = {
  name: 'biggan',
  summary: 'BigGAN (Brock et al. 2019): hinge, SN in G and D, shared-embedding CBN + hierarchical z, projection D, EMA; sample --class K --truncation ψ --standing-stats N',
  paper: 'Brock, Donahue & Simonyan 2019, Large Scale GAN Training for High Fidelity Natural Image Synthesis, arXiv:1809.11096',

  condition: 'class',
  optionalCondition: true,
  truncation: 'z',
  settings: BIGGAN_SETTINGS,
  // The critic loop's settings (loss, n_D, penalties; no weight clipping: SN bounds D), the phase tricks that fit a
  // projection D (feature matching needs a dense output layer), D's input augmentation, z's size and the width ch.
  honours: honourList(HONOURS.standardStep.filter((k) => k !== 'clipValue'), HONOURS.phaseTricks.filter((k) => k !== 'featureMatching'), HONOURS.augment, 'latentDim', 'width'),

  defaults: (data) => ({
    loss: 'hinge', optimizer: 'adam', lrG: 2e-4, lrD: 2e-4, beta1: 0, beta2: 0.999, nCritic: 4, batchSize: 50, width: 64,
    latentDim: data.shape[0] >= 64 ? 120 : 128, // hierarchical z: a multiple of the blocks + 1 (4 at 32 px, 5 at 64, 6 at 128)
  }),

  check(data, config) {
    if (data.kind !== 'image') return `biggan generates images, and ${data.name} is 2-D points; use vanilla, sngan or wgan-gp for toy data`;
    const [h, w, c] = data.shape;
    if (h !== w || !BIGGAN_SIDES.includes(h)) return `biggan has architectures for ${BIGGAN_SIDES.join(', ')} px square images, and ${data.name} is ${h}×${w}; pass --image-size ${BIGGAN_SIDES.join(' or ')}`;
    if (c !== 1 && c !== 3) return `biggan makes grey or RGB images, and ${data.name} has ${c} channels`;
    return sizeProblem({ side: h, zDim: config.latentDim, attention: settingsOf<BigGanSettings>(config).attention, ch: config.width });
  },

  build(data, config, rng) {
    const s = settingsOf<BigGanSettings>(config);
    const size = sizeOf(data, config, rng);
    const generator = bigganGenerator(size);
    const discriminator = bigganDiscriminator(size);
    // The moving average of G (§4 and Appendix C: BigGAN samples from it); owned here for its start step.
    return s.gEmaDecay > 0 ? { generator, discriminator, extra: { [EMA_GENERATOR]: copyNetwork(generator, EMA_GENERATOR) } } : { generator, discriminator };
  },

  step: bigganStep,
};

/** The networks' sizes for this run: the image, ch = --width, dim z, the classes (0 unconditional), attention. */
function sizeOf(data: DatasetInfo, config: RunConfig, rng: Rng): BigGanSize {
  const conditional = conditionOf(biggan, data) === 'class';
  return {
    side: data.shape[0], channels: data.shape[2], ch: config.width, zDim: config.latentDim,
    classes: conditional ? data.numClasses! : 0, attention: settingsOf<BigGanSettings>(config).attention,
    nextSeed: () => rng.nextUint32() % 2147483647,
  };
}

/**
 * One BigGAN step (BigGAN-PyTorch's train_fns.GAN_training_function):
 *
 *   for n_D times: x, y ~ data; z ~ N(0, I); y′ ~ U{classes}
 *                  D ← Adam(∇_D [mean relu(1 − D(x, y)) + mean relu(1 + D(G(z, y′), y′))])
 *   z, y′ (the first D update's): G ← Adam(∇_G [−mean D(G(z, y′), y′) + β‖WᵀW ⊙ (1 − I)‖²_F])
 *   G_ema ← G before step gEmaStart, else decay·G_ema + (1 − decay)·G
 *
 * through the shared phases, so DiffAugment (and any trick on D's input), gradient clipping and the data-parallel
 * gradient averaging in the players' optimizers apply to every update.
 */
export function bigganStep(ctx: StepContext): StepStats {
  const { nets, opt, loss, config } = ctx;
  const s = settingsOf<BigGanSettings>(config);
  const penalties = configuredPenalties(ctx); // none by default; --gp-weight, --r1-gamma … if asked

  // 1. n_D updates of D, each on a real batch with its labels and a generated one (G's output a constant).
  const d = criticUpdates(ctx, ({ real, fake, yReal, yFake }) => discriminatorPhase(nets, opt, loss, real, fake, { yReal, yFake, penalties }), ctx.condition === 'class');

  // 2. One update of G on the step's latents, with the orthogonal regulariser when it is on.
  const gTerms: GeneratorTerms | undefined = s.orthoReg > 0
    ? () => ({ 'reg/ortho': { weight: 1, value: orthogonalRegularization(orthoRegularized(nets.generator), s.orthoReg) } })
    : undefined;
  const g = generatorPhaseWith(nets, opt, loss, ctx.z, d.realLogits, { yFake: d.yFake, gTerms });
  tf.dispose([d.realLogits, ...(d.yFake ? [d.yFake] : [])]);

  // 3. The moving average of G: a copy until the start step (BigGAN-PyTorch's ema_start), then an average.
  if (s.gEmaDecay > 0) updateEma(emaOf(nets), nets.generator, ctx.step + 1 < s.gEmaStart ? 0 : s.gEmaDecay);

  return { lossD: d.lossD, lossG: g.lossG, dReal: d.dReal, dFake: d.dFake, extra: { ...d.penalties, ...g.terms } };
}

/** G's weights the orthogonal regulariser acts on: every matrix and kernel but the shared class embedding. */
export function orthoRegularized(generator: tfl.LayersModel): tf.Tensor[] {
  return generator.trainableWeights.filter((w) => w.shape.length >= 2 && !w.originalName.startsWith('shared_embedding/')).map((w) => w.read());
}

function emaOf(nets: GanNetworks): tfl.LayersModel {
  return extraNetwork(nets, EMA_GENERATOR, 'biggan');
}
