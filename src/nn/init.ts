import * as tfl from '@tensorflow/tfjs-layers';
import type { Rng } from '../util/rng.js';

/** Initializers whose seeds come from one run RNG, so the same run seed gives the same weights. */
export class SeededInit {
  constructor(private readonly rng: Rng) {}

  private seed(): number {
    return this.rng.nextUint32() % 2147483647;
  }

  /** N(0, stddev²), the DCGAN paper's init (σ = 0.02). */
  normal(stddev: number) {
    return tfl.initializers.randomNormal({ mean: 0, stddev, seed: this.seed() });
  }

  glorotUniform() {
    return tfl.initializers.glorotUniform({ seed: this.seed() });
  }

  heNormal() {
    return tfl.initializers.heNormal({ seed: this.seed() });
  }
}
