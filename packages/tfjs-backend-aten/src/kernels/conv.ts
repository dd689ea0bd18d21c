// Conv2D family: forward (plain, fused, depthwise) and the backprops gradients call.
// Geometry (output size, SAME padding split) comes from tfjs's own computeConv2DInfo so the
// native side only sees explicit strides, pads and dilations.
import { backend_util, KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { AtenBackend } from '../backend.js';
import type { AtenNative } from '../native.js';
import { atenKernel, FALLBACK } from '../kernel_util.js';

type Conv2DInfo = backend_util.Conv2DInfo;

function padsOf(info: Conv2DInfo): number[] {
  const p = info.padInfo;
  return [p.top, p.bottom, p.left, p.right];
}

/** Channels-first data and ceil/round output sizes are left to the CPU kernels. */
function unsupported(attrs: NamedAttrMap): boolean {
  return (attrs.dataFormat != null && attrs.dataFormat !== 'NHWC') || attrs.dimRoundingMode != null;
}

function convInfo(xShape: number[], filterShape: number[], attrs: NamedAttrMap, depthwise: boolean): Conv2DInfo {
  return backend_util.computeConv2DInfo(
    xShape as [number, number, number, number], filterShape as [number, number, number, number],
    attrs.strides as [number, number] | number, (attrs.dilations as [number, number] | number) ?? 1,
    attrs.pad as 'valid' | 'same' | number, undefined, depthwise);
}

function checkShape(out: TensorInfo, info: Conv2DInfo): TensorInfo {
  const want = [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
  if (out.shape.some((d, i) => d !== want[i])) throw new Error(`output shape [${out.shape}] != expected [${want}]`);
  return out;
}

function forward(native: AtenNative, depthwise: boolean) {
  return (b: AtenBackend, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap) => {
    const { x, filter, bias, preluActivationWeights } = inputs;
    if (unsupported(attrs)) return FALLBACK;
    const info = convInfo(x.shape, filter.shape, attrs, depthwise);
    const call = depthwise ? native.depthwiseConv2d : native.conv2d;
    const out = b.output(call(b.handle(x), b.handle(filter), [info.strideHeight, info.strideWidth], padsOf(info),
      [info.dilationHeight, info.dilationWidth], bias ? b.handle(bias) : 0, (attrs.activation as string) ?? 'linear',
      (attrs.leakyreluAlpha as number) ?? 0.2, preluActivationWeights ? b.handle(preluActivationWeights) : 0));
    return checkShape(out, info);
  };
}

export function convKernels(native: AtenNative): KernelConfig[] {
  return [
    atenKernel('Conv2D', forward(native, false)),
    atenKernel('FusedConv2D', forward(native, false)),
    atenKernel('DepthwiseConv2dNative', forward(native, true)),
    atenKernel('FusedDepthwiseConv2D', forward(native, true)),
    atenKernel('Conv2DBackpropInput', (b, { dy, filter }, attrs) => {
      if (unsupported(attrs)) return FALLBACK;
      const inputShape = attrs.inputShape as number[];
      const info = convInfo(inputShape, filter.shape, attrs, false);
      return b.output(native.conv2dBackpropInput(b.handle(dy), b.handle(filter), inputShape,
        [info.strideHeight, info.strideWidth], padsOf(info), [info.dilationHeight, info.dilationWidth]));
    }),
    atenKernel('DepthwiseConv2dNativeBackpropInput', (b, { dy, filter }, attrs) => {
      if (unsupported(attrs)) return FALLBACK;
      const inputShape = attrs.inputShape as number[];
      const info = convInfo(inputShape, filter.shape, attrs, true);
      return b.output(native.depthwiseConv2dBackpropInput(b.handle(dy), b.handle(filter), inputShape,
        [info.strideHeight, info.strideWidth], padsOf(info), [info.dilationHeight, info.dilationWidth]));
    }),
    atenKernel('Conv2DBackpropFilter', (b, { x, dy }, attrs) => {
      if (unsupported(attrs)) return FALLBACK;
      const filterShape = attrs.filterShape as number[];
      const info = convInfo(x.shape, filterShape, attrs, false);
      return b.output(native.conv2dBackpropFilter(b.handle(x), b.handle(dy), filterShape,
        [info.strideHeight, info.strideWidth], padsOf(info), [info.dilationHeight, info.dilationWidth]));
    }),
    atenKernel('DepthwiseConv2dNativeBackpropFilter', (b, { x, dy }, attrs) => {
      if (unsupported(attrs)) return FALLBACK;
      const filterShape = attrs.filterShape as number[];
      const info = convInfo(x.shape, filterShape, attrs, true);
      return b.output(native.depthwiseConv2dBackpropFilter(b.handle(x), b.handle(dy), filterShape,
        [info.strideHeight, info.strideWidth], padsOf(info), [info.dilationHeight, info.dilationWidth]));
    }),
  ];
}
