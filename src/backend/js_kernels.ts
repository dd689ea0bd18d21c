/**
 * Faster pure-JS replacements for the cpu backend's hottest training kernels. tfjs-backend-cpu loops
 * per output element (Conv2DBackpropFilter uses TensorBuffer.get in its innermost loop and takes
 * ~55 s on a DCGAN layer) and converts indices per element whenever an operand broadcasts; these
 * route convolutions and matmuls through im2col + a register-blocked GEMM and collapse broadcasts
 * into plain strided loops. Cases not covered (NCHW, integer/complex dtypes, prelu) are handed to
 * the kernel that was replaced.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { conv2DBackpropFilterFast, conv2DBackpropInputFast, conv2DFast, fusedConv2DFast } from './conv_kernels.js';
import { originals, type KernelArgs } from './kernel_util.js';
import { batchMatMulFast, binaryFast, fusedMatMulFast, reduceFast } from './math_kernels.js';

const BACKEND = 'cpu';

const replacements: Record<string, (args: KernelArgs) => tf.TensorInfo> = {
  [tf.Conv2D]: conv2DFast,
  [tf.Conv2DBackpropFilter]: conv2DBackpropFilterFast,
  [tf.Conv2DBackpropInput]: conv2DBackpropInputFast,
  [tf.FusedConv2D]: fusedConv2DFast,
  [tf.BatchMatMul]: batchMatMulFast,
  [tf._FusedMatMul]: fusedMatMulFast,
  [tf.Add]: binaryFast(tf.Add, 'add'),
  [tf.Sub]: binaryFast(tf.Sub, 'sub'),
  [tf.Multiply]: binaryFast(tf.Multiply, 'mul'),
  [tf.RealDiv]: binaryFast(tf.RealDiv, 'div'),
  [tf.SquaredDifference]: binaryFast(tf.SquaredDifference, 'sqdiff'),
  [tf.Sum]: reduceFast(tf.Sum, false),
  [tf.Mean]: reduceFast(tf.Mean, true),
};

/**
 * Swaps the cpu backend's convolution, matmul, broadcasting-arithmetic and Sum/Mean kernels for the
 * fast versions. Idempotent; returns the kernel names now served by the fast path.
 */
export function installFastCpuKernels(): string[] {
  for (const [name, fn] of Object.entries(replacements)) {
    const current = tf.getKernel(name, BACKEND);
    if (current?.kernelFunc === fn) continue;
    if (current && !originals.has(name)) originals.set(name, current.kernelFunc);
    tf.unregisterKernel(name, BACKEND);
    tf.registerKernel({ kernelName: name, backendName: BACKEND, kernelFunc: fn });
  }
  return Object.keys(replacements);
}

/** Puts the cpu backend's original kernels back (for A/B benchmarks and tests). Idempotent. */
export function uninstallFastCpuKernels(): void {
  for (const [name, fn] of Object.entries(replacements)) {
    const orig = originals.get(name);
    if (!orig || tf.getKernel(name, BACKEND)?.kernelFunc !== fn) continue;
    tf.unregisterKernel(name, BACKEND);
    tf.registerKernel({ kernelName: name, backendName: BACKEND, kernelFunc: orig });
  }
}

/** The cpu backend's original implementation of a replaced kernel, if installFastCpuKernels has run. */
export function originalCpuKernel(name: string): tf.KernelFunc | undefined {
  return originals.get(name) ?? tf.getKernel(name, BACKEND)?.kernelFunc;
}
