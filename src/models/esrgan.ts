import { z } from 'zod';
import type { GanFamily } from '../gan/family.js';
import { settingsOf, type RunConfig, type SettingsTable } from '../gan/config.js';
import { adversarialStep, type StepContext, type StepStats } from '../gan/step.js';
import { SeededInit } from '../nn/init.js';
import { SR_GENERATOR_SETTINGS, buildSrGenerator, pixelLoss, srDataProblem, srPicture, superResolve, type SrGeneratorSettings } from './srresnet.js';
import { CONTENT_SETTINGS, ContentState, buildSrDiscriminator, contentLoss, type ContentSettings } from './srgan.js';

/** esrgan's own settings: the RRDB G's, the perceptual loss's and D's, and the weights of G's loss. */
export interface EsrganSettings extends SrGeneratorSettings, ContentSettings {
  l1Weight: number;
  perceptualWeight: number;
}

export const ESRGAN_SETTINGS: SettingsTable = {
  ...SR_GENERATOR_SETTINGS,
  ...CONTENT_SETTINGS,
  l1Weight: { default: 1e-2, schema: z.number().nonnegative().finite(), help: "esrgan: weight η of the L1 distance to the target in G's loss (the paper: 10⁻²)" },
  perceptualWeight: { default: 1, schema: z.number().nonnegative().finite(), help: "esrgan: weight of the perceptual loss in G's loss (the paper: 1)" },
};

/** ESRGAN's values of the settings it shares with srgan: features before the activation (§3.3), unscaled, λ = 5·10⁻³. */
const ESRGAN_DEFAULTS = { contentLayer: 'bn3', contentScale: 1, advWeight: 5e-3 };

/**
 * ESRGAN (Wang, Yu, Wu et al. 2018, "ESRGAN: Enhanced Super-Resolution Generative Adversarial Networks", §3):
 * SRGAN with a deeper generator without batch norm, a relativistic discriminator, and a perceptual loss on
 * features before their activation. Two stages (§4.1): first `srresnet --generator rrdb --pixel-loss l1` (the
 * PSNR-oriented model), then this family with --init from that run; `ganforge interpolate` blends the two (§3.4).
 *
 *   G: low-res x → s× larger image     RRDBs (3 dense blocks of 5 convs, growth 32, LeakyReLU 0.2, residual ×0.2),
 *                                      nearest ×2 + conv upsampling (Fig. 3–4)
 *   D: image → C(·)                    VGG-style as SRGAN's; the paper's code keeps its batch norm, and so do we
 *   D̃(y, ŷ) = σ(C(y) − E C(ŷ)) (RaGAN, eq. 1–2), G's adversarial term symmetrical (eq. 2)
 *   G minimises  L_percep + λ · L_adv + η · L1   (eq. 3), λ = 5·10⁻³, η = 10⁻²; L_percep = L1 of φ before activation
 *   Adam, lr 1e-4, β1 0.9, β2 0.99, batch 16
 */
export const esrgan: GanFamily = {
  name: 'esrgan',
  summary: 'enhanced SRGAN: RRDB G without BN, relativistic average D, perceptual loss before activation + L1 (Wang et al. 2018)',
  paper: 'Wang et al. 2018, ESRGAN: Enhanced Super-Resolution Generative Adversarial Networks, arXiv:1809.00219',
  condition: 'image',
  directions: ['AtoB'],
  exportGenerators: { AtoB: 'generator' },
  honours: ['loss', 'width', 'emaDecay', 'init'],
  initFrom: ['srresnet'],
  settings: ESRGAN_SETTINGS,

  defaults: () => ({ lrG: 1e-4, lrD: 1e-4, beta1: 0.9, beta2: 0.99, batchSize: 16, width: 32, loss: 'relativistic-average', ...ESRGAN_DEFAULTS }) as Partial<RunConfig>,

  check: (data) => srDataProblem(data),

  build(data, config, rng) {
    const init = new SeededInit(rng);
    return { generator: buildSrGenerator('rrdb', data, config, init), discriminator: buildSrDiscriminator(data, config, init) };
  },

  createState: (_data, config) => new ContentState(config),
  step: esrganStep,
  sample: (nets, request) => superResolve(nets, request, 'esrgan'),
  picture: (nets, probe) => srPicture(nets, probe, 'esrgan'),
};

/** One ESRGAN iteration: the relativistic D on y vs G(x), then G on eq. 3 under the updated D. */
export function esrganStep(ctx: StepContext): StepStats {
  const s = settingsOf<EsrganSettings>(ctx.config);
  const content = (ctx.state as ContentState).net;
  const lowres = ctx.input!; // [B, h, w, C]
  const target = ctx.real; // [B, s·h, s·w, C]
  return adversarialStep(ctx.nets, ctx.opt, ctx.loss, target, lowres, {
    gInput: lowres,
    ganWeight: s.advWeight,
    gTerms: (fake) => ({
      'loss/G_percep': { weight: s.perceptualWeight, value: contentLoss(content, fake, target, 'l1') },
      'loss/G_L1': { weight: s.l1Weight, value: pixelLoss('l1', fake, target) },
    }),
  });
}
