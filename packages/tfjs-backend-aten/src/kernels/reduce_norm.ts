// Reductions, Softmax/LogSoftmax, FusedBatchNorm, InstanceNorm, BatchNormTraining and ChannelAffine (+ grads), Cumsum/Cumprod.
import { DataType, KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { AtenBackend } from '../backend.js';
import { AtenNative, dtypeCode } from '../native.js';
import { atenKernel, normalizeAxes } from '../kernel_util.js';

function reduceOutDtype(op: string, x: DataType): DataType {
  switch (op) {
    case 'Sum': case 'Prod': return x === 'bool' ? 'int32' : x;
    case 'Mean': return 'float32';
    case 'All': case 'Any': return 'bool';
    case 'ArgMax': case 'ArgMin': return 'int32';
    default: return x;
  }
}

export const INSTANCE_NORM = 'InstanceNorm';
export const INSTANCE_NORM_GRAD = 'InstanceNormGrad';
export const BATCH_NORM_TRAINING = 'BatchNormTraining';
export const BATCH_NORM_TRAINING_GRAD = 'BatchNormTrainingGrad';
export const BATCH_NORM_MOVING_STATS = 'BatchNormMovingStats';
export const CHANNEL_AFFINE = 'ChannelAffine';
export const CHANNEL_AFFINE_GRAD = 'ChannelAffineGrad';

export function reduceNormKernels(native: AtenNative): KernelConfig[] {
  const reductions = native.reduceOps.map((op, index) =>
    atenKernel(op, (b, { x }, attrs) => {
      // Max names its axes reductionIndices; the others call them axis.
      const axes = normalizeAxes((op === 'Max' ? attrs.reductionIndices : attrs.axis) as number | number[], x.shape.length);
      return b.output(native.reduce(index, b.handle(x), axes, !!attrs.keepDims, dtypeCode(reduceOutDtype(op, x.dtype))));
    }));
  const cumulative = (product: boolean) => (b: AtenBackend, { x }: Record<string, TensorInfo>, attrs: NamedAttrMap) =>
    b.output(native.cumulative(b.handle(x), normalizeAxes(attrs.axis as number, x.shape.length)[0], !!attrs.exclusive,
      !!attrs.reverse, product));
  return [
    ...reductions,
    atenKernel('Softmax', (b, { logits }, { dim }) =>
      b.output(native.softmax(b.handle(logits), normalizeAxes(dim as number, logits.shape.length)[0]))),
    atenKernel('LogSoftmax', (b, { logits }, { axis }) =>
      b.output(native.logSoftmax(b.handle(logits), normalizeAxes((axis as number) ?? -1, logits.shape.length)[0]))),
    atenKernel('FusedBatchNorm', (b, { x, mean, variance, offset, scale }, { varianceEpsilon }) =>
      b.output(native.batchNorm(b.handle(x), b.handle(mean), b.handle(variance), offset ? b.handle(offset) : 0,
        scale ? b.handle(scale) : 0, (varianceEpsilon as number) ?? 0.001))),
    // Fused instance norm for ganforge's InstanceNormalization (not a tfjs kernel: the layer runs it where a
    // backend registers it). x is [B, H, W, C]; outputs y and rstd = 1/sqrt(σ² + ε) [B, 1, 1, C], which the
    // gradient (gradients.ts) reuses with y instead of recomputing the statistics.
    atenKernel(INSTANCE_NORM, (b, { x }, { epsilon }) => b.outputs(native.instanceNorm(b.handle(x), epsilon as number))),
    atenKernel(INSTANCE_NORM_GRAD, (b, { dy, y, rstd }) => b.output(native.instanceNormGrad(b.handle(dy), b.handle(y), b.handle(rstd)))),
    // Batch norm in training for ganforge's BatchNormalization (not a tfjs kernel either): x [..., C], scale and offset
    // [C]; outputs y and the batch's mean and biased variance [C] (what tf.moments gives), one call each way.
    atenKernel(BATCH_NORM_TRAINING, (b, { x, scale, offset }, { epsilon }) =>
      b.outputs(native.batchNormTraining(b.handle(x), scale ? b.handle(scale) : 0, offset ? b.handle(offset) : 0, epsilon as number))),
    atenKernel(BATCH_NORM_TRAINING_GRAD, (b, { dy, x, mean, variance, scale, dMean, dVariance }, { epsilon }) =>
      b.outputs(native.batchNormTrainingGrad(b.handle(dy), b.handle(x), b.handle(mean), b.handle(variance), scale ? b.handle(scale) : 0,
        dMean ? b.handle(dMean) : 0, dVariance ? b.handle(dVariance) : 0, epsilon as number))),
    // The same layer's moving statistics after a training pass: inputs movingMean, movingVariance, mean, variance [C],
    // attribute momentum; outputs m − (m − batch)·(1 − momentum) for each (no gradient: they never reach a loss).
    atenKernel(BATCH_NORM_MOVING_STATS, (b, { movingMean, movingVariance, mean, variance }, { momentum }) =>
      b.outputs(native.batchNormMovingStats(b.handle(movingMean), b.handle(movingVariance), b.handle(mean), b.handle(variance), momentum as number))),
    // Per-sample, per-channel affine map for ganforge's ChannelAffine (DF-GAN's fusion): x [B, H, W, C], gamma and beta
    // [B, C]; y = gamma·x + beta.
    atenKernel(CHANNEL_AFFINE, (b, { x, gamma, beta }) => b.output(native.channelAffine(b.handle(x), b.handle(gamma), b.handle(beta)))),
    atenKernel(CHANNEL_AFFINE_GRAD, (b, { dy, x, gamma }) => b.outputs(native.channelAffineGrad(b.handle(dy), b.handle(x), b.handle(gamma)))),
    atenKernel('Cumsum', cumulative(false)),
    atenKernel('Cumprod', cumulative(true)),
  ];
}
