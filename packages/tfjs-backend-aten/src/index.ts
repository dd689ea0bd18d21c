// Public entry of tfjs-backend-aten: registers the 'aten' TensorFlow.js backend.
import os from 'node:os';
import '@tensorflow/tfjs-backend-cpu';  // the fallback runs the CPU backend's kernels
import { KernelConfig, registerBackend, registerKernel } from '@tensorflow/tfjs-core';
import { AtenBackend } from './backend.js';
import { fallbackKernels, registerFallbacks } from './fallback.js';
import { BACKEND_NAME } from './kernel_util.js';
import { convKernels } from './kernels/conv.js';
import { elementwiseKernels } from './kernels/elementwise.js';
import { indexKernels } from './kernels/index_ops.js';
import { matmulKernels } from './kernels/matmul.js';
import { poolResizeKernels } from './kernels/pool_resize.js';
import { reduceNormKernels } from './kernels/reduce_norm.js';
import { rnnKernels } from './kernels/rnn.js';
import { shapeKernels } from './kernels/shape_ops.js';
import { registerStyleGradients, styleKernels } from './kernels/style_ops.js';
import { registerTapMixGradients, tapMixKernels } from './kernels/tap_mix.js';
import { AtenNative, loadNative, nativeLoadError } from './native.js';
import { gradientKernels, registerFusedGradients } from './gradients.js';

export { AtenBackend, type AdamHyper } from './backend.js';
export { distributedAvailable, initProcessGroup, type ProcessGroup, type ProcessGroupOptions } from './distributed.js';

export interface AtenInfo {
  libtorchVersion: string;
  device: string;
  threads: number;
  blas: string;
  /** OpenBLAS's thread count (set to `threads` at start-up); -1 where libtorch's BLAS is not OpenBLAS. */
  blasThreads: number;
  mkldnn: boolean;
}

let backendInstance: AtenBackend | undefined;
let registered = false;
let nativeKernelNames: string[] = [];

function threadCount(): number {
  const fromEnv = Number.parseInt(process.env.GANFORGE_THREADS ?? '', 10);
  return Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : os.availableParallelism();
}

function allKernels(native: AtenNative): KernelConfig[] {
  return [
    ...elementwiseKernels(native), ...matmulKernels(native), ...convKernels(native), ...poolResizeKernels(native),
    ...reduceNormKernels(native), ...shapeKernels(native), ...indexKernels(native), ...gradientKernels(native),
    ...rnnKernels(native), ...styleKernels(native), ...tapMixKernels(native),
  ];
}

/**
 * Registers the 'aten' backend (and its kernels) with tfjs. Returns false, without throwing,
 * when the native addon is missing or fails to load; atenLoadError() then says why.
 * Throws when the addon loads but the requested device (GANFORGE_DEVICE) is unusable.
 */
export function registerAtenBackend(priority = 3): boolean {
  if (registered) return true;
  const native = loadNative();
  if (!native) return false;
  const device = process.env.GANFORGE_DEVICE ?? 'cpu';
  // Create the backend eagerly so that a bad GANFORGE_DEVICE fails here, with a clear message.
  backendInstance = new AtenBackend(native, threadCount(), device);
  const kernels = allKernels(native);
  for (const k of kernels) registerKernel(k);
  nativeKernelNames = kernels.map((k) => k.kernelName).sort();
  registerFallbacks(() => backendInstance!);
  registerFusedGradients();
  registerStyleGradients();
  registerTapMixGradients();
  registerBackend(BACKEND_NAME, () => backendInstance!, priority);
  registered = true;
  return true;
}

/** Why the addon could not be loaded, or undefined if it loaded (or was not tried yet). */
export function atenLoadError(): string | undefined {
  return nativeLoadError();
}

/** Runtime facts: libtorch version, device, intra-op threads, BLAS, oneDNN (MKLDNN) availability. */
export function atenInfo(): AtenInfo {
  const native = loadNative();
  if (!native) throw new Error(`aten backend unavailable: ${nativeLoadError()}`);
  if (!backendInstance) backendInstance = new AtenBackend(native, threadCount(), process.env.GANFORGE_DEVICE ?? 'cpu');
  return native.info();
}

/** Kernels that ran through the CPU fallback so far in this process. */
export function atenFallbackKernels(): string[] {
  return fallbackKernels();
}

/** Kernels implemented natively (the others fall back to the CPU backend's code). */
export function atenNativeKernels(): string[] {
  return [...nativeKernelNames];
}

/** Native memory: bytes and tensors currently held by the addon. */
export function atenMemory(): { nativeBytes: number; nativeTensors: number } {
  const native = loadNative();
  if (!native) return { nativeBytes: 0, nativeTensors: 0 };
  return { nativeBytes: native.memory(), nativeTensors: native.count() };
}
