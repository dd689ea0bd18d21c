import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import type { ArraySource, DataSource } from './types.js';
import type { LoadDataOptions } from './registry.js';
import { edgeMaps } from './edge_map.js';
import { resizeImages } from './transform.js';
import { domainOf, translationSource, type Domain } from './translation.js';
import type { SpecLoader } from './unpaired.js';
import { exampleMasks, maskedInputs, readMaskFolder, type Mask } from './masks.js';
import { bicubicUpscale, checkDegrade, DEFAULT_DEGRADE, degradeSync, describeDegrade, jpegRoundTrip, toUint8, type DegradeSpec } from './degrade.js';
import { forEachBounded } from './decode.js';
import { isCropSampler, lowresCrops } from './crops.js';

/** Input domains computed from any image dataset; the dataset's images are the targets. */
export const DERIVED_KINDS = ['edges', 'gray', 'masked', 'lowres'] as const;
export type DerivedKind = (typeof DERIVED_KINDS)[number];

/** Seed of the per-example holes of masked:, fixed so a hole belongs to its example across runs. */
const MASK_SEED = 0x6d61736b;
/** Seed of lowres:'s per-example noise on fixed-size data, so an example keeps its noise across runs. */
const NOISE_SEED = 0x6e6f6973;

/**
 * Pairs made from one image dataset (`kind:SPEC`, e.g. edges:fashion-mnist), paired by index; class labels
 * and names of the base stay on the source, and its split/limit/imageSize/channels apply.
 *  - edges:  a Canny-like sketch (dark lines on white, 1 channel, see edge_map.ts) → the image.
 *  - gray:   BT.601 luma (1 channel) → the colour image; refused on grey data, where it would be the identity.
 *  - masked: the image with a hole (mid-grey fill) plus the hole as one more channel (255 = hole) → the image.
 *            Holes are rectangles (sides ¼–½ of the image) unless opts.masks asks for brush strokes, a mix, or a
 *            folder of mask images (masks.ts). The hole is fixed per example (example i draws its hole from one
 *            seeded generator), so runs are reproducible.
 *  - lowres: the image degraded by `opts.degrade` (default ×4 antialiased bicubic, see degrade.ts) → the image:
 *            the input is the target's size / scale, as SR generators upsample inside the net; with
 *            `upsampleInput` it is bicubic-upscaled back to the target's size (for same-size translators).
 *            Fixed-size data is degraded once (noise seeded per example); photo crops are degraded per draw.
 */
export async function loadDerivedData(kind: DerivedKind, spec: string, load: SpecLoader, opts: LoadDataOptions = {}): Promise<DataSource> {
  const name = `${kind}:${spec}`;
  const sub: LoadDataOptions = {
    split: opts.split, limit: opts.limit, skipBad: opts.skipBad, imageSize: opts.imageSize, channels: opts.channels, randomCrop: opts.randomCrop, log: opts.log,
  };
  const base = await load(spec, sub);
  if (kind !== 'lowres' && (opts.degrade !== undefined || opts.upsampleInput)) throw new UserError(`${name}: --scale/--downsample/--blur/--noise/--jpeg/--upsample-input apply to lowres: data only`);
  if (kind === 'lowres' && isCropSampler(base)) return lowresCrops(base, name, lowresSpec(opts), opts.upsampleInput === true);
  if (base.kind !== 'array' || base.info.kind !== 'image') throw new UserError(`${name}: ${spec} is not image data; ${kind}: needs images`);
  const b = domainOf(base, spec);
  const notices = [...(base.notices ?? [])];
  let input: Pick<Domain, 'name' | 'values' | 'shape'>;
  if (kind === 'lowres') {
    const d = lowresSpec(opts);
    input = await lowresInput(name, b, d, opts.upsampleInput === true);
    notices.push(`${name}: input = ${describeDegrade(d)}${opts.upsampleInput ? ', bicubic-upscaled back' : ''} of the ${b.shape[1]}×${b.shape[0]} targets`);
  } else {
    input = deriveInput(kind, name, b, kind === 'masked' ? await holesOf(b, opts) : undefined);
  }
  const a: Domain = { ...b, ...input };
  return translationSource({ name, a, b, pairing: 'paired', direction: opts.direction, notices, skipped: base.skipped, scaled: kind === 'lowres' });
}

/** `loadDerivedData` over data held in memory (every base but random crops, which give a sampler). */
export async function loadDerived(kind: DerivedKind, spec: string, load: SpecLoader, opts: LoadDataOptions = {}): Promise<ArraySource> {
  const src = await loadDerivedData(kind, spec, load, opts);
  if (src.kind !== 'array') throw new Error(`${kind}:${spec} draws random crops; load it with loadDerivedData`);
  return src;
}

/** A run's data flags as loadData options: the degradation for lowres: data, nothing for other data. */
export function lowresOptions(c: { data: string; scale: number; downsample: DegradeSpec['downsample']; blur: number; noise: number; jpeg: number; upsampleInput: boolean }): Pick<LoadDataOptions, 'degrade' | 'upsampleInput'> {
  if (!c.data.startsWith('lowres:')) return {};
  return { degrade: { scale: c.scale, downsample: c.downsample, blur: c.blur, noise: c.noise, ...(c.jpeg > 0 ? { jpeg: c.jpeg } : {}) }, upsampleInput: c.upsampleInput };
}

/** The run's degradation: DEFAULT_DEGRADE under what was given, validated. */
export function lowresSpec(opts: LoadDataOptions): DegradeSpec {
  return checkDegrade({ ...DEFAULT_DEGRADE, ...(opts.degrade ?? {}) });
}

/** Every example degraded once: one seeded generator in example order (noise), then JPEG round trips. */
async function lowresInput(name: string, b: Domain, d: DegradeSpec, upsample: boolean): Promise<Pick<Domain, 'name' | 'values' | 'shape'>> {
  const [h, w, c] = b.shape;
  if (h % d.scale !== 0 || w % d.scale !== 0) {
    const side = Math.max(d.scale, Math.round(Math.min(h, w) / d.scale) * d.scale);
    throw new UserError(
      `${name}: height and width must be divisible by --scale ${d.scale}, got ${h}×${w}; pass --image-size ${side} to resize to ${side}×${side}, ` +
        `or, for a folder:, --random-crop --image-size ${side} to train on crops of the images at their own size`,
    );
  }
  const rng = new Rng(NOISE_SEED);
  const per = h * w * c;
  const small = [h / d.scale, w / d.scale, c];
  const shape = upsample ? b.shape : small;
  const lrs = Array.from({ length: b.count }, (_, i) => degradeSync({ values: b.values.subarray(i * per, (i + 1) * per), h, w, c }, d, rng));
  const values = new Uint8Array(b.count * shape[0] * shape[1] * c);
  await forEachBounded(b.count, 4, async (i) => {
    const lr = d.jpeg === undefined ? lrs[i] : await jpegRoundTrip(lrs[i], d.jpeg);
    values.set(upsample ? roundBytes(bicubicUpscale(lr.values, small, d.scale)) : lr.values, i * values.length / b.count);
  });
  return { name: 'lowres', values, shape };
}

/** Floats on 0–255 → uint8, rounded and clipped. */
export function roundBytes(v: Float32Array): Uint8Array {
  return toUint8(v);
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
      throw new Error('lowres: inputs are made by lowresInput');
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
