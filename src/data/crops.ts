import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { mkdir, open, readFile, rename, writeFile } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import sharp from 'sharp';
import { UserError } from '../util/errors.js';
import type { Rng } from '../util/rng.js';
import type { ArraySource, DatasetInfo, SamplerSource } from './types.js';
import { toRaw } from './decode.js';
import { DecodePool } from './decode_pool.js';
import { cacheDir, stderrLog, type Log } from './package_data.js';
import { bicubicUpscale, degradeSync, describeDegrade, type DegradeSpec } from './degrade.js';

/**
 * Photos of any size for super-resolution, held the way DIV2K loaders hold them: decoded once (downscaled to
 * at most `maxSide`, so a 5120×2880 wallpaper costs 2048×1152) into one raw uint8 file in the cache, then
 * read a crop at a time with positional reads. Memory is O(batch · crop) whatever the number and size of the
 * photos, and no image is decoded twice: decoding a 5000 px JPEG per crop would cost ~0.1 s each, and
 * holding 100 decoded photos would cost gigabytes.
 */
export interface ImageStore {
  /** The raw file: image k's [h, w, c] bytes start at images[k].offset. */
  file: string;
  c: number;
  images: { name: string; h: number; w: number; offset: number }[];
}

/** Default longest side photos are stored at (DIV2K's HR images are 2040 px on their long side). */
export const PHOTO_MAX_SIDE = 2048;

/**
 * The store of `files` in `<cache>/crops/<key>.u8` (+ .json), made on first use: each file decoded (EXIF
 * orientation applied, transparency on white), shrunk to fit `maxSide`, converted to `c` channels, appended.
 */
export async function imageStore(key: string, files: { name: string; path: string }[], opts: { c: 1 | 3; maxSide?: number; cache?: string; log?: Log }): Promise<ImageStore> {
  const dir = join(opts.cache ?? cacheDir(), 'crops');
  const [raw, meta] = [join(dir, `${key}.u8`), join(dir, `${key}.json`)];
  if (existsSync(raw) && existsSync(meta)) {
    const m = JSON.parse(await readFile(meta, 'utf8')) as Omit<ImageStore, 'file'>;
    const end = m.images.reduce((a, im) => Math.max(a, im.offset + im.h * im.w * m.c), 0);
    if (statSync(raw).size === end) return { ...m, file: raw };
  }
  const maxSide = opts.maxSide ?? PHOTO_MAX_SIDE;
  (opts.log ?? stderrLog)(`ganforge: decoding ${files.length} images at ≤ ${maxSide} px into ${raw} (first use only)…`);
  await mkdir(dir, { recursive: true });
  const tmp = `.${process.pid}.tmp`;
  const out = await open(raw + tmp, 'w');
  const images: ImageStore['images'] = [];
  let offset = 0;
  try {
    for (const f of files) {
      const m = await sharp(f.path).metadata();
      const rotated = (m.orientation ?? 1) >= 5;
      const [h0, w0] = rotated ? [m.width!, m.height!] : [m.height!, m.width!];
      const s = Math.min(1, maxSide / Math.max(h0, w0));
      const [h, w] = [Math.max(1, Math.round(h0 * s)), Math.max(1, Math.round(w0 * s))];
      const p = sharp(f.path).rotate().resize(w, h, { fit: 'fill', kernel: 'lanczos3' }).flatten({ background: '#ffffff' });
      const bytes = await toRaw(p, [h, w, opts.c]);
      await out.write(bytes, 0, bytes.length, offset);
      images.push({ name: f.name, h, w, offset });
      offset += bytes.length;
    }
  } finally {
    await out.close();
  }
  await writeFile(meta + tmp, JSON.stringify({ c: opts.c, images }));
  await rename(raw + tmp, raw);
  await rename(meta + tmp, meta);
  return { file: raw, c: opts.c, images };
}

/** uint8 → floats in [-1, 1], as BatchStream maps stored images (a plain loop: TypedArray.from with a map function iterates slowly). */
function unitFloats(v: Uint8Array): Float32Array {
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i] / 127.5 - 1;
  return out;
}

/** Read the `size`×`size` crop at (oy, ox) of stored image k, mirrored when `flip`, into out[o…] as uint8. */
function readCrop(fd: number, store: ImageStore, k: number, oy: number, ox: number, size: number, flip: boolean, out: Uint8Array, o: number): void {
  const { w, offset } = store.images[k];
  const c = store.c;
  const row = Buffer.alloc(size * c);
  for (let y = 0; y < size; y++) {
    readSync(fd, row, 0, row.length, offset + ((oy + y) * w + ox) * c);
    const dst = o + y * size * c;
    if (!flip) out.set(row, dst);
    else for (let x = 0; x < size; x++) for (let ch = 0; ch < c; ch++) out[dst + x * c + ch] = row[(size - 1 - x) * c + ch];
  }
}

/** A sampler of random crops from an ImageStore: what `photos` and `folder:PATH --random-crop` train on. */
export interface CropSampler extends SamplerSource {
  crops: {
    store: ImageStore;
    size: number;
    flip: boolean;
    /** uint8 crops [n, size, size, c], drawn from `rng` exactly as `sample` draws them. */
    sampleBytes(n: number, rng: Rng): Uint8Array;
  };
}

export function isCropSampler(src: { kind: string }): src is CropSampler {
  return src.kind === 'sampler' && (src as Partial<CropSampler>).crops !== undefined;
}

/**
 * Random `size`×`size` crops of a store's images with random left–right flips. Each example draws, from the
 * stream's rng, an image (uniformly), a corner, and a flip, so BatchStream's state()/restore() replays the
 * crops exactly, as it replays the crop/flip augmentation of stored data. Images smaller than the crop are refused.
 */
export function cropSampler(store: ImageStore, o: { name: string; size: number; flip?: boolean; notices?: string[] }): CropSampler {
  const { size } = o;
  if (!Number.isInteger(size) || size < 1) throw new UserError(`--image-size (the crop) must be a positive integer, got ${size}`);
  const small = store.images.filter((im) => im.h < size || im.w < size);
  if (small.length > 0) throw new UserError(`${o.name}: ${small.length} image(s) are smaller than the ${size} px crop (e.g. ${small[0].name}, ${small[0].w}×${small[0].h}); pass a smaller --image-size`);
  const flip = o.flip ?? true;
  const c = store.c;
  const per = size * size * c;
  let fd: number | undefined;
  const sampleBytes = (n: number, rng: Rng): Uint8Array => {
    fd ??= openSync(store.file, 'r');
    const out = new Uint8Array(n * per);
    for (let i = 0; i < n; i++) {
      const k = rng.int(store.images.length);
      const { h, w } = store.images[k];
      const oy = rng.int(h - size + 1);
      const ox = rng.int(w - size + 1);
      const mirror = flip && rng.uniform() < 0.5;
      readCrop(fd, store, k, oy, ox, size, mirror, out, i * per);
    }
    return out;
  };
  const info: DatasetInfo = { name: o.name, kind: 'image', shape: [size, size, c] };
  return {
    kind: 'sampler',
    info,
    sample: (n, rng) => ({ values: unitFloats(sampleBytes(n, rng)) }),
    crops: { store, size, flip, sampleBytes },
    notices: o.notices,
    close: () => {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

/**
 * Deterministic centre crops of a store's images, one per image: a fixed test set of (crop) pairs for
 * PSNR/SSIM during training. Images smaller than `size` are centre-cropped to their shorter side and resized.
 */
export async function centreCrops(store: ImageStore, name: string, size: number, notices: string[] = []): Promise<ArraySource> {
  const c = store.c;
  const per = size * size * c;
  const values = new Uint8Array(store.images.length * per);
  const fd = openSync(store.file, 'r');
  try {
    for (let k = 0; k < store.images.length; k++) {
      const { h, w } = store.images[k];
      if (h >= size && w >= size) {
        readCrop(fd, store, k, (h - size) >> 1, (w - size) >> 1, size, false, values, k * per);
        continue;
      }
      const side = Math.min(h, w);
      const sq = new Uint8Array(side * side * c);
      readCrop(fd, store, k, (h - side) >> 1, (w - side) >> 1, side, false, sq, 0);
      values.set(await toRaw(sharp(sq, { raw: { width: side, height: side, channels: c as 1 | 3 } }).resize(size, size, { kernel: 'lanczos3' }), [size, size, c]), k * per);
    }
  } finally {
    closeSync(fd);
  }
  return {
    kind: 'array',
    info: { name, kind: 'image', shape: [size, size, c], count: store.images.length },
    count: store.images.length,
    values,
    names: store.images.map((im) => im.name),
    notices,
  };
}

/**
 * lowres: over random crops: every draw's HR crop is degraded on the fly with the same rng (noise included),
 * so a resumed stream replays inputs and targets exactly. JPEG, which needs the codec, runs in one decode
 * thread that the sampling thread waits on. The input is crop/scale on a side, or bicubic-upscaled back.
 */
export function lowresCrops(base: CropSampler, name: string, d: DegradeSpec, upsample: boolean): SamplerSource {
  const { size } = base.crops;
  if (size % d.scale !== 0) throw new UserError(`${name}: the crop --image-size ${size} must be divisible by --scale ${d.scale} (e.g. ${Math.max(d.scale, Math.round(size / d.scale) * d.scale)})`);
  const c = base.crops.store.c;
  const small = [size / d.scale, size / d.scale, c];
  const inShape = upsample ? [size, size, c] : small;
  let pool: DecodePool | undefined;
  const info: DatasetInfo = { ...base.info, name, input: { shape: inShape, pairing: 'paired', domains: ['lowres', base.info.name] } };
  return {
    kind: 'sampler',
    info,
    notices: [...(base.notices ?? []), `${name}: input = ${describeDegrade(d)}${upsample ? ', bicubic-upscaled back' : ''} of random ${size} px crops`],
    sample: (n, rng) => {
      const hr = base.crops.sampleBytes(n, rng);
      const per = size * size * c;
      const lrPer = small[0] * small[1] * c;
      let lr = new Uint8Array(n * lrPer);
      for (let i = 0; i < n; i++) lr.set(degradeSync({ values: hr.subarray(i * per, (i + 1) * per), h: size, w: size, c }, d, rng).values, i * lrPer);
      if (d.jpeg !== undefined) {
        pool ??= new DecodePool(1);
        const reply = pool.take(pool.jpeg(lr, small, d.jpeg));
        if (reply.error) throw new Error(`JPEG round trip failed: ${reply.error.message}`);
        lr = new Uint8Array(reply.data!);
      }
      const inPer = inShape[0] * inShape[1] * c;
      const input = new Float32Array(n * inPer);
      for (let i = 0; i < n; i++) {
        const one = lr.subarray(i * lrPer, (i + 1) * lrPer);
        const v = upsample ? bicubicUpscale(one, small, d.scale) : one;
        for (let j = 0; j < inPer; j++) input[i * inPer + j] = Math.min(255, Math.max(0, Math.round(v[j]))) / 127.5 - 1;
      }
      return { values: unitFloats(hr), input };
    },
    close: () => {
      base.close?.();
      pool?.close();
      pool = undefined;
    },
  };
}

/** Stored image k whole, [h, w, c] uint8 (e.g. to upscale a test photo tile by tile). */
export function readStoredImage(store: ImageStore, k: number): { values: Uint8Array; h: number; w: number; c: number; name: string } {
  const { h, w, offset, name } = store.images[k];
  const values = new Uint8Array(h * w * store.c);
  const fd = openSync(store.file, 'r');
  try {
    readSync(fd, values, 0, values.length, offset);
  } finally {
    closeSync(fd);
  }
  return { values, h, w, c: store.c, name };
}

/**
 * `folder:PATH --random-crop`: the images in PATH and its sub-folders (labels play no part in crops) at their own
 * sizes (shrunk to PHOTO_MAX_SIDE),
 * stored once under a key of their names, sizes and times, then random `imageSize` crops with flips (train)
 * or one centre crop each (test split), exactly as `photos`.
 */
export async function loadFolderCrops(dir: string, opts: { imageSize?: number; channels?: 1 | 3; limit?: number; split?: 'train' | 'test'; log?: Log }): Promise<CropSampler | ArraySource> {
  const { walkImageFiles } = await import('./decode.js');
  let paths = await walkImageFiles(dir).catch(() => { throw new UserError(`folder:${dir}: cannot read the folder`); });
  if (opts.limit !== undefined) paths = paths.slice(0, Math.max(0, Math.floor(opts.limit)));
  if (paths.length === 0) throw new UserError(`folder:${dir}: no image files in it or its sub-folders`);
  let hash = 0x811c9dc5;
  for (const p of paths) {
    const st = statSync(p);
    for (const ch of `${p}|${st.size}|${st.mtimeMs};`) hash = Math.imul(hash ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  }
  const c = opts.channels ?? 3;
  const store = await imageStore(`folder-${hash.toString(16)}-${paths.length}-${PHOTO_MAX_SIDE}px-${c}ch`, paths.map((p) => ({ name: cropName(dir, p), path: p })), { c, log: opts.log });
  const size = opts.imageSize ?? 96;
  const name = `folder:${dir}`;
  if (opts.split === 'test') return centreCrops(store, name, size);
  return cropSampler(store, { name, size, notices: [`${name}: ${store.images.length} images at their own size, random ${size} px crops with flips`] });
}

/** A stored image's name: its stem, with the sub-folders it sits in before it ('cats/im0' → 'cats_im0'), unique. */
function cropName(dir: string, path: string): string {
  const rel = relative(dir, path);
  const ext = extname(rel);
  return rel.slice(0, rel.length - ext.length).split(sep).join('_');
}
