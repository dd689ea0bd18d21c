import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { mixSeed } from '../util/rng.js';

type LayerArgs = ConstructorParameters<typeof tfl.layers.Layer>[0];

/**
 * Dropout whose masks are reproducible: the mask of the n-th training call is drawn from seed (seed, n), and n
 * is a saved (non-trainable) weight. tfjs's own Dropout draws from Math.random, so a resumed run would see other
 * masks than an uninterrupted one; here a checkpoint carries the call count and resume is exact. pix2pix uses
 * dropout as G's only noise, at training and at test time (Isola et al. 2017, §3.1), so it runs whenever the
 * layer is called with `training: true`; otherwise it is the identity.
 *
 * @example
 * const h = new SeededDropout({ rate: 0.5, seed: 7 }).apply(x); // x: [B, H, W, C]
 */
export class SeededDropout extends tfl.layers.Layer {
  static className = 'SeededDropout';
  readonly rate: number;
  readonly seed: number;
  private calls!: tfl.LayerVariable;

  constructor(args: LayerArgs & { rate: number; seed: number }) {
    super(args);
    if (!(args.rate >= 0 && args.rate < 1)) throw new Error(`SeededDropout: rate must be in [0, 1), got ${args.rate}`);
    this.rate = args.rate;
    this.seed = args.seed;
  }

  override build(): void {
    this.calls = this.addWeight('calls', [], 'float32', tfl.initializers.zeros(), undefined, false);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!kwargs.training || this.rate === 0) return x;
    return tf.tidy(() => {
      const n = this.calls.read().dataSync()[0];
      this.calls.write(tf.scalar(n + 1));
      // A fresh mask per call, the same one for the same (seed, call count): keep with probability 1 − rate.
      const u = tf.randomUniform(x.shape, 0, 1, 'float32', mixSeed(this.seed, n));
      const keep = tf.cast(tf.greaterEqual(u, this.rate), 'float32');
      return tf.mul(x, tf.mul(keep, 1 / (1 - this.rate))); // inverted dropout: E[output] = x
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed };
  }
}
tf.serialization.registerClass(SeededDropout);
