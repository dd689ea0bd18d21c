import type { GanFamily } from '../gan/family.js';
import { buildRecurrentGan, sequenceProblem, rganDefaults, RGAN_HONOURS } from './rgan.js';

/**
 * Recurrent conditional GAN (Esteban, Hyland & Rätsch 2017, §2, "RCGAN"): RGAN with a condition y, a one-hot
 * class, concatenated to the inputs of both LSTMs at every time step — to z_t in G and to x_t in D — so that G
 * learns one distribution of sequences per class and `ganforge sample RUN --condition VALUE` asks for one. The
 * class is the series' value of --condition-column (DatasetInfo.classNames); data without one is refused before
 * anything is built.
 *
 * G takes [z [B, T·latentPerStep], y [B, K]]; D takes [x [B, T, F], y [B, K]] and gives a logit per step. The
 * standard step shows D real pairs (x, y) and generated pairs (G(z | y′), y′) with y′ uniform over the classes,
 * and the G update reuses y′. (The authors' code draws y′ from the real batch's labels instead, the same in
 * expectation on balanced classes.)
 */
export const rcgan: GanFamily = {
  name: 'rcgan',
  summary: 'recurrent conditional GAN (Esteban et al. 2017): RGAN with the class one-hot at every step of G and D; sample --condition VALUE',
  paper: 'Esteban, Hyland & Rätsch 2017, Real-valued (Medical) Time Series Generation with Recurrent Conditional GANs, arXiv:1706.02633',

  condition: 'class',
  dataKinds: ['sequence'],
  honours: RGAN_HONOURS,

  defaults: rganDefaults,

  check(data, config) {
    if (!data.numClasses || data.numClasses < 2) {
      return `rcgan needs at least two classes of series, and ${data.name} has ${data.numClasses ?? 0}; name the class column with --condition-column, or train rgan`;
    }
    return sequenceProblem('rcgan', data, config);
  },

  build: (data, config, rng) => buildRecurrentGan(data, config, rng, data.numClasses!),

  // No step of its own: the standard step puts the real labels into D and drawn classes y′ into G and D.
};
