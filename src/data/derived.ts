import { UserError } from '../util/errors.js';
import type { ArraySource } from './types.js';
import type { LoadDataOptions } from './registry.js';
import { edgeMaps } from './edge_map.js';
import { resizeImages } from './transform.js';
import { domainOf, translationSource, type Domain } from './translation.js';
import type { SpecLoader } from './unpaired.js';
import { exampleMasks, maskedInputs, readMaskFolder, type Mask } from './masks.js';

/** Input domains computed from any image dataset; the dataset's images are the targets. */
export const DERIVED_KINDS = ['edges', 'gray', 'masked', 'lowres'] as const;
export type DerivedKind = (typeof DERIVED_KINDS)[number];

/** Seed of the per-example holes of masked:, fixed so a hole belongs to its example across runs. */
const MASK_SEED = 0x6d61736b;

/**
 * Pairs made from one image dataset (`kind:SPEC`, e.g. edges:fashion-mnist), paired by index; class labels
 * and names of the base stay on the source, and its split/limit/imageSize/channels apply.
 *  - edges:  a Canny-like sketch (dark lines on white, 1 channel, see edge_map.ts) → the image.
 *  - gray:   BT.601 luma (1 channel) → the colour image; refused on grey data, where it would be the identity.
 *  - masked: the image with a hole (mid-grey fill) plus the hole as one more channel (255 = hole) → the image.
 *            Holes are rectangles (sides ¼–½ of the image) unless opts.masks asks for brush strokes, a mix, or a
 *            folder of mask images (masks.ts). The hole is fixed per example (example i draws its hole from one
 *            seeded generator), so runs are reproducible.
 *  - lowres: ×4 box-filter downscale, bilinear upscale back to the same size → the image (super-resolution).
 */
export async function loadDerived(kind: DerivedKind, spec: string, load: SpecLoader, opts: LoadDataOptions = {}): Promise<ArraySource> {
  const name = `${kind}:${spec}`;
  const sub: LoadDataOptions = { split: opts.split, limit: opts.limit, skipBad: opts.skipBad, imageSize: opts.imageSize, channels: opts.channels };
  const base = await load(spec, sub);
  if (base.kind !== 'array' || base.info.kind !== 'image') throw new UserError(`${name}: ${spec} is not image data; ${kind}: needs images`);
  const b = domainOf(base, spec);
  const masks = kind === 'masked' ? await holesOf(b, opts) : undefined;
  const a: Domain = { ...b, ...deriveInput(kind, name, b, masks) };
  return translationSource({ name, a, b, pairing: 'paired', direction: opts.direction, notices: base.notices, skipped: base.skipped });
}

function deriveInput(kind: DerivedKind, name: string, b: Domain, masks?: Mask[]): Pick<Domain, 'name' | 'values' | 'shape'> {
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
      return { name: 'masked', values: maskedInputs(b.values, b.count, b.shape, (i) => masks![i]), shape: [h, w, c + 1] };
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

async function holesOf(b: Domain, opts: LoadDataOptions): Promise<Mask[]> {
  const [h, w] = b.shape;
  const folder = opts.masks?.dir ? await readMaskFolder(opts.masks.dir, h, w) : undefined;
  return exampleMasks(b.count, h, w, opts.masks?.kind ?? 'rect', MASK_SEED, folder);
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
