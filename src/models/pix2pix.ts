import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { z } from 'zod';
import { samplingGenerator, type GanFamily, type GanNetworks, type SampleRequest, type SampleResult } from '../gan/family.js';
import { settingsOf, type SettingsTable } from '../gan/config.js';
import { adversarialStep, trainableVariables, type StepContext, type StepStats } from '../gan/step.js';
import { imageRows } from '../gan/sampling.js';
import type { DatasetInfo } from '../data/types.js';
import { SeededInit } from '../nn/init.js';
import { readTidy } from '../util/tensors.js';
import { UserError } from '../util/errors.js';
import { unetGenerator, unetDepth } from './nets/unet.js';
import { patchGanDiscriminator, patchGanLayers } from './nets/patchgan.js';
import { NORM_KINDS, type NormKind } from './nets/layers.js';

/** pix2pix's own settings (flags --lambda-l1, --gan-weight, --norm, --patch-layers). */
export interface Pix2PixSettings {
  lambdaL1: number;
  ganWeight: number;
  norm: NormKind;
  patchLayers: number;
}

export const PIX2PIX_SETTINGS: SettingsTable = {
  lambdaL1: { default: 100, schema: z.number().nonnegative().finite(), help: "weight λ of the L1 distance to the target in G's loss (pix2pix: 100)" },
  ganWeight: { default: 1, schema: z.number().nonnegative().finite(), help: "weight of the adversarial term in G's loss (0 = the L1-only U-Net of the paper's ablation)" },
  norm: { default: 'batch', schema: z.enum(NORM_KINDS as [NormKind, ...NormKind[]]), help: 'normalisation in G and D: batch | instance' },
  patchLayers: { default: 0, schema: z.number().int().nonnegative(), help: "PatchGAN stride-2 layers (0 = by image size: 3 at 256 px, a 70×70 field; fewer for small images)" },
};

/**
 * pix2pix (Isola, Zhu, Zhou & Efros 2017, "Image-to-Image Translation with Conditional Adversarial Networks"):
 * a conditional GAN whose G maps an input image A to an output image B.
 *
 *   G: A → B      a U-Net (encoder-decoder with skip connections); its only noise is dropout (§3.1)
 *   D: (A, B) → a grid of logits, one per N×N patch (PatchGAN, §3.2.2): real pairs (A, B) vs (A, G(A))
 *   G minimises  L_cGAN + λ · ‖B − G(A)‖₁   with λ = 100 (eq. 4);  D's loss is halved (§3.3)
 *   Adam, lr 2e-4, β1 0.5; the rate stays constant for half the run, then decays linearly to 0
 *
 * At test time the generator runs as in training (§3.3): dropout on, batch norm on the test batch's statistics.
 */
export const pix2pix: GanFamily = {
  name: 'pix2pix',
  summary: 'image-to-image translation with a U-Net G and a PatchGAN D (Isola et al. 2017); ganforge translate',
  paper: 'Isola, Zhu, Zhou & Efros 2017, Image-to-Image Translation with Conditional Adversarial Networks, arXiv:1611.07004',
  condition: 'image',
  directions: ['AtoB'],
  exportGenerators: { AtoB: 'generator' },
  sampleInTrainingMode: true, // §3.3, see translate()
  // The non-saturating loss by default (--loss least-squares also works); --width is ngf = ndf.
  honours: ['loss', 'width', 'labelSmoothing', 'gradClip', 'emaDecay'],
  settings: PIX2PIX_SETTINGS,

  defaults: () => ({ lrG: 2e-4, lrD: 2e-4, beta1: 0.5, beta2: 0.999, width: 64, batchSize: 1, lrSchedule: 'linear', lrDecayStart: 0.5, loss: 'non-saturating', augment: 'crop-flip' }),

  check(data, config) {
    if (!data.input || data.input.pairing !== 'paired') return `pix2pix learns from pairs (A, B); ${data.name} is not paired — use cyclegan for two unpaired domains`;
    const [h, w] = data.shape;
    if (h !== w || data.input.shape[0] !== h || data.input.shape[1] !== w) return `pix2pix needs square A and B images of one size, got A ${data.input.shape.join('×')} and B ${data.shape.join('×')}; pass --image-size N (lowres: data gives the small image to SR generators: add --upsample-input to bring it to the target's size)`;
    try {
      unetDepth(h);
      patchGanLayers(h);
    } catch (e) {
      return `${(e as Error).message}; pass --image-size 32, 64, 128 or 256`;
    }
    const s = settingsOf<Pix2PixSettings>(config);
    if (s.patchLayers > 0 && h % 2 ** s.patchLayers !== 0) return `--patch-layers ${s.patchLayers} needs an image side divisible by ${2 ** s.patchLayers}, got ${h}`;
    return null;
  },

  build(data, config, rng) {
    const init = new SeededInit(rng);
    const s = settingsOf<Pix2PixSettings>(config);
    const [size, , outChannels] = data.shape;
    const inChannels = data.input!.shape[2];
    const generator = unetGenerator({ size, inChannels, outChannels, ngf: config.width, norm: s.norm, dropoutSeed: rng.nextUint32() }, init);
    const patch = patchGanDiscriminator({ size, inChannels: inChannels + outChannels, ndf: config.width, norm: s.norm, nLayers: s.patchLayers || undefined }, init);
    return { generator, discriminator: conditionalDiscriminator(patch, data) };
  },

  step: pix2pixStep,

  sample: (nets, request) => translate(nets, request, 'pix2pix'),

  picture(nets, probe) {
    const batch = probe.batch!;
    const out = tf.tensor(translate(nets, { count: batch.x.shape[0], seed: 0, input: batch.input }, 'pix2pix').values, batch.x.shape);
    try {
      return imageRows([batch.input!, out, batch.x]); // input | output | target
    } finally {
      out.dispose();
    }
  },
};

/** One pix2pix iteration (§3.3): D on (A, B) vs (A, G(A)) with its loss halved, then G on L_cGAN + λ·L1. */
export function pix2pixStep(ctx: StepContext): StepStats {
  const { nets, opt, loss } = ctx;
  const s = settingsOf<Pix2PixSettings>(ctx.config);
  const a = ctx.input!; // [B, H, W, Ca]
  const b = ctx.real; // [B, H, W, Cb]
  if (s.ganWeight === 0) return l1OnlyStep(ctx, a, b); // the ablation: no adversary to train
  return adversarialStep(nets, opt, loss, b, a, {
    gInput: a, // G(A): dropout is the noise, there is no z
    yReal: a, // D sees the pair: D(B, A) and D(G(A), A)
    yFake: a,
    dScale: 0.5,
    gTerms: (fake) => ({ 'loss/G_L1': { weight: s.lambdaL1, value: tf.mean(tf.abs(tf.sub(fake, b))) as tf.Scalar } }),
    ganWeight: s.ganWeight,
  });
}

/** The paper's "L1 alone" baseline (Fig. 4, Table 1): G minimises ‖B − G(A)‖₁; D is not trained. */
function l1OnlyStep(ctx: StepContext, a: tf.Tensor, b: tf.Tensor): StepStats {
  const loss = ctx.opt.g.minimize(() => tf.mean(tf.abs(tf.sub(ctx.nets.generator.apply(a, { training: true }) as tf.Tensor, b))) as tf.Scalar, true, trainableVariables(ctx.nets.generator))!;
  const l1 = loss.dataSync()[0];
  loss.dispose();
  return { lossD: 0, lossG: l1, dReal: 0, dFake: 0, extra: { 'loss/G_L1': l1 } };
}

/**
 * D(B, A): the PatchGAN on A and B concatenated along channels (§3.2.2), as a model of two inputs [x = B or
 * G(A), y = A] so the shared D phase (which applies D([x, y])) runs it. Reuses the PatchGAN's own layers.
 */
function conditionalDiscriminator(patch: tfl.LayersModel, data: DatasetInfo): tfl.LayersModel {
  const x = tfl.input({ shape: data.shape, name: 'B' });
  const a = tfl.input({ shape: data.input!.shape, name: 'A' });
  let h = tfl.layers.concatenate({ axis: -1, name: 'pair' }).apply([a, x]) as tfl.SymbolicTensor; // [B, H, W, Ca + Cb]
  for (const layer of patch.layers.slice(1)) h = layer.apply(h) as tfl.SymbolicTensor; // [B, h', w', 1] patch logits
  const d = tfl.model({ inputs: [x, a], outputs: h, name: 'discriminator' });
  patch.dispose(); // its layers now belong to `d`; this drops only the wrapper's claim
  return d;
}

/**
 * G(A) for request.input (images in [-1, 1], any count), run as in training (dropout on, batch statistics; the
 * paper's test-time protocol), in chunks. Shared by pix2pix's sampling, translate and evaluation.
 */
export function translate(nets: GanNetworks, request: SampleRequest, family: string, generator = samplingGenerator(nets)): SampleResult {
  const input = request.input;
  if (!input) throw new UserError(`${family} translates images: give it input images (ganforge translate RUN IMAGES…), not noise`);
  if (request.class !== undefined || request.code?.length || request.vary !== undefined) throw new UserError(`${family} takes no --class, --code or --vary`);
  const [, h, w, c] = generator.inputs[0].shape as number[];
  if (input.shape[1] !== h || input.shape[2] !== w || input.shape[3] !== c) {
    throw new UserError(`${family}: the generator takes ${h}×${w}×${c} images, got ${input.shape.slice(1).join('×')}`);
  }
  const n = input.shape[0];
  // One image at a time: with batch norm on the test batch's statistics (the paper's protocol), an output must
  // not depend on which other images share its request.
  const chunk = 1;
  let values: Float32Array | null = null;
  let shape: number[] = [];
  for (let start = 0; start < n; start += chunk) {
    const size = Math.min(chunk, n - start);
    const part = readTidy(() => {
      const out = generator.apply(tf.slice(input, [start, 0, 0, 0], [size, -1, -1, -1]), { training: true }) as tf.Tensor; // [size, H, W, Cb]
      shape = out.shape.slice(1);
      return out;
    });
    values ??= new Float32Array((part.length / size) * n);
    values.set(part, (part.length / size) * start);
  }
  return { values: values ?? new Float32Array(0), count: n, shape };
}
