import type { GanFamily } from '../gan/family.js';
import { backboneHonours } from '../gan/settings.js';
import { dcgan } from './dcgan.js';
import { vanilla } from './vanilla.js';

/**
 * WGAN (Arjovsky, Chintala & Bottou 2017, "Wasserstein GAN", Algorithm 1): the critic estimates the
 * Wasserstein-1 distance E[D(x)] − E[D(G(z))] and must be K-Lipschitz, which weight clipping to
 * [−c, c] with c = 0.01 enforces crudely; n_critic = 5 critic updates per generator update; RMSProp with
 * α = 5e-5 (momentum-based optimizers were unstable with this loss, §4.3).
 *
 * Networks: DCGAN's for images (the paper's own WGAN runs used a DCGAN critic and generator), vanilla's
 * MLPs for 2-D points, where a larger learning rate (5e-4) lets a toy run move within a few thousand steps.
 */
export const wgan: GanFamily = {
  name: 'wgan',
  summary: 'Wasserstein GAN with weight clipping and RMSProp (Arjovsky et al. 2017); images or 2-D mixtures',
  paper: 'Arjovsky, Chintala & Bottou 2017, Wasserstein GAN, arXiv:1701.07875',

  defaults(data) {
    const paper = { loss: 'wasserstein', optimizer: 'rmsprop', nCritic: 5, clipValue: 0.01 } as const;
    return data.kind === 'points'
      ? { ...vanilla.defaults(data), ...paper, lrG: 5e-4, lrD: 5e-4, batchSize: 256 }
      : { ...dcgan.defaults(data), ...paper, lrG: 5e-5, lrD: 5e-5 };
  },

  check(data, config) {
    return data.kind === 'points' ? vanilla.check(data, config) : dcgan.check(data, config);
  },

  build(data, config, rng) {
    return data.kind === 'points' ? vanilla.build(data, config, rng) : dcgan.build(data, config, rng);
  },

  // Algorithm 1 is the standard step under these defaults: n_critic × (RMSProp step on the critic, clip its
  // weights to [−c, c]), then G. --clip-value 0 turns clipping off (then add --gp-weight or --r1-gamma).
  honours: (data) => backboneHonours(data, { minibatch: true }),
};
