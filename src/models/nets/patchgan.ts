import * as tfl from '@tensorflow/tfjs-layers';
import type { SeededInit } from '../../nn/init.js';
import { chain, conv, halvings, type NormKind, normLayer } from './layers.js';

export interface PatchGanOptions {
  /** Image side (square images). */
  size: number;
  /** Channels D sees: 3 for CycleGAN, 6 for pix2pix (A and B concatenated). */
  inChannels: number;
  /** Width of the first layer (64); doubled per stride-2 layer up to 8×. */
  ndf?: number;
  /** Stride-2 layers; default patchGanLayers(size). */
  nLayers?: number;
  norm?: NormKind;
}

/**
 * Side of the input patch one output logit sees, for `nLayers` stride-2 layers: the two stride-1 4×4 layers see
 * 4 + 3 = 7 pixels of their input, and each stride-2 4×4 layer below maps a field r to 2r + 2, so
 * r(n) = 9·2ⁿ − 2: 16, 34, 70 (the paper's 70×70 PatchGAN at n = 3), 142.
 */
export function patchReceptiveField(nLayers: number): number {
  return 9 * 2 ** nLayers - 2;
}

/**
 * Stride-2 layers for an image side: the most (up to the paper's 3) whose receptive field is at most half the side,
 * so that every logit judges a patch rather than the whole image, and the side divides by 2^n. 256 → 3 (70 px),
 * 128 → 2 (34 px), 64 and 32 → 1 (16 px). With those, D's output is 30×30 logits from 64 px up, 14×14 at 32 px.
 */
export function patchGanLayers(size: number): number {
  let n = Math.min(3, halvings(size, 3));
  while (n > 1 && patchReceptiveField(n) > size / 2) n--;
  if (n < 1 || size / 2 ** n < 4) throw new Error(`the PatchGAN needs an image side that is even and at least 8, got ${size}`);
  return n;
}

/**
 * The PatchGAN discriminator of pix2pix (Isola et al. 2017, §3.2.2 and appendix 6.1.2), also CycleGAN's: C64-C128-
 * C256 with stride 2, C512 with stride 1, then a 1-channel conv with stride 1; 4×4 kernels, LeakyReLU(0.2), the
 * norm on every layer but the first and the last, no sigmoid. It classifies each overlapping N×N patch (N =
 * patchReceptiveField(nLayers)) as real or fake; the loss averages over the logits [B, h', w', 1].
 * The stride-1 convs pad 1 pixel on every side (PyTorch's padding 1), so each shrinks the map by one:
 * h' = size/2ⁿ − 2 (30 at 256 px); the stride-2 ones use 'same' (= padding 1 on even sides).
 *
 * @example
 * const d = patchGanDiscriminator({ size: 256, inChannels: 6 }, init);   // pix2pix: D(concat(A, B)) → [B, 30, 30, 1]
 */
export function patchGanDiscriminator(opts: PatchGanOptions, init: SeededInit): tfl.LayersModel {
  const { size, inChannels, ndf = 64, norm = 'batch' } = opts;
  const nLayers = opts.nLayers ?? patchGanLayers(size);
  if (size % 2 ** nLayers !== 0 || size / 2 ** nLayers < 4) {
    throw new Error(`a PatchGAN with ${nLayers} stride-2 layers needs an image side divisible by ${2 ** nLayers} and at least ${2 ** (nLayers + 2)}, got ${size}`);
  }
  const width = (i: number) => ndf * Math.min(2 ** i, 8);
  const lrelu = (name: string) => tfl.layers.leakyReLU({ alpha: 0.2, name });
  const input = tfl.input({ shape: [size, size, inChannels], name: 'image' });

  let h = chain(input, conv({ name: 'c1_conv', filters: width(0), kernelSize: 4, strides: 2, padding: 'same', useBias: true }, init), lrelu('c1_lrelu'));
  for (let i = 1; i <= nLayers; i++) {
    const strided = i < nLayers; // the last of these is the stride-1 C512
    const layers: tfl.layers.Layer[] = strided ? [] : [tfl.layers.zeroPadding2d({ padding: 1, name: `c${i + 1}_pad` })];
    layers.push(
      conv({ name: `c${i + 1}_conv`, filters: width(i), kernelSize: 4, strides: strided ? 2 : 1, padding: strided ? 'same' : 'valid', useBias: false }, init),
      normLayer(norm, `c${i + 1}_norm`, init), lrelu(`c${i + 1}_lrelu`));
    h = chain(h, ...layers); // [B, size/2^(i+1) or size/2^n − 1, ., width(i)]
  }
  const logits = chain(h,
    tfl.layers.zeroPadding2d({ padding: 1, name: 'logits_pad' }),
    conv({ name: 'logits', filters: 1, kernelSize: 4, strides: 1, padding: 'valid', useBias: true }, init)); // [B, size/2ⁿ − 2, ., 1]
  return tfl.model({ inputs: input, outputs: logits, name: 'patchgan_discriminator' });
}
