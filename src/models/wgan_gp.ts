import * as tfl from '@tensorflow/tfjs-layers';
import type { GanFamily } from '../gan/family.js';
import type { DatasetInfo } from '../data/types.js';
import { backboneHonours } from '../gan/settings.js';
import { SeededInit } from '../nn/init.js';
import { dcgan } from './dcgan.js';
import { vanilla } from './vanilla.js';

/**
 * WGAN-GP (Gulrajani, Ahmed, Arjovsky, Dumoulin & Courville 2017, "Improved Training of Wasserstein GANs",
 * Algorithm 1): the Wasserstein critic loss with a gradient penalty λ·E[(‖∇D(x̂)‖ − 1)²] on random
 * interpolates x̂ instead of weight clipping; n_critic = 5 critic updates per generator update; Adam with
 * α = 1e-4, β1 = 0, β2 = 0.9; λ = 10.
 *
 * The critic has no batch norm (§4: batch norm makes each output depend on the whole batch, so the
 * per-example gradient the penalty constrains would not be the critic's gradient). Images: DCGAN's generator
 * and a DCGAN-shaped critic without batch norm; 2-D points: vanilla's MLPs (its D has no batch norm), with
 * a larger learning rate than the paper's so that a toy run converges in a few thousand steps, and λ = 0.1.
 */
export const wganGp: GanFamily = {
  name: 'wgan-gp',
  summary: 'Wasserstein GAN with gradient penalty (Gulrajani et al. 2017); images or 2-D mixtures',
  paper: 'Gulrajani et al. 2017, Improved Training of Wasserstein GANs, arXiv:1704.00028',

  defaults(data) {
    const paper = { loss: 'wasserstein', optimizer: 'adam', nCritic: 5, gpWeight: 10, beta1: 0, beta2: 0.9 } as const;
    // 2-D points: λ = 0.1, the value the authors' own toy-mixture script uses (a smaller λ helps there); with
    // λ = 10, 3,000 steps reached 0/8 ring modes and 4 % of samples within 3σ, with 0.1 4/8 and 20 % (seed 0).
    return data.kind === 'points'
      ? { ...vanilla.defaults(data), ...paper, gpWeight: 0.1, lrG: 5e-4, lrD: 5e-4, batchSize: 256 }
      : { ...dcgan.defaults(data), ...paper, lrG: 1e-4, lrD: 1e-4 };
  },

  check(data, config) {
    return data.kind === 'points' ? vanilla.check(data, config) : dcgan.check(data, config);
  },

  build(data, config, rng) {
    if (data.kind === 'points') return vanilla.build(data, config, rng);
    const { generator, discriminator } = dcgan.build(data, config, rng);
    discriminator?.dispose(); // DCGAN's D has batch norm; the critic below has none
    return { generator, discriminator: convCritic(data, config.width, new SeededInit(rng)) };
  },

  // Algorithm 1 is the standard step under these defaults: each of n_critic critic updates samples x, z and
  // ε ~ U[0, 1] and minimises D(x̃) − D(x) + λ(‖∇D(x̂)‖ − 1)² with Adam, then G minimises −D(G(z)). R1/R2 add to it.
  // The image critic is DCGAN's D without batch norm and without minibatch layers.
  honours: (data) => backboneHonours(data, { minibatch: data.kind === 'points' }),
};

/** DCGAN's discriminator without batch norm: strided 4×4 convs doubling the width, LeakyReLU(0.2), a linear score. */
function convCritic(data: DatasetInfo, width: number, init: SeededInit): tfl.LayersModel {
  let side = data.shape[0];
  let n = 0;
  while (side > 8 && side % 2 === 0) {
    side /= 2;
    n++;
  }
  const d = tfl.sequential({ name: 'discriminator' });
  for (let level = 0; level < n; level++) {
    d.add(tfl.layers.conv2d({
      ...(level === 0 ? { inputShape: data.shape } : {}),
      filters: width * 2 ** level, kernelSize: 4, strides: 2, padding: 'same', kernelInitializer: init.normal(0.02),
    }));
    d.add(tfl.layers.leakyReLU({ alpha: 0.2 }));
  }
  d.add(tfl.layers.flatten()); // [B, side·side·C]
  d.add(tfl.layers.dense({ units: 1, kernelInitializer: init.normal(0.02) })); // critic score
  return d;
}
