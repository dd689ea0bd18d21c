// Loads the N-API addon and describes its functions. Tensor handles are small integers
// (see native/tensor_table.cc); kernel outputs report dtype and shape through `meta`.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DataType } from '@tensorflow/tfjs-core';

export type Handle = number;

export interface AtenNative {
  init(meta: Int32Array, threads: number, device: string): void;
  info(): { libtorchVersion: string; device: string; threads: number; blas: string; blasThreads: number; mkldnn: boolean };
  write(values: ArrayBufferView, shape: number[], dtype: number): Handle;
  read(id: Handle): ArrayBuffer;
  free(id: Handle): void;
  memory(): number;
  count(): number;
  unaryOps: string[];
  binaryOps: string[];
  reduceOps: string[];
  unary(op: number, x: Handle, outDtype: number, a?: number, b?: number): Handle;
  binary(op: number, a: Handle, b: Handle, outDtype: number): Handle;
  cast(x: Handle, dtype: number): Handle;
  select(c: Handle, t: Handle, e: Handle): Handle;
  addN(ids: Handle[]): Handle;
  activationGrad(kind: 0 | 1, dy: Handle, x: Handle, alpha: number): Handle;
  /** which 0: dx, 1: dalpha (alpha's shape). */
  preluGrad(which: 0 | 1, dy: Handle, x: Handle, alpha: Handle): Handle;
  /** a ⊙ σ(b) for x = [a, b] split in halves along the last axis. */
  glu(x: Handle): Handle;
  /** glu's gradient for x: [dy·σ(b), dy·a·σ(b)(1 − σ(b))]. */
  gluGrad(dy: Handle, x: Handle): Handle;
  batchNormGrad(which: number, x: Handle, mean: Handle, variance: Handle, scale: Handle, dy: Handle, epsilon: number): Handle;
  adamUpdate(value: Handle, m: Handle, v: Handle, g: Handle, lr: number, beta1: number, beta2: number, epsilon: number,
    oneMinusAccBeta1: number, oneMinusAccBeta2: number): boolean;
  matMul(a: Handle, b: Handle, ta: boolean, tb: boolean, bias: Handle, activation: string, alpha: number, prelu: Handle): Handle;
  conv2d(x: Handle, f: Handle, strides: number[], pads: number[], dilations: number[], bias: Handle, activation: string,
    alpha: number, prelu: Handle): Handle;
  depthwiseConv2d(x: Handle, f: Handle, strides: number[], pads: number[], dilations: number[], bias: Handle,
    activation: string, alpha: number, prelu: Handle): Handle;
  conv2dBackpropInput(dy: Handle, f: Handle, inShape: number[], strides: number[], pads: number[], dilations: number[]): Handle;
  depthwiseConv2dBackpropInput(dy: Handle, f: Handle, inShape: number[], strides: number[], pads: number[],
    dilations: number[]): Handle;
  conv2dBackpropFilter(x: Handle, dy: Handle, fShape: number[], strides: number[], pads: number[], dilations: number[]): Handle;
  depthwiseConv2dBackpropFilter(x: Handle, dy: Handle, fShape: number[], strides: number[], pads: number[],
    dilations: number[]): Handle;
  maxPool(x: Handle, k: number[], s: number[], pads: number[]): Handle;
  maxPoolGrad(dy: Handle, x: Handle, k: number[], s: number[], pads: number[]): Handle;
  avgPool(x: Handle, k: number[], s: number[], pads: number[]): Handle;
  avgPoolGrad(dy: Handle, x: Handle, k: number[], s: number[], pads: number[]): Handle;
  resizeBilinear(x: Handle, r0: number[], r1: number[], rw: number[], c0: number[], c1: number[], cw: number[]): Handle;
  resizeBilinearGrad(dy: Handle, inH: number, inW: number, r0: number[], r1: number[], rw: number[], c0: number[],
    c1: number[], cw: number[]): Handle;
  resizeNearest(x: Handle, rows: number[], cols: number[]): Handle;
  resizeNearestGrad(dy: Handle, inH: number, inW: number, rows: number[], cols: number[]): Handle;
  reduce(op: number, x: Handle, axes: number[], keepDims: boolean, outDtype: number): Handle;
  softmax(x: Handle, dim: number): Handle;
  logSoftmax(x: Handle, dim: number): Handle;
  batchNorm(x: Handle, mean: Handle, variance: Handle, offset: Handle, scale: Handle, eps: number): Handle;
  cumulative(x: Handle, axis: number, exclusive: boolean, reverse: boolean, product: boolean): Handle;
  instanceNorm(x: Handle, epsilon: number): Handle[];
  instanceNormGrad(dy: Handle, y: Handle, rstd: Handle): Handle;
  /** gain · the [1, 3, 3, 1] 2× up- (up) or downsampling of x [B, H, W, C] (native/style_ops.cc). */
  resample2x(x: Handle, up: boolean, gain: number): Handle;
  /** gain · leakyRelu(x + bias, alpha), bias [C] along x's last axis. */
  biasAct(x: Handle, bias: Handle, alpha: number, gain: number): Handle;
  /** BiasAct's gradient for x. */
  biasActGrad(dy: Handle, x: Handle, bias: Handle, alpha: number, gain: number): Handle;
  /** x [B, H, W, C] · s [B, C]. */
  channelScale(x: Handle, s: Handle): Handle;
  /** Σ_{H, W} a·b → [B, C]. */
  channelDot(a: Handle, b: Handle): Handle;
  /** source [R, C], index int32 [N, T], weight [N, T] → [N, C]: Σ_t weight · source[index] (native/tap_mix.cc). */
  tapMix(source: Handle, index: Handle, weight: Handle): Handle;
  /** tapMix's adjoint: dy [N, C] → [rows, C], out[index] += weight · dy. */
  tapScatter(dy: Handle, index: Handle, weight: Handle, rows: number): Handle;
  /** [y, mean, variance]: batch norm with the batch's own statistics over every axis but the last. */
  batchNormTraining(x: Handle, scale: Handle, offset: Handle, epsilon: number): Handle[];
  /** [movingMean', movingVariance']: m − (m − batch)·(1 − momentum) for each, as tfjs-layers' batch norm updates them. */
  batchNormMovingStats(movingMean: Handle, movingVariance: Handle, mean: Handle, variance: Handle, momentum: number): Handle[];
  /** [dx, dScale, dOffset] of batchNormTraining, given the gradients reaching y, mean (0: none) and variance (0: none). */
  batchNormTrainingGrad(dy: Handle, x: Handle, mean: Handle, variance: Handle, scale: Handle, dMean: Handle, dVariance: Handle,
    epsilon: number): Handle[];
  /** y = γ[b, c]·x + β[b, c] for x [B, H, W, C], γ and β [B, C]. */
  channelAffine(x: Handle, gamma: Handle, beta: Handle): Handle;
  /** [dx, dGamma, dBeta] of channelAffine. */
  channelAffineGrad(dy: Handle, x: Handle, gamma: Handle): Handle[];
  /** [y, gates, tanhC, c] (native/rnn.cc); `generic` forces the ATen-op path other devices run. */
  lstmSequence(x: Handle, kernel: Handle, recurrent: Handle, bias: Handle, mask: Handle, reverse: boolean, hardSigmoid: boolean,
    generic: boolean): Handle[];
  /** [dx, dKernel, dRecurrentKernel, dBias]. */
  lstmSequenceGrad(dy: Handle, x: Handle, kernel: Handle, recurrent: Handle, mask: Handle, y: Handle, gates: Handle, tanhC: Handle,
    c: Handle, reverse: boolean, hardSigmoid: boolean, generic: boolean): Handle[];
  /** [y, zr, hh, rh] (native/rnn.cc); `generic` forces the ATen-op path other devices run. */
  gruSequence(x: Handle, kernel: Handle, recurrent: Handle, bias: Handle, mask: Handle, reverse: boolean, hardSigmoid: boolean,
    generic: boolean): Handle[];
  /** [dx, dKernel, dRecurrentKernel, dBias]. */
  gruSequenceGrad(dy: Handle, x: Handle, kernel: Handle, recurrent: Handle, mask: Handle, y: Handle, zr: Handle, hh: Handle,
    rh: Handle, reverse: boolean, hardSigmoid: boolean, generic: boolean): Handle[];
  transpose(x: Handle, perm: number[]): Handle;
  reshape(x: Handle, shape: number[]): Handle;
  identity(x: Handle): Handle;
  broadcastTo(x: Handle, shape: number[]): Handle;
  slice(x: Handle, begin: number[], size: number[]): Handle;
  stridedSlice(x: Handle, begin: number[], strides: number[], counts: number[], finalShape: number[]): Handle;
  concat(ids: Handle[], axis: number): Handle;
  pack(ids: Handle[], axis: number): Handle;
  unpack(x: Handle, axis: number): Handle[];
  splitV(x: Handle, sizes: number[], axis: number): Handle[];
  pad(x: Handle, paddings: number[], value: number): Handle;
  mirrorPad(x: Handle, paddings: number[], symmetric: boolean): Handle;
  mirrorPadGrad(dy: Handle, paddings: number[], symmetric: boolean): Handle;
  depthToSpace(x: Handle, blockSize: number): Handle;
  spaceToDepth(x: Handle, blockSize: number): Handle;
  tile(x: Handle, reps: number[]): Handle;
  reverse(x: Handle, dims: number[]): Handle;
  fill(shape: number[], value: number, dtype: number): Handle;
  zerosLike(x: Handle): Handle;
  onesLike(x: Handle): Handle;
  range(start: number, step: number, count: number, dtype: number): Handle;
  gather(x: Handle, indices: Handle, axis: number): Handle;
  gatherNd(params: Handle, indices: Handle): Handle;
  scatterNd(indices: Handle, updates: Handle, shape: number[]): Handle;
  unsortedSegmentSum(x: Handle, ids: Handle, numSegments: number): Handle;
  oneHot(indices: Handle, depth: number, on: number, off: number, dtype: number): Handle;
  einsum(equation: string, ids: Handle[]): Handle;
  topK(x: Handle, k: number): Handle[];
  multinomial(x: Handle, numSamples: number, seed: number, normalized: boolean): Handle;
  // c10d (native/distributed.cc); the functions after distAvailable exist only when a backend was compiled in.
  distAvailable(): { ok: boolean; why?: string; backends: string[] };
  distInit?(opts: DistInitArgs): Promise<number>;
  distTensors?(group: number, ids: Handle[], kind: number, arg: number, bucketBytes: number): Handle[];
  distBuffers?(group: number, buffers: (Float32Array | Int32Array)[], kind: number, arg: number, bucketBytes: number,
    sync: boolean): Promise<void> | undefined;
  distBarrier?(group: number): Promise<void>;
  distDestroy?(group: number): void;
}

export interface DistInitArgs {
  rank: number;
  worldSize: number;
  storeKind: 'tcp' | 'file';
  masterAddr?: string;
  masterPort?: number;
  /** 1: this rank serves the TCPStore (default: rank 0); 0: a client (the launcher serves it). */
  hostStore?: number;
  file?: string;
  iface?: string;
  hostname?: string;
  timeoutMs: number;
  backend: string;
  localRank: number;
  /** 0 never, 1 on the group's first collective, 2 on every collective. */
  checkSizes: number;
}

export const DTYPE_CODES: Partial<Record<DataType, number>> = { float32: 0, int32: 1, bool: 2 };
export const DTYPE_NAMES: DataType[] = ['float32', 'int32', 'bool'];

export function dtypeCode(dtype: DataType): number {
  const code = DTYPE_CODES[dtype];
  if (code === undefined) throw new Error(`dtype ${dtype} is not supported natively`);
  return code;
}

const ADDON_FILE = 'aten_backend.node';

/** The package root: the nearest folder above this file holding binding.gyp. */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'binding.gyp'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot locate the tfjs-backend-aten package folder');
    dir = up;
  }
  return dir;
}

/**
 * libgomp's idle worker threads spin ~300k iterations before sleeping. When other processes
 * compete for the cores (a shared 2-core box), that spinning steals the CPU from the thread
 * doing the work: measured here, a 3 MB multiply took 11 ms with the default and 0.6 ms with
 * a short spin. libgomp reads the variable when it is loaded, i.e. with the addon, so it is
 * set just before. A value the user chose (or OMP_WAIT_POLICY) is left alone.
 */
function limitOpenMpSpinning(): void {
  if (process.env.GOMP_SPINCOUNT === undefined && process.env.OMP_WAIT_POLICY === undefined) {
    process.env.GOMP_SPINCOUNT = DEFAULT_GOMP_SPINCOUNT;
  }
}
const DEFAULT_GOMP_SPINCOUNT = '10000';

let loaded: AtenNative | undefined;
let loadError: string | undefined;

/** Loads the addon once; returns undefined (and records why) when it is missing or broken. */
export function loadNative(): AtenNative | undefined {
  if (loaded || loadError) return loaded;
  try {
    const root = packageRoot();
    const file = [path.join(root, 'build', 'Release', ADDON_FILE), path.join(root, 'build', 'Debug', ADDON_FILE)]
      .find((f) => fs.existsSync(f));
    if (!file) {
      throw new Error(`${ADDON_FILE} not built (libtorch missing at install time? run \`npm run build\` in ${root})`);
    }
    limitOpenMpSpinning();
    loaded = createRequire(import.meta.url)(file) as AtenNative;
  } catch (e) {
    loadError = e instanceof Error ? e.message : String(e);
  }
  return loaded;
}

export function nativeLoadError(): string | undefined {
  return loadError;
}
