import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import { backendHas } from './backend_kernels.js';

type Shape = (number | null)[];

/** Kernel name of the adjoint of MirrorPad a backend may register (TensorFlow's name; tfjs-backend-aten has it). */
export const MIRROR_PAD_GRAD_KERNEL = 'MirrorPadGrad';

/** [[top, bottom], [left, right]] */
export type Padding2D = [[number, number], [number, number]];

/**
 * The adjoint of reflect-padding one axis: the padded border rows fold back onto the rows they copied.
 * Padded row i < p is a copy of x row p − i, padded row p + n + j a copy of x row n − 2 − j, so
 * dx = dy[p .. p+n) + (reversed top border shifted to rows 1..p) + (reversed bottom border ending at row n − 2).
 */
function foldAxis(dy: tf.Tensor4D, axis: 1 | 2, before: number, after: number): tf.Tensor4D {
  const n = dy.shape[axis] - before - after;
  const part = (start: number, size: number) => {
    const begin = [0, 0, 0, 0], sizes = [...dy.shape];
    begin[axis] = start;
    sizes[axis] = size;
    return tf.slice(dy, begin, sizes);
  };
  const pads = (lo: number, hi: number) => dy.shape.map((_, d) => (d === axis ? [lo, hi] : [0, 0])) as [number, number][];
  let dx: tf.Tensor = part(before, n);
  if (before > 0) dx = tf.add(dx, tf.pad(tf.reverse(part(0, before), axis), pads(1, n - 1 - before)));
  if (after > 0) dx = tf.add(dx, tf.pad(tf.reverse(part(before + n, after), axis), pads(n - 1 - after, 1)));
  return dx as tf.Tensor4D;
}

/** dL/dx of reflect-padding x by `padding`, natively when the backend registers MirrorPadGrad. */
function reflectPadGrad(dy: tf.Tensor4D, padding: Padding2D): tf.Tensor4D {
  const paddings = [[0, 0], ...padding, [0, 0]];
  if (backendHas(MIRROR_PAD_GRAD_KERNEL)) {
    return tf.engine().runKernel(MIRROR_PAD_GRAD_KERNEL, { dy }, { paddings, mode: 'reflect' }) as tf.Tensor4D;
  }
  return foldAxis(foldAxis(dy, 1, ...padding[0]), 2, ...padding[1]);
}

/**
 * Reflect-pads the rows and columns of NHWC images (PyTorch's ReflectionPad2d): the border mirrors the image
 * without repeating the edge, so a convolution after it sees no artificial zero frame (CycleGAN's generator,
 * Zhu et al. 2017, appendix 7.2). tf.mirrorPad computes the value; its gradient here is the true adjoint, since
 * tfjs 4.22's MirrorPad gradient only slices the centre out of dy and drops the border's contributions.
 *
 * @example
 * reflectionPad2d(tf.tensor4d([1, 2, 3], [1, 1, 3, 1]), [[0, 0], [2, 2]]); // columns 3 2 1 2 3 2 1
 */
export function reflectionPad2d(x: tf.Tensor4D, padding: Padding2D): tf.Tensor4D {
  const [[top, bottom], [left, right]] = padding;
  const [, h, w] = x.shape;
  if (Math.max(top, bottom) >= h || Math.max(left, right) >= w) {
    throw new Error(`reflection padding ${JSON.stringify(padding)} needs images larger than the pad, got ${h}×${w}`);
  }
  const pad = tf.customGrad(((input: tf.Tensor4D) => ({
    value: tf.mirrorPad(input, [[0, 0], [top, bottom], [left, right], [0, 0]], 'reflect'),
    gradFunc: (dy: tf.Tensor4D) => reflectPadGrad(dy, padding),
  })) as unknown as Parameters<typeof tf.customGrad>[0]) as (t: tf.Tensor4D) => tf.Tensor4D;
  return pad(x);
}

export interface ReflectionPadding2DArgs extends LayerArgs {
  /** p (all four sides), [rows, cols], or [[top, bottom], [left, right]]. */
  padding?: number | [number, number] | Padding2D;
}

function normalise(p: ReflectionPadding2DArgs['padding']): Padding2D {
  if (p === undefined) return [[1, 1], [1, 1]];
  if (typeof p === 'number') return [[p, p], [p, p]];
  if (typeof p[0] === 'number') return [[p[0], p[0]], [p[1] as number, p[1] as number]];
  return p as Padding2D;
}

/**
 * Reflection padding as a tfjs-layers layer: [B, H, W, C] → [B, H + top + bottom, W + left + right, C].
 *
 * @example
 * g.add(new ReflectionPadding2D({ padding: 3 }));   // before CycleGAN's 7×7 'valid' convolution
 */
export class ReflectionPadding2D extends tfl.layers.Layer {
  static className = 'ReflectionPadding2D';
  readonly padding: Padding2D;

  constructor(args: ReflectionPadding2DArgs = {}) {
    super(args);
    this.padding = normalise(args.padding);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [b, h, w, c] = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const [[t, bo], [l, r]] = this.padding;
    return [b, h === null ? null : h + t + bo, w === null ? null : w + l + r, c];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return reflectionPad2d((Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D, this.padding);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), padding: this.padding };
  }
}
tf.serialization.registerClass(ReflectionPadding2D);
