// Gradients that tfjs composes expensively, replaced on 'aten' (gradients are global in tfjs, so every
// one registered here keeps tfjs's own formula on other backends):
// - Relu, LeakyRelu: dy·step(x) and where(x > 0, dy, α·dy) are three kernels and three full-size buffers
//   per layer (a profile of the DCGAN step: Select + Step + Greater ≈ 10 % of it); here one native kernel.
// - Sum, Mean: tfjs multiplies dy by ones(x.shape), a tensor it fills element by element in JavaScript and
//   then uploads — for batch-norm moments of a [64, 14, 14, 64] activation that is 800,000 ones per call,
//   ~11 ms of every DCGAN step. Here dy is broadcast to x's shape by one native Tile.
import {
  broadcastTo, cast, div, engine, getBackend, getGradient, GradConfig, greater, KernelConfig, mul, NamedAttrMap, ones,
  registerGradient, reshape, step, Tensor, util, where, zerosLike,
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
  for (const config of [relu, leakyRelu, selfGrad(RELU_GRAD), selfGrad(LEAKY_RELU_GRAD), reductionGrad('Sum'), reductionGrad('Mean')]) {
    registerGradient(config);
  }
}

/** d/dx of Sum or Mean over `axis`: dy (÷ the reduced count for Mean) broadcast back to x's shape. */
function reductionGrad(kernelName: 'Sum' | 'Mean'): GradConfig {
  return {
    kernelName,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const axes = util.parseAxisParam((attrs as { axis: number | number[] }).axis, x.shape);
      const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d)); // dy's shape with the reduced axes as 1
      const count = axes.reduce((n, a) => n * x.shape[a], 1);
      const expanded = reshape(dy as Tensor, kept);
      const scaled = kernelName === 'Mean' ? div(expanded, count) : expanded;
      return {
        x: () => (onAten() ? broadcastTo(cast(scaled, 'float32'), x.shape) : kernelName === 'Mean'
          ? div(mul(expanded, ones(x.shape, 'float32')), count) : mul(expanded, ones(x.shape, 'float32'))),
      };
    },
  };
}
