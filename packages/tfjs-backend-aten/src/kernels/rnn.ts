// Recurrent kernels: a masked LSTM over a whole sequence (native/rnn.cc), forward and gradient.
import { KernelConfig, NamedAttrMap } from '@tensorflow/tfjs-core';
import type { AtenNative } from '../native.js';
import { atenKernel } from '../kernel_util.js';

/**
 * A masked single-direction LSTM with tfjs-layers' LSTM math (gates i, f, g, o; tanh; the recurrent activation
 * `sigmoid` or `hardSigmoid`) over a whole sequence. Not a tfjs kernel: ganforge's FusedLSTM layer runs it where a
 * backend registers it. Inputs x [B, T, E], kernel [E, 4H], recurrentKernel [H, 4H], bias [4H], mask [B, T]
 * (1 = a real step, 0 = padding: the state holds and the output repeats); attrs goBackwards, recurrentActivation,
 * and `generic` (tests: force the device-independent ATen-op path). Outputs, in processing order (reversed in
 * time when goBackwards, as tfjs-layers' RNN returns them): y [B, T, H], and for the gradient the gates
 * [T, B, 4H], tanh(f·c + i·g) [T, B, H] and the masked cell state [T, B, H].
 */
export const LSTM_SEQUENCE = 'LstmSequence';
/** LstmSequence's gradient: inputs dy, x, kernel, recurrentKernel, mask, y, gates, tanhC, c → [dx, dKernel, dRecurrentKernel, dBias]. */
export const LSTM_SEQUENCE_GRAD = 'LstmSequenceGrad';

function flags(attrs: NamedAttrMap): [boolean, boolean, boolean] {
  const activation = attrs.recurrentActivation ?? 'sigmoid';
  if (activation !== 'sigmoid' && activation !== 'hardSigmoid') {
    throw new Error(`recurrentActivation must be 'sigmoid' or 'hardSigmoid', got ${String(activation)}`);
  }
  return [!!attrs.goBackwards, activation === 'hardSigmoid', !!attrs.generic];
}

export function rnnKernels(native: AtenNative): KernelConfig[] {
  return [
    atenKernel(LSTM_SEQUENCE, (b, { x, kernel, recurrentKernel, bias, mask }, attrs) =>
      b.outputs(native.lstmSequence(b.handle(x), b.handle(kernel), b.handle(recurrentKernel), b.handle(bias), b.handle(mask),
        ...flags(attrs)))),
    atenKernel(LSTM_SEQUENCE_GRAD, (b, { dy, x, kernel, recurrentKernel, mask, y, gates, tanhC, c }, attrs) =>
      b.outputs(native.lstmSequenceGrad(b.handle(dy), b.handle(x), b.handle(kernel), b.handle(recurrentKernel), b.handle(mask),
        b.handle(y), b.handle(gates), b.handle(tanhC), b.handle(c), ...flags(attrs)))),
  ];
}
