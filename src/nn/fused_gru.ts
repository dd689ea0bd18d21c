import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers the GRU class this one extends
import type { GRU, GRUCell } from '@tensorflow/tfjs-layers/dist/layers/recurrent.js';
import type { Kwargs } from '@tensorflow/tfjs-layers/dist/types.js';
import { backendHas } from './backend_kernels.js';

/**
 * Kernel name of a masked GRU over a whole sequence that a backend may register (tfjs-backend-aten does, with its
 * gradient): inputs x [B, T, E], kernel [E, 3H], recurrentKernel [H, 3H], bias [3H] (tfjs-layers' GRUCell layout:
 * gates z, r, h), mask [B, T] (float, 1 = real step); attrs goBackwards, recurrentActivation ('sigmoid' |
 * 'hardSigmoid'); outputs [y [B, T, H] in processing order, then states its gradient keeps].
 */
export const GRU_SEQUENCE_KERNEL = 'GruSequence';

// tfjs-layers exports the GRU class only through its serialization registry (as for FusedLSTM's base).
const GruBase = tf.serialization.SerializationMap.getMap().classNameMap.GRU[0] as unknown as typeof GRU;

/**
 * tfjs-layers' GRU (same arguments, weights, weight names and results) that runs the whole sequence as one kernel
 * where the backend registers `GruSequence`: tfjs-layers runs a GRU as ~20 small kernels per time step dispatched
 * from JavaScript, which at TimeGAN's sizes (H = 24) is nearly all overhead; on aten one native call does the
 * sequence and one its gradient (bench/gru_speed.ts). With returnSequences false it returns the last step's output
 * (a slice of the same kernel's). Elsewhere (the browser's webgl and cpu backends), and for what the kernel does
 * not take (dropout, states in or out, stateful, activations other than tanh with sigmoid/hardSigmoid gates), it is
 * tfjs-layers' GRU unchanged.
 *
 * @example
 * const gru = new FusedGRU({ units: 24, returnSequences: true, recurrentActivation: 'sigmoid' });
 * const h = gru.apply(series); // [B, T, 24]
 */
export class FusedGRU extends GruBase {
  static override className = 'FusedGRU';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor;
    const recurrentActivation = this.fusedActivation(x, kwargs);
    if (recurrentActivation === null) return super.call(inputs, kwargs);
    const cell = this.cell as GRUCell;
    return tf.tidy(() => {
      const [b, t] = x.shape;
      const given = kwargs?.mask as tf.Tensor | undefined;
      // rnn() reads any nonzero mask value as 1.
      const mask = given == null ? tf.ones([b, t]) : tf.reshape(tf.cast(tf.cast(given, 'bool'), 'float32'), [b, t]); // [B, T]
      const bias = cell.bias != null ? cell.bias.read() : tf.zeros([3 * cell.units]);
      const outputs = tf.engine().runKernel(GRU_SEQUENCE_KERNEL,
        { x, kernel: cell.kernel.read(), recurrentKernel: cell.recurrentKernel.read(), bias, mask },
        { goBackwards: this.goBackwards, recurrentActivation }) as tf.Tensor[];
      const y = outputs[0]; // [B, T, H]; the kernel's other outputs are its gradient's, kept by the tape if recording
      // The last step in processing order: the state after the whole sequence, as tfjs-layers' RNN returns it.
      return this.returnSequences ? y : tf.reshape(tf.slice(y, [0, t - 1, 0], [b, 1, cell.units]), [b, cell.units]);
    });
  }

  /** The gate activation's name when this call can run as one kernel, else null. */
  private fusedActivation(x: tf.Tensor, kwargs: Kwargs): 'sigmoid' | 'hardSigmoid' | null {
    if (!backendHas(GRU_SEQUENCE_KERNEL)) return null;
    const cell = this.cell as GRUCell;
    const gates = cell.recurrentActivation.getClassName();
    const fits = x.rank === 3 && x.dtype === 'float32' && x.shape[1]! > 0 && !this.returnState && !this.stateful
      && kwargs?.initialState == null && cell.dropout === 0 && cell.recurrentDropout === 0
      && cell.activation.getClassName() === 'tanh' && (gates === 'sigmoid' || gates === 'hardSigmoid');
    return fits ? (gates as 'sigmoid' | 'hardSigmoid') : null;
  }
}
// Registered so that wrappers that rebuild their inner layer by class name (Bidirectional) and loadModel find it.
tf.serialization.registerClass(FusedGRU);
