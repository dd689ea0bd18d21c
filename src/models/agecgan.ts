import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { extraNetwork, samplingGenerator, type EditRequest, type EditResult, type GanFamily, type GanNetworks, type IdentityNet } from '../gan/family.js';
import type { RunConfig } from '../gan/config.js';
import type { DatasetInfo } from '../data/types.js';
import { backboneHonours } from '../gan/settings.js';
import { applyG, standardStep, trainableVariables, type StepContext, type StepStats } from '../gan/step.js';
import { generate, oneHotLabels } from '../gan/sampling.js';
import { SeededInit } from '../nn/init.js';
import { UserError } from '../util/errors.js';
import { backboneLayers, chain } from './acgan.js';
import { dcgan } from './dcgan.js';
import { conditionalDiscriminator, latentEncoder, levelsOf } from './nets/agecgan_nets.js';

/** Name of the latent encoder E among GanNetworks.extra (saved as checkpoints/step-N/encoder/). */
export const AGE_ENCODER = 'encoder';

/** Defaults of the latent optimisation in an edit: Adam steps on z and its rate. */
export const EDIT_STEPS = 200;
export const EDIT_LR = 0.03;

/**
 * Age-cGAN (Antipov, Baccouche & Dugelay 2017, "Face Aging with Conditional Generative Adversarial Networks"):
 * a conditional GAN on (z, y), y the one-hot bin of an ordered attribute (age groups in the paper; here any
 * ordinal data: mnist-thickness, emoji-age, folder:PATH --ordinal), and an encoder E that inverts G.
 *
 *   §3.1 cGAN:   G(z, y) with y joined to z at G's input; D(x, y) with y joined to the first convolution's output.
 *   §3.2 E:      trained on generated pairs, min_E ‖z − E(G(z, y))‖², y drawn at random.
 *   §3.2 edit:   z₀ = E(x); z* = argmin_z ‖FR(x) − FR(G(z, y₀))‖² from z₀ (identity-preserving), or
 *                ‖x − G(z, y₀)‖² (pixel-wise), or z* = z₀ (initial); the edit is G(z*, y_target).
 *
 * The paper trains E after G has converged; here E is a third player updated once per step alongside G and D,
 * on a fresh batch of G's current images (in inference mode, as an edit runs G), so one `ganforge train` makes
 * all three networks and E keeps tracking G. The paper's optimiser of z is L-BFGS-B; ours is Adam (EDIT_STEPS at
 * EDIT_LR), which needs no line search through G. Networks are DCGAN's (G exactly dcgan's on [z, y]; D and E in
 * nets/agecgan_nets.ts); defaults are DCGAN's (Adam 2e-4, β1 0.5) as in the paper.
 */
export const agecgan: GanFamily = {
  name: 'agecgan',
  summary: 'Age-cGAN (Antipov et al. 2017): cGAN on an ordinal bin + latent encoder; ganforge edit RUN IMAGE --to BIN',
  paper: 'Antipov, Baccouche & Dugelay 2017, Face Aging with Conditional Generative Adversarial Networks, arXiv:1702.01983',

  condition: 'class',
  players: [
    { name: 'g', lr: 'lrG', moves: 'the generator' },
    { name: 'd', lr: 'lrD', moves: 'the discriminator' },
    { name: 'encoder', lr: 'lrG', moves: 'the latent encoder E, on ‖z − E(G(z, y))‖²' },
  ],
  // The standard step with labels in both players; D is its own (no minibatch layers).
  honours: (data) => backboneHonours(data, { minibatch: false }),

  defaults: (data) => dcgan.defaults(data),

  check(data) {
    if (data.kind !== 'image') return `agecgan edits images, and ${data.name} is 2-D points`;
    if (!data.numClasses || data.numClasses < 2 || !data.ordinal) {
      return `agecgan needs data whose labels are ordered bins of one attribute, and ${data.name} has ${data.numClasses ? 'unordered classes' : 'no labels'}; use mnist-thickness, emoji-age or folder:PATH --ordinal`;
    }
    const [h, w] = data.shape;
    if (h !== w || levelsOf(h) === 0) return `agecgan needs square images of side base·2^n with base ≤ 8 (e.g. 28, 32, 64), got ${h}×${w}; pass --image-size 32 or 64`;
    return null;
  },

  build(data, config, rng) {
    const k = data.numClasses!;
    const { g, release } = backboneLayers(data, config, rng, config.latentDim + k);
    const z = tfl.input({ shape: [config.latentDim], name: 'z' });
    const y = tfl.input({ shape: [k], name: 'label' });
    const zy = tfl.layers.concatenate().apply([z, y]) as tfl.SymbolicTensor; // [B, latentDim + K]
    const generator = tfl.model({ inputs: [z, y], outputs: chain(g, zy), name: 'generator' });
    release();
    const init = new SeededInit(rng);
    return {
      generator,
      discriminator: conditionalDiscriminator(data.shape, k, config.width, init),
      extra: { [AGE_ENCODER]: latentEncoder(data.shape, config.latentDim, config.width, init) },
    };
  },

  step: agecganStep,

  picture: (nets, probe, run) => binRows(nets, probe.z, run),

  attributeEdit: { edit: editImages },
};

/** One Age-cGAN step: the cGAN's D and G updates (standard step with labels), then one update of E. */
export function agecganStep(ctx: StepContext): StepStats {
  const stats = standardStep(ctx);
  const lossE = encoderPhase(ctx);
  return { ...stats, extra: { ...stats.extra, 'loss/encoder': lossE } };
}

/** E's update on a fresh batch of generated pairs (G(z, y), z), z ~ N(0, I), y ~ U{bins}: min ‖z − E(x)‖² (mean per coordinate). */
export function encoderPhase(ctx: StepContext): number {
  const { nets, data } = ctx;
  const encoder = extraNetwork(nets, AGE_ENCODER, 'agecgan');
  const opt = ctx.opt.extra?.encoder;
  if (!opt) throw new Error("agecgan: no 'encoder' optimizer (declare it among the players)");
  const k = data.numClasses!;
  const n = ctx.real.shape[0];
  const z = ctx.latents(); // [B, latentDim]
  const y = oneHotLabels(Array.from({ length: n }, () => ctx.rng.int(k)), k);
  const x = tf.tidy(() => applyG(nets, z, y, false)); // [B, ...shape]: a constant to E
  const loss = opt.minimize(() => tf.mean(tf.squaredDifference(encoder.apply(x, { training: true }) as tf.Tensor, z)) as tf.Scalar, true, trainableVariables(encoder))!;
  const value = loss.dataSync()[0];
  tf.dispose([z, y, x, loss]);
  return value;
}

/** The progress grid: 8 latents (rows) each rendered at every bin (columns), youngest/thinnest first. */
function binRows(nets: GanNetworks, probeZ: tf.Tensor2D, run: { config: RunConfig; data: DatasetInfo }) {
  const k = run.data.numClasses!;
  const rows = Math.min(8, probeZ.shape[0]);
  const classes = Array.from({ length: rows * k }, (_, i) => i % k);
  const z = tf.tidy(() => tf.gather(tf.slice(probeZ, [0, 0], [rows, -1]), Array.from({ length: rows * k }, (_, i) => Math.floor(i / k)))); // [rows·K, latentDim]
  const y = oneHotLabels(classes, k);
  try {
    return { values: generate(samplingGenerator(nets), z, 256, y), count: rows * k, shape: run.data.shape, cols: k };
  } finally {
    tf.dispose([z, y]);
  }
}

/**
 * The edit of §3.2: z₀ = E(x); z* by the request's identity mode from z₀ (Adam on z, G in inference mode); then
 * G(z*, y₀) (the reconstruction) and G(z*, y) for each target bin. y₀ is the request's, or for each image the
 * bin whose G(z₀, y) is nearest x in pixels.
 */
export function editImages(nets: GanNetworks, run: { config: RunConfig; data: DatasetInfo }, request: EditRequest): EditResult {
  const k = run.data.numClasses!;
  const x = request.images; // [N, H, W, C]
  const n = x.shape[0];
  const bad = [...(request.from ?? []), ...request.to].find((b) => !(Number.isInteger(b) && b >= 0 && b < k));
  if (bad !== undefined) throw new UserError(`bin ${bad} is not one of the run's ${k} bins (0–${k - 1}: ${(run.data.classNames ?? []).join(', ')})`);
  if (request.from && request.from.length !== n) throw new Error(`editImages: ${request.from.length} source bins for ${n} images`);
  if (request.identity === 'feature' && !request.identityNet) throw new UserError('--identity feature needs an identity network (FR) to compare images in');
  const G = samplingGenerator(nets);
  const encoder = extraNetwork(nets, AGE_ENCODER, 'agecgan');
  const z0 = tf.tidy(() => encoder.apply(x, { training: false }) as tf.Tensor2D); // [N, latentDim]
  const from = request.from ?? nearestBins(G, z0, x, k);
  const y0 = oneHotLabels(from, k);
  const zVar = tf.variable(z0, true, undefined);
  let loss = { initial: 0, final: 0 };
  try {
    if (request.identity !== 'none') {
      loss = optimiseLatents(zVar, request.identity === 'pixel' ? pixelObjective(G, x, y0) : featureObjective(G, x, y0, request.identityNet!), request.steps ?? EDIT_STEPS, request.lr ?? EDIT_LR);
    }
    const bins = (b: number) => oneHotLabels(new Array<number>(n).fill(b), k);
    const render = (y: tf.Tensor2D) => {
      try {
        return generate(G, zVar, 256, y);
      } finally {
        y.dispose();
      }
    };
    return { reconstructions: generate(G, zVar, 256, y0), edits: request.to.map((b) => render(bins(b))), from, z: zVar.dataSync() as Float32Array, loss };
  } finally {
    tf.dispose([z0, y0, zVar]);
  }
}

/** An objective of the latents: per-image losses [N] (each image's z moves only by its own loss). */
type LatentObjective = ((z: tf.Tensor2D) => tf.Tensor1D) & { dispose(): void };

/** ‖x − G(z, y₀)‖² per image, as a mean over pixels. */
export function pixelObjective(G: tfl.LayersModel, x: tf.Tensor4D, y0: tf.Tensor2D): LatentObjective {
  const f = (z: tf.Tensor2D) => tf.mean(tf.squaredDifference(G.apply([z, y0], { training: false }) as tf.Tensor4D, x), [1, 2, 3]) as tf.Tensor1D;
  return Object.assign(f, { dispose: () => undefined });
}

/** ‖FR(x) − FR(G(z, y₀))‖² per image, as a mean over features; FR(x) is computed once. */
export function featureObjective(G: tfl.LayersModel, x: tf.Tensor4D, y0: tf.Tensor2D, identity: IdentityNet): LatentObjective {
  const target = tf.tidy(() => identity(x)); // [N, D]
  const f = (z: tf.Tensor2D) => tf.mean(tf.squaredDifference(identity(G.apply([z, y0], { training: false }) as tf.Tensor4D), target), 1) as tf.Tensor1D;
  return Object.assign(f, { dispose: () => target.dispose() });
}

/**
 * Adam on the latents `z` (in place) for `steps` steps of the summed per-image losses; returns the mean loss
 * before and after. The objective is disposed here.
 */
export function optimiseLatents(z: tf.Variable, objective: LatentObjective, steps: number, lr: number): { initial: number; final: number } {
  const mean = () => tf.tidy(() => tf.mean(objective(z as unknown as tf.Tensor2D)).dataSync()[0]);
  const opt = tf.train.adam(lr);
  try {
    const initial = mean();
    for (let i = 0; i < steps; i++) opt.minimize(() => tf.sum(objective(z as unknown as tf.Tensor2D)) as tf.Scalar, false, [z]);
    return { initial, final: mean() };
  } finally {
    opt.dispose();
    objective.dispose();
  }
}

/** For each image, the bin y whose G(z₀, y) is nearest it in pixels: its own bin, as far as G can tell. */
export function nearestBins(G: tfl.LayersModel, z0: tf.Tensor2D, x: tf.Tensor4D, k: number): number[] {
  const n = x.shape[0];
  const errors = tf.tidy(() => tf.stack(Array.from({ length: k }, (_, b) => {
    const y = tf.cast(tf.oneHot(tf.fill([n], b, 'int32') as tf.Tensor1D, k), 'float32');
    return tf.mean(tf.squaredDifference(G.apply([z0, y], { training: false }) as tf.Tensor4D, x), [1, 2, 3]);
  }), 1)); // [N, K]
  const best = tf.tidy(() => tf.argMin(errors, 1));
  const out = Array.from(best.dataSync());
  tf.dispose([errors, best]);
  return out;
}
