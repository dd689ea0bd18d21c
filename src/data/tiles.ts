import { UserError } from '../util/errors.js';

/** An image as plain numbers, [h, w, c] row-major (interleaved channels). */
export interface PlainImage {
  values: Float32Array | Uint8Array;
  h: number;
  w: number;
  c: number;
}

export interface TileOptions {
  /** Side of the square input tiles fn sees (a tile is smaller only where the image is). */
  tile: number;
  /** Input pixels shared by neighbouring tiles, blended linearly across (≥ the network's useful context). */
  overlap: number;
  /** fn's output is `scale` times its input on each side. */
  scale: number;
}

/**
 * Where tiles start along one axis of `size`: every `tile − overlap`, the last one flush with the end, so
 * every tile is whole and neighbours share at least `overlap` pixels.
 */
export function tileStarts(size: number, tile: number, overlap: number): number[] {
  if (size <= tile) return [0];
  const step = tile - overlap;
  const starts: number[] = [];
  for (let s = 0; s + tile < size; s += step) starts.push(s);
  starts.push(size - tile);
  return starts;
}

/**
 * Blend weights along one axis of one tile's output (length n = its size · scale): 1 inside, rising linearly
 * from near 0 across the part shared with the previous tile and falling across the part shared with the next,
 * so that two neighbours' weights sum to 1 on their shared pixels and a seam fades instead of stepping.
 */
function axisWeights(n: number, shareBefore: number, shareAfter: number): Float64Array {
  const w = new Float64Array(n).fill(1);
  for (let i = 0; i < shareBefore; i++) w[i] = (i + 0.5) / shareBefore;
  for (let i = 0; i < shareAfter; i++) w[n - 1 - i] = Math.min(w[n - 1 - i], (i + 0.5) / shareAfter);
  return w;
}

/** Finished output rows of a tiled pass: `rows` rows from row `top`, [rows, w·scale, c] interleaved. */
export interface RowBand {
  top: number;
  rows: number;
  values: Float32Array;
  width: number;
  channels: number;
}

/**
 * Apply `fn` (e.g. a super-resolution generator) to a large image tile by tile, in bounded memory: the image
 * is split into overlapping `tile`×`tile` pieces, fn upscales each one by `scale`, and the outputs are
 * feather-blended where they overlap (weights ramp linearly across each shared strip, see `axisWeights`).
 * Tiles are visited band by band (one row of tiles at a time), and only one band's accumulators live at once;
 * each band's finished rows are yielded as soon as no later tile can touch them, so a caller that writes them
 * away (`ganforge upscale` into its 8-bit output) holds O(tile · scale · width · scale · c) floats, whatever the
 * image's height, and fn never sees more than tile × tile pixels. The bands cover the h·scale output rows in order.
 *
 * With an fn that treats every pixel alike (nearest-neighbour upscale, identity), the result equals fn on
 * the whole image exactly: overlapping outputs agree, and a weighted mean of equal values is that value.
 * @example
 * for (const band of tiledRows(photo, { tile: 128, overlap: 16, scale: 4 }, upscale)) write(band);
 */
export function* tiledRows(image: PlainImage, opts: TileOptions, fn: (tile: PlainImage) => PlainImage): Generator<RowBand> {
  const { h, w, c } = image;
  const { tile, overlap, scale: s } = opts;
  if (!Number.isInteger(tile) || tile < 1) throw new UserError(`tile must be a positive integer of pixels, got ${tile}`);
  if (!Number.isInteger(overlap) || overlap < 0 || overlap >= tile) throw new UserError(`tile overlap must be an integer in [0, ${tile}) (the tile size), got ${overlap}`);
  if (!Number.isInteger(s) || s < 1) throw new UserError(`scale must be a positive integer, got ${s}`);
  if (image.values.length !== h * w * c) throw new UserError(`image of ${image.values.length} values is not ${h}×${w}×${c}`);
  const ys = tileStarts(h, tile, overlap);
  const xs = tileStarts(w, tile, overlap);
  const [th, tw] = [Math.min(tile, h), Math.min(tile, w)];
  const W = w * s;
  let oc = 0;
  // The band's accumulators cover output rows [bandTop, bandTop + th·s): Σ weight·value and Σ weight.
  let acc = new Float64Array(0);
  let wsum = new Float64Array(0);
  let bandTop = 0;
  const piece = new Float32Array(th * tw * c);
  for (let r = 0; r < ys.length; r++) {
    const y0 = ys[r];
    const wy = axisWeights(th * s, r > 0 ? (ys[r - 1] + th - y0) * s : 0, r + 1 < ys.length ? (y0 + th - ys[r + 1]) * s : 0);
    for (let q = 0; q < xs.length; q++) {
      const x0 = xs[q];
      for (let y = 0; y < th; y++) {
        const from = ((y0 + y) * w + x0) * c;
        for (let i = 0; i < tw * c; i++) piece[y * tw * c + i] = image.values[from + i];
      }
      const o = fn({ values: piece, h: th, w: tw, c });
      if (o.h !== th * s || o.w !== tw * s) throw new Error(`tile fn returned ${o.h}×${o.w} for a ${th}×${tw} tile; expected ×${s}: ${th * s}×${tw * s}`);
      if (oc === 0) {
        oc = o.c;
        acc = new Float64Array(th * s * W * oc);
        wsum = new Float64Array(th * s * W);
      } else if (o.c !== oc) {
        throw new Error(`tile fn returned ${o.c} channels after ${oc}`);
      }
      if (q === 0 && r > 0) {
        // A new band: rows above it are final; rows it shares with the last band carry over.
        const shift = (y0 * s - bandTop) * W;
        yield finished(acc, wsum, bandTop, y0 * s - bandTop, W, oc);
        acc.copyWithin(0, shift * oc);
        acc.fill(0, acc.length - shift * oc);
        wsum.copyWithin(0, shift);
        wsum.fill(0, wsum.length - shift);
        bandTop = y0 * s;
      }
      const wx = axisWeights(tw * s, q > 0 ? (xs[q - 1] + tw - x0) * s : 0, q + 1 < xs.length ? (x0 + tw - xs[q + 1]) * s : 0);
      for (let y = 0; y < th * s; y++) {
        const row = (y0 * s + y - bandTop) * W + x0 * s;
        for (let x = 0; x < tw * s; x++) {
          const k = wy[y] * wx[x];
          wsum[row + x] += k;
          const src = (y * tw * s + x) * oc;
          const dst = (row + x) * oc;
          for (let ch = 0; ch < oc; ch++) acc[dst + ch] += k * o.values[src + ch];
        }
      }
    }
  }
  yield finished(acc, wsum, bandTop, h * s - bandTop, W, oc);
}

/**
 * tiledRows collected into the whole h·scale × w·scale image (fn's channel count): for images whose output fits
 * in memory as floats.
 * @example
 * const big = applyTiled({ values, h: 300, w: 400, c: 3 }, { tile: 128, overlap: 16, scale: 4 }, (t) => upscale(t));
 */
export function applyTiled(image: PlainImage, opts: TileOptions, fn: (tile: PlainImage) => PlainImage): PlainImage {
  let out: Float32Array | undefined;
  let c = 0;
  for (const band of tiledRows(image, opts, fn)) {
    c = band.channels;
    out ??= new Float32Array(image.h * opts.scale * band.width * c);
    out.set(band.values, band.top * band.width * c);
  }
  return { values: out!, h: image.h * opts.scale, w: image.w * opts.scale, c };
}

/** The band's first `rows` output rows (weighted means), from output row `top`. */
function finished(acc: Float64Array, wsum: Float64Array, top: number, rows: number, W: number, c: number): RowBand {
  const values = new Float32Array(rows * W * c);
  for (let p = 0; p < rows * W; p++) {
    for (let ch = 0; ch < c; ch++) values[p * c + ch] = acc[p * c + ch] / wsum[p];
  }
  return { top, rows, values, width: W, channels: c };
}
