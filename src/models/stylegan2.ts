import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { z } from 'zod';
import { EMA_GENERATOR, conditionOf, extraNetwork, samplingGenerator, type FamilyState, type GanFamily, type StyleSpace, discriminatorOf } from '../gan/family.js';
import { settingsOf, type RunConfig, type SettingsTable } from '../gan/config.js';
import { nonSaturating } from '../gan/losses.js';
import { lazyWeight, r1Penalty } from '../gan/regularizers.js';
import { HONOURS, honourList } from '../gan/settings.js';
import { applyD, conditionalLabels, trainableVariables, type StepContext, type StepStats } from '../gan/step.js';
import { copyNetwork, phaseTricks, updateEma } from '../gan/tricks/index.js';
import type { DatasetInfo } from '../data/types.js';
import type { Rng } from '../util/rng.js';
import {
  stylegan2Discriminator, stylegan2Generator, styleParts, wResolutions, withFixedNoise, noiseShapesOf, type StyleGan2Size, type StyleParts,
} from './nets/stylegan2_nets.js';
import { dOptimizer } from '../gan/optimizers.js';

/** stylegan2's own settings (flags --w-dim, --mapping-layers, --max-width, --style-mixing, --pl-*, --ema-*). */
export interface StyleGan2Settings {
  wDim: number;
  mappingLayers: number;
  maxWidth: number;
  styleMixing: number;
  plWeight: number;
  plInterval: number;
  plDecay: number;
  plBatchShrink: number;
  emaKimg: number;
  emaRampup: number;
}

const positiveInt = z.number().int().positive();
const fraction = z.number().min(0).max(1);

export const STYLEGAN2_SETTINGS: SettingsTable = {
  wDim: { default: 256, schema: positiveInt, help: 'size of the intermediate latent w (paper: 512; z is --latent-dim)' },
  mappingLayers: { default: 8, schema: positiveInt, help: 'dense layers of the mapping network z → w (paper: 8; StyleGAN2-ADA uses 2 on small datasets)' },
  maxWidth: { default: 256, schema: positiveInt, help: 'channel cap of every layer; --width is the count at the output resolution, doubled per halving up to this (paper: 512)' },
  styleMixing: { default: 0.9, schema: fraction, help: "probability that a training batch mixes two latents' styles at a random crossover (paper: 0.9; 0 = off)" },
  plWeight: { default: 2, schema: z.number().nonnegative().finite(), help: 'path-length regularisation weight (paper: 2; 0 = off)' },
  plInterval: { default: 4, schema: positiveInt, help: 'path-length regularisation every N steps, weighted by N (lazy regularisation; paper: 4)' },
  plDecay: { default: 0.01, schema: z.number().positive().max(1), help: 'decay of the running mean a of path lengths (paper: 0.01)' },
  plBatchShrink: { default: 2, schema: positiveInt, help: 'path-length regularisation runs on batch/N latents (paper: 2)' },
  emaKimg: { default: 10, schema: z.number().nonnegative().finite(), help: "half-life of the EMA of G's weights in thousands of images (paper: 10; 0 = the EMA is G)" },
  emaRampup: { default: 0.05, schema: z.number().nonnegative().finite(), help: 'EMA half-life at most this fraction of the images seen so far (StyleGAN2-ADA: 0.05; 0 = off, the paper)' },
};

/** β of the mean-w tracker, per step (StyleGAN: 0.995). */
export const W_AVG_BETA = 0.995;
/** Sides stylegan2 trains at: it is scaled for 32–128 px, and 16 px makes quick tests. */
export const SIDES = [16, 32, 64, 128];
/** The batch size the defaults assume (StyleGAN2-ADA's 32 per step below 512 px). */
const DEFAULT_BATCH = 32;

/**
 * StyleGAN2 (Karras, Laine, Aittala, Hellsten, Lehtinen & Aila 2020, "Analyzing and Improving the Image Quality
 * of StyleGAN"), config E/F scaled to 16–128 px:
 *
 *   mapping  f: z → w (normalised z, 8 equalized dense layers at lr ×0.01); w̄ tracked with β = 0.995
 *   synthesis: w+ [B, numWs, wDim] → image; a 4×4 constant, modulated/demodulated 3×3 convs with per-pixel
 *              noise, skip toRGB outputs (Fig. 7b); G = synthesis ∘ broadcast ∘ f
 *   D: fromRGB, residual blocks (Fig. 7c), minibatch stddev (group 4), conv, dense, logit
 *   loss: non-saturating logistic; style mixing with probability 0.9 (one crossover per batch)
 *   lazy R1 (§4): γ/2·E‖∇D(x)‖² every 16 D steps, ×16; lazy path length (§3.2, eq. 4): every 4 G steps, ×4,
 *              weight 2, on half the batch, a the running mean of path lengths (decay 0.01)
 *   each lazily regularised player's Adam runs with lr·c and β^c, c = k/(k + 1) (appendix B; Player.lazyInterval)
 *   Adam lr 0.0025, β1 0, β2 0.99; G's EMA with a half-life of 10k images; sampling uses the EMA
 *
 * γ defaults to StyleGAN2-ADA's heuristic 0.0002·R²/batch at batch 32 (0.0064 at 32 px, 0.1 at 128 px; the
 * paper's 1024 px runs use 10); --r1-gamma sets it. The truncation trick pulls w toward w̄ (`sample
 * --truncation ψ`); the style space feeds `sample --style-mix`. On labelled data the pair is class-conditional as
 * in StyleGAN2-ADA (Karras et al. 2020b, appendix C): the mapping network reads the normalised class embedding
 * beside z, and D ends in a projection output; generated batches draw classes uniformly. A plain folder trains
 * it unconditional.
 */
export const stylegan2: GanFamily = {
  name: 'stylegan2',
  summary: 'StyleGAN2 (Karras et al. 2020) at 16–128 px: style mixing, lazy R1 and path length, EMA; sample --truncation, --style-mix',
  paper: 'Karras, Laine, Aittala, Hellsten, Lehtinen & Aila 2020, Analyzing and Improving the Image Quality of StyleGAN, arXiv:1912.04958',
  condition: 'class',
  optionalCondition: true,
  // Its own step: the non-saturating loss, R1 through --r1-gamma/--reg-interval, and the tricks that act on
  // D's input (DiffAugment, instance noise) or targets (label smoothing). D's minibatch stddev is --minibatch-stddev.
  honours: honourList('latentDim', 'width', 'r1Gamma', 'regInterval', 'minibatchStddev', HONOURS.augment,
    'labelSmoothing', 'instanceNoise', 'instanceNoiseSteps', 'instanceNoiseAnneal'),
  settings: STYLEGAN2_SETTINGS,
  players: [
    { name: 'g', lr: 'lrG', moves: 'the mapping and synthesis networks', lazyInterval: (c) => (s(c).plWeight > 0 ? s(c).plInterval : 0) },
    { name: 'd', lr: 'lrD', moves: 'the discriminator', lazyInterval: (c) => (c.r1Gamma > 0 ? c.regInterval : 0) },
  ],
  truncation: 'w',

  defaults(data) {
    const side = data.kind === 'image' ? data.shape[0] : 32;
    return {
      latentDim: 256, width: 64, batchSize: DEFAULT_BATCH, loss: 'non-saturating', optimizer: 'adam',
      lrG: 0.0025, lrD: 0.0025, beta1: 0, beta2: 0.99,
      r1Gamma: 0.0002 * side * side / DEFAULT_BATCH, regInterval: 16, minibatchStddev: 4,
    };
  },

  check(data, config) {
    if (data.kind !== 'image') return `stylegan2 makes images, and ${data.name} is 2-D points; try vanilla or sngan on it`;
    const [h, w] = data.shape;
    if (h !== w || !SIDES.includes(h)) {
      return `stylegan2 grows a 4×4 constant by doubling, so it needs square images with a side of ${SIDES.join(', ')} px, got ${h}×${w}; pass --image-size 32 (or 64, 128)`;
    }
    const own = s(config);
    if (own.maxWidth < config.width) return `--max-width ${own.maxWidth} is below --width ${config.width}, the channel count at the output resolution; raise --max-width or lower --width`;
    if (Math.floor(config.batchSize / own.plBatchShrink) < 1) return `--pl-batch-shrink ${own.plBatchShrink} leaves no latent of a batch of ${config.batchSize} for path-length regularisation; lower it`;
    return null;
  },

  build(data, config, rng) {
    const size = sizeOf(data, config);
    const generator = stylegan2Generator(size, rng);
    const discriminator = stylegan2Discriminator(size, rng);
    return { generator, discriminator, extra: { [EMA_GENERATOR]: copyNetwork(generator, EMA_GENERATOR) } };
  },

  createState: () => new PathLengthMean(),

  step: stylegan2Step,

  styleSpace: (nets, run) => styleSpace(samplingGenerator(nets), run.config),
};

function s(config: RunConfig): RunConfig & StyleGan2Settings {
  return settingsOf<StyleGan2Settings>(config);
}

function sizeOf(data: DatasetInfo, config: RunConfig): StyleGan2Size {
  const own = s(config);
  return {
    resolution: data.shape[0], channels: data.shape[2], zDim: config.latentDim, wDim: own.wDim, mappingLayers: own.mappingLayers,
    width: config.width, maxWidth: own.maxWidth, mbstdGroup: config.minibatchStddev,
    classes: conditionOf(stylegan2, data) === 'class' ? data.numClasses ?? 0 : 0,
  };
}

/**
 * The running mean a of path lengths (eq. 4's target), checkpointed with the run so that a resumed run
 * continues it exactly. A JS number: JSON keeps it bit for bit.
 */
export class PathLengthMean implements FamilyState {
  a = 0;
  save() {
    return { json: { plMean: this.a }, tensors: [] };
  }
  restore(saved: { json: unknown }) {
    this.a = (saved.json as { plMean: number }).plMean;
  }
  dispose() {}
}

/**
 * β of G's EMA at a step, from its half-life (Karras et al. 2020's training loop): β = 0.5^(B / n), n = emaKimg·1000
 * images, with a ramp-up n ≤ rampup·(images seen so far) that keeps the early EMA close to G.
 */
export function emaBeta(batchSize: number, emaKimg: number, rampup: number, imagesSeen: number): number {
  let n = emaKimg * 1000;
  if (rampup > 0) n = Math.min(n, imagesSeen * rampup);
  return n > 0 ? 0.5 ** (batchSize / n) : 0;
}

/**
 * Style mixing regularisation (Karras et al. 2019, §3.1): with probability p the batch takes a second latent
 * and the crossover index, uniform in 1..numWs − 1, from which on every style input reads the second w; else
 * numWs (no mixing). One draw per batch, as in the authors' code.
 */
export function drawCrossover(rng: Rng, numWs: number, p: number): number {
  return numWs > 1 && rng.uniform() < p ? 1 + rng.int(numWs - 1) : numWs;
}

/** w+ from two w's: inputs 0..cutoff − 1 read w1 [B, wDim], the rest w2: [B, numWs, wDim]. */
export function mixWs(w1: tf.Tensor2D, w2: tf.Tensor2D | null, cutoff: number, numWs: number): tf.Tensor3D {
  const tiled = (w: tf.Tensor2D, n: number) => tf.tile(tf.reshape(w, [w.shape[0], 1, w.shape[1]]), [1, n, 1]); // [B, n, wDim]
  if (cutoff >= numWs || !w2) return tiled(w1, numWs) as tf.Tensor3D;
  return tf.concat([tiled(w1, cutoff), tiled(w2, numWs - cutoff)], 1) as tf.Tensor3D;
}

/**
 * A batch's latents for G: z [B, zDim], the mixing latent and crossover when the batch mixes, and for a
 * conditional G the one-hot classes c [B, K] both latents map with (the caller's, not freed with the latents).
 */
interface Latents {
  z: tf.Tensor2D;
  z2: tf.Tensor2D | null;
  cutoff: number;
  c?: tf.Tensor2D;
}

/** Draw a batch's crossover (and its second latent from the run's RNG when it mixes); z is the caller's. */
function latentsFor(ctx: StepContext, G: StyleParts, z: tf.Tensor2D, c?: tf.Tensor2D): Latents {
  const cutoff = drawCrossover(ctx.rng, G.numWs, s(ctx.config).styleMixing);
  if (cutoff >= G.numWs) return { z, z2: null, cutoff, c };
  const z2 = ctx.latents();
  return { z, z2: z2.shape[0] === z.shape[0] ? z2 : keepRows(z2, z.shape[0]), cutoff, c };
}

/** The first n rows of x [B, …], x freed. */
function keepRows<T extends tf.Tensor>(x: T, n: number): T {
  const out = tf.slice(x, 0, n) as T;
  x.dispose();
  return out;
}

/** Mapping and (possibly mixed) w+ of a batch: w [B, wDim] of its first latent, ws [B, numWs, wDim]. */
function mapLatents(G: StyleParts, l: Latents): { w: tf.Tensor2D; ws: tf.Tensor3D } {
  const map = (z: tf.Tensor2D) => G.mapping.apply(l.c ? [z, l.c] : z, TRAINING) as tf.Tensor2D;
  const w = map(l.z);
  return { w, ws: mixWs(w, l.z2 && map(l.z2), l.cutoff, G.numWs) };
}

const TRAINING = { training: true };

/**
 * One update of a player over every variable in `vars`. A lazy regulariser does not reach all of them (R1 never
 * reaches D's last bias, path length no toRGB bias), and Adam keeps its moments by position in the list, so
 * those get a zero gradient, as the authors' `loss + 0·output` terms give them. Goes through
 * computeGradients, where a data-parallel run averages gradients over ranks. Returns the loss.
 */
function update(optimizer: tf.Optimizer, f: () => tf.Scalar, vars: tf.Variable[]): tf.Scalar {
  const { value, grads } = optimizer.computeGradients(f, vars);
  const all: tf.NamedTensorMap = Object.fromEntries(vars.map((v) => [v.name, grads[v.name] ?? tf.zerosLike(v)]));
  optimizer.applyGradients(all);
  tf.dispose(Object.values(all));
  return value;
}

/** A scalar's value; frees it. */
function take(t: tf.Tensor): number {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
}

/**
 * One StyleGAN2 iteration, the phases of the authors' training loop in their order: G main, G reg (path length,
 * every plInterval steps), D main, D reg (R1, every regInterval steps), then w̄ and G's EMA. Every input of
 * D goes through the run's phase tricks (DiffAugment, instance noise; ADA), R1's too.
 */
export function stylegan2Step(ctx: StepContext): StepStats {
  const { nets, opt, config } = ctx;
  const own = s(config);
  const G = styleParts(nets.generator);
  const tricks = phaseTricks(nets);
  // Class-conditional: the real batch's own classes, and uniform ones for every generated batch of the step.
  const labels = ctx.condition === 'class' ? conditionalLabels(ctx, 'stylegan2') : null;
  const D = (x: tf.Tensor, y?: tf.Tensor) => applyD(nets, tricks.dInput(x), y); // [B, 1]
  const gVars = trainableVariables(nets.generator);
  const dVars = trainableVariables(discriminatorOf(nets));
  const batch = ctx.real.shape[0];
  const extra: Record<string, number> = {};

  // G main: the non-saturating loss −log D(G(z)) (it reads no real logits), with style mixing; keeps the batch's mean w for w̄.
  const gLatents = latentsFor(ctx, G, ctx.z, labels?.yFake);
  let wMean!: tf.Tensor2D;
  const lossG = take(update(opt.g, () => {
    const { w, ws } = mapLatents(G, gLatents);
    wMean = tf.keep(tf.mean(w, 0, true)); // [1, wDim]
    const logits = D(G.synthesis.apply(ws, TRAINING) as tf.Tensor, labels?.yFake);
    return nonSaturating.g(logits, logits);
  }, gVars));
  gLatents.z2?.dispose();

  // G reg: path length (§3.2), E_{w,y}(‖J_wᵀy‖₂ − a)², y ~ N(0, I)/√(H·W), on batch/shrink latents; a ← a + decay·(mean length − a).
  const plWeight = lazyWeight(ctx.step, own.plInterval, own.plWeight);
  if (plWeight > 0) {
    const state = ctx.state as PathLengthMean;
    const n = Math.floor(batch / own.plBatchShrink);
    const plClasses = labels ? tf.slice(labels.yFake, 0, n) as tf.Tensor2D : undefined;
    const pl = latentsFor(ctx, G, keepRows(ctx.latents(), n), plClasses);
    const [h, w, c] = ctx.data.shape;
    const y = tf.randomNormal([n, h, w, c], 0, 1 / Math.sqrt(h * w), 'float32', ctx.rng.nextUint32() % 2147483647);
    let a = state.a;
    let length = 0;
    let penalty!: tf.Scalar;
    take(update(opt.g, () => {
      const { ws } = mapLatents(G, pl);
      const jty = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(G.synthesis.apply(x, TRAINING) as tf.Tensor, y)))(ws); // J_wᵀy [n, numWs, wDim]
      const lengths = tf.sqrt(tf.mean(tf.sum(tf.square(jty), 2), 1)); // [n]
      length = tf.mean(lengths).dataSync()[0];
      a = state.a + own.plDecay * (length - state.a); // the updated mean is the target, as in the authors' code
      penalty = tf.keep(tf.mean(tf.square(tf.sub(lengths, a)))) as tf.Scalar;
      return tf.mul(plWeight, penalty) as tf.Scalar;
    }, gVars));
    state.a = a;
    Object.assign(extra, { 'reg/pl': take(penalty), 'pl/length': length, 'pl/mean': a });
    tf.dispose([pl.z, ...(pl.z2 ? [pl.z2] : []), ...(plClasses ? [plClasses] : []), y]);
  }

  // D main: softplus(D(G(z))) + softplus(−D(x)), G(z) (style mixing again) a constant here.
  const dLatents = latentsFor(ctx, G, ctx.latents(), labels?.yFake);
  const fake = tf.tidy(() => G.synthesis.apply(mapLatents(G, dLatents).ws, TRAINING) as tf.Tensor); // [B, H, W, C]
  tf.dispose([dLatents.z, ...(dLatents.z2 ? [dLatents.z2] : [])]);
  const dLoss = tricks.discriminatorLoss(nonSaturating); // label smoothing moves its real target
  let dReal!: tf.Scalar, dFake!: tf.Scalar;
  const lossD = take(update(dOptimizer(opt), () => {
    const real = D(ctx.real, labels?.yReal);
    const generated = D(fake, labels?.yFake);
    dReal = tf.keep(tf.mean(tf.sigmoid(real)));
    dFake = tf.keep(tf.mean(tf.sigmoid(generated)));
    return dLoss.d(real, generated);
  }, dVars));
  fake.dispose();

  // D reg: R1 (Mescheder et al. 2018) γ/2·E‖∇ₓD(x)‖² on the same real batch, weighted by its interval.
  const r1 = lazyWeight(ctx.step, config.regInterval, config.r1Gamma);
  if (r1 > 0) extra['reg/r1'] = take(update(dOptimizer(opt), () => r1Penalty((x) => D(x, labels?.yReal), ctx.real, r1), dVars));

  // w̄ (the truncation trick's centre), then G's EMA, which copies w̄ and the noise draw counts.
  G.tracker.track(wMean, W_AVG_BETA);
  const beta = emaBeta(config.batchSize, own.emaKimg, own.emaRampup, ctx.step * config.batchSize);
  updateEma(extraNetwork(nets, EMA_GENERATOR, 'stylegan2'), nets.generator, beta);
  extra['ema/beta'] = beta;
  tf.dispose([wMean, ...(labels ? [labels.yReal, labels.yFake] : [])]);

  return { lossD, lossG, dReal: take(dReal), dFake: take(dFake), extra };
}

/** The mapping's input: z, or [z, c] for a conditional mapping (which refuses to map without classes). */
function mappingInput(G: StyleParts, z: tf.Tensor2D, classes?: tf.Tensor2D): tf.Tensor | tf.Tensor[] {
  if (G.classes === 0) return z;
  if (!classes) throw new Error('this stylegan2 generator is class-conditional: its mapping needs one-hot classes [B, K] beside z');
  return [z, classes];
}

/** Latents per class that the per-class w̄ averages over (drawn from a fixed seed, so it is the same every call). */
const CLASS_MEAN_SAMPLES = 1024;
const CLASS_MEAN_SEED = 0x77617667;

/**
 * w̄ per class [K, wDim]: the mean of f(z, c) over a fixed draw of z for each class c. The tracked w̄ averages
 * over every class, so truncating toward it would pull a sample toward the average of all classes (the
 * StyleGAN2-ADA code does that); the per-class centre keeps the class.
 */
function classMeanTable(G: StyleParts, config: RunConfig): Float32Array {
  return tf.tidy(() => {
    const z = tf.randomNormal([CLASS_MEAN_SAMPLES, config.latentDim], 0, 1, 'float32', CLASS_MEAN_SEED) as tf.Tensor2D;
    const perClass = Array.from({ length: G.classes }, (_, k) => {
      const c = tf.cast(tf.oneHot(tf.fill([CLASS_MEAN_SAMPLES], k, 'int32') as tf.Tensor1D, G.classes), 'float32') as tf.Tensor2D;
      return tf.mean(G.mapping.apply([z, c]) as tf.Tensor2D, 0); // [wDim]
    });
    return tf.stack(perClass).dataSync() as Float32Array;
  });
}

/**
 * The style space of a generator (its EMA copy when sampling): mapping, w̄ and synthesis of w+, with the
 * per-pixel noise drawn from a seed or turned off. Tensors it returns are the caller's.
 */
export function styleSpace(generator: tfl.LayersModel, config: RunConfig): StyleSpace {
  const G = styleParts(generator);
  const resolution = G.synthesis.outputs[0].shape[1] as number;
  let table: Float32Array | undefined; // w̄ per class, made on first use (a mapping pass of 1024 latents per class)
  return {
    zDim: config.latentDim,
    wDim: s(config).wDim,
    numWs: G.numWs,
    resolutions: wResolutions(resolution),
    noiseShapes: noiseShapesOf(G.synthesis),
    models: { mapping: G.mapping, synthesis: G.synthesis },
    mapping: (zs, classes) => G.mapping.apply(mappingInput(G, zs, classes)) as tf.Tensor2D,
    // [1 or B, wDim]: per class, the rows' (one-hot) mix of the class centres, worked out once per style space.
    meanW: (classes) => {
      if (!classes || G.classes === 0) return tf.tidy(() => tf.reshape(G.tracker.mean(), [1, -1]) as tf.Tensor2D);
      table ??= classMeanTable(G, config);
      const centres = table;
      return tf.tidy(() => tf.matMul(classes, tf.tensor2d(centres, [G.classes, centres.length / G.classes])));
    },
    synthesis: (ws, options = {}) =>
      withFixedNoise(G.synthesis, options.noise ?? 'random', options.seed ?? 0, ws.shape[0], () => G.synthesis.apply(ws) as tf.Tensor4D),
  };
}
