import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { BatchNormalization as TfjsBatchNormalization, BatchNormalizationLayerArgs } from '@tensorflow/tfjs-layers/dist/layers/normalization.js';
import type { Kwargs } from '@tensorflow/tfjs-layers/dist/types.js';
import { backendHas } from './backend_kernels.js';

/** Kernel name of a fused training-mode batch norm a backend may register (tfjs-backend-aten does, with its
 *  gradient): inputs x [..., C], scale and offset [C], attribute epsilon; outputs [y, mean, variance], the batch's
 *  own statistics over every axis but the last (variance biased, as tf.moments). */
export const BATCH_NORM_TRAINING_KERNEL = 'BatchNormTraining';

/** Kernel name of the moving-statistics update a backend may register beside it (tfjs-backend-aten does): inputs
 *  movingMean, movingVariance, mean, variance [C], attribute momentum; outputs m − (m − batch)·(1 − momentum) for
 *  each, in float32 and that order, as tfjs-layers computes them. */
export const BATCH_NORM_MOVING_STATS_KERNEL = 'BatchNormMovingStats';

// tfjs-layers exports the factory, not the class; its serialization entry is the class itself.
const TfjsBatchNorm = tf.serialization.SerializationMap.getMap().classNameMap['BatchNormalization']![0] as unknown as
  typeof TfjsBatchNormalization;

/** The fields of tfjs's layer that the fused path reads (private in its typings). */
interface BatchNormFields {
  axis: number;
  momentum: number;
  epsilon: number;
  gamma: tfl.LayerVariable | null;
  beta: tfl.LayerVariable | null;
  movingMean: tfl.LayerVariable;
  movingVariance: tfl.LayerVariable;
}

/**
 * tfjs-layers' BatchNormalization (Ioffe & Szegedy 2015, Algorithm 1), the same maths, weights and config, whose
 * training-mode pass runs one fused kernel where the backend registers `BatchNormTraining` (tfjs-layers composes
 * it from tf.moments and tf.batchNorm: five kernels forward and about fifteen backward per layer, which on the small
 * maps of a text-to-image generator cost more than the convolutions beside them). Inference, other axes, a layer
 * without γ or β, and backends without the kernel run tfjs-layers' own code. Its class name is tfjs-layers' own, so
 * saved models are plain tfjs-layers models (a browser loads them as such) and loading one here builds this class.
 *
 * @example
 * g.add(batchNormalization({ momentum: 0.9, epsilon: 1e-5 }));   // PyTorch's BatchNorm2d(momentum=0.1)
 */
export class BatchNormalization extends TfjsBatchNorm {
  static override className = 'BatchNormalization';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor;
    const f = this as unknown as BatchNormFields;
    const lastAxis = f.axis === -1 || f.axis === x.rank - 1;
    if (!kwargs['training'] || !lastAxis || !f.gamma || !f.beta || x.dtype !== 'float32' ||
      !backendHas(BATCH_NORM_TRAINING_KERNEL)) return super.call(inputs, kwargs);
    return tf.tidy(() => {
      const [y, mean, variance] = tf.engine().runKernel(BATCH_NORM_TRAINING_KERNEL,
        { x, scale: f.gamma!.read(), offset: f.beta!.read() }, { epsilon: f.epsilon }) as tf.Tensor[];
      // The moving averages as tfjs-layers updates them: m ← m − (m − batch)·(1 − momentum); one kernel for both
      // where the backend has it (six per layer and pass otherwise, each costing more to dispatch than to run).
      const update = (old: tf.Tensor, value: tf.Tensor) => tf.sub(old, tf.mul(tf.sub(old, value), 1 - f.momentum));
      const [movingMean, movingVariance] = backendHas(BATCH_NORM_MOVING_STATS_KERNEL)
        ? tf.engine().runKernel(BATCH_NORM_MOVING_STATS_KERNEL, { movingMean: f.movingMean.read(), movingVariance: f.movingVariance.read(),
          mean, variance }, { momentum: f.momentum }) as tf.Tensor[]
        : [update(f.movingMean.read(), mean), update(f.movingVariance.read(), variance)];
      f.movingMean.write(movingMean!);
      f.movingVariance.write(movingVariance!);
      return y;
    });
  }
}
// Registered under tfjs-layers' name: loadLayersModel and network copies rebuild batch norms as this class.
tf.serialization.registerClass(BatchNormalization);

/** A BatchNormalization layer (see the class); the arguments are tfjs-layers' own. */
export function batchNormalization(args: BatchNormalizationLayerArgs = {}): BatchNormalization {
  return new BatchNormalization(args);
}
