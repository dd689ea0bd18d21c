import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { GanFamily } from '../gan/family.js';
import { applyG, trainableVariables, type StepContext, type StepStats } from '../gan/step.js';
import { phaseTricks } from '../gan/tricks/index.js';
import { HONOURS, backboneHonours } from '../gan/settings.js';
import { SeededInit } from '../nn/init.js';
import { Rng } from '../util/rng.js';
import { UserError } from '../util/errors.js';
import { backboneLayers, chain, headInit } from './acgan.js';
import { dcgan } from './dcgan.js';
import { vanilla } from './vanilla.js';
import { dOptimizer } from '../gan/optimizers.js';
import { discriminatorOf } from '../gan/family.js';
import { batchNormalization } from '../nn/batch_norm.js';

/**
 * InfoGAN (Chen, Duan, Houthooft, Schulman, Sutskever & Abbeel 2016, "InfoGAN: Interpretable Representation
 * Learning by Information Maximizing Generative Adversarial Nets"): G's input is split into incompressible
 * noise z and a latent code c, and the game is regularised by a variational lower bound L_I on the mutual
 * information I(c; G(z, c)) (eq. 5–6):
 *
 *   min_{G,Q} max_D  V(D, G) − λ L_I(G, Q),   L_I = E_{c ~ P(c), x ~ G(z, c)}[log Q(c | x)] + H(c)
 *
 * Q shares every layer of D but its last (§5: one extra fully connected layer for Q), so here Q is more
 * columns of the discriminator model: D outputs [B, 1 + K + C] — the source logit, K logits of Q's
 * categorical posterior, C means of its continuous posterior (a Gaussian of fixed unit variance, so
 * −log Q = ½(c − μ)² + const; the paper found a fixed variance sufficient). Since Q lives in D, D's
 * optimizer moves Q with the MI term added to D's loss, and G's optimizer gets the same term: both
 * maximise L_I, as in the paper. H(c) is a constant and is left out of the reported loss.
 *
 * Codes (the paper's MNIST model, §7.1 and appendix C.1): one 10-way categorical c1 ~ Cat(K = 10, p = 0.1),
 * two continuous c2, c3 ~ U(−1, 1), λ = 1, 62 noise variables (G's input has 74), learning rate 2e-4 for D
 * and 1e-3 for G. Networks are dcgan's (vanilla's MLPs on 2-D points), which for 28×28 match the paper's
 * up to its extra 1024-wide dense layers.
 *
 * The latent layout, derived from `config.latentDim` alone (see `infoganLayout`):
 *
 *   u = [ noise (latentDim − 12) | categorical slots (10) | continuous codes (2) ]      [B, latentDim]
 *
 * G's first layers are a fixed, untrainable code prior: the categorical slots pass through softmax(1000·u),
 * which is one-hot(argmax u) — an exact one-hot stays itself, and Gaussian slots become a uniform category —
 * while noise and continuous slots pass unchanged. So every caller that feeds G plain N(0, I) latents (the
 * trainer's sample grids, evaluation, studio, export) gets a valid categorical code; their continuous codes
 * are then N(0, 1), a little wider than the U(−1, 1) G trained on (the paper shows G extrapolates to ±2).
 * Training and `ganforge sample` write the codes themselves (`codeLatents`), from the paper's prior or as
 * `--code cat=3 --vary cont0` asks.
 */
export const infogan: GanFamily = {
  name: 'infogan',
  summary: 'InfoGAN (Chen et al. 2016): latent codes recovered by a Q head; sample --code cat=3 --vary cont0',
  paper: 'Chen et al. 2016, InfoGAN: Interpretable Representation Learning by Information Maximizing GANs, arXiv:1606.03657',

  defaults(data) {
    return data.kind === 'image'
      ? { ...dcgan.defaults(data), latentDim: 62 + CODE_WIDTH, lrD: 2e-4, lrG: 1e-3, beta1: 0.5 }
      : { ...vanilla.defaults(data), latentDim: 16 + CODE_WIDTH };
  },

  // Its own step: one D update per G update and every phase trick; no penalties or clipping.
  honours: (data) => backboneHonours(data, { minibatch: true }).filter((k) => !(HONOURS.standardStep as readonly string[]).includes(k) || k === 'loss'),

  check(data, config) {
    if (config.latentDim <= CODE_WIDTH) {
      return `infogan's latent holds ${CATEGORIES} categorical and ${CONTINUOUS} continuous code slots besides the noise, so --latent-dim must exceed ${CODE_WIDTH} (paper: 74 = 62 noise + ${CODE_WIDTH} code); got ${config.latentDim}`;
    }
    if (config.nCritic !== 1) return `infogan makes one D update per G update; drop --n-critic ${config.nCritic}`;
    return data.kind === 'image' ? dcgan.check(data, config) : null;
  },

  sampleLatents: (config, seed, count, request) => samplingLatents(config.latentDim, seed, count, request),

  build(data, config, rng) {
    const layout = infoganLayout(config.latentDim);
    const { g, dBody, release } = backboneLayers(data, config, rng, config.latentDim);
    const init = new SeededInit(rng);

    // G: the fixed code prior, then the backbone.
    const u = tfl.input({ shape: [config.latentDim], name: 'latent' }); // [B, noise | cat | cont]
    const passLayer = tfl.layers.dense({ units: layout.noise + layout.continuous, useBias: false, trainable: false, kernelInitializer: 'zeros', name: 'noise_and_continuous' });
    const catLayer = tfl.layers.dense({ units: layout.categorical, useBias: false, trainable: false, activation: 'softmax', kernelInitializer: 'zeros', name: 'categorical_code' });
    const prior = tfl.layers.concatenate().apply([passLayer.apply(u), catLayer.apply(u)] as tfl.SymbolicTensor[]) as tfl.SymbolicTensor;
    const generator = tfl.model({ inputs: u, outputs: chain(g, prior), name: 'generator' });
    const kernels = [
      selection(config.latentDim, [...range(0, layout.noise), ...range(layout.contOffset, config.latentDim)], 1),
      selection(config.latentDim, range(layout.catOffset, layout.contOffset), CAT_SHARPNESS),
    ];
    passLayer.setWeights([kernels[0]]);
    catLayer.setWeights([kernels[1]]);
    tf.dispose(kernels); // setWeights copied them

    // D and Q: one body; the source logit, and Q's hidden layer and code outputs (appendix C.1: FC·BN·lReLU·FC).
    const x = tfl.input({ shape: data.shape, name: 'x' });
    const features = chain(dBody, x);
    const source = tfl.layers.dense({ units: 1, kernelInitializer: headInit(data, init), name: 'source' }).apply(features) as tfl.SymbolicTensor;
    let q = tfl.layers.dense({ units: data.kind === 'image' ? 128 : config.hidden, kernelInitializer: headInit(data, init), name: 'q_hidden' }).apply(features) as tfl.SymbolicTensor;
    if (data.kind === 'image') q = batchNormalization({ momentum: 0.9, epsilon: 1e-5 }).apply(q) as tfl.SymbolicTensor;
    q = tfl.layers.leakyReLU({ alpha: 0.2 }).apply(q) as tfl.SymbolicTensor;
    q = tfl.layers.dense({ units: CODE_WIDTH, kernelInitializer: headInit(data, init), name: 'q_codes' }).apply(q) as tfl.SymbolicTensor;
    const out = tfl.layers.concatenate().apply([source, q]) as tfl.SymbolicTensor; // [B, 1 + K + C]
    const discriminator = tfl.model({ inputs: x, outputs: out, name: 'discriminator' });
    release();
    return { generator, discriminator };
  },

  step: infoganStep,
};

/** The paper's MNIST code: one 10-way categorical and two continuous codes, weighted by λ = 1. */
export const CATEGORIES = 10;
export const CONTINUOUS = 2;
export const LAMBDA = 1;
const CODE_WIDTH = CATEGORIES + CONTINUOUS;
/** Softmax temperature⁻¹ of the categorical slots: large enough that softmax is argmax for N(0, 1) slots. */
const CAT_SHARPNESS = 1000;

/** Where each part of InfoGAN's latent sits: [noise | categorical | continuous]. */
export interface InfoganLayout {
  noise: number;
  categorical: number;
  continuous: number;
  catOffset: number;
  contOffset: number;
}

export function infoganLayout(latentDim: number): InfoganLayout {
  const noise = latentDim - CODE_WIDTH;
  return { noise, categorical: CATEGORIES, continuous: CONTINUOUS, catOffset: noise, contOffset: noise + CATEGORIES };
}

/** The codes of a batch: a category per row and CONTINUOUS values per row. */
export interface Codes {
  cat: number[];
  cont: number[][];
}

/** Codes from the paper's prior: c1 ~ Cat(K, 1/K), c2, c3 ~ U(−1, 1). */
export function drawCodes(rng: Rng, n: number): Codes {
  return {
    cat: Array.from({ length: n }, () => rng.int(CATEGORIES)),
    cont: Array.from({ length: n }, () => Array.from({ length: CONTINUOUS }, () => 2 * rng.uniform() - 1)),
  };
}

/** G's input for noise `z` [n, latentDim] (only its noise columns are read) and `codes`: [n, latentDim]. */
export function codeLatents(z: tf.Tensor2D, codes: Codes): tf.Tensor2D {
  const layout = infoganLayout(z.shape[1]);
  return tf.tidy(() => {
    const noise = tf.slice(z, [0, 0], [-1, layout.noise]); // [n, noise]
    const cat = tf.oneHot(tf.tensor1d(codes.cat, 'int32'), CATEGORIES); // [n, K]
    const cont = tf.tensor2d(codes.cont, [codes.cont.length, CONTINUOUS]); // [n, C]
    return tf.concat([noise, tf.cast(cat, 'float32'), cont], 1) as tf.Tensor2D;
  });
}

/**
 * −L_I + H(c) for D's outputs on G(z, c): softmax cross-entropy of the categorical code plus, per continuous
 * code, ½(c − μ)² (a unit-variance Gaussian's −log density up to a constant); means over the batch.
 */
function mutualInformationLoss(out: tf.Tensor, codes: { cat: tf.Tensor; cont: tf.Tensor }): tf.Scalar {
  const logits = tf.slice(out, [0, 1], [-1, CATEGORIES]); // [B, K]
  const mean = tf.slice(out, [0, 1 + CATEGORIES], [-1, CONTINUOUS]); // [B, C]
  const cat = tf.neg(tf.mean(tf.sum(tf.mul(codes.cat, tf.logSoftmax(logits)), -1)));
  const cont = tf.mean(tf.sum(tf.mul(0.5, tf.square(tf.sub(codes.cont, mean))), -1));
  return tf.add(cat, cont) as tf.Scalar;
}

/**
 * One InfoGAN step: draw c from its prior and build G's input from the step's noise; D phase: D and Q
 * minimise loss.d(source) + λ·(−L_I); G phase: G minimises loss.g(source) + λ·(−L_I) on the same (z, c).
 */
export function infoganStep(ctx: StepContext): StepStats {
  const { nets, opt, loss } = ctx;
  const n = ctx.real.shape[0];
  const codes = drawCodes(ctx.rng, n);
  const u = codeLatents(ctx.z, codes); // [B, latentDim]
  const target = tf.tidy(() => ({
    cat: tf.cast(tf.oneHot(tf.tensor1d(codes.cat, 'int32'), CATEGORIES), 'float32'), // [B, K]
    cont: tf.tensor2d(codes.cont, [n, CONTINUOUS]), // [B, C]
  }));
  const D = (x: tf.Tensor) => discriminatorOf(nets).apply(x, { training: true }) as tf.Tensor; // [B, 1 + K + C]
  const source = (out: tf.Tensor) => tf.slice(out, [0, 0], [-1, 1]); // [B, 1]
  // The run's stabilising tricks (--label-smoothing, --instance-noise, --diff-augment, …), as in step.ts's phases.
  const tricks = phaseTricks(nets);
  tricks.rememberReal(ctx.real);

  // D phase: D maximises V(D, G); Q (D's extra columns) maximises L_I on the generated batch.
  const fake = tf.tidy(() => applyG(nets, u)); // [B, ...shape]
  const kept: Record<string, tf.Scalar> = {};
  let realSource!: tf.Tensor;
  const lossD = tricks.minimize(dOptimizer(opt), () => {
    const r = D(tricks.dInput(ctx.real));
    const f = D(tricks.dInput(fake));
    realSource = tf.keep(source(r)); // for relativistic G losses
    kept.dReal = tf.keep(tf.mean(tf.sigmoid(source(r))));
    kept.dFake = tf.keep(tf.mean(tf.sigmoid(source(f))));
    kept.mi = tf.keep(mutualInformationLoss(f, target));
    kept.catAcc = tf.keep(tf.mean(tf.cast(tf.equal(tf.argMax(tf.slice(f, [0, 1], [-1, CATEGORIES]), -1), tf.tensor1d(codes.cat, 'int32')), 'float32')));
    const total = tf.add(tricks.discriminatorLoss(loss).d(source(r), source(f)), tf.mul(LAMBDA, kept.mi)) as tf.Scalar;
    return tricks.withDiscriminatorTerms(nets, total); // historical averaging
  }, trainableVariables(discriminatorOf(nets)), 'd');
  fake.dispose();

  // G phase: G fools D and makes its code recoverable by Q (Q is a constant here).
  const lossG = tricks.minimize(opt.g, () => {
    const x = applyG(nets, u); // [B, ...shape]
    const f = D(tricks.dInput(x));
    const total = tf.add(loss.g(source(f), realSource), tf.mul(LAMBDA, mutualInformationLoss(f, target))) as tf.Scalar;
    return tricks.withGeneratorTerms(nets, total, x); // feature matching, historical averaging
  }, trainableVariables(nets.generator), 'g');

  const v = (t: tf.Tensor) => t.dataSync()[0];
  const stats: StepStats = {
    lossD: v(lossD), lossG: v(lossG), dReal: v(kept.dReal), dFake: v(kept.dFake),
    extra: { 'info/mi-loss': v(kept.mi), 'info/cat-acc': v(kept.catAcc) },
  };
  tf.dispose([lossD, lossG, realSource, u, target.cat, target.cont, ...Object.values(kept)]);
  return stats;
}

// ——— sampling with chosen codes (ganforge sample --code NAME=VALUE --vary NAME) ———

/** Code names for --code/--vary: the categorical `cat` and the continuous `cont0`, `cont1`. */
export const CODE_NAMES = ['cat', ...Array.from({ length: CONTINUOUS }, (_, i) => `cont${i}`)];
/** Columns of a --vary sweep of a continuous code: −2 … 2 in steps of 0.5 (the paper's figures go past ±1). */
export const SWEEP = Array.from({ length: 9 }, (_, i) => -2 + 0.5 * i);

export interface CodeRequest {
  /** --code NAME=VALUE pairs, possibly comma-separated within one flag. */
  code?: string[];
  /** --vary NAME */
  vary?: string;
}

/** Parse --code/--vary into fixed code values by name and the swept name; UserError names the flag. */
export function parseCodeFlags(request: CodeRequest): { fixed: Map<string, number>; vary?: string } {
  const fixed = new Map<string, number>();
  const known = `codes: cat (0..${CATEGORIES - 1}), ${CODE_NAMES.slice(1).join(', ')} (real numbers; trained on −1..1)`;
  for (const item of (request.code ?? []).flatMap((s) => s.split(',')).filter((s) => s.trim() !== '')) {
    const m = /^\s*([A-Za-z0-9]+)\s*=\s*(.*?)\s*$/.exec(item);
    if (!m) throw new UserError(`--code expects NAME=VALUE, got '${item}'; ${known}`);
    const [, name, text] = m;
    if (!CODE_NAMES.includes(name)) throw new UserError(`--code: unknown code '${name}'; infogan ${known}`);
    const value = Number(text);
    if (text === '' || !Number.isFinite(value)) throw new UserError(`--code ${name} needs a number, got '${text}'`);
    if (name === 'cat' && (!Number.isInteger(value) || value < 0 || value >= CATEGORIES)) {
      throw new UserError(`--code cat must be an integer in 0..${CATEGORIES - 1}, got ${text}`);
    }
    if (fixed.has(name)) throw new UserError(`--code ${name} is given twice`);
    fixed.set(name, value);
  }
  if (request.vary !== undefined) {
    if (!CODE_NAMES.includes(request.vary)) throw new UserError(`--vary: unknown code '${request.vary}'; infogan ${known}`);
    if (fixed.has(request.vary)) throw new UserError(`--vary ${request.vary} sweeps a code that --code also fixes; drop one`);
  }
  return { fixed, vary: request.vary };
}

/**
 * G's inputs for `ganforge sample` on an InfoGAN run: [n, latentDim] and the grid's column count.
 * Without --vary: `count` samples, codes from the prior except those --code fixes. With --vary NAME the
 * columns sweep NAME (a continuous code over SWEEP, or cat over 0..K−1) with everything else fixed along a
 * row; rows are the K categories (same noise and continuous codes for every row, as in the paper's
 * Figure 2) when cat is neither fixed nor swept, else ⌊count / columns⌋ (at least 1) independent draws.
 */
export function samplingLatents(latentDim: number, seed: number, count: number, request: CodeRequest): { z: tf.Tensor2D; cols?: number } {
  const { fixed, vary } = parseCodeFlags(request);
  const rng = new Rng(seed);
  const noiseOf = (rows: number) => tf.tensor2d(rng.normals(rows * latentDim), [rows, latentDim]);
  const apply = (codes: Codes, i: number) => {
    if (fixed.has('cat')) codes.cat[i] = fixed.get('cat')!;
    for (let j = 0; j < CONTINUOUS; j++) if (fixed.has(`cont${j}`)) codes.cont[i][j] = fixed.get(`cont${j}`)!;
  };
  if (vary === undefined) {
    const codes = drawCodes(rng, count);
    for (let i = 0; i < count; i++) apply(codes, i);
    return { z: withCodes(noiseOf(count), codes) };
  }
  const values = vary === 'cat' ? Array.from({ length: CATEGORIES }, (_, i) => i) : SWEEP;
  const cols = values.length;
  const catRows = vary !== 'cat' && !fixed.has('cat');
  const rows = catRows ? CATEGORIES : Math.max(1, Math.floor(count / cols));
  // One noise vector and one code draw per row; with category rows, all rows share the first.
  const rowNoise = noiseOf(catRows ? 1 : rows); // [rows or 1, latentDim]
  const rowCodes = drawCodes(rng, catRows ? 1 : rows);
  const codes: Codes = { cat: [], cont: [] };
  const pick: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (const value of values) {
      const src = catRows ? 0 : r;
      const i = codes.cat.length;
      codes.cat.push(catRows ? r : rowCodes.cat[src]);
      codes.cont.push([...rowCodes.cont[src]]);
      apply(codes, i);
      if (vary === 'cat') codes.cat[i] = value;
      else codes.cont[i][Number(vary.slice('cont'.length))] = value;
      pick.push(src);
    }
  }
  const noise = tf.tidy(() => tf.gather(rowNoise, tf.tensor1d(pick, 'int32'))) as tf.Tensor2D; // [rows·cols, latentDim]
  rowNoise.dispose();
  return { z: withCodes(noise, codes), cols };
}

/** codeLatents that frees its noise input. */
function withCodes(noise: tf.Tensor2D, codes: Codes): tf.Tensor2D {
  const u = codeLatents(noise, codes);
  noise.dispose();
  return u;
}

/** A [rows, cols] 0/scale matrix whose column j copies input `from[j]`: a fixed slice as a dense kernel. */
function selection(rows: number, from: number[], scale: number): tf.Tensor2D {
  const m = new Float32Array(rows * from.length);
  from.forEach((r, j) => (m[r * from.length + j] = scale));
  return tf.tensor2d(m, [rows, from.length]);
}

function range(start: number, end: number): number[] {
  return Array.from({ length: end - start }, (_, i) => start + i);
}
