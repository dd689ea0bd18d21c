import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { samplingGenerator, type GanFamily, type GanNetworks, type SampleRequest, type SampleResult } from '../gan/family.js';
import { settingsOf, type SettingsTable } from '../gan/config.js';
import { applyD, discriminatorPhase, trainableVariables, untaped, type DPhaseResult, type StepContext, type StepStats } from '../gan/step.js';
import { imageRows } from '../gan/sampling.js';
import { drawMask, MASK_KINDS, type MaskKind } from '../data/masks.js';
import { SeededInit } from '../nn/init.js';
import { UserError } from '../util/errors.js';
import { unetDepth } from './nets/unet.js';
import { patchGanLayers } from './nets/patchgan.js';
import { NORM_KINDS, type NormKind } from './nets/layers.js';
import { bandAround, composite, holeOf, inpaintDiscriminator, inpaintGenerator, knownOf, maskedL1, maskImages } from './nets/inpaint_nets.js';

/** inpaint's own settings (flags --lambda-hole, --lambda-valid, --valid-band, --gan-weight, --norm, --patch-layers, --step-masks). */
export interface InpaintSettings {
  lambdaHole: number;
  lambdaValid: number;
  validBand: number;
  ganWeight: number;
  norm: NormKind;
  patchLayers: number;
  stepMasks: 'off' | MaskKind;
}

export const INPAINT_SETTINGS: SettingsTable = {
  lambdaHole: { default: 100, schema: z.number().nonnegative().finite(), help: "weight of the L1 distance to the image inside the hole in G's loss" },
  lambdaValid: { default: 20, schema: z.number().nonnegative().finite(), help: "weight of the L1 distance to the image in the band of known pixels around the hole (--valid-band) in G's loss" },
  validBand: { default: 0, schema: z.number().int().nonnegative(), help: 'width in pixels of the band around the hole where --lambda-valid counts (0 = by image size: side/16, at least 1)' },
  ganWeight: { default: 1, schema: z.number().nonnegative().finite(), help: "weight of the adversarial term in G's loss (0 = the reconstruction-only encoder–decoder)" },
  norm: { default: 'instance', schema: z.enum(NORM_KINDS as [NormKind, ...NormKind[]]), help: 'normalisation in G and D: instance (the same at training and test time) | batch' },
  patchLayers: { default: 0, schema: z.number().int().nonnegative(), help: 'PatchGAN stride-2 layers (0 = by image size, as pix2pix)' },
  stepMasks: {
    default: 'off', schema: z.enum(['off', ...MASK_KINDS]),
    help: "draw fresh holes every step (rect | strokes | mixed) from the run's seeded generator, instead of the data's fixed per-example ones (off)",
  },
};

/**
 * Image inpainting with an adversarial encoder–decoder: Pathak, Krähenbühl, Donahue, Darrell & Efros 2016
 * ("Context Encoders: Feature Learning by Inpainting"), with pix2pix's U-Net and PatchGAN (Isola et al. 2017) and
 * free-form masks as Yu et al. 2019 draw them (data/masks.ts).
 *
 *   input  [x ⊙ (1 − M) + fill · M, M]      the image with its hole M filled with mid-grey, and M as a channel
 *   G      U-Net → x̂;  completed  x̃ = M ⊙ x̂ + (1 − M) ⊙ x        (the known pixels are kept)
 *   D      PatchGAN on [x̃ or x, M]: one logit per patch (local); there is no global D
 *   G minimises  L_adv(D(x̃, M)) + λ_hole · ‖M ⊙ (x̂ − x)‖₁ + λ_valid · ‖B ⊙ (x̂ − x)‖₁
 *          (each L1 a mean over its pixels; B the known pixels within --valid-band of the hole, where G's raw
 *          output must agree with the image so that its fill meets the border seamlessly); D's loss is halved
 *   Adam, lr 2e-4, β1 0.5 (pix2pix's)
 */
export const inpaint: GanFamily = {
  name: 'inpaint',
  summary: 'image inpainting: a U-Net fills the hole, a PatchGAN judges the completed image (Pathak et al. 2016, Yu et al. 2019 masks); ganforge inpaint',
  paper: 'Pathak, Krähenbühl, Donahue, Darrell & Efros 2016, Context Encoders: Feature Learning by Inpainting, arXiv:1604.07379',
  condition: 'image',
  directions: ['AtoB'],
  exportGenerators: { AtoB: 'generator' },
  honours: ['loss', 'width', 'emaDecay'],
  settings: INPAINT_SETTINGS,

  defaults: () => ({ lrG: 2e-4, lrD: 2e-4, beta1: 0.5, beta2: 0.999, width: 64, batchSize: 16, loss: 'non-saturating' }),

  check(data) {
    const [h, w, c] = data.shape;
    if (!data.input || data.input.pairing !== 'paired' || data.input.shape[2] !== c + 1 || data.input.shape[0] !== h || data.input.shape[1] !== w) {
      return `inpaint learns from images with holes, whose input is the masked image plus its mask as one more channel; ${data.name} is not such data — use --data masked:SPEC (e.g. masked:folder:PATH)`;
    }
    if (h !== w) return `inpaint needs square images, got ${h}×${w}; pass --image-size N`;
    try {
      unetDepth(h);
      patchGanLayers(h);
    } catch (e) {
      return `${(e as Error).message}; pass --image-size 32, 64, 128 or 256`;
    }
    return null;
  },

  build(data, config, rng) {
    const init = new SeededInit(rng);
    const s = settingsOf<InpaintSettings>(config);
    const [size, , channels] = data.shape;
    return {
      generator: inpaintGenerator({ size, channels, ngf: config.width, norm: s.norm }, init),
      discriminator: inpaintDiscriminator({ size, channels, ndf: config.width, norm: s.norm, nLayers: s.patchLayers || undefined }, init),
    };
  },

  step: inpaintStep,

  sample: (nets, request) => fillHoles(nets, request),

  picture(nets, probe) {
    const batch = probe.batch!;
    const out = tf.tensor(fillHoles(nets, { count: batch.x.shape[0], seed: 0, input: batch.input }).values, batch.x.shape);
    const known = knownOf(batch.input!);
    try {
      return imageRows([known, out, batch.x]); // masked | completed | original
    } finally {
      tf.dispose([out, known]);
    }
  },
};

/** One step: D on (x, M) vs (x̃, M) with its loss halved, then G on L_adv + λ_hole·L1_hole + λ_valid·L1_band. */
export function inpaintStep(ctx: StepContext): StepStats {
  const { nets, opt, loss } = ctx;
  const s = settingsOf<InpaintSettings>(ctx.config);
  const real = ctx.real; // [B, H, W, C]
  const h = real.shape[1]!;
  const band = s.validBand || Math.max(1, Math.round(h / 16));
  // The holes: the data's, or fresh ones from the run's generator (checkpointed, so a resumed run draws the same).
  const input = s.stepMasks === 'off' ? ctx.input! : freshInput(real, s.stepMasks, ctx);
  const hole = holeOf(input); // [B, H, W, 1]
  const near = bandAround(hole, band);
  const known = knownOf(input);
  let d!: DPhaseResult;
  const kept: Record<string, tf.Scalar> = {};
  try {
    const lossG = opt.g.minimize(() => {
      const raw = nets.generator.apply(input, { training: true }) as tf.Tensor; // [B, H, W, C]
      const filled = composite(raw, known, hole);
      // D step on the completed image (a constant to D's update; G's tape is paused meanwhile, see untaped).
      d = untaped(() => discriminatorPhase(nets, opt, loss, real, filled, { yReal: hole, yFake: hole, scale: 0.5 }));
      const adversarial = loss.g(applyD(nets, filled, hole), d.realLogits);
      const holeL1 = maskedL1(raw, real, hole);
      const validL1 = maskedL1(raw, real, near);
      kept['loss/G_GAN'] = tf.keep(tf.clone(adversarial));
      kept['loss/G_hole'] = tf.keep(holeL1);
      kept['loss/G_valid'] = tf.keep(validL1);
      return tf.addN([tf.mul(s.ganWeight, adversarial), tf.mul(s.lambdaHole, holeL1), tf.mul(s.lambdaValid, validL1)]) as tf.Scalar;
    }, true, trainableVariables(nets.generator))!;
    const lossValue = lossG.dataSync()[0];
    lossG.dispose();
    const extra = Object.fromEntries(Object.entries(kept).map(([k, t]) => [k, t.dataSync()[0]]));
    return { lossD: d.lossD, lossG: lossValue, dReal: d.dReal, dFake: d.dFake, extra };
  } finally {
    tf.dispose([hole, near, known, ...Object.values(kept), ...(d ? [d.realLogits] : [])]);
    if (input !== ctx.input) input.dispose();
  }
}

/** G's input from the real batch with a fresh hole per example, drawn from the step's generator. */
function freshInput(real: tf.Tensor, kind: MaskKind, ctx: StepContext): tf.Tensor {
  const [n, h, w] = real.shape;
  const holes = new Float32Array(n * h * w);
  for (let i = 0; i < n; i++) holes.set(drawMask(kind, ctx.rng, h, w), i * h * w);
  return tf.tidy(() => maskImages(real, tf.tensor4d(holes, [n, h, w, 1])));
}

/**
 * The completed images for request.input ([n, H, W, C + 1]: masked images and masks in [-1, 1]): G's output in
 * each hole, the input's known pixels elsewhere. Inference mode (instance norm is the same either way).
 */
export function fillHoles(nets: GanNetworks, request: SampleRequest, generator = samplingGenerator(nets)): SampleResult {
  const input = request.input;
  if (!input) throw new UserError('inpaint fills holes: give it images with masks (ganforge inpaint RUN IMAGE --mask MASK.png), not noise');
  if (request.class !== undefined || request.code?.length || request.vary !== undefined) throw new UserError('inpaint takes no --class, --code or --vary');
  const [, h, w, c] = generator.inputs[0].shape as number[];
  if (input.shape[1] !== h || input.shape[2] !== w || input.shape[3] !== c) {
    throw new UserError(`inpaint: the generator takes ${h}×${w} images with ${c - 1} channel(s) and a mask, got ${input.shape.slice(1).join('×')}`);
  }
  const n = input.shape[0];
  const chunk = 16;
  const values = new Float32Array(n * h * w * (c - 1));
  for (let start = 0; start < n; start += chunk) {
    const size = Math.min(chunk, n - start);
    const part = tf.tidy(() => {
      const x = tf.slice(input, [start, 0, 0, 0], [size, -1, -1, -1]);
      return composite(generator.apply(x, { training: false }) as tf.Tensor, knownOf(x), holeOf(x)); // [size, H, W, C]
    });
    values.set(part.dataSync(), start * h * w * (c - 1));
    part.dispose();
  }
  return { values, count: n, shape: [h, w, c - 1] };
}
