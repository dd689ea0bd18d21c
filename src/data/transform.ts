import { UserError } from '../util/errors.js';
import type { ArraySource } from './types.js';

/**
 * Adapt an in-memory image source to another square size and/or channel count, e.g. MNIST 28×28×1 → 32×32×3
 * for a DCGAN built for 32×32 RGB. Resizing is bilinear with half-pixel centres (what sharp/TF use);
 * 1 → 3 channels repeats the grey value; 3 → 1 uses ITU-R BT.601 luma. Returns the source unchanged when
 * nothing needs doing.
 */
export function adaptImages(src: ArraySource, opts: { imageSize?: number; channels?: 1 | 3 }): ArraySource {
  if (src.info.kind !== 'image') throw new UserError(`${src.info.name}: imageSize/channels apply to image data only`);
  const [h, w] = src.info.shape;
  const size = opts.imageSize ?? 0;
  if (opts.imageSize !== undefined && (!Number.isInteger(size) || size < 1)) {
    throw new UserError(`imageSize must be a positive integer, got ${opts.imageSize}`);
  }
  const oh = size || h;
  const ow = size || w;
  const oc = opts.channels ?? src.info.shape[2];
  return reshapeImages(src, [oh, ow, oc]);
}

/**
 * Resize n uint8 images [h, w, c] to [oh, ow, oc] (bilinear, half-pixel centres; channels as `adaptImages`).
 * Non-square sizes are fine, which the translation loaders need to bring two domains to one size.
 */
export function resizeImages(inp: Uint8Array, n: number, [h, w, c]: number[], [oh, ow, oc]: number[]): Uint8Array {
  const out = new Uint8Array(n * oh * ow * oc);
  const tmp = new Float32Array(c);
  // Precompute the source rows/columns and weights for each output row/column once.
  const ys = axisTaps(h, oh);
  const xs = axisTaps(w, ow);
  for (let i = 0; i < n; i++) {
    const base = i * h * w * c;
    let o = i * oh * ow * oc;
    for (let y = 0; y < oh; y++) {
      const { i0: y0, i1: y1, t: ty } = ys[y];
      for (let x = 0; x < ow; x++) {
        const { i0: x0, i1: x1, t: tx } = xs[x];
        for (let k = 0; k < c; k++) {
          const a = inp[base + (y0 * w + x0) * c + k];
          const b = inp[base + (y0 * w + x1) * c + k];
          const d = inp[base + (y1 * w + x0) * c + k];
          const e = inp[base + (y1 * w + x1) * c + k];
          tmp[k] = (a + (b - a) * tx) * (1 - ty) + (d + (e - d) * tx) * ty;
        }
        if (oc === c) for (let k = 0; k < c; k++) out[o++] = Math.round(tmp[k]);
        else if (oc === 3) { const g = Math.round(tmp[0]); out[o++] = g; out[o++] = g; out[o++] = g; }
        else out[o++] = Math.round(0.299 * tmp[0] + 0.587 * tmp[1] + 0.114 * tmp[2]);
      }
    }
  }
  return out;
}

/** Bring an image source to [oh, ow, oc] (see `resizeImages`); unchanged when it already is. */
export function reshapeImages(src: ArraySource, [oh, ow, oc]: number[]): ArraySource {
  const [h, w, c] = src.info.shape;
  if (oh === h && ow === w && oc === c) return src;
  const values = resizeImages(src.values as Uint8Array, src.count, [h, w, c], [oh, ow, oc]);
  return { ...src, values, info: { ...src.info, shape: [oh, ow, oc] } };
}

/** For each output index along one axis: the two source indices and the weight of the second (half-pixel centres). */
export function axisTaps(inSize: number, outSize: number): { i0: number; i1: number; t: number }[] {
  const scale = inSize / outSize;
  return Array.from({ length: outSize }, (_, o) => {
    const s = Math.min(Math.max((o + 0.5) * scale - 0.5, 0), inSize - 1);
    const i0 = Math.floor(s);
    return { i0, i1: Math.min(i0 + 1, inSize - 1), t: s - i0 };
  });
}
