// Building blocks shared by the kernel families: kernel registration with error naming,
// and the convention that a kernel may decline (FALLBACK) to let the CPU backend run it.
import { engine, type KernelConfig, type KernelFunc, type NamedAttrMap, type Tensor, type TensorInfo } from '@tensorflow/tfjs-core';
import type { AtenBackend } from './backend.js';
import { runOnCpu } from './fallback.js';

import { BACKEND_NAME } from './name.js';

export { BACKEND_NAME };

/** Returned by a native kernel for inputs/attributes it does not handle: the CPU kernel runs instead. */
export const FALLBACK = Symbol('fallback');

/** Kernel inputs by name. Optional inputs (bias, preluActivationWeights...) may be absent at runtime. */
export type KernelInputs = Record<string, TensorInfo>;

export type AtenKernel = (
  backend: AtenBackend,
  inputs: KernelInputs,
  attrs: NamedAttrMap,
) => TensorInfo | TensorInfo[] | typeof FALLBACK;

/** A KernelConfig for 'aten' whose errors name the kernel (`aten Conv2D: ...`). */
export function atenKernel(kernelName: string, impl: AtenKernel): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const backend = args.backend as AtenBackend;
    // string and complex64 tensors live in JS: only the CPU kernels can use them.
    for (const t of Object.values(args.inputs)) {
      if (t != null && (t.dtype === 'string' || t.dtype === 'complex64')) return runOnCpu(kernelName, args, backend);
    }
    let out: ReturnType<AtenKernel>;
    try {
      out = impl(backend, args.inputs as KernelInputs, args.attrs ?? {});
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      throw new Error(message.startsWith('aten ') ? message : `aten ${kernelName}: ${message}`);
    }
    return out === FALLBACK ? runOnCpu(kernelName, args, backend) : out;
  };
  return { kernelName, backendName: BACKEND_NAME, kernelFunc };
}

/** Normalises possibly-negative axes to [0, rank). */
export function normalizeAxes(axis: number | number[] | undefined | null, rank: number): number[] {
  if (axis == null) return Array.from({ length: rank }, (_, i) => i);
  const list = Array.isArray(axis) ? axis : [axis];
  return list.map((a) => (a < 0 ? a + rank : a));
}

/** A kernel run by name from a gradient function, its one output as a tensor (the kernels gradients are made of). */
export const runKernel = (kernel: string, inputs: Record<string, Tensor>, attrs: NamedAttrMap = {}): Tensor =>
  engine().runKernel(kernel, inputs, attrs) as Tensor;
