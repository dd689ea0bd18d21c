/** Shared plumbing for the fast cpu kernels: typed access to inputs and the replaced originals. */
import type * as tf from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

export type KernelArgs = Parameters<tf.KernelFunc>[0];
export type Attrs = Record<string, unknown>;

/** The cpu backend's own kernels, kept so tests and the bench can compare and uncovered cases can defer. */
export const originals = new Map<string, tf.KernelFunc>();

/** Runs the replaced cpu kernel: the fast paths hand over every case they do not cover. */
export function deferToOriginal(name: string, args: KernelArgs): tf.TensorInfo {
  const fn = originals.get(name);
  if (!fn) throw new Error(`ganforge: no original cpu kernel recorded for ${name}`);
  return fn(args) as tf.TensorInfo;
}

export function cpu(args: KernelArgs): MathBackendCPU {
  return args.backend as MathBackendCPU;
}

/** A named kernel input; tfjs types them as optional, but the engine always supplies the required ones. */
export function input(args: KernelArgs, name: string): tf.TensorInfo {
  const t = args.inputs[name];
  if (!t) throw new Error(`missing kernel input '${name}'`);
  return t;
}

export function f32(args: KernelArgs, t: tf.TensorInfo): Float32Array {
  return cpu(args).data.get(t.dataId).values as Float32Array;
}

export function output(args: KernelArgs, shape: number[], values: Float32Array): tf.TensorInfo {
  return cpu(args).makeTensorInfo(shape, 'float32', values);
}

/** The fused-op activations computed here; undefined (e.g. prelu) means "defer to the original". */
export function activationFn(name: unknown, alpha: unknown): ((v: number) => number) | undefined {
  const a = typeof alpha === 'number' ? alpha : 0.2;
  switch (name ?? 'linear') {
    case 'linear': return (v) => v;
    case 'relu': return (v) => (v > 0 ? v : 0);
    case 'relu6': return (v) => (v < 0 ? 0 : v > 6 ? 6 : v);
    case 'leakyrelu': return (v) => (v < 0 ? a * v : v);
    case 'elu': return (v) => (v >= 0 ? v : Math.exp(v) - 1);
    case 'sigmoid': return (v) => 1 / (1 + Math.exp(-v));
    default: return undefined;
  }
}

/** Adds a bias that is a scalar or spans the last axis (see biasFits), then applies act, in place. */
export function biasAndActivate(y: Float32Array, lastDim: number, bias: Float32Array | undefined,
  act: (v: number) => number): void {
  for (let i = 0, c = 0; i < y.length; i++, c = c + 1 === lastDim ? 0 : c + 1) {
    y[i] = act(bias ? y[i] + (bias.length === 1 ? bias[0] : bias[c]) : y[i]);
  }
}

/** True when a fused op's bias is float32 and either a scalar or a vector over the last axis. */
export function biasFits(bias: tf.TensorInfo | undefined, lastDim: number): boolean {
  if (!bias) return true;
  const n = bias.shape.reduce((p, q) => p * q, 1);
  return bias.dtype === 'float32' && (n === 1 || (n === lastDim && bias.shape[bias.shape.length - 1] === lastDim));
}
