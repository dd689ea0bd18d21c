import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import type { ArraySource } from './types.js';
import { loadIdxPair } from './idx_dataset.js';

/** Fashion-MNIST class names, indexed by label. */
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
] as const;

/** Where Debian's `dataset-fashion-mnist` package puts the files. */
export const DEFAULT_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** Environment variable that points at another folder holding the four idx files. */
export const FASHION_MNIST_ENV = 'GANFORGE_FASHION_MNIST_DIR';

export interface IdxSplitOptions {
  split?: 'train' | 'test';
  /** Keep only the first N examples. */
  limit?: number;
  /** Folder with the idx files; default: $GANFORGE_FASHION_MNIST_DIR, else the Debian location. */
  dir?: string;
}

/** The file for one idx part, accepting both the gzip name (as shipped) and an unpacked copy. */
export function findIdxFile(dir: string, prefix: 't10k' | 'train', part: 'images-idx3' | 'labels-idx1'): string | undefined {
  for (const name of [`${prefix}-${part}-ubyte.gz`, `${prefix}-${part}-ubyte`]) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/**
 * Load Fashion-MNIST (Xiao et al. 2017): train 60,000 or test 10,000 images, uint8 [N, 28, 28, 1], labels 0..9.
 */
export async function loadFashionMnist(opts: IdxSplitOptions = {}): Promise<ArraySource> {
  const split = opts.split ?? 'train';
  const fromEnv = process.env[FASHION_MNIST_ENV];
  const dir = opts.dir ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_FASHION_MNIST_DIR);
  const prefix = split === 'train' ? 'train' : 't10k';
  const imagesPath = findIdxFile(dir, prefix, 'images-idx3');
  const labelsPath = findIdxFile(dir, prefix, 'labels-idx1');
  if (!imagesPath || !labelsPath) {
    const missing = [!imagesPath && `${prefix}-images-idx3-ubyte.gz`, !labelsPath && `${prefix}-labels-idx1-ubyte.gz`].filter(Boolean);
    throw new UserError(
      `Fashion-MNIST ${split} files not found in ${dir} (missing ${missing.join(' and ')}). ` +
        `Install them with 'apt-get install dataset-fashion-mnist', or set ${FASHION_MNIST_ENV} to a folder holding the idx files.`,
    );
  }
  return loadIdxPair({ name: 'fashion-mnist', imagesPath, labelsPath, classNames: FASHION_MNIST_CLASSES, limit: opts.limit });
}
