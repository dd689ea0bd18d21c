// Kernels of StyleGAN-style networks (native/style_ops.cc), not tfjs kernels: ganforge's layers run them where a
// backend registers them and compose the same maths from tfjs ops elsewhere. Their gradients are built from the
// same kernels, so they stay differentiable to any order (R1 and path-length regularisation differentiate twice).
import { KernelConfig, NamedAttrMap, registerGradient, reshape, sum, Tensor, zerosLike } from '@tensorflow/tfjs-core';
import type { AtenNative } from '../native.js';
import { atenKernel, runKernel as run } from '../kernel_util.js';

/**
 * x [B, H, W, C] → gain · x resampled 2× with the separable [1, 3, 3, 1] filter, zeros outside: attrs up (true:
 * [B, 2H, 2W, C], out[2i] = (x[i−1] + 3x[i])/4 per axis; false: [B, H/2, W/2, C], out[i] = (x[2i−1] + 3x[2i] +
 * 3x[2i+1] + x[2i+2])/8 per axis) and gain. The two are adjoint up to scale: per axis the transpose of upsampling
 * is 2× downsampling, so the gradient of one is the other with the gain times 4 (up) or 1/4 (down).
 */
export const RESAMPLE_2X = 'Resample2x';
/** x [..., C], bias [C] → gain · leakyRelu(x + bias, alpha) (attrs alpha, gain > 0). */
export const BIAS_ACT = 'BiasAct';
/**
 * BiasAct's gradient for x: inputs dy, x and bias, attrs as BiasAct's. It reads BiasAct's inputs, not its output:
 * tfjs saves an output for a gradient through a copy that a gradient of that gradient cannot trace back to.
 */
export const BIAS_ACT_GRAD = 'BiasActGrad';
/** x [B, H, W, C], s [B, C] → x·s per sample and channel (modulation, demodulation). */
export const CHANNEL_SCALE = 'ChannelScale';
/** a, b [B, H, W, C] → Σ over H and W of a·b, [B, C]: ChannelScale's gradient for s. */
export const CHANNEL_DOT = 'ChannelDot';

export function styleKernels(native: AtenNative): KernelConfig[] {
  return [
    atenKernel(RESAMPLE_2X, (b, { x }, { up, gain }) => b.output(native.resample2x(b.handle(x), !!up, (gain as number) ?? 1))),
    atenKernel(BIAS_ACT, (b, { x, bias }, { alpha, gain }) =>
      b.output(native.biasAct(b.handle(x), b.handle(bias), alpha as number, gain as number))),
    atenKernel(BIAS_ACT_GRAD, (b, { dy, x, bias }, { alpha, gain }) =>
      b.output(native.biasActGrad(b.handle(dy), b.handle(x), b.handle(bias), alpha as number, gain as number))),
    atenKernel(CHANNEL_SCALE, (b, { x, s }) => b.output(native.channelScale(b.handle(x), b.handle(s)))),
    atenKernel(CHANNEL_DOT, (b, { a, b: other }) => b.output(native.channelDot(b.handle(a), b.handle(other)))),
  ];
}

/** Installs the gradients of the kernels above (once). */
export function registerStyleGradients(): void {
  registerGradient({
    kernelName: RESAMPLE_2X,
    gradFunc: (dy, _saved, attrs) => {
      const up = !!attrs.up;
      const gain = (attrs.gain as number) ?? 1;
      return { x: () => run(RESAMPLE_2X, { x: dy as Tensor }, { up: !up, gain: up ? 4 * gain : gain / 4 }) };
    },
  });
  registerGradient({
    kernelName: BIAS_ACT,
    inputsToSave: ['x', 'bias'],
    gradFunc: (dy, [x, bias], attrs) => {
      // One gradient kernel serves both inputs: the bias's is dx summed over every axis but the last, as tfjs's
      // Add gradient reduces a broadcast operand.
      let dx: Tensor | undefined;
      const dxOnce = () => (dx ??= run(BIAS_ACT_GRAD, { dy: dy as Tensor, x, bias }, attrs as NamedAttrMap));
      const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
      return { x: dxOnce, bias: () => reshape(sum(dxOnce(), axes), bias.shape) };
    },
  });
  // Linear in dy with a mask fixed by x + bias: its own gradient for dy, zero for x and bias (almost everywhere).
  registerGradient({
    kernelName: BIAS_ACT_GRAD,
    inputsToSave: ['x', 'bias'],
    gradFunc: (ddx, [x, bias], attrs) => ({
      dy: () => run(BIAS_ACT_GRAD, { dy: ddx as Tensor, x, bias }, attrs as NamedAttrMap),
      x: () => zerosLike(x),
      bias: () => zerosLike(bias),
    }),
  });
  // A bilinear pair, each the other's gradient: ∂(x·s)/∂x = dy·s, ∂/∂s = Σ dy·x; ∂(Σ a·b)/∂a = b·g, ∂/∂b = a·g.
  registerGradient({
    kernelName: CHANNEL_SCALE,
    inputsToSave: ['x', 's'],
    gradFunc: (dy, [x, s]) => ({
      x: () => run(CHANNEL_SCALE, { x: dy as Tensor, s }, {}),
      s: () => run(CHANNEL_DOT, { a: dy as Tensor, b: x }, {}),
    }),
  });
  registerGradient({
    kernelName: CHANNEL_DOT,
    inputsToSave: ['a', 'b'],
    gradFunc: (g, [a, b]) => ({
      a: () => run(CHANNEL_SCALE, { x: b, s: g as Tensor }, {}),
      b: () => run(CHANNEL_SCALE, { x: a, s: g as Tensor }, {}),
    }),
  });
}
