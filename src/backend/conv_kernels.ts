/** Kernel entry points for the NHWC float32 convolutions in conv.ts; other layouts defer. */
import * as tf from '@tensorflow/tfjs-core';
import { conv2dFilterGrad, conv2dForward, conv2dInputGrad, type ConvGeom } from './conv.js';
import {
  activationFn, biasAndActivate, biasFits, deferToOriginal, f32, input, output, type Attrs, type KernelArgs,
} from './kernel_util.js';

type Shape4 = [number, number, number, number];
type ConvPad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;

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

export function conv2DFast(args: KernelArgs): tf.TensorInfo {
  const x = input(args, 'x'), filter = input(args, 'filter');
  const g = geometry(x.shape, filter.shape, args.attrs ?? {}, [x, filter]);
  if (!g) return deferToOriginal(tf.Conv2D, args);
  return output(args, [g.batch, g.outH, g.outW, g.outC], conv2dForward(f32(args, x), f32(args, filter), g));
}

export function conv2DBackpropFilterFast(args: KernelArgs): tf.TensorInfo {
  const x = input(args, 'x'), dy = input(args, 'dy');
  const attrs = args.attrs ?? {};
  const g = geometry(x.shape, attrs.filterShape as number[], attrs, [x, dy], dy.shape);
  if (!g) return deferToOriginal(tf.Conv2DBackpropFilter, args);
  return output(args, [g.kH, g.kW, g.inC, g.outC], conv2dFilterGrad(f32(args, x), f32(args, dy), g));
}

export function conv2DBackpropInputFast(args: KernelArgs): tf.TensorInfo {
  const dy = input(args, 'dy'), filter = input(args, 'filter');
  const attrs = args.attrs ?? {};
  const inShape = attrs.inputShape as number[];
  const g = geometry(inShape, filter.shape, attrs, [dy, filter], dy.shape);
  if (!g) return deferToOriginal(tf.Conv2DBackpropInput, args);
  return output(args, inShape, conv2dInputGrad(f32(args, dy), f32(args, filter), g));
}

export function fusedConv2DFast(args: KernelArgs): tf.TensorInfo {
  const x = input(args, 'x'), filter = input(args, 'filter'), bias = args.inputs.bias;
  const attrs = args.attrs ?? {};
  const act = activationFn(attrs.activation, attrs.leakyreluAlpha);
  const g = act && biasFits(bias, filter.shape[3]) ? geometry(x.shape, filter.shape, attrs, [x, filter]) : undefined;
  if (!g || !act) return deferToOriginal(tf.FusedConv2D, args);
  const y = conv2dForward(f32(args, x), f32(args, filter), g);
  biasAndActivate(y, g.outC, bias && f32(args, bias), act);
  return output(args, [g.batch, g.outH, g.outW, g.outC], y);
}
