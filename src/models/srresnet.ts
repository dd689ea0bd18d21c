import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { z } from 'zod';
import { samplingGenerator, type GanFamily, type GanNetworks, type Probe, type SampleRequest, type SampleResult } from '../gan/family.js';
import { settingsOf, type RunConfig, type SettingsTable } from '../gan/config.js';
import { trainableVariables, type StepContext, type StepStats } from '../gan/step.js';
import { imageRows } from '../gan/sampling.js';
import type { DatasetInfo } from '../data/types.js';
import { SeededInit } from '../nn/init.js';
import { readTidy } from '../util/tensors.js';
import { UserError } from '../util/errors.js';
import { rrdbGenerator, srResNetGenerator } from './nets/sr_nets.js';

/** The generator architectures of the super-resolution families. */
export const SR_GENERATORS = ['srresnet', 'rrdb'] as const;
export type SrGeneratorKind = (typeof SR_GENERATORS)[number];

/** The generator settings srresnet, srgan and esrgan share (flags --blocks, --growth; --width is the shared one). */
export interface SrGeneratorSettings {
  blocks: number;
  growth: number;
}

export const SR_GENERATOR_SETTINGS: SettingsTable = {
  blocks: { default: 0, schema: z.number().int().nonnegative(), help: "G's residual blocks (srresnet G; the paper: 16) or RRDBs (rrdb G; ESRGAN: 23); 0 = a CPU-sized default, 4 and 2" },
  growth: { default: 16, schema: z.number().int().positive(), help: "rrdb G: growth channels of each dense block's convs (ESRGAN: 32)" },
};

/** srresnet's own settings (flags --generator, --pixel-loss, with the generator's). */
export interface SrResNetSettings extends SrGeneratorSettings {
  generator: SrGeneratorKind;
  pixelLoss: 'mse' | 'l1';
}

export const SRRESNET_SETTINGS: SettingsTable = {
  ...SR_GENERATOR_SETTINGS,
  generator: { default: 'srresnet', schema: z.enum(SR_GENERATORS), help: "G: srresnet (Ledig et al. 2017) | rrdb (ESRGAN's, Wang et al. 2018: with --pixel-loss l1 the PSNR-oriented model esrgan starts from)" },
  pixelLoss: { default: 'mse', schema: z.enum(['mse', 'l1']), help: "the pixel loss G minimises: mse (SRResNet) | l1 (ESRGAN's PSNR-oriented stage)" },
};

/** The default width of the SR generators: the papers' 64 is slow on a CPU. */
const SR_WIDTH = 32;

/**
 * The upscaling factor s of super-resolution data: input h·s = target h and w·s = target w, with s a power of
 * two (the generators upsample ×2 at a time). A sentence saying what is wrong otherwise.
 */
export function srScale(data: DatasetInfo): number | string {
  const what = `super-resolution learns from pairs (low-resolution input, high-resolution target); pass --data lowres:SPEC --scale 2|4|8`;
  if (!data.input || data.input.pairing !== 'paired') return `${what} (${data.name} has no paired input)`;
  const [h, w, c] = data.shape;
  const [hi, wi] = data.input.shape;
  const s = h / hi;
  if (!Number.isInteger(s) || s < 2 || w / wi !== s || ![2, 4, 8].includes(s)) {
    return `${what}: the inputs must be smaller than the targets by a factor 2, 4 or 8 on both sides, got input ${data.input.shape.join('×')} and target ${data.shape.join('×')}`;
  }
  if (c !== 1 && c !== 3) return `super-resolution takes grey or RGB targets, got ${c} channels`;
  return s;
}

/** The same, for a family's `check`: null when the data fits. */
export function srDataProblem(data: DatasetInfo): string | null {
  const s = srScale(data);
  return typeof s === 'string' ? s : null;
}

/** G of an SR family on this data: `kind` with --blocks, --width and --growth. */
export function buildSrGenerator(kind: SrGeneratorKind, data: DatasetInfo, config: RunConfig, init: SeededInit): tfl.LayersModel {
  const s = settingsOf<SrGeneratorSettings>(config);
  const scale = srScale(data) as number;
  const spec = { inputShape: data.input!.shape as [number, number, number], outChannels: data.shape[2], scale, width: config.width };
  return kind === 'rrdb'
    ? rrdbGenerator({ ...spec, blocks: s.blocks || 2, growth: s.growth }, init)
    : srResNetGenerator({ ...spec, blocks: s.blocks || 4 }, init);
}

/** The pixel losses: mean squared (SRResNet, eq. 4) or mean absolute (ESRGAN's PSNR-oriented stage). */
export function pixelLoss(kind: 'mse' | 'l1', fake: tf.Tensor, real: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const d = tf.sub(fake, real);
    return tf.mean(kind === 'mse' ? tf.square(d) : tf.abs(d)) as tf.Scalar;
  });
}

/**
 * G(input) for request.input (low-resolution images in [−1, 1], any count), in inference mode (batch norm on its
 * moving averages, so an output depends on its input alone), clipped to [−1, 1] (the RRDB G is linear).
 */
export function superResolve(nets: GanNetworks, request: SampleRequest, family: string): SampleResult {
  const input = request.input;
  if (!input) throw new UserError(`${family} upscales images: give it low-resolution input images (ganforge translate RUN IMAGES…), not noise`);
  if (request.class !== undefined || request.code?.length || request.vary !== undefined) throw new UserError(`${family} takes no --class, --code or --vary`);
  const generator = samplingGenerator(nets);
  const [, h, w, c] = generator.inputs[0].shape as number[];
  if (input.shape[1] !== h || input.shape[2] !== w || input.shape[3] !== c) {
    throw new UserError(`${family}: the generator takes ${h}×${w}×${c} images, got ${input.shape.slice(1).join('×')}`);
  }
  const n = input.shape[0];
  const chunk = 16;
  let values: Float32Array | null = null;
  let shape: number[] = [];
  for (let start = 0; start < n; start += chunk) {
    const size = Math.min(chunk, n - start);
    const part = readTidy(() => {
      const out = tf.clipByValue(generator.apply(tf.slice(input, [start, 0, 0, 0], [size, -1, -1, -1]), { training: false }) as tf.Tensor, -1, 1); // [size, s·h, s·w, C]
      shape = out.shape.slice(1);
      return out;
    });
    values ??= new Float32Array((part.length / size) * n);
    values.set(part, (part.length / size) * start);
  }
  return { values: values ?? new Float32Array(0), count: n, shape };
}

/** The progress grid of an SR family: input (nearest-upscaled to the target's size) | output | target. */
export function srPicture(nets: GanNetworks, probe: Probe, family: string): SampleResult {
  const batch = probe.batch!;
  const [, h, w] = batch.x.shape;
  const out = tf.tensor(superResolve(nets, { count: batch.x.shape[0], seed: 0, input: batch.input }, family).values, batch.x.shape);
  const up = tf.image.resizeNearestNeighbor(batch.input as tf.Tensor4D, [h, w]);
  try {
    return imageRows([up, out, batch.x]);
  } finally {
    tf.dispose([out, up]);
  }
}

/**
 * SRResNet (Ledig, Theis, Huszár et al. 2017, "Photo-Realistic Single Image Super-Resolution Using a Generative
 * Adversarial Network", §2.2, §3.2): the generator of SRGAN trained alone on the pixel-wise MSE — the PSNR model,
 * and the run SRGAN starts from (--init).
 *
 *   G: low-res x → s× larger image        16 residual blocks, 64 channels, sub-pixel ×2 upsamplers (Fig. 4)
 *   G minimises  ‖G(x) − y‖²  (eq. 4)      no discriminator
 *   Adam, lr 1e-4, β1 0.9, batch 16
 *
 * `--generator rrdb --pixel-loss l1` is ESRGAN's PSNR-oriented first stage (Wang et al. 2018, §4.1: RRDB G on L1,
 * lr 2e-4), the run `esrgan --init` starts from.
 */
export const srresnet: GanFamily = {
  name: 'srresnet',
  summary: "super-resolution G trained on the pixel loss alone, no D (Ledig et al. 2017's SRResNet; --generator rrdb --pixel-loss l1 is ESRGAN's PSNR stage)",
  paper: 'Ledig et al. 2017, Photo-Realistic Single Image Super-Resolution Using a Generative Adversarial Network, arXiv:1609.04802',
  condition: 'image',
  directions: ['AtoB'],
  exportGenerators: { AtoB: 'generator' },
  honours: ['width', 'emaDecay'],
  settings: SRRESNET_SETTINGS,
  players: [{ name: 'g', lr: 'lrG', moves: 'the generator' }],

  defaults(_data) {
    return { lrG: 1e-4, beta1: 0.9, beta2: 0.999, batchSize: 16, width: SR_WIDTH };
  },

  check: (data) => srDataProblem(data),

  build(data, config, rng) {
    const s = settingsOf<SrResNetSettings>(config);
    return { generator: buildSrGenerator(s.generator, data, config, new SeededInit(rng)) };
  },

  step: srResNetStep,
  sample: (nets, request) => superResolve(nets, request, 'srresnet'),
  picture: (nets, probe) => srPicture(nets, probe, 'srresnet'),
};

/** One SRResNet update: G on the pixel loss between G(x) and the high-resolution target. */
export function srResNetStep(ctx: StepContext): StepStats {
  const s = settingsOf<SrResNetSettings>(ctx.config);
  const lowres = ctx.input!; // [B, h, w, C]
  const target = ctx.real; // [B, s·h, s·w, C]
  const loss = ctx.opt.g.minimize(() => pixelLoss(s.pixelLoss, ctx.nets.generator.apply(lowres, { training: true }) as tf.Tensor, target), true, trainableVariables(ctx.nets.generator))!;
  const value = loss.dataSync()[0];
  loss.dispose();
  return { lossG: value, extra: { [`loss/G_${s.pixelLoss}`]: value } };
}
