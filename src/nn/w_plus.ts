import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology.js';

type Shape = (number | null)[];

function single(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? inputs[0] : inputs;
}

function firstShape(inputShape: Shape | Shape[]): Shape {
  return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
}

/**
 * The extended latent space W+ (Abdal, Qin & Wonka 2019, "Image2StyleGAN"; StyleGAN2's implementation): the
 * synthesis network takes one w per style input, ws [B, numWs, wDim], instead of one w shared by all. Plain
 * sampling repeats one w (BroadcastW); style mixing (Karras et al. 2019, §3.1) and projection give different
 * w's to different inputs. PickW hands style input `index` its w.
 *
 * @example
 * const w3 = new PickW({ index: 3 }).apply(ws); // ws [B, numWs, wDim] → [B, wDim]
 */
export class PickW extends tfl.layers.Layer {
  static className = 'PickW';
  readonly index: number;

  constructor(args: LayerArgs & { index: number }) {
    super(args);
    this.index = args.index;
  }

  override build(inputShape: Shape | Shape[]): void {
    const s = firstShape(inputShape);
    if (s.length !== 3 || s[1] === null || this.index >= s[1]) throw new Error(`PickW(${this.index}) takes ws [B, numWs > ${this.index}, wDim], got [${s.join(', ')}]`);
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [b, , w] = firstShape(inputShape);
    return [b, w];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const ws = single(inputs); // [B, numWs, wDim]
      const [b, , w] = ws.shape;
      return tf.reshape(tf.slice(ws, [0, this.index, 0], [b, 1, w]), [b, w]); // [B, wDim]
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), index: this.index };
  }
}

/**
 * One w for every style input: w [B, wDim] → ws [B, numWs, wDim], what G = synthesis ∘ mapping feeds the
 * synthesis network when it is not mixing styles.
 *
 * @example
 * const ws = new BroadcastW({ numWs: 8 }).apply(w); // [B, 8, wDim]
 */
export class BroadcastW extends tfl.layers.Layer {
  static className = 'BroadcastW';
  readonly numWs: number;

  constructor(args: LayerArgs & { numWs: number }) {
    super(args);
    this.numWs = args.numWs;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [b, w] = firstShape(inputShape);
    return [b, this.numWs, w];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const w = single(inputs); // [B, wDim]
      const [b, d] = w.shape;
      return tf.tile(tf.reshape(w, [b, 1, d]), [1, this.numWs, 1]); // [B, numWs, wDim]
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), numWs: this.numWs };
  }
}

/**
 * The identity on w [B, wDim] that keeps the running mean w̄ of what passes through it (StyleGAN's "w_avg",
 * Karras et al. 2019 appendix B: the centre of the truncation trick w̄ + ψ(w − w̄)). It moves only when the
 * training step calls `track`: w̄ ← w̄ + (1 − β)(mean_batch(w) − w̄), β = 0.995 in StyleGAN. w̄ is a
 * non-trainable weight, so checkpoints save it with the mapping network and the EMA copy of G carries it.
 *
 * @example
 * const w = new MeanTracker().apply(mappingOut); // w unchanged; tracker.mean() is w̄ [wDim]
 */
export class MeanTracker extends tfl.layers.Layer {
  static className = 'MeanTracker';
  private average!: tfl.LayerVariable;

  override build(inputShape: Shape | Shape[]): void {
    const s = firstShape(inputShape);
    if (s.length !== 2 || s[1] === null) throw new Error(`MeanTracker takes w [B, wDim] with known wDim, got [${s.join(', ')}]`);
    this.average = this.addWeight('mean', [s[1]], 'float32', tfl.initializers.zeros(), undefined, false);
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return firstShape(inputShape);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.clone(single(inputs)));
  }

  /** w̄ [wDim], a new tensor (the caller's). */
  mean(): tf.Tensor1D {
    return tf.clone(this.average.read()) as tf.Tensor1D;
  }

  /** Move w̄ toward the mean of `w` [B, wDim]: w̄ ← w̄ + (1 − β)(mean(w) − w̄). */
  track(w: tf.Tensor2D, beta: number): void {
    tf.tidy(() => {
      const avg = this.average.read();
      this.average.write(tf.add(avg, tf.mul(1 - beta, tf.sub(tf.mean(w, 0), avg))));
    });
  }
}

// Registered so that loadModel rebuilds these layers from a checkpoint's model.json.
tf.serialization.registerClass(PickW);
tf.serialization.registerClass(BroadcastW);
tf.serialization.registerClass(MeanTracker);
