import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import type { ArraySource } from './types.js';
import { centreCrops, cropSampler, imageStore, PHOTO_MAX_SIDE, type CropSampler, type ImageStore } from './crops.js';
import { ensureDebPackage, type DebDataPackage, type DebFetcher, type Log } from './package_data.js';

export const PLASMA_WALLPAPERS: DebDataPackage = {
  name: 'plasma-workspace-wallpapers',
  version: '4:5.27.5-2',
  size: '94 MB',
  attribution: 'KDE Plasma wallpapers © 2014 KDE Visual Design Group and their photographers (https://invent.kde.org/plasma/plasma-workspace-wallpapers). License: GPL-2+',
};
export const MATE_BACKGROUNDS: DebDataPackage = {
  name: 'mate-backgrounds',
  version: '1.26.0-1',
  size: '47 MB',
  attribution: 'MATE backgrounds, nature/ © 2005–2008 C. Barbin, L. Poettering, A. Cimitan, M. Cogoni, H. Bons, J. Ansorg, T. Schellhase, L. Calamandrei, S. Nazarov, J.-F. Fortin Tam and others (https://github.com/mate-desktop/mate-backgrounds). License: GPL-2+',
};
export const SKIMAGE_DATA: DebDataPackage = {
  name: 'python3-skimage',
  version: '0.19.3-8',
  size: '21 MB',
  attribution: 'scikit-image sample photos (https://scikit-image.org): astronaut, hubble_deep_field (NASA), rocket (SpaceX): public domain; camera, chelsea, coffee, brick, grass, gravel, retina: CC0; coins: no known copyright restrictions',
};

/** Which package a photo comes from, and the path of its file in the package. */
interface PhotoFile {
  name: string;
  pkg: DebDataPackage;
  path: string;
}

const plasma = (n: string): PhotoFile => ({ name: `plasma/${n}`, pkg: PLASMA_WALLPAPERS, path: `usr/share/wallpapers/${n}/contents/images/2560x1600.jpg` });
const mate = (n: string): PhotoFile => ({ name: `mate/${n}`, pkg: MATE_BACKGROUNDS, path: `usr/share/backgrounds/mate/nature/${n}.jpg` });
const skimage = (f: string): PhotoFile => ({ name: `skimage/${f.replace(/\.\w+$/, '')}`, pkg: SKIMAGE_DATA, path: `usr/lib/python3/dist-packages/skimage/data/${f}` });

/**
 * The photographs of the three packages, chosen by looking: Plasma's wallpapers that are photos (its digital
 * paintings are left out) at their largest size, MATE's nature/ folder, and scikit-image's natural photos
 * (not its microscopy, text or synthetic images). 34 photos, 300–2560 px; grey ones become R = G = B.
 */
export const PHOTOS: readonly PhotoFile[] = [
  ...['BytheWater', 'ColdRipple', 'ColorfulCups', 'DarkestHour', 'EveningGlow', 'FallenLeaf', 'Grey', 'Kite', 'OneStandsOut', 'Path', 'summer_1am'].map(plasma),
  ...['Aqua', 'Blinds', 'Dune', 'FreshFlower', 'Garden', 'GreenMeadow', 'LadyBird', 'RainDrops', 'Storm', 'TwoWings', 'Wood', 'YellowFlower'].map(mate),
  ...['astronaut.png', 'brick.png', 'camera.png', 'chelsea.png', 'coffee.png', 'coins.png', 'grass.png', 'gravel.png', 'hubble_deep_field.jpg', 'retina.jpg', 'rocket.jpg'].map(skimage),
];

/**
 * ganforge's own held-out photos, fixed by name and never in `photos`: an in-house test set for SR numbers,
 * NOT Set5/Set14/BSD100 (which no package here ships), so its PSNR/SSIM are not comparable with published tables.
 */
export const PHOTOS_TEST_NAMES: readonly string[] = [
  'skimage/astronaut', 'skimage/chelsea', 'skimage/coffee', 'mate/LadyBird', 'mate/RainDrops', 'mate/Storm',
  'plasma/ColorfulCups', 'plasma/EveningGlow', 'plasma/Grey', 'plasma/Path',
];

export interface PhotoOptions {
  /** 'train' (default): `photos`; 'test': the held-out `photos-test`. */
  split?: 'train' | 'test';
  /** Crop size (default 96): random crops for training, centre crops for the test set. */
  imageSize?: number;
  /** Keep the first N photos of the split (in PHOTOS order). */
  limit?: number;
  channels?: 1 | 3;
  /** Longest side photos are stored at (default PHOTO_MAX_SIDE). */
  maxSide?: number;
  cache?: string;
  log?: Log;
  /** How .deb files are fetched (tests may replace apt-get). */
  fetch?: DebFetcher;
}

/** The split's photos, decoded once into the cache (downloading the packages on first use). */
export async function photoStore(opts: PhotoOptions = {}): Promise<{ store: ImageStore; notices: string[] }> {
  const wantTest = opts.split === 'test';
  let files = PHOTOS.filter((p) => PHOTOS_TEST_NAMES.includes(p.name) === wantTest);
  if (opts.limit !== undefined) files = files.slice(0, Math.max(0, Math.floor(opts.limit)));
  if (files.length === 0) throw new UserError(`photos: limit ${opts.limit} leaves no photo`);
  const pkgs = [...new Set(files.map((f) => f.pkg))];
  const roots = new Map<DebDataPackage, string>();
  for (const pkg of pkgs) roots.set(pkg, await ensureDebPackage(pkg, { cache: opts.cache, log: opts.log, fetch: opts.fetch }));
  const c = opts.channels ?? 3;
  const maxSide = opts.maxSide ?? PHOTO_MAX_SIDE;
  const key = `photos-${wantTest ? 'test' : 'train'}-${maxSide}px-${c}ch-${opts.limit ?? 'all'}`;
  const store = await imageStore(key, files.map((f) => ({ name: f.name, path: join(roots.get(f.pkg)!, f.path) })), { c, maxSide, cache: opts.cache, log: opts.log });
  return { store, notices: pkgs.map((p) => p.attribution) };
}

/** `photos`: random `imageSize` crops (default 96) with left–right flips from 24 photos of any size. */
export async function loadPhotos(opts: PhotoOptions = {}): Promise<CropSampler | ArraySource> {
  if (opts.split === 'test') return loadPhotosTest(opts);
  const { store, notices } = await photoStore(opts);
  const size = opts.imageSize ?? 96;
  return cropSampler(store, { name: 'photos', size, notices: [...notices, `photos: ${store.images.length} photos, random ${size} px crops with flips`] });
}

/** `photos-test`: the held-out photos as centre crops of `imageSize` (default 96), one per photo. */
export async function loadPhotosTest(opts: PhotoOptions = {}): Promise<ArraySource> {
  const { store, notices } = await photoStore({ ...opts, split: 'test' });
  const size = opts.imageSize ?? 96;
  return centreCrops(store, 'photos-test', size, [...notices, `photos-test: ganforge's in-house held-out photos (${store.images.length}, centre ${size} px crops), not Set5/Set14`]);
}
