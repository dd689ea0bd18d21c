// Gradients that tfjs composes expensively, computed natively on 'aten'. Gradients are global in tfjs, so
// each override below hands every other case (another backend; shapes the native kernel does not take) to
// the gradient tfjs registered before it, unchanged.
// - Relu, LeakyRelu: dy·step(x) and where(x > 0, dy, α·dy) are three kernels and three full-size buffers
//   per layer (a profile of the DCGAN step: Select + Step + Greater ≈ 10 % of it); here one native kernel.
// - Sum, Mean: tfjs multiplies dy by ones(x.shape), a tensor it fills element by element in JavaScript and
//   then uploads — for batch-norm moments of a [64, 14, 14, 64] activation that is 800,000 ones per call,
//   ~11 ms of every DCGAN step. Here dy is broadcast to x's shape by one native Tile.
// - FusedBatchNorm: about fifteen elementwise kernels and reductions per layer; here one kernel per input.
// - Prelu: tfjs's gradient is a mask, two products, two selects, a reduction and a reshape (five full-size
//   buffers per layer of an SRResNet); here one native pass for dx and one for dalpha.
// - DepthToSpace (pixel shuffle) has no gradient in tfjs: it gets one here, on every backend — SpaceToDepth of dy,
//   one native kernel on aten and a reshape/transpose elsewhere.
// - Conv2D with dilations > 1: tfjs has no gradient for it (it throws); aten's backprop kernels take dilations.
//   (tfjs's fused conv2d, which tfjs-layers' Conv2D calls, keeps its own gradient and still throws.)
// - InstanceNorm (aten's own fused kernel, which ganforge's InstanceNormalization runs where it exists): its
//   gradient is one native kernel, or the same closed form composed of tfjs ops where it must be differentiable.
// - BatchNormTraining (aten's own batch norm with the batch's statistics, which ganforge's BatchNormalization runs in
//   training): dx, dscale and doffset in one native call, or the same closed form composed of tfjs ops where it must
//   be differentiable (a gradient penalty through a batch-normed D).
// - ChannelAffine (aten's γ[b, c]·x + β[b, c], which ganforge's ChannelAffine runs): dx, dγ and dβ in one native pass,
//   or tfjs ops where the gradient must be differentiable.
// - GatedLinearUnit (aten's a ⊙ σ(b) over x's two halves, which ganforge's GatedLinearUnit runs): dx in one native
//   pass, or tfjs ops where the gradient must be differentiable.
// - LstmSequence (aten's own masked LSTM, which ganforge's FusedLSTM runs where it exists): backpropagation through
//   time in one native call for all four inputs. First order only: a gradient of it (a penalty differentiated
//   through the text encoder) throws and names the kernel.
// - GruSequence (aten's own masked GRU, which ganforge's FusedGRU runs where it exists): the same, for a GRU.
import {
  add, broadcastTo, cast, concat, depthToSpace, div, engine, getBackend, getGradient, KernelConfig, mean, moments, mul,
  NamedAttrMap, registerGradient, reshape, rsqrt, sigmoid, split, sub, sum, Tensor, Tensor4D, transpose, util, zerosLike,
} from '@tensorflow/tfjs-core';
import {
  BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD, CHANNEL_AFFINE, CHANNEL_AFFINE_GRAD, INSTANCE_NORM, INSTANCE_NORM_GRAD,
} from './kernels/reduce_norm.js';
import { GLU, GLU_GRAD } from './kernels/elementwise.js';
import { GRU_SEQUENCE, GRU_SEQUENCE_GRAD, LSTM_SEQUENCE, LSTM_SEQUENCE_GRAD } from './kernels/rnn.js';
import { SPACE_TO_DEPTH } from './kernels/shape_ops.js';
import type { AtenNative } from './native.js';
import { atenKernel, BACKEND_NAME, runKernel as run } from './kernel_util.js';

/** Kernel names of the fused gradients (aten only). */
export const RELU_GRAD = 'AtenReluGrad';
export const LEAKY_RELU_GRAD = 'AtenLeakyReluGrad';
export const BATCH_NORM_GRAD = 'AtenBatchNormGrad';
export const PRELU_GRAD = 'AtenPreluGrad';
const BATCH_NORM_INPUTS = ['x', 'mean', 'variance', 'scale', 'offset'] as const;

export function gradientKernels(native: AtenNative): KernelConfig[] {
  return [
    atenKernel(RELU_GRAD, (b, { dy, x }) => b.output(native.activationGrad(0, b.handle(dy), b.handle(x), 0))),
    atenKernel(LEAKY_RELU_GRAD, (b, { dy, x }, { alpha }) => b.output(native.activationGrad(1, b.handle(dy), b.handle(x), alpha as number))),
    atenKernel(BATCH_NORM_GRAD, (b, { x, mean, variance, scale, dy }, { which, varianceEpsilon }) =>
      b.output(native.batchNormGrad(BATCH_NORM_INPUTS.indexOf(which as (typeof BATCH_NORM_INPUTS)[number]), b.handle(x),
        b.handle(mean), b.handle(variance), scale ? b.handle(scale) : 0, b.handle(dy), varianceEpsilon as number))),
    atenKernel(PRELU_GRAD, (b, { dy, x, alpha }, { which }) =>
      b.output(native.preluGrad(which === 'alpha' ? 1 : 0, b.handle(dy), b.handle(x), b.handle(alpha)))),
  ];
}

type Thunks = Record<string, () => Tensor>;
/** A native gradient for these inputs and attributes, or null to use tfjs's own. */
type FastGradient = (dy: Tensor, saved: Tensor[], attrs: NamedAttrMap) => Thunks | null;


/** Re-registers `kernelName`'s gradient: `fast` on aten where it applies, else the gradient tfjs had. */
function override(kernelName: string, fast: FastGradient, opts: { firstOrderOnly?: boolean } = {}): void {
  const original = getGradient(kernelName);
  if (!original) return;
  registerGradient({
    ...original,
    gradFunc: (dy, saved, attrs) => {
      // A kernel without a gradient of its own must not run where its result may be differentiated again
      // (inside an outer gradient's scope, e.g. a gradient penalty): the tape is on there.
      const usable = getBackend() === BACKEND_NAME && !(opts.firstOrderOnly && engine().isTapeOn());
      return (usable ? fast(dy as Tensor, saved, attrs) : null) ?? original.gradFunc(dy, saved, attrs);
    },
  });
}

/**
 * Installs the gradients (once; call after tfjs-core's own are registered, i.e. at backend registration).
 * The fused activation kernels are linear in dy with a mask fixed by x, so their own gradient — needed when
 * a penalty on ‖∇ₓD‖ is differentiated (WGAN-GP, R1) — is the same kernel applied to the incoming
 * gradient, and zero for x. The batch-norm kernel has none: it is used for first-order gradients only.
 */
export function registerFusedGradients(): void {
  if (getGradient(RELU_GRAD) !== undefined) return;
  override('Relu', (dy, [x]) => ({ x: () => run(RELU_GRAD, { dy, x }) }));
  override('LeakyRelu', (dy, [x], attrs) => ({ x: () => run(LEAKY_RELU_GRAD, { dy, x }, { alpha: attrs.alpha }) }));
  for (const kernelName of [RELU_GRAD, LEAKY_RELU_GRAD]) {
    registerGradient({
      kernelName,
      inputsToSave: ['x'],
      gradFunc: (ddx, [x], attrs) => ({ dy: () => run(kernelName, { dy: ddx as Tensor, x }, attrs as NamedAttrMap), x: () => zerosLike(x) }),
    });
  }
  for (const kernelName of ['Sum', 'Mean'] as const) override(kernelName, (dy, [x], attrs) => reductionGrad(kernelName, dy, x, attrs));
  override('FusedBatchNorm', batchNormGrad, { firstOrderOnly: true });
  override('Prelu', preluGrad, { firstOrderOnly: true });
  // tfjs's gradients of the backprop kernels ignore dilations, so this one is first-order only.
  override('Conv2D', dilatedConvGrad, { firstOrderOnly: true });
  registerPixelShuffleGradients();
  registerGradient({
    kernelName: INSTANCE_NORM,
    inputsToSave: ['x'],
    outputsToSave: [true, true],
    // dys: [dY, dRstd]; rstd only feeds this gradient, so dRstd is zero.
    gradFunc: (dys, [x, y, rstd], attrs) => {
      const dy = (Array.isArray(dys) ? dys[0] : dys) as Tensor;
      return {
        x: () => (engine().isTapeOn() ? instanceNormGradOps(dy, x, attrs.epsilon as number) : run(INSTANCE_NORM_GRAD, { dy, y, rstd })),
      };
    },
  });
  registerGradient({
    kernelName: BATCH_NORM_TRAINING,
    inputsToSave: ['x', 'scale'],
    outputsToSave: [false, true, true],
    // dys: [dY, dMean, dVariance]; the statistics also leave the kernel (for the moving averages), so their
    // gradients are taken into dx (zero where nothing differentiable used them).
    gradFunc: (dys, [x, scale, batchMean, variance], attrs) => {
      const [dy, dMean, dVariance] = dys as Tensor[];
      const epsilon = attrs.epsilon as number;
      if (engine().isTapeOn()) {
        // The statistics from x again: saved outputs are clones the outer tape records before this kernel's own
        // node, so a second-order gradient reaching them would never get back to x.
        const g = batchNormTrainingGradOps(dy, x, scale, dMean, dVariance, epsilon);
        return { x: () => g.dx, scale: () => g.dScale, offset: () => g.dOffset };
      }
      const [dx, dScale, dOffset] = engine().runKernel(BATCH_NORM_TRAINING_GRAD,
        { dy, x, mean: batchMean, variance, scale, dMean, dVariance }, { epsilon }) as Tensor[];
      return { x: () => dx, scale: () => dScale, offset: () => dOffset };
    },
  });
  registerGradient({
    kernelName: CHANNEL_AFFINE,
    inputsToSave: ['x', 'gamma'],
    gradFunc: (dy, [x, gamma]) => {
      if (engine().isTapeOn()) {
        const [b, c] = gamma.shape;
        return {
          x: () => mul(dy as Tensor, reshape(gamma, [b, 1, 1, c])),
          gamma: () => sum(mul(dy as Tensor, x), [1, 2]),
          beta: () => sum(dy as Tensor, [1, 2]),
        };
      }
      const [dx, dGamma, dBeta] = engine().runKernel(CHANNEL_AFFINE_GRAD, { dy: dy as Tensor, x, gamma }) as Tensor[];
      return { x: () => dx, gamma: () => dGamma, beta: () => dBeta };
    },
  });
  registerGradient({
    kernelName: GLU,
    inputsToSave: ['x'],
    gradFunc: (dy, [x]) => {
      if (!engine().isTapeOn()) return { x: () => run(GLU_GRAD, { dy: dy as Tensor, x }) };
      const [a, b] = split(x, 2, -1);
      const s = sigmoid(b);
      return { x: () => concat([mul(dy as Tensor, s), mul(mul(dy as Tensor, a), mul(s, sub(1, s)))], -1) };
    },
  });
  registerGradient({
    kernelName: LSTM_SEQUENCE,
    inputsToSave: ['x', 'kernel', 'recurrentKernel', 'mask'],
    outputsToSave: [true, true, true, true],
    // dys: [dY, and zeros for the saved states, which only feed this gradient].
    gradFunc: (dys, [x, kernel, recurrentKernel, mask, y, gates, tanhC, c], attrs) => {
      if (engine().isTapeOn()) throw new Error(`${LSTM_SEQUENCE} has first-order gradients only (it was differentiated twice)`);
      const dy = (Array.isArray(dys) ? dys[0] : dys) as Tensor;
      // One backward pass gives all four gradients; the thunks hand them out (the engine's backward scope frees any
      // that are not asked for).
      const [dx, dKernel, dRecurrent, dBias] = engine().runKernel(LSTM_SEQUENCE_GRAD,
        { dy, x, kernel, recurrentKernel, mask, y, gates, tanhC, c }, attrs as NamedAttrMap) as Tensor[];
      return { x: () => dx, kernel: () => dKernel, recurrentKernel: () => dRecurrent, bias: () => dBias, mask: () => zerosLike(mask) };
    },
  });
  registerGradient({
    kernelName: GRU_SEQUENCE,
    inputsToSave: ['x', 'kernel', 'recurrentKernel', 'mask'],
    outputsToSave: [true, true, true, true],
    gradFunc: (dys, [x, kernel, recurrentKernel, mask, y, zr, hh, rh], attrs) => {
      if (engine().isTapeOn()) throw new Error(`${GRU_SEQUENCE} has first-order gradients only (it was differentiated twice)`);
      const dy = (Array.isArray(dys) ? dys[0] : dys) as Tensor;
      const [dx, dKernel, dRecurrent, dBias] = engine().runKernel(GRU_SEQUENCE_GRAD,
        { dy, x, kernel, recurrentKernel, mask, y, zr, hh, rh }, attrs as NamedAttrMap) as Tensor[];
      return { x: () => dx, kernel: () => dKernel, recurrentKernel: () => dRecurrent, bias: () => dBias, mask: () => zerosLike(mask) };
    },
  });
}

/** PReLU's dx and dalpha, each one native pass (alpha of any shape that broadcasts against x, as tfjs's). */
function preluGrad(dy: Tensor, [x, alpha]: Tensor[]): Thunks | null {
  if (x.dtype !== 'float32' || alpha.dtype !== 'float32' || !util.arraysEqual(dy.shape, x.shape) || alpha.rank > x.rank) return null;
  const grad = (which: 'x' | 'alpha') => () => run(PRELU_GRAD, { dy, x, alpha }, { which });
  return { x: grad('x'), alpha: grad('alpha') };
}

/** Conv2D's gradients for dilations > 1 (NHWC): the backprop kernels with the forward pass's dilations. */
function dilatedConvGrad(dy: Tensor, [x, filter]: Tensor[], attrs: NamedAttrMap): Thunks | null {
  const dilations = (attrs.dilations as number | [number, number] | undefined) ?? 1;
  if ([dilations].flat().every((d) => d === 1) || (attrs.dataFormat ?? 'NHWC') !== 'NHWC') return null;
  const geometry = { strides: attrs.strides, pad: attrs.pad, dimRoundingMode: attrs.dimRoundingMode, dilations, dataFormat: 'NHWC' };
  return {
    x: () => run('Conv2DBackpropInput', { dy, filter }, { ...geometry, inputShape: x.shape }),
    filter: () => run('Conv2DBackpropFilter', { x, dy }, { ...geometry, filterShape: filter.shape }),
  };
}

/**
 * DepthToSpace's gradient is SpaceToDepth of dy, and the other way round (each is the other's inverse and, being a
 * permutation, its adjoint). Registered for every backend; a gradient tfjs may ship one day takes precedence.
 */
function registerPixelShuffleGradients(): void {
  if (getGradient('DepthToSpace') === undefined) {
    registerGradient({
      kernelName: 'DepthToSpace',
      gradFunc: (dy, _saved, attrs) => ({ x: () => spaceToDepth(dy as Tensor4D, attrs.blockSize as number, attrs.dataFormat as string) }),
    });
  }
  registerGradient({
    kernelName: SPACE_TO_DEPTH,
    gradFunc: (dy, _saved, attrs) => ({ x: () => depthToSpace(dy as Tensor4D, attrs.blockSize as number) }),
  });
}

/** NHWC [N, H·b, W·b, C] → [N, H, W, b·b·C] in DepthToSpace's channel order. */
function spaceToDepth(x: Tensor4D, blockSize: number, dataFormat = 'NHWC'): Tensor {
  if (dataFormat !== 'NHWC') throw new Error(`the gradient of depthToSpace supports NHWC only, not ${dataFormat}`);
  if (getBackend() === BACKEND_NAME) return run(SPACE_TO_DEPTH, { x }, { blockSize });
  const [n, h, w, c] = x.shape, b = blockSize;
  const blocks = reshape(x, [n, h / b, b, w / b, b, c]); // [N, H, i, W, j, C]
  return reshape(transpose(blocks, [0, 1, 3, 2, 4, 5]), [n, h / b, w / b, b * b * c]); // [N, H, W, i, j, C]
}

/** dx = k·(dy − mean(dy) − x̂·mean(dy·x̂)), x̂ = (x − μ)·k, means over H and W: differentiable tfjs ops. */
function instanceNormGradOps(dy: Tensor, x: Tensor, epsilon: number): Tensor {
  const { mean: mu, variance } = moments(x, [1, 2], true); // [B, 1, 1, C]
  const k = rsqrt(add(variance, epsilon));
  const xHat = mul(sub(x, mu), k);
  return mul(k, sub(sub(dy, mean(dy, [1, 2], true)), mul(xHat, mean(mul(dy, xHat), [1, 2], true))));
}

/**
 * BatchNormTraining's gradients as differentiable tfjs ops, the closed form of the native kernel (k = 1/√(σ² + ε),
 * S₁ = Σdy, S₂ = Σdy·(x − μ) over the N rows): dx = dy·γk + (x − μ)·(−γk³S₂/N + 2dσ²/N) + (−γkS₁/N + dμ/N),
 * dγ = k·S₂, dβ = S₁.
 */
function batchNormTrainingGradOps(dy: Tensor, x: Tensor, scale: Tensor, dMean: Tensor, dVariance: Tensor, epsilon: number):
  { dx: Tensor; dScale: Tensor; dOffset: Tensor } {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const { mean: mu, variance } = moments(x, axes);
  const n = x.size / x.shape[x.rank - 1];
  const k = rsqrt(add(variance, epsilon));
  const gk = mul(scale, k);
  const centred = sub(x, mu);
  const s1 = sum(dy, axes), s2 = sum(mul(dy, centred), axes);
  const a = add(mul(mul(mul(gk, mul(k, k)), s2), -1 / n), mul(dVariance, 2 / n));
  const b = add(mul(mul(gk, s1), -1 / n), div(dMean, n));
  const dx = add(add(mul(dy, gk), mul(centred, a)), b);
  return { dx, dScale: mul(k, s2), dOffset: s1 };
}

/** d/dx of Sum or Mean over `axis`: dy (÷ the reduced count for Mean) broadcast back to x's shape. */
function reductionGrad(kernelName: 'Sum' | 'Mean', dy: Tensor, x: Tensor, attrs: NamedAttrMap): Thunks {
  const axes = util.parseAxisParam(attrs.axis as number | number[], x.shape);
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d)); // dy's shape with the reduced axes as 1
  const count = axes.reduce((n, a) => n * x.shape[a], 1);
  return {
    x: () => {
      const expanded = reshape(dy, kept);
      return broadcastTo(cast(kernelName === 'Mean' ? div(expanded, count) : expanded, 'float32'), x.shape);
    },
  };
}

/** FusedBatchNorm's gradients for per-channel statistics (what tfjs-layers' BatchNormalization trains with). */
function batchNormGrad(dy: Tensor, saved: Tensor[], attrs: NamedAttrMap): Thunks | null {
  const [x, mean, variance, scale] = saved;
  const channels = x.shape[x.rank - 1];
  const perChannel = (t: Tensor | undefined) => t == null || (t.rank === 1 && t.shape[0] === channels);
  if (x.dtype !== 'float32' || dy.dtype !== 'float32' || mean.rank !== 1 || !perChannel(mean) || !perChannel(variance) || !perChannel(scale)) return null;
  const inputs: Record<string, Tensor> = { x, mean, variance, dy, ...(scale ? { scale } : {}) };
  const grad = (which: (typeof BATCH_NORM_INPUTS)[number]) => () =>
    run(BATCH_NORM_GRAD, inputs, { which, varianceEpsilon: (attrs.varianceEpsilon as number) ?? 0.001 });
  return Object.fromEntries(BATCH_NORM_INPUTS.map((name) => [name, grad(name)]));
}
