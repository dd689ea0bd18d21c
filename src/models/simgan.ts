import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { discriminatorOf, type FamilyState, type GanFamily, type StepContext, type StepStats } from '../gan/family.js';
import { settingsOf, type SettingsTable } from '../gan/config.js';
import type { AdversarialLoss } from '../gan/losses.js';
import { discriminatorPhase, trainableVariables } from '../gan/step.js';
import { imageRows } from '../gan/sampling.js';
import type { NamedTensor } from '../gan/model_io.js';
import { SeededInit } from '../nn/init.js';
import type { Rng } from '../util/rng.js';
import { UserError } from '../util/errors.js';
import { readTidy } from '../util/tensors.js';
import { localDiscriminator, refiner } from './nets/simgan_nets.js';
import { translate } from './pix2pix.js';

/** SimGAN's own settings. */
export interface SimGanSettings {
  lambdaReg: number;
  bufferSize: number;
  pretrainR: number;
  pretrainD: number;
  kG: number;
  kD: number;
  refinerBlocks: number;
}

export const SIMGAN_SETTINGS: SettingsTable = {
  lambdaReg: { default: 0.5, schema: z.number().nonnegative().finite(), help: "weight λ of the self-regularisation λ·mean|R(x) − x| against the mean per-patch cross-entropy (eq. 4; the paper gives no value for this scale; ours)" },
  bufferSize: { default: 6400, schema: z.number().int().nonnegative(), help: 'refined images kept in the history buffer; half of each D batch is drawn from it (§2.3; 0 = off)' },
  pretrainR: { default: 200, schema: z.number().int().nonnegative(), help: 'first steps train R on self-regularisation alone (the paper: 1,000)' },
  pretrainD: { default: 50, schema: z.number().int().nonnegative(), help: 'steps after those that train D alone on real vs refined (the paper: 200)' },
  kG: { default: 2, schema: z.number().int().positive(), help: 'refiner updates per step, K_g of Algorithm 1 (eye gaze: 2)' },
  kD: { default: 1, schema: z.number().int().positive(), help: 'discriminator updates per step, K_d of Algorithm 1 (eye gaze: 1)' },
  refinerBlocks: { default: 4, schema: z.number().int().positive(), help: 'ResNet blocks of the refiner (eye gaze: 4)' },
};

/** The phases of a run, in order; stats report the current one's index as `phase`. */
export const SIMGAN_PHASES = ['pretrain-R', 'pretrain-D', 'adversarial'] as const;
export type SimGanPhase = (typeof SIMGAN_PHASES)[number];

/** The phase of the step after `step` completed ones. */
export function simganPhase(step: number, s: { pretrainR: number; pretrainD: number }): SimGanPhase {
  if (step < s.pretrainR) return 'pretrain-R';
  if (step < s.pretrainR + s.pretrainD) return 'pretrain-D';
  return 'adversarial';
}

/**
 * The local adversarial loss (§2.2): D outputs a w×h map of logits, one per image patch, each the probability
 * that its patch is refined rather than real; the loss is the cross-entropy of every patch, averaged over patches
 * and images. With logit l of "real", −log σ(l) = softplus(−l) and −log(1 − σ(l)) = softplus(l).
 * R minimises −log D_real(R(x)) per patch (eq. 3's l_real).
 */
export const localAdversarialLoss: AdversarialLoss = {
  name: 'local (per-patch) cross-entropy',
  d: (real, fake) => tf.add(tf.mean(tf.softplus(tf.neg(real))), tf.mean(tf.softplus(fake))) as tf.Scalar,
  g: (fake) => tf.mean(tf.softplus(tf.neg(fake))) as tf.Scalar,
};

/**
 * SimGAN (Shrivastava, Pfister, Tuzel, Susskind, Wang & Webb 2017, "Learning from Simulated and Unsupervised
 * Images through Adversarial Training"): a refiner R makes labelled synthetic images x look like unlabelled real
 * ones y while staying close to x, so the labels still hold. Algorithm 1:
 *
 *   pre-train R on λ‖R(x) − x‖₁ alone, then D alone                                (the paper: 1,000 and 200 steps)
 *   each step: K_g updates of R on  L_R = Σ_patches −log D_real(R(x)) + λ‖R(x) − x‖₁            (eq. 4, §2.2)
 *              K_d updates of D on  Σ_patches −log D_real(y) − log(1 − D_real(x̃)), where half of the refined
 *              batch x̃ is R's current output and half is drawn from a buffer of earlier refined images, b/2 of
 *              which are then replaced by the new ones                                            (§2.3)
 *
 * Data: synthetic images as the input domain A, real ones as B (`--data unpaired:font-digits,mnist`); the
 * labels of A are what refinement preserves (`ganforge refine` carries them along).
 */
export const simgan: GanFamily = {
  name: 'simgan',
  summary: 'refines labelled synthetic images toward unlabelled real ones (Shrivastava et al. 2017); ganforge refine',
  paper: 'Shrivastava, Pfister, Tuzel, Susskind, Wang & Webb 2017, Learning from Simulated and Unsupervised Images through Adversarial Training, arXiv:1612.07828',
  condition: 'image',
  directions: ['AtoB'],
  exportGenerators: { AtoB: 'generator' },
  // The local cross-entropy is part of the method; --width is the refiner's feature maps and D's base width.
  honours: ['width'],
  settings: SIMGAN_SETTINGS,
  players: [
    { name: 'g', lr: 'lrG', moves: 'the refiner R' },
    { name: 'd', lr: 'lrD', moves: 'the local discriminator' },
  ],

  // The paper trains with lr 0.001 (SGD); Adam at that rate with β1 0.5 here.
  defaults: () => ({ lrG: 1e-3, lrD: 1e-3, beta1: 0.5, beta2: 0.999, width: 64, batchSize: 64 }),

  check(data) {
    if (!data.input) return `simgan refines synthetic images toward real ones, so it needs two domains; give --data unpaired:SYNTHETIC,REAL (e.g. unpaired:font-digits,mnist)`;
    const [h, w, c] = data.shape;
    const [ha, wa, ca] = data.input.shape;
    if (ha !== h || wa !== w || ca !== c) return `simgan's refiner keeps the image as it is, so A and B need one shape, got A ${data.input.shape.join('×')} and B ${data.shape.join('×')}; pass --image-size N`;
    if (h < 8 || w < 8) return `simgan's discriminator halves the image twice; images must be at least 8×8, got ${h}×${w}`;
    return null;
  },

  build(data, config, rng) {
    const init = new SeededInit(rng);
    const s = settingsOf<SimGanSettings>(config);
    return {
      generator: refiner({ shape: data.shape, features: config.width, blocks: s.refinerBlocks }, init),
      discriminator: localDiscriminator({ shape: data.shape, width: config.width }, init),
    };
  },

  createState: (data, config) => new HistoryBuffer(settingsOf<SimGanSettings>(config).bufferSize, data.shape),

  step: simganStep,

  sample(nets, request) {
    // R has no batch statistics and no dropout, so a whole request refines in chunks, each image as it would alone.
    if (!request.input) return translate(nets, request, 'simgan', nets.generator); // its error for a missing input
    if (request.class !== undefined || request.code?.length || request.vary !== undefined) throw new UserError('simgan refines images; it takes no --class, --code or --vary');
    const input = request.input; // [n, H, W, C]
    const [, h, w, c] = nets.generator.inputs[0].shape as number[];
    if (input.shape[1] !== h || input.shape[2] !== w || input.shape[3] !== c) {
      throw new UserError(`simgan: the refiner takes ${h}×${w}×${c} images, got ${input.shape.slice(1).join('×')}`);
    }
    const n = input.shape[0];
    const values = new Float32Array(n * h * w * c);
    for (let lo = 0; lo < n; lo += SAMPLE_CHUNK) {
      const size = Math.min(SAMPLE_CHUNK, n - lo);
      values.set(readTidy(() => R(nets.generator, tf.slice(input, [lo, 0, 0, 0], [size, -1, -1, -1]))), lo * h * w * c);
    }
    return { values, count: n, shape: [h, w, c] };
  },

  picture(nets, probe) {
    // Rows: synthetic x | refined R(x) | a real image, for 64 fixed examples.
    const { x, input } = probe.batch!;
    const n = Math.min(x.shape[0], input!.shape[0]); // unpaired domains may differ in size
    const [synthetic, real] = [tf.slice(input!, 0, n), tf.slice(x, 0, n)];
    const refined = tf.tidy(() => R(nets.generator, synthetic));
    try {
      return imageRows([synthetic, refined, real]);
    } finally {
      tf.dispose([synthetic, real, refined]);
    }
  },
};

const SAMPLE_CHUNK = 256;
const R = (model: { apply: (x: tf.Tensor, k: { training: boolean }) => unknown }, x: tf.Tensor): tf.Tensor => model.apply(x, { training: true }) as tf.Tensor;
const disposeBatch = (b: { x: tf.Tensor; input?: tf.Tensor; labels?: tf.Tensor }) => tf.dispose([b.x, b.input, b.labels].filter((t) => t !== undefined));
const l1 = (x: tf.Tensor, y: tf.Tensor) => tf.mean(tf.abs(tf.sub(x, y))) as tf.Scalar;

/** One step of Algorithm 1, or of a pre-training phase when the run is still in one. */
export function simganStep(ctx: StepContext): StepStats {
  const { nets, opt, config } = ctx;
  const s = settingsOf<SimGanSettings>(config);
  const buffer = ctx.state as HistoryBuffer;
  const phase = simganPhase(ctx.step, s);
  const batches = (k: number) => Array.from({ length: k }, (_, i) => (i === 0 ? { x: ctx.real, input: ctx.input!, own: false } : { ...ctx.nextBatch(), own: true }));
  const extra: Record<string, number> = { phase: SIMGAN_PHASES.indexOf(phase) };
  let lossG = 0;

  // R: K_g updates (pre-training: the self-regularisation alone, unweighted, so λ does not slow it down; its
  // minimum, R = identity, is the same).
  if (phase !== 'pretrain-D') {
    for (const batch of batches(s.kG)) {
      const x = batch.input!; // [B, H, W, C] synthetic
      let adv!: tf.Scalar, reg!: tf.Scalar;
      const loss = opt.g.minimize(() => {
        const refined = R(nets.generator, x); // [B, H, W, C]
        reg = tf.keep(l1(refined, x));
        if (phase === 'pretrain-R') return tf.clone(reg);
        adv = tf.keep(localAdversarialLoss.g(discriminatorOf(nets).apply(refined, { training: true }) as tf.Tensor, refined)); // per-patch logits [B, h, w, 1]
        return tf.add(adv, tf.mul(s.lambdaReg, reg)) as tf.Scalar;
      }, true, trainableVariables(nets.generator))!;
      lossG = loss.dataSync()[0];
      extra['loss/self_reg'] = reg.dataSync()[0];
      if (adv) extra['loss/R_adv'] = adv.dataSync()[0];
      tf.dispose([loss, reg, adv].filter((t) => t !== undefined));
      if (batch.own) disposeBatch(batch);
    }
  }
  if (phase === 'pretrain-R') return { lossG, extra }; // D does not move: no D loss to report

  // D: K_d updates on real y vs refined x̃, half of x̃ from the history buffer, which then takes the new ones.
  let d = { lossD: 0, dReal: 0, dFake: 0 };
  for (const batch of batches(s.kD)) {
    const refined = tf.tidy(() => R(nets.generator, batch.input!)); // [B, H, W, C], a constant to D
    const { fake, fresh } = buffer.fakeBatch(refined, ctx.rng);
    const phaseD = discriminatorPhase(nets, opt, localAdversarialLoss, batch.x, fake);
    buffer.add(fresh, ctx.rng);
    d = phaseD;
    extra['buffer/from_history'] = fake.shape[0] - fresh.shape[0];
    tf.dispose([refined, fake, fresh, phaseD.realLogits]);
    if (batch.own) disposeBatch(batch);
  }
  extra['buffer/size'] = buffer.length;
  return { lossD: d.lossD, lossG, dReal: d.dReal, dFake: d.dFake, extra };
}

/**
 * The history of refined images (§2.3): D's refined batch of b is half the refiner's current output and half
 * drawn at random from this buffer, so D keeps rejecting artefacts R produced earlier and R cannot bring them
 * back; after each D update, b/2 random entries are replaced by the new images (appended while it fills). Kept
 * in host memory: it is a few megabytes of pixels, and a checkpoint saves it as one tensor.
 */
export class HistoryBuffer implements FamilyState {
  private readonly pixels: number;
  private data: Float32Array;
  private count = 0;

  constructor(readonly capacity: number, readonly imageShape: number[]) {
    this.pixels = imageShape.reduce((a, b) => a * b, 1);
    this.data = new Float32Array(0);
  }

  get length(): number {
    return this.count;
  }

  /**
   * D's refined batch for the current output `refined` [B, ...]: its first ⌈B/2⌉ rows (`fresh`) and ⌊B/2⌋ drawn
   * without replacement from the buffer, or all B rows fresh while the buffer holds fewer than ⌊B/2⌋ (or is off).
   * Both results are the caller's.
   */
  fakeBatch(refined: tf.Tensor, rng: Rng): { fake: tf.Tensor; fresh: tf.Tensor } {
    const b = refined.shape[0];
    const half = Math.floor(b / 2);
    if (this.capacity === 0 || half === 0 || this.count < half) return { fake: tf.clone(refined), fresh: tf.clone(refined) };
    const picks = distinct(this.count, half, rng);
    const old = new Float32Array(half * this.pixels);
    picks.forEach((p, i) => old.set(this.data.subarray(p * this.pixels, (p + 1) * this.pixels), i * this.pixels));
    const fresh = tf.slice(refined, 0, b - half);
    const fake = tf.tidy(() => tf.concat([fresh, tf.tensor(old, [half, ...this.imageShape])])); // [B, ...]: fresh rows, then history
    return { fake, fresh };
  }

  /** Put `images` [n, ...] in: appended while there is room, then each over a random stored one. */
  add(images: tf.Tensor, rng: Rng): void {
    if (this.capacity === 0) return;
    const values = images.dataSync() as Float32Array;
    if (this.data.length === 0) this.data = new Float32Array(this.capacity * this.pixels);
    for (let i = 0; i < images.shape[0]; i++) {
      const slot = this.count < this.capacity ? this.count++ : rng.int(this.capacity);
      this.data.set(values.subarray(i * this.pixels, (i + 1) * this.pixels), slot * this.pixels);
    }
  }

  save(): { json: unknown; tensors: NamedTensor[] } {
    const tensors = this.count > 0 ? [{ name: 'history', tensor: tf.tensor(this.data.slice(0, this.count * this.pixels), [this.count, ...this.imageShape]) }] : [];
    return { json: { length: this.count }, tensors };
  }

  restore(saved: { json: unknown; tensors: NamedTensor[] }): void {
    const t = saved.tensors.find((x) => x.name === 'history')?.tensor;
    this.count = t ? t.shape[0] : 0;
    this.data = new Float32Array(this.capacity * this.pixels);
    if (t) this.data.set((t.dataSync() as Float32Array).subarray(0, Math.min(this.count, this.capacity) * this.pixels));
    this.count = Math.min(this.count, this.capacity);
  }

  dispose(): void {
    this.data = new Float32Array(0);
    this.count = 0;
  }
}

/** k distinct integers in [0, n), by a partial Fisher–Yates shuffle. */
function distinct(n: number, k: number, rng: Rng): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx.slice(0, k);
}
