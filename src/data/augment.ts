import { UserError } from '../util/errors.js';
import type { Rng } from '../util/rng.js';
import type { AugmentOptions } from './types.js';
import { axisTaps } from './transform.js';

/** One example's random choices: the crop's top-left corner in the upscaled image, and the mirror. */
export interface AugmentDraw {
  oy: number;
  ox: number;
  flip: boolean;
}

/**
 * pix2pix's "resize and crop" plus flip (Isola et al. 2017, §6.2: 286 → random 256 crop, mirror) on uint8
 * images of one stored size. The upscale is never materialised: each output pixel of the crop reads its
 * bilinear taps (half-pixel centres, rounded to uint8 as a stored resize would be) straight from the stored
 * image, so a batch costs O(B·H·W·C) whatever the load size. Without loadSize or flip it is the identity.
 */
export class Augmenter {
  readonly loaded: [number, number];
  private readonly ys: ReturnType<typeof axisTaps>;
  private readonly xs: ReturnType<typeof axisTaps>;

  constructor(private readonly size: [number, number], private readonly opts: AugmentOptions, what: string) {
    const [h, w] = size;
    const load = opts.loadSize ?? Math.min(h, w);
    if (!Number.isInteger(load) || load < Math.min(h, w)) {
      throw new UserError(`loadSize must be an integer ≥ the image size ${Math.min(h, w)} of ${what} (pix2pix loads 286 for 256 crops), got ${opts.loadSize}`);
    }
    // The shorter side becomes loadSize; the other keeps the aspect ratio.
    const s = load / Math.min(h, w);
    this.loaded = [Math.round(h * s), Math.round(w * s)];
    this.ys = axisTaps(h, this.loaded[0]);
    this.xs = axisTaps(w, this.loaded[1]);
  }

  /** Draw one example's crop and flip; draws nothing for what is switched off, so the rng only moves when used. */
  draw(rng: Rng): AugmentDraw {
    const [lh, lw] = this.loaded;
    const [h, w] = this.size;
    const oy = lh > h ? rng.int(lh - h + 1) : 0;
    const ox = lw > w ? rng.int(lw - w + 1) : 0;
    const flip = this.opts.flip === true && rng.uniform() < 0.5;
    return { oy, ox, flip };
  }

  /** Write image `src[off …]` ([h, w, c] uint8) augmented by `d` into `out[o …]` as floats in [-1, 1]. */
  apply(src: Uint8Array, off: number, c: number, d: AugmentDraw, out: Float32Array, o: number): void {
    const [h, w] = this.size;
    for (let y = 0; y < h; y++) {
      const { i0: y0, i1: y1, t: ty } = this.ys[y + d.oy];
      for (let x = 0; x < w; x++) {
        const { i0: x0, i1: x1, t: tx } = this.xs[(d.flip ? w - 1 - x : x) + d.ox];
        for (let k = 0; k < c; k++) {
          const a = src[off + (y0 * w + x0) * c + k];
          const b = src[off + (y0 * w + x1) * c + k];
          const e = src[off + (y1 * w + x0) * c + k];
          const f = src[off + (y1 * w + x1) * c + k];
          const v = Math.round((a + (b - a) * tx) * (1 - ty) + (e + (f - e) * tx) * ty);
          out[o++] = v / 127.5 - 1;
        }
      }
    }
  }
}
