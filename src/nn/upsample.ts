import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology.js';

type Shape = (number | null)[];

/**
 * 2× nearest-neighbour upsampling of NHWC maps, [B, H, W, C] → [B, 2H, 2W, C], as concatenations and reshapes.
 * tfjs's UpSampling2D runs ResizeNearestNeighbor, whose gradient kernel the aten backend does not implement (it
 * would fall back to the CPU backend on every backward pass); Concat, Reshape and their gradients (Slice) are
 * native everywhere. Weightless.
 */
export function upsampleNearest2x(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    const columns = tf.reshape(tf.concat([x, x], 3), [b, h, 2 * w, c]); // each pixel twice along W
    return tf.reshape(tf.concat([columns, columns], 2), [b, 2 * h, 2 * w, c]); // each row twice along H
  });
}

/** The layer form of upsampleNearest2x, for the functional API. */
export class NearestUpsample2D extends tfl.layers.Layer {
  static className = 'NearestUpsample2D';

  constructor(args: LayerArgs = {}) {
    super(args);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [b, h, w, c] = inputShape as Shape;
    return [b, h == null ? null : 2 * h, w == null ? null : 2 * w, c];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return upsampleNearest2x((Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D);
  }
}
tf.serialization.registerClass(NearestUpsample2D);
