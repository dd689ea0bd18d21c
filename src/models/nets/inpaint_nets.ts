// The inpainting family's networks and the tensor algebra of holes: what G sees ([masked image, mask]), how its
// output is put into the image (keep the known pixels, fill the hole), and the band around a hole.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { SeededInit } from '../../nn/init.js';
import { unetGenerator } from './unet.js';
import { patchGanDiscriminator } from './patchgan.js';
import type { NormKind } from './layers.js';

/** The value the hole holds in the masked image: HOLE_FILL = 128 of masks.ts, in [-1, 1]. */
export const HOLE_VALUE = 128 / 127.5 - 1;

/**
 * The generator: a U-Net (pix2pix's, nets/unet.ts) from the masked image and its mask, [B, H, W, C + 1], to a
 * whole image [B, H, W, C] — an encoder–decoder like Pathak et al.'s context encoder, with skip connections so
 * the known pixels around the hole reach the decoder at full resolution. No dropout: its output is the fill.
 */
export function inpaintGenerator(opts: { size: number; channels: number; ngf: number; norm: NormKind }, init: SeededInit): tfl.LayersModel {
  return unetGenerator({ size: opts.size, inChannels: opts.channels + 1, outChannels: opts.channels, ngf: opts.ngf, norm: opts.norm, dropout: 0 }, init);
}

/**
 * D(x, mask): a PatchGAN (nets/patchgan.ts) on the image, complete or completed, with the mask as one more
 * channel, as Yu et al. 2019's SN-PatchGAN sees it, so D knows where the fill is. A model of two inputs
 * [x, mask] for the shared D phase (which applies D([x, y])).
 */
export function inpaintDiscriminator(opts: { size: number; channels: number; ndf: number; norm: NormKind; nLayers?: number }, init: SeededInit): tfl.LayersModel {
  const { size, channels } = opts;
  const patch = patchGanDiscriminator({ size, inChannels: channels + 1, ndf: opts.ndf, norm: opts.norm, nLayers: opts.nLayers }, init);
  const x = tfl.input({ shape: [size, size, channels], name: 'image' });
  const m = tfl.input({ shape: [size, size, 1], name: 'mask' });
  let h = tfl.layers.concatenate({ axis: -1, name: 'with_mask' }).apply([x, m]) as tfl.SymbolicTensor; // [B, H, W, C + 1]
  for (const layer of patch.layers.slice(1)) h = layer.apply(h) as tfl.SymbolicTensor; // [B, h', w', 1] patch logits
  const d = tfl.model({ inputs: [x, m], outputs: h, name: 'discriminator' });
  patch.dispose(); // its layers now belong to `d`; this drops only the wrapper's claim
  return d;
}

/** The hole of G's input [B, H, W, C + 1] (mask channel −1 known, +1 hole): [B, H, W, 1], 1 in the hole, else 0. */
export function holeOf(input: tf.Tensor): tf.Tensor {
  const c = input.shape[3]! - 1;
  return tf.tidy(() => tf.cast(tf.greater(tf.slice(input, [0, 0, 0, c], [-1, -1, -1, 1]), 0), 'float32'));
}

/** The known image of G's input: its first C channels (the hole holds HOLE_VALUE). */
export function knownOf(input: tf.Tensor): tf.Tensor {
  return tf.slice(input, [0, 0, 0, 0], [-1, -1, -1, input.shape[3]! - 1]);
}

/** The completed image: G's output in the hole, the known pixels elsewhere. hole [B, H, W, 1], images [B, H, W, C]. */
export function composite(output: tf.Tensor, known: tf.Tensor, hole: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.add(tf.mul(hole, output), tf.mul(tf.sub(1, hole), known)));
}

/** G's input from whole images [B, H, W, C] and holes [B, H, W, 1]: the hole set to HOLE_VALUE, the mask channel ±1. */
export function maskImages(images: tf.Tensor, hole: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.concat([composite(tf.fill(images.shape, HOLE_VALUE), images, hole), tf.sub(tf.mul(hole, 2), 1)], -1));
}

/**
 * The known pixels within `width` pixels (Chebyshev distance) of the hole: [B, H, W, 1] of 0/1. A convolution of
 * the hole with a (2·width + 1)² box of ones is positive exactly where the hole is that near.
 */
export function bandAround(hole: tf.Tensor, width: number): tf.Tensor {
  return tf.tidy(() => {
    const k = 2 * width + 1;
    const near = tf.cast(tf.greater(tf.conv2d(hole as tf.Tensor4D, tf.ones([k, k, 1, 1]), 1, 'same'), 0.5), 'float32');
    return tf.mul(near, tf.sub(1, hole));
  });
}

/** Mean |a − b| over the pixels where `where` [B, H, W, 1] is 1 (and all channels); 0 when it is nowhere 1. */
export function maskedL1(a: tf.Tensor, b: tf.Tensor, where: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const c = a.shape[3]!;
    return tf.div(tf.sum(tf.mul(tf.abs(tf.sub(a, b)), where)), tf.maximum(tf.mul(tf.sum(where), c), 1)) as tf.Scalar;
  });
}
