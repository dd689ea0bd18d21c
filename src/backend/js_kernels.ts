/**
 * Faster pure-JS replacements for the cpu backend's convolution kernels. tfjs-backend-cpu loops per
 * output element with TensorBuffer.get in the innermost loop (Conv2DBackpropFilter takes ~55 s for a
 * DCGAN layer); these route the work through im2col + a register-blocked GEMM instead. Anything the
 * fast path does not cover (NCHW, non-float32, prelu) is handed to the kernel that was replaced.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { conv2dFilterGrad, conv2dForward, conv2dInputGrad, type ConvGeom } from './conv.js';

type Shape4 = [number, number, number, number];
type KernelArgs = Parameters<tf.KernelFunc>[0];
type Attrs = Record<string, unknown>;
type ConvPad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;

const BACKEND = 'cpu';
/** The cpu backend's own kernels, kept so tests and the bench can compare and uncovered cases can defer. */
const originals = new Map<string, tf.KernelFunc>();

function cpu(args: KernelArgs): MathBackendCPU {
  return args.backend as MathBackendCPU;
}

/** A named kernel input; tfjs types them as optional, but the engine always supplies the required ones. */
function input(args: KernelArgs, name: string): tf.TensorInfo {
  const t = args.inputs[name];
  if (!t) throw new Error(`missing kernel input '${name}'`);
  return t;
}

function f32(args: KernelArgs, t: tf.TensorInfo): Float32Array {
  return cpu(args).data.get(t.dataId).values as Float32Array;
}

/** Returns ConvGeom for an NHWC float32 case, or undefined so the caller defers to the original kernel. */
function geometry(xShape: number[], filterShape: number[], attrs: Attrs, ts: tf.TensorInfo[],
  dyShape?: number[]): ConvGeom | undefined {
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC' || ts.some((t) => t.dtype !== 'float32')) return undefined;
  const info = tf.backend_util.computeConv2DInfo(xShape as Shape4, filterShape as Shape4,
    attrs.strides as number | [number, number], (attrs.dilations ?? 1) as number | [number, number],
    attrs.pad as ConvPad, attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined);
  // tfjs' conv2d gradient drops dimRoundingMode, so the recomputed output size can be one short of
  // dy's; dy's own extent is the truth (it is what the forward pass produced).
  return {
    batch: info.batchSize, inH: info.inHeight, inW: info.inWidth, inC: info.inChannels,
    outH: dyShape ? dyShape[1] : info.outHeight, outW: dyShape ? dyShape[2] : info.outWidth, outC: info.outChannels,
    kH: info.filterHeight, kW: info.filterWidth, strideH: info.strideHeight, strideW: info.strideWidth,
    dilH: info.dilationHeight, dilW: info.dilationWidth, padTop: info.padInfo.top, padLeft: info.padInfo.left,
  };
}

function conv2DFast(args: KernelArgs): tf.TensorInfo {
  const x = input(args, 'x'), filter = input(args, 'filter');
  const g = geometry(x.shape, filter.shape, args.attrs ?? {}, [x, filter]);
  if (!g) return originals.get(tf.Conv2D)!(args) as tf.TensorInfo;
  const y = conv2dForward(f32(args, x), f32(args, filter), g);
  return cpu(args).makeTensorInfo([g.batch, g.outH, g.outW, g.outC], 'float32', y);
}

function conv2DBackpropFilterFast(args: KernelArgs): tf.TensorInfo {
  const x = input(args, 'x'), dy = input(args, 'dy');
  const attrs = args.attrs ?? {};
  const g = geometry(x.shape, attrs.filterShape as number[], attrs, [x, dy], dy.shape);
  if (!g) return originals.get(tf.Conv2DBackpropFilter)!(args) as tf.TensorInfo;
  const dw = conv2dFilterGrad(f32(args, x), f32(args, dy), g);
  return cpu(args).makeTensorInfo([g.kH, g.kW, g.inC, g.outC], 'float32', dw);
}

function conv2DBackpropInputFast(args: KernelArgs): tf.TensorInfo {
  const dy = input(args, 'dy'), filter = input(args, 'filter');
  const attrs = args.attrs ?? {};
  const inShape = attrs.inputShape as number[];
  const g = geometry(inShape, filter.shape, attrs, [dy, filter], dy.shape);
  if (!g) return originals.get(tf.Conv2DBackpropInput)!(args) as tf.TensorInfo;
  const dx = conv2dInputGrad(f32(args, dy), f32(args, filter), g);
  return cpu(args).makeTensorInfo(inShape, 'float32', dx);
}

/** Bias and activation applied in place on the NHWC conv output; undefined means "not handled here". */
function activationFn(name: unknown, alpha: unknown): ((v: number) => number) | undefined {
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

function fusedConv2DFast(args: KernelArgs): tf.TensorInfo {
  const x = input(args, 'x'), filter = input(args, 'filter'), bias = args.inputs.bias;
  const attrs = args.attrs ?? {};
  const act = activationFn(attrs.activation, attrs.leakyreluAlpha);
  const g = act && geometry(x.shape, filter.shape, attrs, [x, filter]);
  const biasOk = !bias || (bias.dtype === 'float32' && (tf.util.sizeFromShape(bias.shape) === 1 ||
    (bias.shape.length === 1 && bias.shape[0] === filter.shape[3])));
  if (!g || !act || !biasOk) return originals.get(tf.FusedConv2D)!(args) as tf.TensorInfo;
  const y = conv2dForward(f32(args, x), f32(args, filter), g);
  const bv = bias ? f32(args, bias) : undefined;
  const co = g.outC;
  for (let i = 0, c = 0; i < y.length; i++, c = c + 1 === co ? 0 : c + 1) {
    y[i] = act(bv ? y[i] + (bv.length === 1 ? bv[0] : bv[c]) : y[i]);
  }
  return cpu(args).makeTensorInfo([g.batch, g.outH, g.outW, co], 'float32', y);
}

const replacements: Record<string, tf.KernelFunc> = {
  [tf.Conv2D]: conv2DFast as tf.KernelFunc,
  [tf.Conv2DBackpropFilter]: conv2DBackpropFilterFast as tf.KernelFunc,
  [tf.Conv2DBackpropInput]: conv2DBackpropInputFast as tf.KernelFunc,
  [tf.FusedConv2D]: fusedConv2DFast as tf.KernelFunc,
};

/**
 * Swaps the cpu backend's Conv2D, Conv2DBackpropFilter, Conv2DBackpropInput and FusedConv2D kernels
 * for the im2col + GEMM versions. Idempotent; returns the kernel names now served by the fast path.
 */
export function installFastCpuKernels(): string[] {
  for (const [name, fn] of Object.entries(replacements)) {
    const current = tf.getKernel(name, BACKEND);
    if (current?.kernelFunc === fn) continue;
    if (current) originals.set(name, current.kernelFunc);
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
