import { MIXTURES, modeCoverage, type Mixture2D, type ModeCoverage } from '../data/toy2d.js';
import { UserError, unknownChoice } from '../util/errors.js';

/**
 * Mode coverage and high-quality share of generated 2-D points against a known mixture (ring8, grid25), by
 * the convention of Metz et al. 2017 ("Unrolled GANs") and Srivastava et al. 2017 ("VEEGAN"): a sample is
 * high quality within 3σ of its nearest centre, a mode is covered with ≥ 20 % of its uniform share of them.
 * A thin wrapper of `modeCoverage` in src/data/toy2d.ts, so training logs and evaluation agree.
 */
export function mixtureModeCoverage(points: Float32Array, mixtureSpec: string): ModeCoverage & { modes: number; mixture: Mixture2D } {
  const name = mixtureSpec.replace(/^toy:/, '');
  const mixture = MIXTURES[name as keyof typeof MIXTURES];
  if (!mixture) throw unknownChoice('mixture', mixtureSpec, Object.keys(MIXTURES).map((k) => `toy:${k}`));
  if (points.length % 2 !== 0) throw new UserError('mode coverage needs 2-D points [N, 2]');
  return { ...modeCoverage(points, mixture), modes: mixture.centres.length, mixture };
}
