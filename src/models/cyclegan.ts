import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { z } from 'zod';
import { extraNetwork, type FamilyState, type GanFamily, type GanNetworks, type Optimizers, discriminatorOf } from '../gan/family.js';
import { settingsOf, type SettingsTable } from '../gan/config.js';
import type { AdversarialLoss } from '../gan/losses.js';
import { discriminatorPhase, trainableVariables, type StepContext, type StepStats } from '../gan/step.js';
import { imageRows } from '../gan/sampling.js';
import type { NamedTensor } from '../gan/model_io.js';
import { SeededInit } from '../nn/init.js';
import type { Rng } from '../util/rng.js';
import { resnetGenerator } from './nets/resnet_generator.js';
import { patchGanDiscriminator, patchGanLayers } from './nets/patchgan.js';
import type { NormKind } from './nets/layers.js';
import { PIX2PIX_SETTINGS, translate } from './pix2pix.js';

/** CycleGAN's own settings. */
export interface CycleGanSettings {
  lambdaCycle: number;
  lambdaIdentity: number;
  poolSize: number;
  resBlocks: number;
  norm: NormKind;
  patchLayers: number;
}

export const CYCLEGAN_SETTINGS: SettingsTable = {
  lambdaCycle: { default: 10, schema: z.number().nonnegative().finite(), help: 'weight λ of the cycle-consistency losses ‖F(G(a)) − a‖₁ and ‖G(F(b)) − b‖₁ (CycleGAN: 10)' },
  lambdaIdentity: { default: 0.5, schema: z.number().nonnegative().finite(), help: 'identity loss ‖G(b) − b‖₁ + ‖F(a) − a‖₁ weighted by this × λ_cycle (CycleGAN: 0.5; needs A and B of equal channels)' },
  poolSize: { default: 50, schema: z.number().int().nonnegative(), help: 'generated images each D also sees from its history pool (Shrivastava et al. 2017; CycleGAN: 50; 0 = off)' },
  resBlocks: { default: 0, schema: z.number().int().nonnegative(), help: 'residual blocks in each generator (0 = by size: 9 at 256 px, 6 at 64–128 px, 4 below)' },
  // The same flags as pix2pix's (one meaning each), CycleGAN's default norm.
  norm: { ...PIX2PIX_SETTINGS.norm, default: 'instance' },
  patchLayers: PIX2PIX_SETTINGS.patchLayers,
};

/** Names among GanNetworks.extra: F (B → A) and D_A. G (A → B) is `generator`, D_B `discriminator`. */
export const GENERATOR_BA = 'generator-ba';
export const DISCRIMINATOR_A = 'discriminator-a';

/**
 * The least-squares objective as CycleGAN writes it (Zhu et al. 2017, eq. 1 with Mao et al.'s loss, §4):
 * G minimises E[(D(G(a)) − 1)²]; D minimises ½(E[(D(b) − 1)²] + E[D(G(a))²]), halved "to slow down D" (§7.1).
 */
export const cycleGanLoss: AdversarialLoss = {
  name: 'least-squares (CycleGAN)',
  d: (real, fake) => tf.mul(0.5, tf.add(tf.mean(tf.square(tf.sub(real, 1))), tf.mean(tf.square(fake)))) as tf.Scalar,
  g: (fake) => tf.mean(tf.square(tf.sub(fake, 1))) as tf.Scalar,
};

/**
 * CycleGAN (Zhu, Park, Isola & Efros 2017, "Unpaired Image-to-Image Translation using Cycle-Consistent
 * Adversarial Networks"): two domains A and B with no pairs between them.
 *
 *   G: A → B and F: B → A   ResNet generators;   D_B judges B vs G(a), D_A judges A vs F(b) (70×70 PatchGANs)
 *   G and F minimise  L_GAN(G, D_B) + L_GAN(F, D_A) + λ (‖F(G(a)) − a‖₁ + ‖G(F(b)) − b‖₁)
 *                      + 0.5 λ (‖G(b) − b‖₁ + ‖F(a) − a‖₁)      (identity, §5.2), λ = 10
 *   each D sees generated images drawn from a history of the last 50 (§4), with the least-squares loss
 *   Adam, lr 2e-4, β1 0.5, batch 1; constant for half the run, then linear decay to 0
 *
 * Players: g moves G and F together (one joint loss), d moves D_B and d-a moves D_A (Adam is per parameter,
 * so this equals one optimizer over both Ds).
 */
export const cyclegan: GanFamily = {
  name: 'cyclegan',
  summary: 'unpaired image-to-image translation with cycle consistency (Zhu et al. 2017); ganforge translate --direction',
  paper: 'Zhu, Park, Isola & Efros 2017, Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial Networks, arXiv:1703.10593',
  condition: 'image',
  directions: ['AtoB', 'BtoA'],
  exportGenerators: { AtoB: 'generator', BtoA: GENERATOR_BA },
  sampleInTrainingMode: true, // sampling shares pix2pix's translate(), which runs G as in training
  // The paper's least-squares objective is part of the method (cycleGanLoss); --width is ngf = ndf.
  honours: ['width'],
  settings: CYCLEGAN_SETTINGS,
  players: [
    { name: 'g', lr: 'lrG', moves: 'both generators, G: A → B and F: B → A' },
    { name: 'd', lr: 'lrD', moves: 'D_B' },
    { name: 'd-a', lr: 'lrD', moves: 'D_A' },
  ],

  defaults: () => ({ lrG: 2e-4, lrD: 2e-4, beta1: 0.5, beta2: 0.999, width: 64, batchSize: 1, lrSchedule: 'linear', lrDecayStart: 0.5, augment: 'crop-flip' }),

  check(data, config) {
    if (!data.input) return `cyclegan translates between two image domains; ${data.name} has one`;
    const [h, w, cb] = data.shape;
    const [ha, wa, ca] = data.input.shape;
    if (h !== w || ha !== h || wa !== w) return `cyclegan needs square A and B images of one size, got A ${data.input.shape.join('×')} and B ${data.shape.join('×')}; pass --image-size N (lowres: data gives the small image to SR generators: add --upsample-input to bring it to the target's size)`;
    if (h % 4 !== 0) return `cyclegan's generators halve the image twice, so the side must be divisible by 4, got ${h}; pass --image-size 32, 64, 128 or 256`;
    try {
      patchGanLayers(h);
    } catch (e) {
      return `${(e as Error).message}; pass --image-size 32, 64, 128 or 256`;
    }
    const s = settingsOf<CycleGanSettings>(config);
    if (s.lambdaIdentity > 0 && ca !== cb) return `--lambda-identity compares G(b) with b, so A and B need the same channels (A has ${ca}, B ${cb}); pass --lambda-identity 0`;
    return null;
  },

  build(data, config, rng) {
    const init = new SeededInit(rng);
    const s = settingsOf<CycleGanSettings>(config);
    const [size, , cb] = data.shape;
    const ca = data.input!.shape[2];
    const gen = (inChannels: number, outChannels: number) =>
      resnetGenerator({ size, inChannels, outChannels, ngf: config.width, norm: s.norm, nBlocks: s.resBlocks || undefined }, init);
    const disc = (inChannels: number) =>
      patchGanDiscriminator({ size, inChannels, ndf: config.width, norm: s.norm, nLayers: s.patchLayers || undefined }, init);
    return {
      generator: gen(ca, cb),
      discriminator: disc(cb),
      extra: { [GENERATOR_BA]: gen(cb, ca), [DISCRIMINATOR_A]: disc(ca) },
    };
  },

  createState: (_data, config) => new ImagePools(settingsOf<CycleGanSettings>(config).poolSize),

  step: cycleganStep,

  sample(nets, request) {
    const generator = request.direction === 'BtoA' ? extraNetwork(nets, GENERATOR_BA, 'cyclegan') : nets.generator;
    return translate(nets, { ...request, direction: undefined }, 'cyclegan', generator);
  },

  picture(nets, probe) {
    const { x: b, input: a } = probe.batch!;
    const run = (g: tfl.LayersModel, x: tf.Tensor, outShape: number[]) => tf.tensor(translate(nets, { count: x.shape[0], seed: 0, input: x }, 'cyclegan', g).values, [x.shape[0], ...outShape]);
    const G = nets.generator;
    const F = extraNetwork(nets, GENERATOR_BA, 'cyclegan');
    const gA = run(G, a!, b.shape.slice(1));
    const fgA = run(F, gA, a!.shape.slice(1));
    const fB = run(F, b, a!.shape.slice(1));
    const gfB = run(G, fB, b.shape.slice(1));
    try {
      // Rows: a | G(a) | F(G(a)), then b | F(b) | G(F(b)) (grey columns repeated to colour).
      const top = imageRows([a!, gA, fgA]);
      const bottom = imageRows([b, fB, gfB]);
      const values = new Float32Array(top.values.length + bottom.values.length);
      if (top.shape[2] !== bottom.shape[2]) return top; // one domain grey, the other colour: the A rows say enough
      values.set(top.values);
      values.set(bottom.values, top.values.length);
      return { values, count: top.count + bottom.count, shape: top.shape, cols: 3 };
    } finally {
      tf.dispose([gA, fgA, fB, gfB]);
    }
  },
};

const TRAINING = { training: true };
/** The first and second half of a batch stacked by tf.concat([x, y]): [x, y]. */
const halves = (t: tf.Tensor): [tf.Tensor, tf.Tensor] => tf.split(t, 2) as [tf.Tensor, tf.Tensor];
const l1 = (x: tf.Tensor, y: tf.Tensor) => tf.mean(tf.abs(tf.sub(x, y))) as tf.Scalar;

/**
 * One CycleGAN iteration, in the authors' order: G and F on the full objective (D_A, D_B fixed), then D_B on
 * b vs a pooled G(a) and D_A on a vs a pooled F(b).
 */
export function cycleganStep(ctx: StepContext): StepStats {
  const { nets, opt, config } = ctx;
  const s = settingsOf<CycleGanSettings>(config);
  const G = nets.generator;
  const F = extraNetwork(nets, GENERATOR_BA, 'cyclegan');
  const DB = discriminatorOf(nets);
  const DA = extraNetwork(nets, DISCRIMINATOR_A, 'cyclegan');
  const a = ctx.input!; // [B, H, W, Ca]
  const b = ctx.real; // [B, H, W, Cb]
  const pools = ctx.state as ImagePools;
  const kept: Record<string, tf.Scalar> = {};
  let fakeB!: tf.Tensor, fakeA!: tf.Tensor;

  // G and F: adversarial + cycle + identity; the same forwards as the paper's code, the cycle and identity ones stacked.
  const lossG = opt.g.minimize(() => {
    const gA = G.apply(a, TRAINING) as tf.Tensor; // G(a) [B, H, W, Cb]
    const fB = F.apply(b, TRAINING) as tf.Tensor; // F(b) [B, H, W, Ca]
    fakeB = tf.keep(tf.clone(gA));
    fakeA = tf.keep(tf.clone(fB));
    const identity = s.lambdaIdentity > 0;
    // The cycle and identity passes of each generator run as one call on both batches stacked, F([G(a); a]) and
    // G([F(b); b]): a per-sample network (instance norm, no dropout) gives each image the output it gets alone,
    // and one call on 2B images costs less than two on B (bigger GEMMs, half the kernel launches). With batch
    // norm the statistics would mix the two batches, so --norm batch keeps separate calls.
    const stacked = identity && s.norm === 'instance';
    const [fgA, fa] = stacked ? halves(F.apply(tf.concat([gA, a]), TRAINING) as tf.Tensor) : [F.apply(gA, TRAINING) as tf.Tensor, undefined];
    const [gfB, gb] = stacked ? halves(G.apply(tf.concat([fB, b]), TRAINING) as tf.Tensor) : [G.apply(fB, TRAINING) as tf.Tensor, undefined];
    const terms: Record<string, tf.Scalar> = {
      'loss/G_AB': cycleGanLoss.g(DB.apply(gA, TRAINING) as tf.Tensor, gA),
      'loss/G_BA': cycleGanLoss.g(DA.apply(fB, TRAINING) as tf.Tensor, fB),
      'loss/cycle_A': tf.mul(s.lambdaCycle, l1(fgA, a)) as tf.Scalar,
      'loss/cycle_B': tf.mul(s.lambdaCycle, l1(gfB, b)) as tf.Scalar,
    };
    if (identity) {
      const w = s.lambdaIdentity * s.lambdaCycle;
      terms['loss/idt_B'] = tf.mul(w, l1(gb ?? (G.apply(b, TRAINING) as tf.Tensor), b)) as tf.Scalar;
      terms['loss/idt_A'] = tf.mul(w, l1(fa ?? (F.apply(a, TRAINING) as tf.Tensor), a)) as tf.Scalar;
    }
    for (const [name, t] of Object.entries(terms)) kept[name] = tf.keep(t);
    return tf.addN(Object.values(terms)) as tf.Scalar;
  }, true, [...trainableVariables(G), ...trainableVariables(F)])!;

  // D_B on b vs G(a), D_A on a vs F(b), each fake from the history pool (drawn with the run's RNG).
  const pooledB = pools.b.query(fakeB, ctx.rng);
  const pooledA = pools.a.query(fakeA, ctx.rng);
  const dB = discriminatorPhase(nets, opt, cycleGanLoss, b, pooledB);
  const dA = discriminatorPhase(viewA(nets, F, DA), optimizerA(opt), cycleGanLoss, a, pooledA);
  const stats = Object.fromEntries(Object.entries(kept).map(([k, t]) => [k, t.dataSync()[0]]));
  const lossGValue = lossG.dataSync()[0];
  tf.dispose([lossG, fakeA, fakeB, pooledA, pooledB, dA.realLogits, dB.realLogits, ...Object.values(kept)]);
  return {
    lossD: dA.lossD + dB.lossD, lossG: lossGValue, dReal: (dA.dReal + dB.dReal) / 2, dFake: (dA.dFake + dB.dFake) / 2,
    extra: { ...stats, 'loss/D_A': dA.lossD, 'loss/D_B': dB.lossD },
  };
}

/** D_A's view of the run for the shared D phase: its "generator" F and its discriminator D_A. */
function viewA(nets: GanNetworks, F: tfl.LayersModel, DA: tfl.LayersModel): GanNetworks {
  return { generator: F, discriminator: DA, extra: nets.extra };
}

function optimizerA(opt: Optimizers): Optimizers {
  const dA = opt.extra?.['d-a'];
  if (!dA) throw new Error("cyclegan: no 'd-a' optimizer (declare it among the players)");
  return { g: opt.g, d: dA };
}

/**
 * A history of generated images (Shrivastava et al. 2017, §2.3; CycleGAN §4): until it holds `size` images each
 * new one goes in and is shown to D; after that, each new image is shown as it is with probability ½, or swapped
 * for a random stored one, which D sees instead.
 */
export class ImagePool {
  private images: tf.Tensor[] = []; // each [1, H, W, C]

  constructor(readonly size: number) {}

  get length(): number {
    return this.images.length;
  }

  /** The batch D sees for `fake` [B, H, W, C]; the caller disposes the result. */
  query(fake: tf.Tensor, rng: Rng): tf.Tensor {
    if (this.size === 0) return tf.clone(fake);
    const out: tf.Tensor[] = [];
    const rows = tf.split(fake, fake.shape[0]); // B × [1, H, W, C]
    for (const row of rows) {
      if (this.images.length < this.size) {
        this.images.push(tf.keep(tf.clone(row)));
        out.push(row);
      } else if (rng.uniform() > 0.5) {
        const i = rng.int(this.size);
        out.push(this.images[i]);
        this.images[i] = tf.keep(tf.clone(row));
        row.dispose();
      } else {
        out.push(row);
      }
    }
    const batch = tf.concat(out); // [B, H, W, C]
    tf.dispose(out.filter((t) => !this.images.includes(t)));
    return batch;
  }

  toTensor(): tf.Tensor | undefined {
    return this.images.length > 0 ? tf.concat(this.images) : undefined;
  }

  fromTensor(t: tf.Tensor | undefined): void {
    this.dispose();
    this.images = t ? tf.split(t, t.shape[0]).map((x) => tf.keep(x)) : [];
  }

  dispose(): void {
    tf.dispose(this.images);
    this.images = [];
  }
}

/** CycleGAN's family state: one pool of generated B images (for D_B) and one of A images (for D_A). */
class ImagePools implements FamilyState {
  readonly a: ImagePool;
  readonly b: ImagePool;

  constructor(size: number) {
    this.a = new ImagePool(size);
    this.b = new ImagePool(size);
  }

  save(): { json: unknown; tensors: NamedTensor[] } {
    const tensors: NamedTensor[] = [];
    for (const [name, pool] of [['pool-a', this.a], ['pool-b', this.b]] as const) {
      const t = pool.toTensor();
      if (t) tensors.push({ name, tensor: t });
    }
    return { json: { a: this.a.length, b: this.b.length }, tensors };
  }

  restore(saved: { json: unknown; tensors: NamedTensor[] }): void {
    const byName = new Map(saved.tensors.map((t) => [t.name, t.tensor]));
    this.a.fromTensor(byName.get('pool-a'));
    this.b.fromTensor(byName.get('pool-b'));
  }

  dispose(): void {
    this.a.dispose();
    this.b.dispose();
  }
}
