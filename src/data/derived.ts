import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import type { ArraySource } from './types.js';
import type { LoadDataOptions } from './registry.js';
import { edgeMaps } from './edge_map.js';
import { resizeImages } from './transform.js';
import { domainOf, translationSource, type Domain } from './translation.js';
import type { SpecLoader } from './unpaired.js';

/** Input domains computed from any image dataset; the dataset's images are the targets. */
export const DERIVED_KINDS = ['edges', 'gray', 'masked', 'lowres'] as const;
export type DerivedKind = (typeof DERIVED_KINDS)[number];

/** Seed of the per-example holes of masked:, fixed so a hole belongs to its example across runs. */
const MASK_SEED = 0x6d61736b;
/** The hole's fill: mid-grey, ≈ 0 in [-1, 1], as Pathak et al.'s context encoders fill with the mean. */
const HOLE = 128;

/**
 * Pairs made from one image dataset (`kind:SPEC`, e.g. edges:fashion-mnist), paired by index; class labels
 * and names of the base stay on the source, and its split/limit/imageSize/channels apply.
 *  - edges:  a Canny-like sketch (dark lines on white, 1 channel, see edge_map.ts) → the image.
 *  - gray:   BT.601 luma (1 channel) → the colour image; refused on grey data, where it would be the identity.
 *  - masked: the image with a rectangular hole (sides ¼–½ of the image, mid-grey fill) → the image. The hole is
 *            fixed per example (example i draws its hole from one seeded generator), so runs are reproducible.
 *  - lowres: ×4 box-filter downscale, bilinear upscale back to the same size → the image (super-resolution).
 */
export async function loadDerived(kind: DerivedKind, spec: string, load: SpecLoader, opts: LoadDataOptions = {}): Promise<ArraySource> {
  const name = `${kind}:${spec}`;
  const sub: LoadDataOptions = { split: opts.split, limit: opts.limit, skipBad: opts.skipBad, imageSize: opts.imageSize, channels: opts.channels };
  const base = await load(spec, sub);
  if (base.kind !== 'array' || base.info.kind !== 'image') throw new UserError(`${name}: ${spec} is not image data; ${kind}: needs images`);
  const b = domainOf(base, spec);
  const a: Domain = { ...b, ...deriveInput(kind, name, b) };
  return translationSource({ name, a, b, pairing: 'paired', direction: opts.direction, notices: base.notices, skipped: base.skipped });
}

function deriveInput(kind: DerivedKind, name: string, b: Domain): Pick<Domain, 'name' | 'values' | 'shape'> {
  const [h, w, c] = b.shape;
  switch (kind) {
    case 'edges':
      return { name: 'edges', values: edgeMaps(b.values, b.count, b.shape), shape: [h, w, 1] };
    case 'gray':
      if (c === 1 || allGrey(b.values)) {
        throw new UserError(`${name}: ${b.name} is greyscale, so grey → colour would learn the identity; use colour images (e.g. gray:openmoji-color or gray:folder:PATH)`);
      }
      return { name: 'gray', values: resizeImages(b.values, b.count, b.shape, [h, w, 1]), shape: [h, w, 1] };
    case 'masked':
      return { name: 'masked', values: withHoles(b.values, b.count, b.shape), shape: b.shape };
    case 'lowres':
      if (h % 4 !== 0 || w % 4 !== 0) throw new UserError(`${name}: height and width must be divisible by 4 for ×4 downscaling, got ${w}×${h}; pass imageSize (e.g. 32)`);
      return { name: 'lowres', values: resizeImages(boxDown4(b.values, b.count, b.shape), b.count, [h / 4, w / 4, c], b.shape), shape: b.shape };
  }
}

/** True when every RGB pixel has r = g = b (colour-encoded grey images). */
function allGrey(v: Uint8Array): boolean {
  for (let p = 0; p < v.length; p += 3) if (v[p] !== v[p + 1] || v[p] !== v[p + 2]) return false;
  return true;
}

function withHoles(values: Uint8Array, n: number, [h, w, c]: number[]): Uint8Array {
  const out = values.slice();
  const rng = new Rng(MASK_SEED);
  const span = (s: number): number => Math.ceil(s / 4) + rng.int(Math.floor(s / 2) - Math.ceil(s / 4) + 1);
  for (let i = 0; i < n; i++) {
    const hh = span(h);
    const hw = span(w);
    const y0 = rng.int(h - hh + 1);
    const x0 = rng.int(w - hw + 1);
    for (let y = y0; y < y0 + hh; y++) out.fill(HOLE, ((i * h + y) * w + x0) * c, ((i * h + y) * w + x0 + hw) * c);
  }
  return out;
}

/** Mean of each 4×4 block (rounded): the anti-aliased ×4 downscale. */
function boxDown4(values: Uint8Array, n: number, [h, w, c]: number[]): Uint8Array {
  const [oh, ow] = [h / 4, w / 4];
  const out = new Uint8Array(n * oh * ow * c);
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        for (let k = 0; k < c; k++) {
          let s = 0;
          for (let dy = 0; dy < 4; dy++) for (let dx = 0; dx < 4; dx++) s += values[((i * h + 4 * y + dy) * w + 4 * x + dx) * c + k];
          out[((i * oh + y) * ow + x) * c + k] = Math.round(s / 16);
        }
      }
    }
  }
  return out;
}
