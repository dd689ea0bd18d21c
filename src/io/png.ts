import sharp from 'sharp';

/** Map generator output in [-1, 1] to bytes 0..255 (clamped, rounded; NaN → 0). */
export function toUint8Images(x: Float32Array): Uint8Array {
  const out = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = Math.round((x[i] + 1) * 127.5);
    out[i] = v > 255 ? 255 : v > 0 ? v : 0; // NaN fails both tests and lands on 0
  }
  return out;
}

/**
 * PNG of `n` images (uint8 NHWC, `c` = 1 or 3) laid out in a grid: `cols` columns (default ⌈√n⌉),
 * `pad` pixels of white between and around them (default 2).
 */
export async function imageGrid(
  images: Uint8Array,
  n: number,
  h: number,
  w: number,
  c: number,
  opts: { cols?: number; pad?: number; padValue?: number } = {},
): Promise<Buffer> {
  if (c !== 1 && c !== 3) throw new Error(`imageGrid: channels must be 1 or 3, got ${c}`);
  if (n < 1) throw new Error('imageGrid: no images');
  if (images.length < n * h * w * c) throw new Error(`imageGrid: need ${n * h * w * c} bytes for ${n}×${h}×${w}×${c}, got ${images.length}`);
  const cols = Math.max(1, Math.min(n, opts.cols ?? Math.ceil(Math.sqrt(n))));
  const rows = Math.ceil(n / cols);
  const pad = opts.pad ?? 2;
  const W = cols * w + (cols + 1) * pad;
  const H = rows * h + (rows + 1) * pad;
  const canvas = Buffer.alloc(W * H * c, opts.padValue ?? 255);
  const rowBytes = w * c;
  for (let i = 0; i < n; i++) {
    const x0 = pad + (i % cols) * (w + pad);
    const y0 = pad + Math.floor(i / cols) * (h + pad);
    for (let y = 0; y < h; y++) {
      const src = (i * h + y) * rowBytes;
      canvas.set(images.subarray(src, src + rowBytes), ((y0 + y) * W + x0) * c);
    }
  }
  const img = sharp(canvas, { raw: { width: W, height: H, channels: c } });
  // Without the explicit colour space sharp widens 1-channel input to an RGB PNG.
  return (c === 1 ? img.toColourspace('b-w') : img).png().toBuffer();
}

export interface ScatterOptions {
  /** Width and height in pixels (default 512). */
  size?: number;
  /** Half-width of the square shown, centred at the origin; default: fits the centres/reference (else the points). */
  range?: number;
  /** Real data [m, 2], drawn in grey under the samples. */
  reference?: Float32Array;
  /** Mode centres, drawn as red crosses on top. */
  centres?: [number, number][];
}

type RGB = [number, number, number];

/**
 * PNG scatter plot of 2-D points [n, 2] (flat): white background, light axes through the origin,
 * reference points grey, samples blue, centres as red crosses. Points outside the range are not drawn.
 */
export async function scatterPlot(points: Float32Array, opts: ScatterOptions = {}): Promise<Buffer> {
  const size = opts.size ?? 512;
  const range = opts.range ?? autoRange(points, opts);
  const px = new Uint8Array(size * size * 3).fill(255);
  const toPix = (v: number, flip: boolean): number => {
    const t = (v + range) / (2 * range);
    return Math.round((flip ? 1 - t : t) * (size - 1));
  };
  const put = (x: number, y: number, col: RGB): void => {
    if (x < 0 || y < 0 || x >= size || y >= size) return;
    const o = (y * size + x) * 3;
    px[o] = col[0]; px[o + 1] = col[1]; px[o + 2] = col[2];
  };
  const dot = (pts: Float32Array, col: RGB, r: number): void => {
    for (let i = 0; i + 1 < pts.length; i += 2) {
      if (!Number.isFinite(pts[i]) || !Number.isFinite(pts[i + 1])) continue;
      const cx = toPix(pts[i], false);
      const cy = toPix(pts[i + 1], true);
      for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) put(cx + dx, cy + dy, col);
    }
  };
  // Axes through the origin.
  const ox = toPix(0, false);
  const oy = toPix(0, true);
  for (let i = 0; i < size; i++) { put(ox, i, [225, 225, 225]); put(i, oy, [225, 225, 225]); }
  const r = size >= 384 ? 1 : 0;
  if (opts.reference) dot(opts.reference, [170, 170, 170], r);
  dot(points, [31, 119, 180], r);
  const arm = Math.max(3, Math.round(size / 80));
  for (const [x, y] of opts.centres ?? []) {
    const cx = toPix(x, false);
    const cy = toPix(y, true);
    for (let d = -arm; d <= arm; d++) { put(cx + d, cy, [214, 39, 40]); put(cx, cy + d, [214, 39, 40]); }
  }
  return sharp(px, { raw: { width: size, height: size, channels: 3 } }).png().toBuffer();
}

function autoRange(points: Float32Array, opts: ScatterOptions): number {
  let m = 0;
  const scan = (a: ArrayLike<number>): void => {
    for (let i = 0; i < a.length; i++) if (Number.isFinite(a[i])) m = Math.max(m, Math.abs(a[i]));
  };
  if (opts.centres?.length || opts.reference?.length) {
    scan(opts.centres?.flat() ?? []);
    if (opts.reference) scan(opts.reference);
    return m > 0 ? m * 1.25 : 1;
  }
  scan(points);
  return m > 0 ? m * 1.1 : 1;
}
