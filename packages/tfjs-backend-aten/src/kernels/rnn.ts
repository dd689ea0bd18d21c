// Recurrent kernels: a masked LSTM and a masked GRU over a whole sequence (native/rnn.cc), forward and gradient.
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

/**
 * A masked single-direction GRU with tfjs-layers' GRUCell math (reset_after false: gates z, r, h along 3H; the
 * candidate tanh(x·W_h + b_h + (r·h)·U_h); h' = z·h + (1 − z)·candidate; the recurrent activation `sigmoid` or
 * `hardSigmoid`) over a whole sequence. Not a tfjs kernel: ganforge's FusedGRU layer runs it where a backend
 * registers it. Inputs x [B, T, E], kernel [E, 3H], recurrentKernel [H, 3H], bias [3H], mask [B, T]; attrs as
 * LstmSequence's. Outputs, in processing order: y [B, T, H], and for the gradient the gates z, r [T, B, 2H], the
 * candidate [T, B, H] and r·h [T, B, H].
 */
export const GRU_SEQUENCE = 'GruSequence';
/** GruSequence's gradient: inputs dy, x, kernel, recurrentKernel, mask, y, zr, hh, rh → [dx, dKernel, dRecurrentKernel, dBias]. */
export const GRU_SEQUENCE_GRAD = 'GruSequenceGrad';

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
    atenKernel(GRU_SEQUENCE, (b, { x, kernel, recurrentKernel, bias, mask }, attrs) =>
      b.outputs(native.gruSequence(b.handle(x), b.handle(kernel), b.handle(recurrentKernel), b.handle(bias), b.handle(mask),
        ...flags(attrs)))),
    atenKernel(GRU_SEQUENCE_GRAD, (b, { dy, x, kernel, recurrentKernel, mask, y, zr, hh, rh }, attrs) =>
      b.outputs(native.gruSequenceGrad(b.handle(dy), b.handle(x), b.handle(kernel), b.handle(recurrentKernel), b.handle(mask),
        b.handle(y), b.handle(zr), b.handle(hh), b.handle(rh), ...flags(attrs)))),
  ];
}
