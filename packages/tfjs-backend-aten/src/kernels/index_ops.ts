// Indexing kernels: GatherV2, GatherNd, ScatterNd, UnsortedSegmentSum, OneHot, Einsum, TopK,
// Multinomial (sampled with an ATen generator seeded from the kernel's seed).
import { DataType, KernelConfig, TensorInfo, util } from '@tensorflow/tfjs-core';
import { AtenNative, dtypeCode } from '../native.js';
import { atenKernel, FALLBACK } from '../kernel_util.js';

export function indexKernels(native: AtenNative): KernelConfig[] {
  return [
    atenKernel('GatherV2', (b, { x, indices }, { axis, batchDims }) => {
      if (batchDims) return FALLBACK;
      const ax = util.parseAxisParam(axis as number, x.shape)[0];
      return b.output(native.gather(b.handle(x), b.handle(indices), ax));
    }),
    atenKernel('GatherNd', (b, { params, indices }) => b.output(native.gatherNd(b.handle(params), b.handle(indices)))),
    atenKernel('ScatterNd', (b, { indices, updates }, { shape }) =>
      b.output(native.scatterNd(b.handle(indices), b.handle(updates), shape as number[]))),
    atenKernel('UnsortedSegmentSum', (b, { x, segmentIds }, { numSegments }) =>
      b.output(native.unsortedSegmentSum(b.handle(x), b.handle(segmentIds), numSegments as number))),
    atenKernel('OneHot', (b, { indices }, { depth, onValue, offValue, dtype }) =>
      b.output(native.oneHot(b.handle(indices), depth as number, (onValue as number) ?? 1, (offValue as number) ?? 0,
        dtypeCode((dtype as DataType) ?? 'int32')))),
    atenKernel('Einsum', (b, inputs, { equation }) => {
      const tensors = Object.values(inputs).filter((t): t is TensorInfo => t != null);
      return b.output(native.einsum(equation as string, tensors.map((t) => b.handle(t))));
    }),
    atenKernel('TopK', (b, { x }, { k }) => b.outputs(native.topK(b.handle(x), k as number))),
    atenKernel('Multinomial', (b, { logits }, { numSamples, seed, normalized }) =>
      b.output(native.multinomial(b.handle(logits), numSamples as number, Math.abs(Math.floor((seed as number) ?? 0)),
        !!normalized))),
  ];
}
