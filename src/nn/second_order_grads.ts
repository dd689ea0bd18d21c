/**
 * Gradients TF.js 4.22 lacks or gets wrong at second order, registered so that a penalty on ‖∇ₓD(x)‖
 * (WGAN-GP, R1, R2) can itself be differentiated with respect to D's weights, through conv2d and
 * conv2dTranspose, on every backend (these are gradient definitions in terms of ops, not kernels).
 *
 * What was missing, found by differentiating a gradient norm and comparing with finite differences
 * (test/gan/second_order.test.ts keeps those comparisons):
 *
 * 1. Comparison ops (Greater, Less, …) have no gradient at all, and LeakyRelu's gradient is built from
 *    `greater(x, 0)`, so differentiating ∇ₓD through a LeakyReLU failed with "gradient function not
 *    found for Greater". A comparison is piecewise constant: its gradient is zero.
 * 2. Conv2DBackpropFilter has no gradient, so anything that differentiates a weight gradient (∂L/∂W of a
 *    conv) again failed. See the derivation at `conv2DBackpropFilterGrad`.
 * 3. Tanh, Sigmoid, Elu and Exp save their *output* y for the backward pass. The engine saves it through a
 *    clone that is taped *before* the op itself, so reverse-mode visits the op before the clone and the
 *    second-order path through y is silently dropped: d/dW of a gradient norm through tanh came out as
 *    −71.5 where finite differences give 0.28. Re-registered here to save the input too and, where the tape is
 *    on, recompute y from it, which puts every dependency on the tape in order.
 * 4. Tile's gradient handles rank ≤ 4 only, and adds up one slice of dy per repetition. On 'aten' the gradients
 *    of Sum and Mean are a Tile (tfjs-backend-aten's gradients.ts), so R1 through MinibatchStddev's rank-5
 *    group mean failed ("not implemented for rank-5 tensors"), and a double backward through a spatial mean
 *    sliced dy H·W times. Re-registered below: one reshape and one sum, any rank.
 *
 * 5. AvgPoolGrad has no gradient, so a penalty on ∇ₓD through an average pool (DF-GAN's discriminator blocks
 *    pool their shortcut) could not be differentiated again. See `avgPoolGradGrad`.
 *
 * Importing this module installs them (once). Import it after `@tensorflow/tfjs-layers`, which registers
 * TF.js's own gradients and would otherwise overwrite these; this module does that import itself.
 */
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';

type Attrs = Record<string, unknown>;

/** Piecewise-constant ops: zero gradient for both inputs. */
const COMPARISONS = ['Greater', 'Less', 'LessEqual', 'Equal', 'NotEqual'];

/**
 * dW = Conv2DBackpropFilter(x, dy) is bilinear in (x, dy): with B(x, dy, W) = ⟨dy, conv2d(x, W)⟩, dW = ∂B/∂W.
 * Since B is linear in W, ⟨ddW, dW⟩ = B(x, dy, ddW) = ⟨dy, conv2d(x, ddW)⟩, so
 *   ∂/∂dy ⟨ddW, dW⟩ = conv2d(x, ddW)                          (same strides and padding)
 *   ∂/∂x  ⟨ddW, dW⟩ = conv2DBackpropInput(x.shape, dy, ddW)   (the input-gradient of that conv).
 */
const conv2DBackpropFilterGrad: tf.GradConfig = {
  kernelName: 'Conv2DBackpropFilter',
  inputsToSave: ['x', 'dy'],
  gradFunc: (ddw, saved, attrs) => {
    const [x, dy] = saved as [tf.Tensor4D, tf.Tensor4D];
    const { strides, pad, dataFormat, dimRoundingMode } = attrs as Attrs as {
      strides: [number, number]; pad: 'valid' | 'same'; dataFormat: 'NHWC' | 'NCHW'; dimRoundingMode?: 'floor' | 'round' | 'ceil';
    };
    const filter = ddw as tf.Tensor4D;
    return {
      x: () => tf.conv2dTranspose(dy, filter, x.shape, strides, pad, dimRoundingMode),
      dy: () => tf.conv2d(x, filter, strides, pad, dataFormat, 1, dimRoundingMode),
    };
  },
};

/**
 * dy · f′(x) two ways. Where the result may be differentiated again (the tape is on: a gradient taken inside
 * another gradient's scope, as R1 or WGAN-GP do), from the saved input, so every dependency is on the tape in
 * order. In a first-order backward pass (the tape is off) nothing differentiates the result, so the saved output y
 * serves, as in TF.js's own gradients: no recomputation of f.
 */
function fromInput(kernelName: string, ofInput: (x: tf.Tensor) => tf.Tensor, ofOutput: (dy: tf.Tensor, y: tf.Tensor) => tf.Tensor): tf.GradConfig {
  return {
    kernelName,
    inputsToSave: ['x'],
    outputsToSave: [true],
    gradFunc: (dy, saved) => {
      const [x, y] = saved;
      if (!tf.engine().isTapeOn()) return { x: () => ofOutput(dy as tf.Tensor, y) };
      return { x: () => tf.mul(dy as tf.Tensor, ofInput(x)) };
    },
  };
}

/** An activation y = f(x) whose derivative is a function of y alone: f′ of the recomputed f(x), or of the saved y. */
function fromOutputDerivative(kernelName: string, f: (x: tf.Tensor) => tf.Tensor, derivative: (y: tf.Tensor) => tf.Tensor): tf.GradConfig {
  return fromInput(kernelName, (x) => derivative(f(x)), (dy, y) => tf.mul(dy, derivative(y)));
}

const SMOOTH_ACTIVATIONS: tf.GradConfig[] = [
  fromOutputDerivative('Tanh', tf.tanh, (y) => tf.sub(1, tf.square(y))), // tanh′ = 1 − tanh²
  fromOutputDerivative('Sigmoid', tf.sigmoid, (y) => tf.mul(y, tf.sub(1, y))), // σ′ = σ(1 − σ)
  fromOutputDerivative('Exp', tf.exp, (y) => y),
];

/**
 * elu′(x) = 1 for x > 0, eˣ otherwise (α = 1, the only Elu TF.js has), which is exp(min(x, 0)) for every x: from
 * the input, three kernels (Minimum, Exp, Multiply), differentiable again (min's gradient masks x > 0, so
 * elu″ = eˣ below 0 and 0 above), in place of six full-size ones (a where over a comparison and onesLike). From the
 * output, elu′ = y + 1 below 0: TF.js's EluGrad kernel, one pass on every backend. BEGAN's networks are ELUs
 * throughout, so its step spent ~15 % of its kernel time in the three-kernel form.
 */
const eluGrad: tf.GradConfig = fromInput('Elu', (x) => tf.exp(tf.minimum(x, 0)),
  (dy, y) => tf.engine().runKernel('EluGrad', { dy, y }) as tf.Tensor);

/** d/dx tile(x, reps): dy with each tiled axis split into [reps_i, n_i] (tile repeats whole copies of x along
 *  axis i, so copy r holds rows r·n_i … r·n_i + n_i − 1), summed over the reps axes. */
const tileGrad: tf.GradConfig = {
  kernelName: 'Tile',
  gradFunc: (dy, _saved, attrs) => {
    const d = dy as tf.Tensor;
    const { reps } = attrs as Attrs as { reps: number[] };
    const xShape = d.shape.map((n, i) => n / reps[i]);
    const split: number[] = [];
    const repAxes: number[] = [];
    xShape.forEach((n, i) => {
      if (reps[i] > 1) repAxes.push(split.push(reps[i]) - 1);
      split.push(n);
    });
    return { x: () => (repAxes.length === 0 ? tf.clone(d) : tf.reshape(tf.sum(tf.reshape(d, split), repAxes), xShape)) };
  },
};

/**
 * dx = AvgPoolGrad(dy) spreads each dy evenly over its pooling window: it is linear in dy and does not read the
 * input's values, so ⟨ddx, dx⟩ = ⟨avgPool(ddx), dy⟩ and ∂/∂dy = avgPool(ddx) with the same window; ∂/∂input = 0.
 */
const avgPoolGradGrad: tf.GradConfig = {
  kernelName: 'AvgPoolGrad',
  inputsToSave: ['input'],
  gradFunc: (ddx, saved, attrs) => {
    const [input] = saved;
    const { filterSize, strides, pad, dimRoundingMode } = attrs as Attrs as {
      filterSize: [number, number] | number; strides: [number, number] | number; pad: 'valid' | 'same' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil';
    };
    return {
      dy: () => tf.avgPool(ddx as tf.Tensor4D, filterSize, strides, pad, dimRoundingMode),
      input: () => tf.zerosLike(input),
    };
  },
};

let installed = false;

/** Register the gradients above (idempotent; runs on import). */
export function installSecondOrderGradients(): void {
  if (installed) return;
  installed = true;
  for (const kernelName of COMPARISONS) {
    tf.registerGradient({ kernelName, gradFunc: (dy) => ({ a: () => tf.zerosLike(dy as tf.Tensor), b: () => tf.zerosLike(dy as tf.Tensor) }) });
  }
  tf.registerGradient(conv2DBackpropFilterGrad);
  tf.registerGradient(tileGrad);
  tf.registerGradient(avgPoolGradGrad);
  for (const config of [...SMOOTH_ACTIVATIONS, eluGrad]) tf.registerGradient(config);
}

installSecondOrderGradients();
