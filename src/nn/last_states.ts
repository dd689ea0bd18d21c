// The sentence feature of a bidirectional RNN's outputs, as a layer, so that a model composed of a text encoder
// and a generator (what `ganforge export` and the studio run in the browser) can be saved and loaded whole.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology.js';

type Shape = (number | null)[];

/**
 * Outputs [B, T, D] of a masked bidirectional RNN (two directions side by side) → [B, D]: the forward half at
 * t = T−1 and the backward half at t = 0. Masked (padding) steps leave a direction's state where it was, so
 * these are the final hidden states of the two directions over the caption's real words.
 */
export function bidirectionalLastStates(outputs: tf.Tensor3D): tf.Tensor2D {
  return tf.tidy(() => {
    const [b, t, d] = outputs.shape;
    const forward = tf.slice(outputs, [0, t - 1, 0], [b, 1, d / 2]);
    const backward = tf.slice(outputs, [0, 0, d / 2], [b, 1, d / 2]);
    return tf.reshape(tf.concat([forward, backward], 2), [b, d]) as tf.Tensor2D;
  });
}

/** The layer form of bidirectionalLastStates. Weightless; it drops the input's mask. */
export class BidirectionalLastStates extends tfl.layers.Layer {
  static className = 'BidirectionalLastStates';

  constructor(args: LayerArgs = {}) {
    super(args);
    this.supportsMasking = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [b, , d] = inputShape as Shape;
    return [b, d];
  }

  override computeMask(): tf.Tensor {
    return null as unknown as tf.Tensor; // the sentence has no time axis left to mask
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return bidirectionalLastStates((Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor3D);
  }
}
tf.serialization.registerClass(BidirectionalLastStates);
