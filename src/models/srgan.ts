import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import type { FamilyState, GanFamily } from '../gan/family.js';
import { settingsOf, type RunConfig, type SettingsTable } from '../gan/config.js';
import { adversarialStep, type StepContext, type StepStats } from '../gan/step.js';
import type { DatasetInfo } from '../data/types.js';
import { SeededInit } from '../nn/init.js';
import { halvings } from './nets/layers.js';
import { vggDiscriminator } from './nets/sr_nets.js';
import { ContentNetwork } from './nets/content_net.js';
import { SR_GENERATOR_SETTINGS, buildSrGenerator, srDataProblem, srPicture, superResolve, type SrGeneratorSettings } from './srresnet.js';

/** The content-loss and D settings srgan and esrgan share. */
export interface ContentSettings {
  contentNet: string;
  contentLayer: string;
  contentScale: number;
  advWeight: number;
  dWidth: number;
  dDense: number;
}

/**
 * The settings table of those and of the adversarial weight, shared by srgan and esrgan (one flag each); the
 * defaults are SRGAN's, and esrgan's `defaults` puts in its own (ESRGAN_DEFAULTS).
 */
export const CONTENT_SETTINGS: SettingsTable = {
  contentNet: { default: '', schema: z.string(), help: "feature network of the content loss: '' = the shipped RGB CIFAR-10 CNN (assets/feature-nets/cifar10), or a folder holding a TF.js layers model (model.json + weights)" },
  contentLayer: { default: 'relu3', schema: z.string().min(1), help: "the content network's layer compared: srgan relu3 (after the activation, the analogue of the paper's VGG54), esrgan bn3 (before it, §3.3); the shipped net has conv1-3, bn1-3, relu1-3" },
  contentScale: { default: 1 / 12.75, schema: z.number().positive().finite(), help: 'factor on the feature maps before their distance (srgan: 1/12.75, the paper\'s VGG rescaling to the scale of the pixel MSE; esrgan: 1)' },
  advWeight: { default: 1e-3, schema: z.number().nonnegative().finite(), help: "weight of the adversarial term in G's loss (srgan: 10⁻³, Ledig et al.; esrgan: λ = 5·10⁻³, Wang et al.)" },
  dWidth: { default: 16, schema: z.number().int().positive(), help: "channels of D's first stage, doubled at each of its 4 stages (the papers: 64 → 512)" },
  dDense: { default: 128, schema: z.number().int().positive(), help: "units of D's hidden dense layer (the papers: 1024)" },
};

/** srgan's own settings: G's (--blocks), the content loss's, D's and the adversarial weight. */
export type SrganSettings = SrGeneratorSettings & ContentSettings;

export const SRGAN_SETTINGS: SettingsTable = { blocks: SR_GENERATOR_SETTINGS.blocks, ...CONTENT_SETTINGS };

/** The content network a run of srgan/esrgan compares images in: the family's state (fixed, nothing to save). */
export class ContentState implements FamilyState {
  readonly net: ContentNetwork;
  constructor(config: RunConfig) {
    const s = settingsOf<ContentSettings>(config);
    this.net = ContentNetwork.load(s.contentNet, s.contentLayer, s.contentScale);
  }
  save() {
    return { json: { contentNet: this.net.name }, tensors: [] };
  }
  restore() {}
  dispose() {
    this.net.dispose();
  }
}

/** D of srgan/esrgan: the VGG-style net on the high-resolution image, with as many of its 4 halving stages as the size allows. */
export function buildSrDiscriminator(data: DatasetInfo, config: RunConfig, init: SeededInit) {
  const s = settingsOf<ContentSettings>(config);
  const [h, w] = data.shape;
  return vggDiscriminator({ shape: data.shape as [number, number, number], width: s.dWidth, stages: halvings(Math.min(h, w), 4), dense: s.dDense }, init);
}

/**
 * SRGAN (Ledig, Theis, Huszár et al. 2017, "Photo-Realistic Single Image Super-Resolution Using a Generative
 * Adversarial Network", §2): SRResNet's generator against a VGG-style discriminator, trained on a perceptual loss.
 *
 *   G: low-res x → s× larger image         SRResNet (Fig. 4); starts from a trained SRResNet run (--init, §3.2)
 *   D: image → logit                        8 conv 3×3 (64 → 512, stride 2 every other), BN, LeakyReLU 0.2, dense 1024, dense 1
 *   G minimises  l_content + 10⁻³ · l_adv    (eq. 3): l_content = MSE of φ(G(x)) and φ(y), φ a fixed CNN's feature
 *                                            maps ×1/12.75 (eq. 5, VGG54); l_adv = −log D(G(x)) (eq. 6)
 *   D minimises  −log D(y) − log(1 − D(G(x)))
 *   Adam, lr 1e-4, β1 0.9, batch 16
 *
 * φ here is the shipped RGB CIFAR-10 CNN (grey images repeated to RGB) or a user's model (--content-net, --content-layer).
 */
export const srgan: GanFamily = {
  name: 'srgan',
  summary: 'super-resolution GAN: SRResNet G, VGG-style D, content loss in a feature network + 10⁻³ adversarial (Ledig et al. 2017)',
  paper: 'Ledig et al. 2017, Photo-Realistic Single Image Super-Resolution Using a Generative Adversarial Network, arXiv:1609.04802',
  condition: 'image',
  directions: ['AtoB'],
  exportGenerators: { AtoB: 'generator' },
  honours: ['loss', 'width', 'emaDecay', 'init'],
  initFrom: ['srresnet'],
  settings: SRGAN_SETTINGS,

  defaults: () => ({ lrG: 1e-4, lrD: 1e-4, beta1: 0.9, beta2: 0.999, batchSize: 16, width: 32, loss: 'non-saturating' }),

  check: (data) => srDataProblem(data),

  build(data, config, rng) {
    const init = new SeededInit(rng);
    return { generator: buildSrGenerator('srresnet', data, config, init), discriminator: buildSrDiscriminator(data, config, init) };
  },

  createState: (_data, config) => new ContentState(config),
  step: srganStep,
  sample: (nets, request) => superResolve(nets, request, 'srgan'),
  picture: (nets, probe) => srPicture(nets, probe, 'srgan'),
};

/** The content loss of eq. 5: MSE between φ(G(x)) and φ(y), φ's maps already scaled. */
export function contentLoss(net: ContentNetwork, fake: tf.Tensor, real: tf.Tensor, kind: 'mse' | 'l1' = 'mse'): tf.Scalar {
  return tf.tidy(() => {
    const d = tf.sub(net.features(fake), net.features(real));
    return tf.mean(kind === 'mse' ? tf.square(d) : tf.abs(d)) as tf.Scalar;
  });
}

/** One SRGAN iteration: D on y vs G(x), then G on l_content + 10⁻³ · l_adv under the updated D. */
export function srganStep(ctx: StepContext): StepStats {
  const s = settingsOf<SrganSettings>(ctx.config);
  const content = (ctx.state as ContentState).net;
  const lowres = ctx.input!; // [B, h, w, C]
  const target = ctx.real; // [B, s·h, s·w, C]
  return adversarialStep(ctx.nets, ctx.opt, ctx.loss, target, lowres, {
    gInput: lowres,
    ganWeight: s.advWeight,
    gTerms: (fake) => ({ 'loss/G_content': { weight: 1, value: contentLoss(content, fake, target) } }),
  });
}
