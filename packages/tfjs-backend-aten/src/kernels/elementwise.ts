// Elementwise kernels: unary ops, broadcasting binary ops, Select, AddN, Cast.
import { DataType, KernelConfig, TensorInfo, upcastType } from '@tensorflow/tfjs-core';
import type { AtenBackend } from '../backend.js';
import { AtenNative, dtypeCode } from '../native.js';
import { atenKernel } from '../kernel_util.js';

// Output dtypes follow the CPU backend: unary ops keep the input dtype (int32 results are
// truncated) except Exp and LeakyRelu, which always produce float32.
const FLOAT_UNARY = new Set(['Exp', 'LeakyRelu']);
const BOOL_UNARY = new Set(['IsNan', 'IsInf', 'IsFinite', 'LogicalNot']);
const BOOL_BINARY = new Set(['Equal', 'NotEqual', 'Less', 'LessEqual', 'Greater', 'GreaterEqual', 'LogicalAnd', 'LogicalOr', 'LogicalXor']);

function unaryOutDtype(op: string, x: DataType): DataType {
  if (BOOL_UNARY.has(op)) return 'bool';
  if (FLOAT_UNARY.has(op) || x === 'float32') return 'float32';
  return 'int32';
}

function binaryOutDtype(op: string, a: DataType, b: DataType): DataType {
  if (BOOL_BINARY.has(op)) return 'bool';
  if (op === 'FloorDiv') return 'int32';  // as the CPU backend: even for float32 inputs
  if (op === 'EluGrad') return 'float32';
  return upcastType(a, b);
}

function unaryAttrs(op: string, attrs: Record<string, unknown>): [number, number] {
  switch (op) {
    case 'LeakyRelu': return [attrs.alpha as number, 0];
    case 'Step': return [(attrs.alpha as number) ?? 0, 0];
    case 'ClipByValue': return [attrs.clipValueMin as number, attrs.clipValueMax as number];
    default: return [0, 0];
  }
}

/** x [..., 2n] → a ⊙ σ(b) [..., n], where [a, b] are x's halves along the last axis (ganforge's GatedLinearUnit). */
export const GLU = 'GatedLinearUnit';
/** GLU's gradient for x: inputs dy [..., n] and x [..., 2n]. */
export const GLU_GRAD = 'GatedLinearUnitGrad';

export function elementwiseKernels(native: AtenNative): KernelConfig[] {
  const unary = native.unaryOps.map((op, index) =>
    atenKernel(op, (b, { x }, attrs) => {
      const [p, q] = unaryAttrs(op, attrs);
      return b.output(native.unary(index, b.handle(x), dtypeCode(unaryOutDtype(op, x.dtype)), p, q));
    }));
  // Binary kernels name their inputs a/b, except Prelu (x, alpha) and EluGrad (dy, y).
  const binary = native.binaryOps.map((op, index) =>
    atenKernel(op, (b, inputs) => {
      const [first, second] = op === 'Prelu' ? [inputs.x, inputs.alpha] : op === 'EluGrad' ? [inputs.dy, inputs.y] : [inputs.a, inputs.b];
      const out = binaryOutDtype(op, first.dtype, second.dtype);
      return b.output(native.binary(index, b.handle(first), b.handle(second), dtypeCode(out)));
    }));
  return [
    ...unary,
    ...binary,
    atenKernel('Cast', (b, { x }, { dtype }) =>
      (x.dtype === dtype ? b.share(x) : b.output(native.cast(b.handle(x), dtypeCode(dtype as DataType))))),
    atenKernel('Select', (b, { condition, t, e }) => b.output(native.select(b.handle(condition), b.handle(t), b.handle(e)))),
    atenKernel('AddN', (b: AtenBackend, inputs) => {
      const tensors = Object.values(inputs) as TensorInfo[];
      return b.output(native.addN(tensors.map((t) => b.handle(t))));
    }),
    atenKernel(GLU, (b, { x }) => b.output(native.glu(b.handle(x)))),
    atenKernel(GLU_GRAD, (b, { dy, x }) => b.output(native.gluGrad(b.handle(dy), b.handle(x)))),
  ];
}
