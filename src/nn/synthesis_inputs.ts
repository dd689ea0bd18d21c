import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import { mixSeed } from '../util/rng.js';

type Shape = (number | null)[];

function firstShape(inputShape: Shape | Shape[]): Shape {
  return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
}

/**
 * Per-pixel noise inputs (Karras, Laine & Aila 2019, "A Style-Based Generator Architecture", §3.2; StyleGAN2
 * Fig. 2c): one N(0, 1) value per pixel, [B, H, W, 1], shared by all channels and added after scaling by a
 * learned per-layer strength that starts at 0 (so a fresh generator ignores its noise and learns how much
 * stochastic detail each resolution needs). x [B, H, W, C] → x + strength·noise.
 *
 * Where the noise comes from, first match wins:
 * 1. a second input [B or 1, H, W, 1] (a model built with noise inputs);
 * 2. `fixedNoise`, a tensor the caller sets and owns (projection optimises it; sampling can pin it); not saved;
 * 3. a draw seeded by (seed, n), where n counts this layer's draws and is a saved non-trainable weight, so a
 *    seeded run is reproducible and a resumed run draws what the uninterrupted one would (as SeededDropout).
 * Noise is drawn at inference too: StyleGAN samples with random noise unless it is fixed.
 *
 * @example
 * const y = new NoiseInjection({ seed: 3 }).apply(x);          // x: [B, H, W, C], random noise
 * const z = new NoiseInjection({ seed: 3 }).apply([x, noise]); // noise: [B, H, W, 1], given
 */
export class NoiseInjection extends tfl.layers.Layer {
  static className = 'NoiseInjection';
  readonly seed: number;
  /** Noise used instead of a draw when set (see the class comment); the caller disposes it. */
  fixedNoise: tf.Tensor | null = null;
  private strength!: tfl.LayerVariable;
  private draws!: tfl.LayerVariable;

  constructor(args: LayerArgs & { seed: number }) {
    super(args);
    this.seed = args.seed;
  }

  override build(): void {
    this.strength = this.addWeight('strength', [], 'float32', tfl.initializers.zeros());
    this.draws = this.addWeight('draws', [], 'float32', tfl.initializers.zeros(), undefined, false);
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return firstShape(inputShape);
  }

  /** The next seeded draw [B, H, W, 1]; advances the draw count. */
  private draw(x: tf.Tensor): tf.Tensor {
    const n = this.draws.read().dataSync()[0];
    this.draws.write(tf.scalar(n + 1));
    const [b, h, w] = x.shape;
    return tf.randomNormal([b, h, w, 1], 0, 1, 'float32', mixSeed(this.seed, n));
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [x, given] = Array.isArray(inputs) ? inputs : [inputs]; // [B, H, W, C], [B|1, H, W, 1]
      const noise = given ?? this.fixedNoise ?? this.draw(x);
      if (noise.rank !== 4 || noise.shape[1] !== x.shape[1] || noise.shape[2] !== x.shape[2] || noise.shape[3] !== 1) {
        throw new Error(`NoiseInjection: noise must be [B, ${x.shape[1]}, ${x.shape[2]}, 1] for input [${x.shape}], got [${noise.shape}]`);
      }
      return tf.add(x, tf.mul(noise, this.strength.read()));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), seed: this.seed };
  }
}

/**
 * The learned constant the synthesis network starts from (Karras et al. 2019, §2: "we simplify the design by
 * omitting the input layer and starting from a learned constant"; 4×4×512 there), broadcast over the batch.
 * Its input is only read for the batch size (pass w), so the layer fits a functional model: w [B, …] → [B, size,
 * size, channels]. Initialised N(0, 1) as in StyleGAN2's implementation.
 *
 * @example
 * const x = new ConstantInput({ channels: 256, seed: 4 }).apply(w); // [B, 4, 4, 256]
 */
export class ConstantInput extends tfl.layers.Layer {
  static className = 'ConstantInput';
  readonly size: number;
  readonly channels: number;
  readonly seed: number | null;
  private value!: tfl.LayerVariable;

  constructor(args: LayerArgs & { channels: number; size?: number; seed?: number | null }) {
    super(args);
    this.channels = args.channels;
    this.size = args.size ?? 4;
    this.seed = args.seed ?? null;
  }

  override build(): void {
    const init = tfl.initializers.randomNormal({ mean: 0, stddev: 1, seed: this.seed ?? undefined });
    this.value = this.addWeight('const', [1, this.size, this.size, this.channels], 'float32', init);
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return [firstShape(inputShape)[0], this.size, this.size, this.channels];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const b = (Array.isArray(inputs) ? inputs[0] : inputs).shape[0];
    return tf.tidy(() => tf.broadcastTo(this.value.read(), [b, this.size, this.size, this.channels])); // [B, 4, 4, C]
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), channels: this.channels, size: this.size, seed: this.seed };
  }
}

// Registered so that loadModel rebuilds these layers from a checkpoint's model.json.
tf.serialization.registerClass(NoiseInjection);
tf.serialization.registerClass(ConstantInput);
