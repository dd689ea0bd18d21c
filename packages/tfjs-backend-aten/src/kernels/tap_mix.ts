// TapMix / TapScatter (native/tap_mix.cc): not tfjs kernels. ganforge's resampling runs them where a backend
// registers them and composes gather, multiply and sum elsewhere. Each is the other's gradient, so both
// differentiate to any order (R1 through an augmentation differentiates the resampling twice).
import { KernelConfig, registerGradient, Tensor, zerosLike } from '@tensorflow/tfjs-core';
import type { AtenNative } from '../native.js';
import { atenKernel, runKernel as run } from '../kernel_util.js';

/** source [R, C], index int32 [N, T], weight float32 [N, T] → [N, C]: out[n] = Σ_t weight[n, t] · source[index[n, t]]. */
export const TAP_MIX = 'TapMix';
/** dy [N, C], index, weight as TapMix's, attr rows → [rows, C]: out[index[n, t]] += weight[n, t] · dy[n] (TapMix's adjoint). */
export const TAP_SCATTER = 'TapScatter';

export function tapMixKernels(native: AtenNative): KernelConfig[] {
  return [
    atenKernel(TAP_MIX, (b, { source, index, weight }) => b.output(native.tapMix(b.handle(source), b.handle(index), b.handle(weight)))),
    atenKernel(TAP_SCATTER, (b, { dy, index, weight }, { rows }) =>
      b.output(native.tapScatter(b.handle(dy), b.handle(index), b.handle(weight), rows as number))),
  ];
}

/** Installs the two kernels' gradients (once). The index and weights are constants of the resampling: no gradient. */
export function registerTapMixGradients(): void {
  registerGradient({
    kernelName: TAP_MIX,
    inputsToSave: ['source', 'index', 'weight'],
    gradFunc: (dy, [source, index, weight]) => ({
      source: () => run(TAP_SCATTER, { dy: dy as Tensor, index, weight }, { rows: source.shape[0] }),
      index: () => zerosLike(index),
      weight: () => zerosLike(weight),
    }),
  });
  registerGradient({
    kernelName: TAP_SCATTER,
    inputsToSave: ['index', 'weight'],
    gradFunc: (dy, [index, weight]) => ({
      dy: () => run(TAP_MIX, { source: dy as Tensor, index, weight }),
      index: () => zerosLike(index),
      weight: () => zerosLike(weight),
    }),
  });
}
