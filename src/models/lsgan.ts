import type { GanFamily } from '../gan/family.js';
import { backboneHonours } from '../gan/settings.js';
import { dcgan } from './dcgan.js';
import { vanilla } from './vanilla.js';

/**
 * LSGAN (Mao, Li, Xie, Lau, Wang & Smolley 2017, "Least Squares Generative Adversarial Networks"): the
 * sigmoid cross-entropy of the original GAN replaced by least squares on D's raw output, with the 0-1-1
 * coding (fake → 0, real → 1, G aims for 1; see `leastSquares` in losses.ts). The paper's networks are
 * DCGAN-style, trained with Adam (lr 2e-4, β1 = 0.5): we use DCGAN's for images and vanilla's MLPs for
 * 2-D points, so the loss is the only change — `--loss` can swap it back to compare.
 */
export const lsgan: GanFamily = {
  name: 'lsgan',
  summary: 'least-squares GAN (Mao et al. 2017): DCGAN or MLP networks with the 0-1-1 least-squares loss',
  paper: 'Mao et al. 2017, Least Squares Generative Adversarial Networks, arXiv:1611.04076',

  honours: (data) => backboneHonours(data, { minibatch: true }),

  defaults(data) {
    return { ...(data.kind === 'points' ? vanilla.defaults(data) : dcgan.defaults(data)), loss: 'least-squares' };
  },

  check(data, config) {
    return data.kind === 'points' ? vanilla.check(data, config) : dcgan.check(data, config);
  },

  build(data, config, rng) {
    return data.kind === 'points' ? vanilla.build(data, config, rng) : dcgan.build(data, config, rng);
  },
};
