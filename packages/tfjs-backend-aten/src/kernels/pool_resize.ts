// Pooling (MaxPool/AvgPool + grads) and resizing (bilinear/nearest + grads).
// Resize coordinates follow the CPU backend's formulas exactly; native code only gathers,
// interpolates and scatters along the two spatial axes.
import { backend_util, KernelConfig, NamedAttrMap } from '@tensorflow/tfjs-core';
import type { AtenNative } from '../native.js';
import { atenKernel, FALLBACK } from '../kernel_util.js';

function poolInfo(xShape: number[], attrs: NamedAttrMap): backend_util.Conv2DInfo {
  return backend_util.computePool2DInfo(xShape as [number, number, number, number],
    attrs.filterSize as [number, number] | number, attrs.strides as [number, number] | number, 1,
    attrs.pad as 'valid' | 'same' | number);
}

function geometry(info: backend_util.Conv2DInfo): [number[], number[], number[]] {
  const p = info.padInfo;
  return [[info.filterHeight, info.filterWidth], [info.strideHeight, info.strideWidth], [p.top, p.bottom, p.left, p.right]];
}

/** ATen's avg_pool2d pads symmetrically by at most half the window; other cases use the CPU kernel. */
function avgPoolNative(info: backend_util.Conv2DInfo): boolean {
  const p = info.padInfo;
  return p.top === p.bottom && p.left === p.right && 2 * p.top <= info.filterHeight && 2 * p.left <= info.filterWidth;
}

interface AxisLerp { low: number[]; high: number[]; weight: number[] }

function bilinearAxis(inSize: number, outSize: number, alignCorners: boolean, halfPixel: boolean): AxisLerp {
  const effIn = alignCorners && outSize > 1 ? inSize - 1 : inSize;
  const effOut = alignCorners && outSize > 1 ? outSize - 1 : outSize;
  const ratio = effIn / effOut;
  const axis: AxisLerp = { low: [], high: [], weight: [] };
  for (let i = 0; i < outSize; i++) {
    const src = halfPixel ? ratio * (i + 0.5) - 0.5 : ratio * i;
    const low = Math.max(0, Math.floor(src));
    axis.low.push(low);
    axis.high.push(Math.min(inSize - 1, Math.ceil(src)));
    axis.weight.push(src - low);
  }
  return axis;
}

function nearestAxis(inSize: number, outSize: number, alignCorners: boolean, halfPixel: boolean): number[] {
  const effIn = alignCorners && outSize > 1 ? inSize - 1 : inSize;
  const effOut = alignCorners && outSize > 1 ? outSize - 1 : outSize;
  const ratio = effIn / effOut;
  const idx: number[] = [];
  for (let i = 0; i < outSize; i++) {
    const src = halfPixel ? ratio * (i + 0.5) : ratio * i;
    const nearest = Math.min(inSize - 1, alignCorners ? Math.round(src) : Math.floor(src));
    idx.push(halfPixel ? Math.max(0, nearest) : nearest);
  }
  return idx;
}

export function poolResizeKernels(native: AtenNative): KernelConfig[] {
  return [
    atenKernel('MaxPool', (b, { x }, attrs) => {
      if (attrs.dimRoundingMode != null) return FALLBACK;
      return b.output(native.maxPool(b.handle(x), ...geometry(poolInfo(x.shape, attrs))));
    }),
    atenKernel('MaxPoolGrad', (b, { dy, input }, attrs) => {
      if (attrs.dimRoundingMode != null) return FALLBACK;
      return b.output(native.maxPoolGrad(b.handle(dy), b.handle(input), ...geometry(poolInfo(input.shape, attrs))));
    }),
    atenKernel('AvgPool', (b, { x }, attrs) => {
      const info = poolInfo(x.shape, attrs);
      if (attrs.dimRoundingMode != null || !avgPoolNative(info)) return FALLBACK;
      return b.output(native.avgPool(b.handle(x), ...geometry(info)));
    }),
    atenKernel('AvgPoolGrad', (b, { dy, input }, attrs) => {
      const info = poolInfo(input.shape, attrs);
      if (!avgPoolNative(info)) return FALLBACK;
      return b.output(native.avgPoolGrad(b.handle(dy), b.handle(input), ...geometry(info)));
    }),
    atenKernel('ResizeBilinear', (b, { images }, attrs) => {
      const [outH, outW] = attrs.size as [number, number];
      const align = !!attrs.alignCorners, half = !!attrs.halfPixelCenters;
      const r = bilinearAxis(images.shape[1], outH, align, half), c = bilinearAxis(images.shape[2], outW, align, half);
      return b.output(native.resizeBilinear(b.handle(images), r.low, r.high, r.weight, c.low, c.high, c.weight));
    }),
    // The CPU gradient kernels use the alignCorners-only (legacy) coordinates; so do these.
    atenKernel('ResizeBilinearGrad', (b, { images, dy }, attrs) => {
      const [, inH, inW] = images.shape;
      const align = !!attrs.alignCorners;
      const r = bilinearAxis(inH, dy.shape[1], align, false), c = bilinearAxis(inW, dy.shape[2], align, false);
      return b.output(native.resizeBilinearGrad(b.handle(dy), inH, inW, r.low, r.high, r.weight, c.low, c.high, c.weight));
    }),
    atenKernel('ResizeNearestNeighbor', (b, { images }, attrs) => {
      const [outH, outW] = attrs.size as [number, number];
      const align = !!attrs.alignCorners, half = !!attrs.halfPixelCenters;
      return b.output(native.resizeNearest(b.handle(images), nearestAxis(images.shape[1], outH, align, half),
        nearestAxis(images.shape[2], outW, align, half)));
    }),
    // The adjoint of the forward pass above, halfPixelCenters included. (The CPU kernel ignores halfPixelCenters;
    // the two agree wherever it makes no difference, e.g. integer upscaling factors.)
    atenKernel('ResizeNearestNeighborGrad', (b, { images, dy }, attrs) => {
      const [, inH, inW] = images.shape;
      const align = !!attrs.alignCorners, half = !!attrs.halfPixelCenters;
      return b.output(native.resizeNearestGrad(b.handle(dy), inH, inW, nearestAxis(inH, dy.shape[1], align, half),
        nearestAxis(inW, dy.shape[2], align, half)));
    }),
  ];
}
