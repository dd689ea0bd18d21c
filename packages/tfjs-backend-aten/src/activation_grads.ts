// Relu's and LeakyRelu's gradients as one native kernel each on 'aten'. tfjs writes them as
// dy·step(x) and where(x > 0, dy, α·dy): three kernels and three full-size buffers per layer, which
// cost the DCGAN step more than its batch norms (a profile: Select + Step + Greater ≈ 10 % of a step).
// Gradients are global in tfjs, so the ones registered here keep tfjs's formulas on every other backend.
import {
  engine, getBackend, getGradient, GradConfig, KernelConfig, mul, NamedAttrMap, registerGradient, Tensor, where, greater,
  zerosLike, cast, step,
} from '@tensorflow/tfjs-core';
import type { AtenNative } from './native.js';
import { atenKernel, BACKEND_NAME } from './kernel_util.js';

/** Kernel names of the fused gradients (aten only). */
export const RELU_GRAD = 'AtenReluGrad';
export const LEAKY_RELU_GRAD = 'AtenLeakyReluGrad';

export function activationGradKernels(native: AtenNative): KernelConfig[] {
  return [
    atenKernel(RELU_GRAD, (b, { dy, x }) => b.output(native.activationGrad(0, b.handle(dy), b.handle(x), 0))),
    atenKernel(LEAKY_RELU_GRAD, (b, { dy, x }, { alpha }) => b.output(native.activationGrad(1, b.handle(dy), b.handle(x), alpha as number))),
  ];
}

const onAten = () => getBackend() === BACKEND_NAME;

function fused(kernel: string, dy: Tensor, x: Tensor, attrs: NamedAttrMap): Tensor {
  return engine().runKernel(kernel, { dy, x }, attrs) as Tensor;
}

/**
 * Installs the gradients (once; call after tfjs-core's own are registered, i.e. at backend registration).
 * Each fused kernel is linear in dy with a mask fixed by x, so its own gradient — needed when a penalty on
 * ‖∇ₓD‖ is differentiated (WGAN-GP, R1) — is the same kernel applied to the incoming gradient, and zero for x.
 */
export function registerActivationGradients(): void {
  if (getGradient(RELU_GRAD) !== undefined) return;
  const relu: GradConfig = {
    kernelName: 'Relu',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved;
      return { x: () => (onAten() ? fused(RELU_GRAD, dy as Tensor, x, {}) : mul(dy as Tensor, cast(step(x), 'float32'))) };
    },
  };
  const leakyRelu: GradConfig = {
    kernelName: 'LeakyRelu',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const alpha = (attrs as { alpha: number }).alpha;
      return {
        x: () => (onAten() ? fused(LEAKY_RELU_GRAD, dy as Tensor, x, { alpha }) : where(greater(x, 0), dy as Tensor, mul(dy as Tensor, alpha))),
      };
    },
  };
  const selfGrad = (kernelName: string): GradConfig => ({
    kernelName,
    inputsToSave: ['x'],
    gradFunc: (ddx, saved, attrs) => {
      const [x] = saved;
      return { dy: () => fused(kernelName, ddx as Tensor, x, attrs as NamedAttrMap), x: () => zerosLike(x) };
    },
  });
  for (const config of [relu, leakyRelu, selfGrad(RELU_GRAD), selfGrad(LEAKY_RELU_GRAD)]) registerGradient(config);
}
