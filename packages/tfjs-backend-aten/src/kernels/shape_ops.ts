// Layout and creation kernels. Shape arithmetic reuses tfjs's helpers (slice_util,
// prepareSplitSize) so that edge cases (negative indices, masks) behave as on the CPU backend.
import { backend_util, DataType, KernelConfig, slice_util, TensorInfo, util } from '@tensorflow/tfjs-core';
import { AtenNative, dtypeCode } from '../native.js';
import { atenKernel, FALLBACK, normalizeAxes } from '../kernel_util.js';

/**
 * The inverse (and adjoint) of DepthToSpace, NHWC, { x }, attrs { blockSize }: DepthToSpace's gradient. tfjs has
 * no SpaceToDepth kernel; this one is aten's own (see src/gradients.ts for the form other backends run).
 */
export const SPACE_TO_DEPTH = 'AtenSpaceToDepth';

const listOf = (inputs: Record<string, TensorInfo>): TensorInfo[] => Object.values(inputs).filter((t) => t != null);

/** Element count of tfjs's Range: empty for an empty or wrongly directed range (CPU rules). */
function rangeCount(start: number, stop: number, step: number): number {
  if (start === stop || (start < stop && step < 0) || (stop < start && step > 1)) return 0;
  return Math.abs(Math.ceil((stop - start) / step));
}

export function shapeKernels(native: AtenNative): KernelConfig[] {
  return [
    atenKernel('Transpose', (b, { x }, { perm }) => b.output(native.transpose(b.handle(x), perm as number[]))),
    atenKernel('Reshape', (b, { x }, { shape }) => {
      const to = util.inferFromImplicitShape(shape as number[], util.sizeFromShape(x.shape));
      // To its own shape (every elementwise gradient ends so): the same data, as Identity.
      return util.arraysEqual(to, x.shape) ? b.share(x) : b.output(native.reshape(b.handle(x), to));
    }),
    atenKernel('Identity', (b, { x }) => b.share(x)),
    atenKernel('BroadcastTo', (b, { x }, { reps, shape }) =>
      shape ? b.output(native.broadcastTo(b.handle(x), shape as number[])) : b.output(native.tile(b.handle(x), reps as number[]))),
    atenKernel('Slice', (b, { x }, { begin, size }) => {
      const [start, length] = slice_util.parseSliceParams(x as never, begin as number[], size as number[]);
      return b.output(native.slice(b.handle(x), start, length));
    }),
    atenKernel('StridedSlice', (b, { x }, attrs) => {
      const info = slice_util.sliceInfo(x.shape, attrs.begin as number[], attrs.end as number[], attrs.strides as number[],
        attrs.beginMask as number, attrs.endMask as number, attrs.ellipsisMask as number, attrs.newAxisMask as number,
        attrs.shrinkAxisMask as number);
      if (info.isIdentity) return b.output(native.reshape(b.handle(x), info.finalShape));
      // Per-axis element counts of the dense slice (shrunk axes count 1), then the final reshape.
      const counts = slice_util.computeOutShape(info.begin, info.end, info.strides);
      return b.output(native.stridedSlice(b.handle(x), info.begin, info.strides, counts, info.finalShape));
    }),
    atenKernel('Concat', (b, inputs, { axis }) => {
      const tensors = listOf(inputs);
      const ax = util.parseAxisParam(axis as number, tensors[0].shape)[0];
      // Empty parts contribute nothing; tfjs allows their other dimensions to differ.
      const parts = tensors.filter((t) => util.sizeFromShape(t.shape) > 0);
      if (parts.length === 0) return FALLBACK;
      return b.output(native.concat(parts.map((t) => b.handle(t)), ax));
    }),
    atenKernel('Pack', (b, inputs, { axis }) => {
      const tensors = listOf(inputs);
      return b.output(native.pack(tensors.map((t) => b.handle(t)), normalizeAxes(axis as number, tensors[0].shape.length + 1)[0]));
    }),
    atenKernel('Unpack', (b, { value }, { axis }) =>
      b.outputs(native.unpack(b.handle(value), normalizeAxes(axis as number, value.shape.length)[0]))),
    atenKernel('SplitV', (b, { x }, { numOrSizeSplits, axis }) => {
      const ax = util.parseAxisParam(axis as number, x.shape)[0];
      const sizes = backend_util.prepareSplitSize(x as never, numOrSizeSplits as number[] | number, ax);
      return b.outputs(native.splitV(b.handle(x), sizes, ax));
    }),
    atenKernel('PadV2', (b, { x }, { paddings, constantValue }) =>
      b.output(native.pad(b.handle(x), (paddings as number[][]).flat(), (constantValue as number) ?? 0))),
    atenKernel('MirrorPad', (b, { x }, { paddings, mode }) =>
      b.output(native.mirrorPad(b.handle(x), (paddings as number[][]).flat(), mode === 'symmetric'))),
    // MirrorPad's adjoint under TensorFlow's kernel name (tfjs has none; its MirrorPad gradient drops the
    // border). Used by ganforge's reflection padding; inputs { dy }, attrs as MirrorPad's.
    atenKernel('MirrorPadGrad', (b, { dy }, { paddings, mode }) =>
      b.output(native.mirrorPadGrad(b.handle(dy), (paddings as number[][]).flat(), mode === 'symmetric'))),
    atenKernel('DepthToSpace', (b, { x }, { blockSize, dataFormat }) =>
      (dataFormat === 'NCHW' ? FALLBACK : b.output(native.depthToSpace(b.handle(x), blockSize as number)))),
    atenKernel(SPACE_TO_DEPTH, (b, { x }, { blockSize }) => b.output(native.spaceToDepth(b.handle(x), blockSize as number))),
    atenKernel('Tile', (b, { x }, { reps }) => b.output(native.tile(b.handle(x), reps as number[]))),
    atenKernel('Reverse', (b, { x }, { dims }) => {
      const axes = util.parseAxisParam(dims as number[], x.shape);
      return b.output(axes.length === 0 ? native.identity(b.handle(x)) : native.reverse(b.handle(x), axes));
    }),
    atenKernel('Fill', (b, _inputs, { shape, value, dtype }) => {
      const type = (dtype as DataType) ?? util.inferDtype(value as number);
      if (type === 'string') return FALLBACK;
      return b.output(native.fill(shape as number[], value as number, dtypeCode(type)));
    }),
    atenKernel('ZerosLike', (b, { x }) => (x.dtype === 'complex64' || x.dtype === 'string' ? FALLBACK : b.output(native.zerosLike(b.handle(x))))),
    atenKernel('OnesLike', (b, { x }) => (x.dtype === 'complex64' || x.dtype === 'string' ? FALLBACK : b.output(native.onesLike(b.handle(x))))),
    atenKernel('Range', (b, _inputs, { start, stop, step, dtype }) => {
      const count = rangeCount(start as number, stop as number, step as number);
      return b.output(native.range(start as number, step as number, count, dtypeCode((dtype as DataType) ?? 'float32')));
    }),
  ];
}
