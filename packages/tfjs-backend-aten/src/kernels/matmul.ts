// MatMul family: BatchMatMul and _FusedMatMul (bias + activation fused into one native call).
import { KernelConfig } from '@tensorflow/tfjs-core';
import type { AtenNative } from '../native.js';
import { atenKernel } from '../kernel_util.js';

export function matmulKernels(native: AtenNative): KernelConfig[] {
  return [
    atenKernel('BatchMatMul', (b, { a, b: bt }, { transposeA, transposeB }) =>
      b.output(native.matMul(b.handle(a), b.handle(bt), !!transposeA, !!transposeB, 0, 'linear', 0, 0))),
    atenKernel('_FusedMatMul', (b, { a, b: bt, bias, preluActivationWeights }, attrs) =>
      b.output(native.matMul(b.handle(a), b.handle(bt), !!attrs.transposeA, !!attrs.transposeB,
        bias ? b.handle(bias) : 0, (attrs.activation as string) ?? 'linear', (attrs.leakyreluAlpha as number) ?? 0.2,
        preluActivationWeights ? b.handle(preluActivationWeights) : 0))),
  ];
}
