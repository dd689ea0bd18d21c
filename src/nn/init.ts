import * as tfl from '@tensorflow/tfjs-layers';
import type { Rng } from '../util/rng.js';

/** Initializers whose seeds come from one run RNG, so the same run seed gives the same weights. */
export class SeededInit {
  constructor(private readonly rng: Rng) {}

  private seed(): number {
    return this.rng.nextUint32() % 2147483647;
  }

  /** N(mean, stddev²): N(0, 0.02²) is the DCGAN paper's init; N(1, 0.02²) pix2pix's for batch-norm scales. */
  normal(stddev: number, mean = 0) {
    return tfl.initializers.randomNormal({ mean, stddev, seed: this.seed() });
  }

  glorotUniform() {
    return tfl.initializers.glorotUniform({ seed: this.seed() });
  }

  heNormal() {
    return tfl.initializers.heNormal({ seed: this.seed() });
  }
}
