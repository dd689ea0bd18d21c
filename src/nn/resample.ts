import * as tf from '@tensorflow/tfjs-core';
import { runBackendKernel } from './backend_kernels.js';

/**
 * 2× up- and downsampling of NHWC images with the separable [1, 3, 3, 1] filter (bilinear resampling):
 * StyleGAN replaced nearest-neighbour resampling with it in both networks to reduce aliasing (Karras, Laine &
 * Aila 2019, §2, after Zhang 2019), and StyleGAN2 keeps it (Karras et al. 2020, appendix B). Pixels outside
 * the image count as zero, as in those networks' implementations.
 *
 * Where the backend has the one-pass kernel 'Resample2x' (aten) it runs that; elsewhere these are written with
 * pad, slice, stack, reshape and elementwise ops only, on purpose: each has a gradient that is itself
 * differentiable, which path-length regularisation (through G) and R1 (through D) need. tf.image.resizeBilinear's gradient (ResizeBilinearGrad) has no gradient in TF.js,
 * resizeNearestNeighbor's gradient has no native kernel, and avgPool's gradient (AvgPoolGrad) has neither.
 */

type Axis = 1 | 2;

/** The backend's one-pass kernel for both (on 'aten', with gradients made of itself): the same maps as the ops below. */
export const RESAMPLE_2X_KERNEL = 'Resample2x';

function nativeResample(x: tf.Tensor4D, up: boolean): tf.Tensor4D | null {
  return runBackendKernel<tf.Tensor4D>(RESAMPLE_2X_KERNEL, { x }, { up, gain: 1 });
}

/** x shifted by `by` (±1) along `axis`, zeros entering: shift(x, 1)[i] = x[i − 1]. */
function shift(x: tf.Tensor4D, axis: Axis, by: 1 | -1): tf.Tensor4D {
  const paddings: [number, number][] = [[0, 0], [0, 0], [0, 0], [0, 0]];
  paddings[axis] = by === 1 ? [1, 0] : [0, 1];
  const begin = [0, 0, 0, 0];
  if (by === -1) begin[axis] = 1;
  return tf.slice(tf.pad(x, paddings), begin, x.shape);
}

/** Along one axis: out[2i] = (x[i−1] + 3x[i])/4, out[2i+1] = (3x[i] + x[i+1])/4. */
function upsampleAxis(x: tf.Tensor4D, axis: Axis): tf.Tensor4D {
  const three = tf.mul(x, 0.75);
  const even = tf.add(three, tf.mul(shift(x, axis, 1), 0.25));
  const odd = tf.add(three, tf.mul(shift(x, axis, -1), 0.25));
  const shape = [...x.shape] as [number, number, number, number];
  shape[axis] *= 2;
  return tf.reshape(tf.stack([even, odd], axis + 1), shape); // [.., n, 2, ..] → [.., 2n, ..]
}

/** Along one axis, with e = x[2i], o = x[2i+1]: out[i] = (x[2i−1] + 3x[2i] + 3x[2i+1] + x[2i+2])/8. */
function downsampleAxis(x: tf.Tensor4D, axis: Axis): tf.Tensor4D {
  const shape = [...x.shape] as [number, number, number, number];
  shape[axis] /= 2;
  const pairs = [...shape] as number[];
  pairs.splice(axis + 1, 0, 2);
  const [even, odd] = tf.unstack(tf.reshape(x, pairs), axis + 1) as tf.Tensor4D[]; // each [.., n/2, ..]
  const centre = tf.mul(tf.add(even, odd), 3);
  return tf.mul(tf.add(centre, tf.add(shift(odd, axis, 1), shift(even, axis, -1))), 0.125);
}

/**
 * [B, H, W, C] → [B, 2H, 2W, C], bilinear (half-pixel centres, zero outside).
 *
 * @example
 * upsample2x(tf.ones([1, 2, 2, 1])); // rows [0.5625, 0.75, 0.75, 0.5625], [0.75, 1, 1, 0.75], …
 */
export function upsample2x(x: tf.Tensor4D): tf.Tensor4D {
  return nativeResample(x, true) ?? tf.tidy(() => upsampleAxis(upsampleAxis(x, 1), 2));
}

/**
 * [B, H, W, C] → [B, H/2, W/2, C] with the [1, 3, 3, 1]/8 filter (H and W even).
 *
 * @example
 * downsample2x(tf.ones([1, 6, 6, 1])); // [1, 3, 3, 1]: centre 1, edges 7/8, corners 49/64 (zeros outside)
 */
export function downsample2x(x: tf.Tensor4D): tf.Tensor4D {
  const [, h, w] = x.shape;
  if (h % 2 !== 0 || w % 2 !== 0) throw new Error(`downsample2x needs even height and width, got ${h}×${w}`);
  return nativeResample(x, false) ?? tf.tidy(() => downsampleAxis(downsampleAxis(x, 1), 2));
}
