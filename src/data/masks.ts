import sharp from 'sharp';
import { basename } from 'node:path';
import { UserError, unknownChoice } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { listImageFiles, toRaw } from './decode.js';

/**
 * Hole masks for inpainting: one uint8 per pixel [H·W], 1 = hole (to fill), 0 = known. In files and in the
 * mask channel of masked: data a hole is white (255) and a known pixel black (0).
 */
export type Mask = Uint8Array;

/** How masks are drawn: rectangles, free-form brush strokes, or either with probability ½ per mask. */
export const MASK_KINDS = ['rect', 'strokes', 'mixed'] as const;
export type MaskKind = (typeof MASK_KINDS)[number];

/** Where masked: data takes its holes from: drawn (`kind`), or from a folder of mask images. */
export interface MaskOptions {
  kind: MaskKind;
  /** A folder of mask images (white = hole), resized to the images; when set, `kind` is not used. */
  dir?: string;
}

/** The hole's fill in the masked image: mid-grey, ≈ 0 in [-1, 1], as Pathak et al.'s context encoders fill with the mean. */
export const HOLE_FILL = 128;

export function parseMaskKind(kind: string, flag = '--mask-kind'): MaskKind {
  if (!(MASK_KINDS as readonly string[]).includes(kind)) throw unknownChoice(flag, kind, MASK_KINDS);
  return kind as MaskKind;
}

/** An axis-aligned rectangle with sides ¼–½ of the image's, at a uniform place. */
export function rectMask(rng: Rng, h: number, w: number): Mask {
  const span = (s: number): number => Math.ceil(s / 4) + rng.int(Math.floor(s / 2) - Math.ceil(s / 4) + 1);
  const hh = span(h);
  const hw = span(w);
  const y0 = rng.int(h - hh + 1);
  const x0 = rng.int(w - hw + 1);
  const m = new Uint8Array(h * w);
  for (let y = y0; y < y0 + hh; y++) m.fill(1, y * w + x0, y * w + x0 + hw);
  return m;
}

/**
 * Free-form brush strokes (Yu, Lin, Yang, Shen, Lu & Huang 2019, "Free-Form Image Inpainting with Gated
 * Convolution", §3.3 and Algorithm 1): 1–4 strokes, each a polyline of 4–12 vertices from a uniform start;
 * each segment turns by a uniform angle (every other one reversed, so strokes wander rather than circle) and has
 * a uniform length; each stroke a uniform brush width, drawn with round caps and joins. Lengths and widths scale
 * with the image: at 256 px a brush of 13–32 px and segments of 10–51 px, about the paper's settings.
 */
export function strokeMask(rng: Rng, h: number, w: number): Mask {
  const m = new Uint8Array(h * w);
  const side = Math.min(h, w);
  const strokes = 1 + rng.int(4);
  for (let s = 0; s < strokes; s++) {
    const vertices = 4 + rng.int(9);
    const radius = (side / 20 + rng.uniform() * (side / 8 - side / 20)) / 2;
    let x = rng.uniform() * w;
    let y = rng.uniform() * h;
    disc(m, h, w, x, y, radius);
    for (let v = 0; v < vertices; v++) {
      let angle = rng.uniform() * 2 * Math.PI;
      if (v % 2 === 1) angle = 2 * Math.PI - angle;
      const length = side / 25 + rng.uniform() * (side / 5 - side / 25);
      const nx = Math.min(w - 1, Math.max(0, x + length * Math.cos(angle)));
      const ny = Math.min(h - 1, Math.max(0, y + length * Math.sin(angle)));
      // A thick segment: discs stamped every half pixel along it.
      const n = Math.max(1, Math.ceil(2 * Math.hypot(nx - x, ny - y)));
      for (let k = 1; k <= n; k++) disc(m, h, w, x + ((nx - x) * k) / n, y + ((ny - y) * k) / n, radius);
      [x, y] = [nx, ny];
    }
  }
  return m;
}

/** Sets every pixel whose centre lies within `r` (at least ½, so a brush is never thinner than a pixel) of (cx, cy). */
function disc(m: Mask, h: number, w: number, cx: number, cy: number, r: number): void {
  const rr = Math.max(r, 0.5);
  for (let y = Math.max(0, Math.floor(cy - rr)); y <= Math.min(h - 1, Math.ceil(cy + rr)); y++) {
    for (let x = Math.max(0, Math.floor(cx - rr)); x <= Math.min(w - 1, Math.ceil(cx + rr)); x++) {
      if ((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 <= rr * rr) m[y * w + x] = 1;
    }
  }
}

/** One mask of `kind` from `rng`. */
export function drawMask(kind: MaskKind, rng: Rng, h: number, w: number): Mask {
  const k = kind === 'mixed' ? (rng.uniform() < 0.5 ? 'rect' : 'strokes') : kind;
  return k === 'rect' ? rectMask(rng, h, w) : strokeMask(rng, h, w);
}

/** Number of hole pixels. */
export function holeArea(m: Mask): number {
  let n = 0;
  for (const v of m) n += v;
  return n;
}

/**
 * A mask image as a Mask of h×w: read as grey (transparent pixels count as black, known), stretched to h×w
 * (nearest neighbour, so a mask stays binary), a pixel ≥ 128 being a hole. Throws a UserError naming the file
 * when it cannot be decoded.
 */
export async function readMask(path: string, h: number, w: number): Promise<Mask> {
  let grey: Uint8Array;
  try {
    const p = sharp(path).rotate().flatten({ background: '#000000' }).resize(w, h, { fit: 'fill', kernel: 'nearest' });
    grey = await toRaw(p, [h, w, 1]);
  } catch (e) {
    throw new UserError(`${path}: not a readable image (${(e as Error).message})`);
  }
  return Uint8Array.from(grey, (v) => (v >= 128 ? 1 : 0));
}

/**
 * The masks of a folder (every image file directly in it, by name), each resized to h×w. `flag` names the
 * option the folder came from; a folder with no images, or a mask with no hole or no known pixel, is refused.
 */
export async function readMaskFolder(dir: string, h: number, w: number, flag = '--masks'): Promise<Mask[]> {
  let files: string[];
  try {
    files = await listImageFiles(dir);
  } catch {
    throw new UserError(`${flag} ${dir}: not a readable folder`);
  }
  if (files.length === 0) throw new UserError(`${flag} ${dir}: no mask images (PNG, white = hole) in it`);
  const masks: Mask[] = [];
  for (const f of files) {
    const m = await readMask(f, h, w);
    const area = holeArea(m);
    if (area === 0 || area === m.length) throw new UserError(`${flag} ${dir}: ${basename(f)} is all ${area === 0 ? 'black (no hole)' : 'white (nothing known)'} at ${w}×${h}`);
    masks.push(m);
  }
  return masks;
}

/**
 * The inputs of masked: data for n images [n, H, W, C]: each image with its hole filled with HOLE_FILL, and the
 * mask as one more channel (255 = hole) → [n, H, W, C + 1]. Example i's mask is `maskOf(i)`.
 */
export function maskedInputs(values: Uint8Array, n: number, [h, w, c]: number[], maskOf: (i: number) => Mask): Uint8Array {
  const out = new Uint8Array(n * h * w * (c + 1));
  for (let i = 0; i < n; i++) {
    const m = maskOf(i);
    for (let p = 0; p < h * w; p++) {
      const src = (i * h * w + p) * c;
      const dst = (i * h * w + p) * (c + 1);
      for (let k = 0; k < c; k++) out[dst + k] = m[p] ? HOLE_FILL : values[src + k];
      out[dst + c] = m[p] ? 255 : 0;
    }
  }
  return out;
}

/**
 * Example i's mask, the same on every load: drawn from one seeded generator in example order, or picked from
 * the folder's masks by that generator.
 */
export function exampleMasks(n: number, h: number, w: number, kind: MaskKind, seed: number, folder?: Mask[]): Mask[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => (folder ? folder[rng.int(folder.length)] : drawMask(kind, rng, h, w)));
}

/**
 * The mask options of a run's settings (--mask-kind, --masks), validated: they apply to masked: data only, and a
 * folder of masks replaces drawn ones, so --masks with a --mask-kind other than the default is refused.
 */
export function maskOptionsOf(s: { data: string; maskKind: string; masks: string }): MaskOptions | undefined {
  const kind = parseMaskKind(s.maskKind);
  if (!s.data.includes('masked:')) {
    if (s.masks !== '') throw new UserError(`--masks gives the holes of masked:SPEC data; ${s.data} has none (use e.g. --data masked:${s.data})`);
    if (kind !== 'rect') throw new UserError(`--mask-kind draws the holes of masked:SPEC data; ${s.data} has none (use e.g. --data masked:${s.data})`);
    return undefined;
  }
  if (s.masks !== '' && kind !== 'rect') throw new UserError(`--masks ${s.masks} takes the holes from files; drop --mask-kind ${kind}`);
  return { kind, ...(s.masks !== '' ? { dir: s.masks } : {}) };
}
