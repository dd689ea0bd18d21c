/**
 * Plain training steps of pix2pix and CycleGAN on ganforge's networks (src/models/nets), shared by the aten
 * test (test/models/translate_aten.test.ts) and the speed bench (bench/translate_speed.ts). They are the steps of
 * bench/reference/pix2pix_torch.py (--order g-first) and cyclegan_torch.py (--plain), op for op. The bench measures
 * the families' own steps (src/models/pix2pix.ts, cyclegan.ts); these bare ones remain as its --plain line.
 *
 * Both run the generator forward once: G's update first, keeping its outputs, then D's update on those outputs
 * as constants (CycleGAN's order in the authors' code; pix2pix's code updates D first, which costs the same).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { adam } from '../src/nn/adam.js';
import { SeededInit } from '../src/nn/init.js';
import { unetGenerator } from '../src/models/nets/unet.js';
import { resnetGenerator } from '../src/models/nets/resnet_generator.js';
import { patchGanDiscriminator } from '../src/models/nets/patchgan.js';
import { Rng } from '../src/util/rng.js';

export interface TranslateSize {
  size: number;
  /** Generator / discriminator base widths (64 in both papers). */
  ngf?: number;
  ndf?: number;
  /** ResNet blocks (CycleGAN); default resnetBlocks(size). */
  nBlocks?: number;
  seed?: number;
}

export interface TranslateNets {
  generators: LayersModel[];
  discriminators: LayersModel[];
  optG: tf.Optimizer;
  optD: tf.Optimizer;
}

/** Losses of one step, read back (one sync per step, as a training loop's report does). */
export interface StepLosses { lossG: number; lossD: number }

const TRAINING = { training: true };
const vars = (models: LayersModel[]) => models.flatMap((m) => m.trainableWeights.map((w) => w.read() as tf.Variable));
const apply = (m: LayersModel, x: tf.Tensor) => m.apply(x, TRAINING) as tf.Tensor;
/** Adam(2e-4, β1 0.5, β2 0.999), both papers' optimiser. */
const optimisers = () => ({ optG: adam(2e-4, 0.5, 0.999), optD: adam(2e-4, 0.5, 0.999) });

/** pix2pix: U-Net G (batch norm, dropout) and a PatchGAN D that sees A and B concatenated (6 channels). */
export function buildPix2pix(s: TranslateSize): TranslateNets {
  const init = new SeededInit(new Rng(s.seed ?? 0));
  const g = unetGenerator({ size: s.size, ngf: s.ngf ?? 64 }, init);
  const d = patchGanDiscriminator({ size: s.size, inChannels: 6, ndf: s.ndf ?? 64, norm: 'batch' }, init);
  return { generators: [g], discriminators: [d], ...optimisers() };
}

/** CycleGAN: G_A: A→B and G_B: B→A (ResNet, instance norm), D_A and D_B (PatchGAN, instance norm). */
export function buildCyclegan(s: TranslateSize): TranslateNets {
  const init = new SeededInit(new Rng(s.seed ?? 0));
  const g = () => resnetGenerator({ size: s.size, ngf: s.ngf ?? 64, nBlocks: s.nBlocks }, init);
  const d = () => patchGanDiscriminator({ size: s.size, inChannels: 3, ndf: s.ndf ?? 64, norm: 'instance' }, init);
  return { generators: [g(), g()], discriminators: [d(), d()], ...optimisers() };
}

/** −log σ(l) = softplus(−l), −log(1 − σ(l)) = softplus(l): BCE on logits without overflow. */
const bceReal = (logits: tf.Tensor) => tf.mean(tf.softplus(tf.neg(logits)));
const bceFake = (logits: tf.Tensor) => tf.mean(tf.softplus(logits));
const l1 = (x: tf.Tensor, y: tf.Tensor) => tf.mean(tf.abs(tf.sub(x, y)));
const concat = (a: tf.Tensor, b: tf.Tensor) => tf.concat([a, b], -1); // [B, s, s, 6]: D's condition and image

/** λ of pix2pix's L1 term (Isola et al. 2017, §3.1 and §4). */
export const PIX2PIX_L1 = 100;

/**
 * pix2pix (Isola et al. 2017, eq. 4): G minimises BCE(D(A, G(A)), real) + λ·|G(A) − B|₁ (mean), D minimises
 * ½·[BCE(D(A, B), real) + BCE(D(A, G(A)), fake)] (the authors halve D's loss to slow it relative to G).
 */
export function pix2pixStep(nets: TranslateNets, a: tf.Tensor4D, b: tf.Tensor4D): StepLosses {
  const [G] = nets.generators, [D] = nets.discriminators;
  let fake!: tf.Tensor;
  const lossG = nets.optG.minimize(() => {
    const out = apply(G, a); // [B, s, s, 3]
    fake = tf.keep(out);
    return tf.add(bceReal(apply(D, concat(a, out))), tf.mul(PIX2PIX_L1, l1(out, b))) as tf.Scalar;
  }, true, vars([G]))!;
  const lossD = nets.optD.minimize(() =>
    tf.mul(0.5, tf.add(bceReal(apply(D, concat(a, b))), bceFake(apply(D, concat(a, fake))))) as tf.Scalar, true, vars([D]))!;
  return readAndDispose(lossG, lossD, [fake]);
}

/** λ of CycleGAN's cycle-consistency term (Zhu et al. 2017, eq. 3 and §4). */
export const CYCLE_L1 = 10;

/**
 * CycleGAN (Zhu et al. 2017, eq. 1-3, least-squares adversarial loss as in its §4): G_A, G_B minimise
 * (D_B(G_A(A)) − 1)² + (D_A(G_B(B)) − 1)² + λ·(|G_B(G_A(A)) − A|₁ + |G_A(G_B(B)) − B|₁); each D minimises
 * ½·[(D(real) − 1)² + D(fake)²]. (No identity loss and no history pool of fakes: neither changes the kernels.)
 */
export function cycleganStep(nets: TranslateNets, a: tf.Tensor4D, b: tf.Tensor4D): StepLosses {
  const [GA, GB] = nets.generators, [DA, DB] = nets.discriminators;
  const sqErr = (x: tf.Tensor, target: number) => tf.mean(tf.square(tf.sub(x, target)));
  let fakeB!: tf.Tensor, fakeA!: tf.Tensor;
  const lossG = nets.optG.minimize(() => {
    const fb = apply(GA, a), fa = apply(GB, b); // [B, s, s, 3]
    [fakeB, fakeA] = [tf.keep(fb), tf.keep(fa)];
    const adversarial = tf.add(sqErr(apply(DB, fb), 1), sqErr(apply(DA, fa), 1));
    const cycle = tf.add(l1(apply(GB, fb), a), l1(apply(GA, fa), b));
    return tf.add(adversarial, tf.mul(CYCLE_L1, cycle)) as tf.Scalar;
  }, true, vars([GA, GB]))!;
  const lossD = nets.optD.minimize(() => {
    const dLoss = (D: LayersModel, real: tf.Tensor, fake: tf.Tensor) => tf.mul(0.5, tf.add(sqErr(apply(D, real), 1), sqErr(apply(D, fake), 0)));
    return tf.add(dLoss(DA, a, fakeA), dLoss(DB, b, fakeB)) as tf.Scalar;
  }, true, vars([DA, DB]))!;
  return readAndDispose(lossG, lossD, [fakeA, fakeB]);
}

function readAndDispose(lossG: tf.Scalar, lossD: tf.Scalar, kept: tf.Tensor[]): StepLosses {
  const out = { lossG: lossG.dataSync()[0], lossD: lossD.dataSync()[0] };
  tf.dispose([lossG, lossD, ...kept]);
  return out;
}

export function disposeNets(nets: TranslateNets): void {
  for (const m of [...nets.generators, ...nets.discriminators]) m.dispose();
  nets.optG.dispose();
  nets.optD.dispose();
}

/** Images A and B in [-1, 1) from a seed: identical on every backend. */
export function imagePair(batch: number, size: number, seed: number): [tf.Tensor4D, tf.Tensor4D] {
  const rng = new Rng(seed);
  const image = () => tf.tensor4d(Float32Array.from({ length: batch * size * size * 3 }, () => 2 * rng.uniform() - 1), [batch, size, size, 3]);
  return [image(), image()];
}
