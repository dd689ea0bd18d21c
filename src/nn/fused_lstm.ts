import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers the LSTM class this one extends
import type { LSTM, LSTMCell } from '@tensorflow/tfjs-layers/dist/layers/recurrent.js';
import type { Kwargs } from '@tensorflow/tfjs-layers/dist/types.js';
import { backendHas } from './backend_kernels.js';

/**
 * Kernel name of a masked LSTM over a whole sequence that a backend may register (tfjs-backend-aten does, with its
 * gradient): inputs x [B, T, E], kernel [E, 4H], recurrentKernel [H, 4H], bias [4H], mask [B, T] (float, 1 = real
 * step); attrs goBackwards, recurrentActivation ('sigmoid' | 'hardSigmoid'); outputs [y [B, T, H] in processing
 * order, then states its gradient keeps].
 */
export const LSTM_SEQUENCE_KERNEL = 'LstmSequence';

// tfjs-layers exports the LSTM class only through its serialization registry (its package root exports the
// factory, and a deep import would load a second copy of the library).
const LstmBase = tf.serialization.SerializationMap.getMap().classNameMap.LSTM[0] as unknown as typeof LSTM;

/**
 * tfjs-layers' LSTM (same arguments, weights, weight names and results; wrap it in `tfl.layers.bidirectional` as
 * usual) that runs the whole sequence as one kernel where the backend registers `LstmSequence`. tfjs-layers runs an
 * LSTM as ~40 small kernels per time step dispatched from JavaScript; on aten one native call does the sequence
 * and one its gradient (packages/tfjs-backend-aten/bench/lstm.ts measures both). Elsewhere (the browser's webgl
 * and cpu backends), and for what the kernel does not take (dropout, states in or out, stateful, activations
 * other than tanh with sigmoid/hardSigmoid gates, returnSequences false), it is tfjs-layers' LSTM unchanged.
 *
 * @example
 * const lstm = new FusedLSTM({ units: 128, returnSequences: true, recurrentActivation: 'sigmoid' });
 * const words = tfl.layers.bidirectional({ layer: lstm, mergeMode: 'concat' }).apply(embedded);
 */
export class FusedLSTM extends LstmBase {
  static override className = 'FusedLSTM';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor;
    const recurrentActivation = this.fusedActivation(x, kwargs);
    if (recurrentActivation === null) return super.call(inputs, kwargs);
    const cell = this.cell as LSTMCell;
    return tf.tidy(() => {
      const [b, t] = x.shape;
      const given = kwargs?.mask as tf.Tensor | undefined;
      const mask = given == null ? tf.ones([b, t]) : tf.reshape(tf.cast(given, 'float32'), [b, t]); // [B, T]
      const bias = cell.bias != null ? cell.bias.read() : tf.zeros([4 * cell.units]);
      const outputs = tf.engine().runKernel(LSTM_SEQUENCE_KERNEL,
        { x, kernel: cell.kernel.read(), recurrentKernel: cell.recurrentKernel.read(), bias, mask },
        { goBackwards: this.goBackwards, recurrentActivation }) as tf.Tensor[];
      return outputs[0]; // [B, T, H]; the kernel's other outputs are its gradient's, kept by the tape if recording
    });
  }

  /** The gate activation's name when this call can run as one kernel, else null. */
  private fusedActivation(x: tf.Tensor, kwargs: Kwargs): 'sigmoid' | 'hardSigmoid' | null {
    if (!backendHas(LSTM_SEQUENCE_KERNEL)) return null;
    const cell = this.cell as LSTMCell;
    const gates = cell.recurrentActivation.getClassName();
    const fits = x.rank === 3 && x.dtype === 'float32' && this.returnSequences && !this.returnState && !this.stateful
      && kwargs?.initialState == null && cell.dropout === 0 && cell.recurrentDropout === 0
      && cell.activation.getClassName() === 'tanh' && (gates === 'sigmoid' || gates === 'hardSigmoid');
    return fits ? (gates as 'sigmoid' | 'hardSigmoid') : null;
  }
}
// Registered so that Bidirectional (which rebuilds its inner layer by class name) and loadModel find it.
tf.serialization.registerClass(FusedLSTM);
