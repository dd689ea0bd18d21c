/** Fast float32 paths for matmul, broadcasting arithmetic and Sum/Mean; anything else defers. */
import * as tf from '@tensorflow/tfjs-core';
import { broadcastBinary, reduceSum, type BinaryOp } from './broadcast.js';
import { gemmAcc } from './gemm.js';
import {
  activationFn, biasAndActivate, biasFits, deferToOriginal, f32, input, output, type KernelArgs,
} from './kernel_util.js';

const size = (s: number[]): number => s.reduce((p, q) => p * q, 1);

/** [rows, cols] → [cols, rows], so GEMM always sees row-major operands. */
function transposed(v: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = v[r * cols + c];
  return t;
}

/** Batched A·B (optionally transposed) or undefined when batch dims broadcast in a way not handled here. */
function matmul(args: KernelArgs): { shape: number[]; values: Float32Array } | undefined {
  const a = input(args, 'a'), b = input(args, 'b');
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;
  const tA = args.attrs?.transposeA === true, tB = args.attrs?.transposeB === true;
  const ra = a.shape.length, rb = b.shape.length;
  const m = tA ? a.shape[ra - 1] : a.shape[ra - 2], k = tA ? a.shape[ra - 2] : a.shape[ra - 1];
  const n = tB ? b.shape[rb - 2] : b.shape[rb - 1];
  if ((tB ? b.shape[rb - 1] : b.shape[rb - 2]) !== k) return undefined;
  const batchA = size(a.shape.slice(0, -2)), batchB = size(b.shape.slice(0, -2));
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return undefined;
  const outer = tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = Math.max(batchA, batchB);
  const av = f32(args, a), bv = f32(args, b);
  const out = new Float32Array(batch * m * n);
  for (let i = 0; i < batch; i++) {
    const as = av.subarray((batchA === 1 ? 0 : i) * m * k, ((batchA === 1 ? 0 : i) + 1) * m * k);
    const bs = bv.subarray((batchB === 1 ? 0 : i) * k * n, ((batchB === 1 ? 0 : i) + 1) * k * n);
    gemmAcc(m, n, k, tA ? transposed(as, k, m) : as, tB ? transposed(bs, n, k) : bs, out.subarray(i * m * n, (i + 1) * m * n));
  }
  return { shape: [...outer, m, n], values: out };
}

export function batchMatMulFast(args: KernelArgs): tf.TensorInfo {
  const r = matmul(args);
  return r ? output(args, r.shape, r.values) : deferToOriginal(tf.BatchMatMul, args);
}

export function fusedMatMulFast(args: KernelArgs): tf.TensorInfo {
  const attrs = args.attrs ?? {};
  const act = activationFn(attrs.activation, attrs.leakyreluAlpha);
  const b = input(args, 'b');
  const n = attrs.transposeB === true ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
  const r = act && biasFits(args.inputs.bias, n) ? matmul(args) : undefined;
  if (!r || !act) return deferToOriginal(tf._FusedMatMul, args);
  const bias = args.inputs.bias;
  biasAndActivate(r.values, n, bias && f32(args, bias), act);
  return output(args, r.shape, r.values);
}

/** A kernel func for one broadcasting binary op; the original handles complex and integer dtypes. */
export function binaryFast(kernelName: string, op: BinaryOp): (args: KernelArgs) => tf.TensorInfo {
  return (args) => {
    const a = input(args, 'a'), b = input(args, 'b');
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return deferToOriginal(kernelName, args);
    const shape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    return output(args, shape, broadcastBinary(op, f32(args, a), a.shape, f32(args, b), b.shape, shape));
  };
}

/** Sum (mean = false) or Mean over attrs.axis of a float32 tensor. */
export function reduceFast(kernelName: string, mean: boolean): (args: KernelArgs) => tf.TensorInfo {
  return (args) => {
    const x = input(args, 'x');
    if (x.dtype !== 'float32') return deferToOriginal(kernelName, args);
    const axes = [...new Set(tf.util.parseAxisParam(args.attrs?.axis as number | number[], x.shape))].sort((p, q) => p - q);
    const count = size(axes.map((d) => x.shape[d]));
    const values = reduceSum(f32(args, x), x.shape, axes, mean && count > 0 ? 1 / count : 1);
    const shape = args.attrs?.keepDims === true
      ? x.shape.map((s, d) => (axes.includes(d) ? 1 : s))
      : x.shape.filter((_, d) => !axes.includes(d));
    return output(args, shape, values);
  };
}
