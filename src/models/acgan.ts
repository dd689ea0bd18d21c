import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { GanFamily } from '../gan/family.js';
import type { DatasetInfo } from '../data/types.js';
import type { RunConfig } from '../gan/config.js';
import type { Rng } from '../util/rng.js';
import { applyG, conditionalLabels, configuredPenalties, trainableVariables, type StepContext, type StepStats } from '../gan/step.js';
import { phaseTricks } from '../gan/tricks/index.js';
import { backboneHonours } from '../gan/settings.js';
import { SeededInit } from '../nn/init.js';
import { dcgan } from './dcgan.js';
import { vanilla } from './vanilla.js';
import { dOptimizer } from '../gan/optimizers.js';
import { discriminatorOf } from '../gan/family.js';

/**
 * AC-GAN (Odena, Olah & Shlens 2017, "Conditional Image Synthesis with Auxiliary Classifier GANs", §3):
 * every generated sample has a class c ~ p_c besides its noise z, X_fake = G(c, z); D gives both a
 * probability over sources P(S | X) and one over classes P(C | X). With
 *
 *   L_S = E[log P(S = real | X_real)] + E[log P(S = fake | X_fake)]        (eq. 2)
 *   L_C = E[log P(C = c | X_real)]    + E[log P(C = c | X_fake)]           (eq. 3)
 *
 * D maximises L_C + L_S and G maximises L_C − L_S. Unlike cgan, D never sees the label as an input: it
 * must *recognise* the class, and G is rewarded for samples it recognises as the class they were asked for.
 *
 * Networks: dcgan's convolutional nets for images (vanilla's MLPs for 2-D points), with the one-hot class
 * concatenated to z at G's input (the paper's G input is noise plus class), and D's last layer widened
 * from one logit to 1 + K: column 0 is the source logit, columns 1..K the class logits, so the one
 * discriminator model (and its checkpoint) holds both heads. Defaults are those of the paper's appendix
 * (Adam, lr 2e-4, β1 = 0.5); the source terms use the run's `--loss` (non-saturating by default, the usual
 * reading of "G maximises −L_S"), the class terms softmax cross-entropy with weight 1 as in eq. 3.
 *
 * G takes [z [B, latentDim], y [B, K]], so `ganforge sample --class K` and the trainer's class-cycling
 * grids work as for cgan. D outputs [B, 1 + K].
 */
export const acgan: GanFamily = {
  name: 'acgan',
  summary: 'auxiliary-classifier GAN (Odena et al. 2017): D also classifies; sample --class K',
  paper: 'Odena, Olah & Shlens 2017, Conditional Image Synthesis with Auxiliary Classifier GANs, arXiv:1610.09585',

  condition: 'class',
  // Its own step: one D update per G update, GP/R1/R2 on the source head, every phase trick; no weight clipping.
  honours: (data) => backboneHonours(data, { minibatch: true }).filter((k) => k !== 'nCritic' && k !== 'clipValue'),

  defaults: (data) => (data.kind === 'image' ? dcgan.defaults(data) : vanilla.defaults(data)),

  check(data, config) {
    if (!data.numClasses || data.numClasses < 2) {
      return `acgan needs labelled data (its D learns to classify real examples), and ${data.name} has none; use toy:ring8, mnist or fashion-mnist, or an unconditional model`;
    }
    if (config.nCritic !== 1) return `acgan makes one D update per G update; drop --n-critic ${config.nCritic}`;
    return data.kind === 'image' ? dcgan.check(data, config) : null;
  },

  build(data, config, rng) {
    const k = data.numClasses!;
    const { g, dBody, release } = backboneLayers(data, config, rng, config.latentDim + k);
    const init = new SeededInit(rng);

    const z = tfl.input({ shape: [config.latentDim], name: 'z' });
    const y = tfl.input({ shape: [k], name: 'label' });
    const zy = tfl.layers.concatenate().apply([z, y]) as tfl.SymbolicTensor; // [B, latentDim + K]
    const generator = tfl.model({ inputs: [z, y], outputs: chain(g, zy), name: 'generator' });

    const x = tfl.input({ shape: data.shape, name: 'x' });
    const heads = tfl.layers.dense({ units: 1 + k, kernelInitializer: headInit(data, init), name: 'source_and_class' });
    const out = heads.apply(chain(dBody, x)) as tfl.SymbolicTensor; // [B, 1 + K]
    const discriminator = tfl.model({ inputs: x, outputs: out, name: 'discriminator' });
    release();
    return { generator, discriminator };
  },

  step: acganStep,
};

/** D's output split into the source logit [B, 1] and the class logits [B, K]. */
function split(out: tf.Tensor): { source: tf.Tensor; classes: tf.Tensor } {
  const k = out.shape[1]! - 1;
  return { source: tf.slice(out, [0, 0], [-1, 1]), classes: tf.slice(out, [0, 1], [-1, k]) };
}

/** −E[log P(C = c | X)] for one-hot `y` [B, K]: the negated half of L_C that one batch contributes. */
function classLoss(classLogits: tf.Tensor, y: tf.Tensor): tf.Scalar {
  return tf.neg(tf.mean(tf.sum(tf.mul(y, tf.logSoftmax(classLogits)), -1))) as tf.Scalar;
}

/**
 * One AC-GAN step. D phase: minimise loss.d(source) − L_C on (X_real, its label) and (X_fake, the class it
 * was drawn for). G phase: minimise loss.g(source) − E[log P(C = c | X_fake)] on the same z and classes.
 */
export function acganStep(ctx: StepContext): StepStats {
  const { nets, opt, loss } = ctx;
  const { yReal, yFake } = conditionalLabels(ctx, 'acgan'); // [B, K] each; c ~ p_c = U{0..K−1}
  const D = (x: tf.Tensor) => discriminatorOf(nets).apply(x, { training: true }) as tf.Tensor; // [B, 1 + K]
  const penalties = configuredPenalties(ctx);
  // The run's stabilising tricks (--label-smoothing, --instance-noise, --diff-augment, …), as in step.ts's phases.
  const tricks = phaseTricks(nets);
  tricks.rememberReal(ctx.real);

  // D phase: maximise L_S + L_C. G's output is a constant here.
  const fake = tf.tidy(() => applyG(nets, ctx.z, yFake)); // [B, ...shape]
  const kept: Record<string, tf.Scalar> = {};
  let realSource!: tf.Tensor;
  const lossD = tricks.minimize(dOptimizer(opt), () => {
    const r = split(D(tricks.dInput(ctx.real)));
    const f = split(D(tricks.dInput(fake)));
    realSource = tf.keep(r.source); // for relativistic G losses
    kept.dReal = tf.keep(tf.mean(tf.sigmoid(r.source)));
    kept.dFake = tf.keep(tf.mean(tf.sigmoid(f.source)));
    kept.classD = tf.keep(tf.add(classLoss(r.classes, yReal), classLoss(f.classes, yFake)));
    kept.accReal = tf.keep(tf.mean(tf.cast(tf.equal(tf.argMax(r.classes, -1), tf.argMax(yReal, -1)), 'float32')));
    let total = tf.add(tricks.discriminatorLoss(loss).d(r.source, f.source), kept.classD) as tf.Scalar;
    if (penalties) {
      // Penalties (--gp-weight, --r1-gamma, …) act on the source logit, the part that plays the GAN game.
      for (const [name, t] of Object.entries(penalties((x) => split(D(x)).source, ctx.real, fake))) {
        kept[name] = tf.keep(t);
        total = tf.add(total, t) as tf.Scalar;
      }
    }
    return tricks.withDiscriminatorTerms(nets, total); // historical averaging
  }, trainableVariables(discriminatorOf(nets)), 'd');
  fake.dispose();

  // G phase: maximise L_C − L_S on the same (z, c); only G's variables move.
  let classG!: tf.Scalar;
  const lossG = tricks.minimize(opt.g, () => {
    const x = applyG(nets, ctx.z, yFake); // [B, ...shape]
    const f = split(D(tricks.dInput(x)));
    classG = tf.keep(classLoss(f.classes, yFake));
    const total = tf.add(loss.g(f.source, realSource), classG) as tf.Scalar;
    return tricks.withGeneratorTerms(nets, total, x); // feature matching, historical averaging
  }, trainableVariables(nets.generator), 'g');

  const v = (t: tf.Tensor) => t.dataSync()[0];
  const penaltyValues = Object.fromEntries(Object.entries(kept).filter(([name]) => name.startsWith('reg/')).map(([name, t]) => [name, v(t)]));
  const stats: StepStats = {
    lossD: v(lossD), lossG: v(lossG), dReal: v(kept.dReal), dFake: v(kept.dFake),
    extra: { 'class/loss-d': v(kept.classD), 'class/loss-g': v(classG), 'class/acc-real': v(kept.accReal), ...penaltyValues },
  };
  tf.dispose([lossD, lossG, classG, realSource, yReal, yFake, ...Object.values(kept)]);
  return stats;
}

/**
 * The networks AC-GAN and InfoGAN build on: dcgan's for images, vanilla's for points, built for a
 * generator input `inputWidth` wide. Returns G's layers and D's layers up to its features (the final
 * one-logit dense is dropped; each family puts its own heads there). The layers keep their weights and
 * seeded initialisers; `chain` wires them into the family's own functional models.
 */
export function backboneLayers(
  data: DatasetInfo, config: RunConfig, rng: Rng, inputWidth: number,
): { g: tfl.layers.Layer[]; dBody: tfl.layers.Layer[]; release(): void } {
  const base = (data.kind === 'image' ? dcgan : vanilla).build(data, { ...config, latentDim: inputWidth }, rng);
  // tfjs-layers frees a layer's weights when the last model using it is disposed. Once the caller's models
  // use these layers, `release` drops the base models' claim on them (and frees the unused logit layer).
  const release = () => {
    base.generator.dispose();
    discriminatorOf(base).dispose();
  };
  return { g: base.generator.layers, dBody: discriminatorOf(base).layers.slice(0, -1), release };
}

/** Apply `layers` one after another to `x`. */
export function chain(layers: tfl.layers.Layer[], x: tfl.SymbolicTensor): tfl.SymbolicTensor {
  return layers.reduce((h, layer) => layer.apply(h) as tfl.SymbolicTensor, x);
}

/** The init of a head on D's features: DCGAN's N(0, 0.02) for conv nets, Glorot for the MLPs. */
export function headInit(data: DatasetInfo, init: SeededInit) {
  return data.kind === 'image' ? init.normal(0.02) : init.glorotUniform();
}
