import * as tfl from '@tensorflow/tfjs-layers';
import type { GanFamily } from '../gan/family.js';
import type { DatasetInfo } from '../data/types.js';
import type { RunConfig } from '../gan/config.js';
import { backboneHonours } from '../gan/settings.js';
import { spectralConv2d, spectralDense } from '../nn/spectral_norm.js';
import type { Rng } from '../util/rng.js';
import { dcgan } from './dcgan.js';
import { vanilla } from './vanilla.js';
import { discriminatorOf } from '../gan/family.js';

/**
 * SN-GAN (Miyato, Kataoka, Koyama & Yoshida 2018, "Spectral Normalization for Generative Adversarial
 * Networks"): every weight of D is divided by its largest singular value (src/nn/spectral_norm.ts, one
 * power-iteration step per forward pass, Algorithm 1), which bounds D's Lipschitz constant without a
 * penalty or clipping. Trained with the hinge loss (eq. 16–17 of the paper; Lim & Ye 2017), n_dis D updates
 * per G update.
 *
 * Defaults: Adam α = 2e-4, β1 = 0, β2 = 0.9, n_dis = 5 — the setting the paper trains its hinge-loss SN-GANs
 * with (the one of Gulrajani et al. 2017 with α doubled). Its Table 1 sweeps six Adam settings A–F, among them
 * DCGAN's (C: α = 2e-4, β1 = 0.5, β2 = 0.999, n_dis = 1); SN-GAN is robust across them where weight
 * clipping and WGAN-GP are not (Fig. 1), so `--beta1 0.5 --beta2 0.999 --n-critic 1` is a fine, 5× cheaper
 * alternative on a CPU.
 *
 * Images: DCGAN's generator (batch norm in G is the paper's too) and the paper's "standard CNN" D
 * (Table 3(b)): pairs of a 3×3 stride-1 and a 4×4 stride-2 convolution at widths w, 2w, 4w, then a 3×3 conv
 * at 8w and a dense score, LeakyReLU(0.1), no batch norm — every conv and the dense layer spectrally
 * normalised. With --width 64 it is the paper's D. 2-D points: vanilla's MLPs with SN dense layers in D.
 */
export const sngan: GanFamily = {
  name: 'sngan',
  summary: 'spectral normalization of every D weight + hinge loss (Miyato et al. 2018); images or 2-D mixtures',
  paper: 'Miyato, Kataoka, Koyama & Yoshida 2018, Spectral Normalization for GANs, arXiv:1802.05957',

  defaults(data) {
    const paper = { loss: 'hinge', optimizer: 'adam', beta1: 0, beta2: 0.9, nCritic: 5 } as const;
    // Toy mixtures: vanilla's tuned sizes and rates (an SN-MLP is as cheap as vanilla's), the paper's loss and Adam.
    return data.kind === 'points'
      ? { ...vanilla.defaults(data), ...paper, lrG: 1e-3, lrD: 1e-3 }
      : { ...dcgan.defaults(data), ...paper, lrG: 2e-4, lrD: 2e-4, latentDim: 128 };
  },

  check(data, config) {
    return data.kind === 'points' ? vanilla.check(data, config) : dcgan.check(data, config);
  },

  build(data, config, rng) {
    const base = data.kind === 'points' ? vanilla.build(data, config, rng) : dcgan.build(data, config, rng);
    discriminatorOf(base).dispose(); // replaced by the spectrally normalised D below
    const discriminator = data.kind === 'points' ? snMlp(data, config, rng) : snStandardCnn(data, config.width, rng);
    return { generator: base.generator, discriminator };
  },

  // Algorithm 1 with the hinge loss is the standard step under these defaults: n_dis updates of D (each a
  // power-iteration step per layer), then one of G; R1/R2/GP and clipping apply if asked. Its Ds have no minibatch layers.
  honours: (data) => backboneHonours(data, { minibatch: false }),
};

/** The paper's standard CNN discriminator (Table 3(b)), every weight spectrally normalised. */
function snStandardCnn(data: DatasetInfo, width: number, rng: Rng): tfl.LayersModel {
  const seed = seeds(rng);
  // N(0, 0.02) like DCGAN: SN rescales each kernel anyway, so only its direction matters at the start.
  const conv = (filters: number, kernelSize: number, strides: number, first = false) =>
    spectralConv2d({ ...(first ? { inputShape: data.shape } : {}), filters, kernelSize, strides, padding: 'same', init: 'normal', stddev: 0.02, seed: seed() });
  const d = tfl.sequential({ name: 'discriminator' });
  for (let level = 0; level < 3; level++) {
    const w = width * 2 ** level;
    d.add(conv(w, 3, 1, level === 0));
    d.add(tfl.layers.leakyReLU({ alpha: 0.1 }));
    d.add(conv(w, 4, 2)); // 28 → 14 → 7 → 4; 32 → 16 → 8 → 4
    d.add(tfl.layers.leakyReLU({ alpha: 0.1 }));
  }
  d.add(conv(width * 8, 3, 1));
  d.add(tfl.layers.leakyReLU({ alpha: 0.1 }));
  d.add(tfl.layers.flatten()); // [B, side·side·8w]
  d.add(spectralDense({ units: 1, init: 'normal', stddev: 0.02, seed: seed() })); // score
  return d;
}

/** vanilla's D (two hidden layers, LeakyReLU 0.2) with every dense layer spectrally normalised. */
function snMlp(data: DatasetInfo, config: RunConfig, rng: Rng): tfl.LayersModel {
  const seed = seeds(rng);
  const d = tfl.sequential({ name: 'discriminator' });
  d.add(spectralDense({ inputShape: data.shape, units: config.hidden, seed: seed() }));
  d.add(tfl.layers.leakyReLU({ alpha: 0.2 }));
  d.add(spectralDense({ units: config.hidden, seed: seed() }));
  d.add(tfl.layers.leakyReLU({ alpha: 0.2 }));
  d.add(spectralDense({ units: 1, seed: seed() })); // score
  return d;
}

/** Initializer seeds drawn from the run's RNG (as SeededInit does), so a run seed reproduces D. */
function seeds(rng: Rng): () => number {
  return () => rng.nextUint32() % 2147483647;
}
