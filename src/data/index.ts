/**
 * Datasets and batching: `loadData(spec)` for the named datasets (see DATASET_SPECS), the individual
 * loaders, the 2-D toy mixtures with their mode-coverage metric, and `BatchStream` for resumable shuffled batches.
 */
export type { DatasetInfo, ArraySource, SamplerSource, DataSource, Batch } from './types.js';
export { loadData, DATASET_SPECS, type LoadDataOptions } from './registry.js';
export { BatchStream, type BatchStreamOptions, type BatchStreamState, type RawBatch } from './batches.js';
export { parseIdx, readIdx, encodeIdx, writeIdx, type IdxArray, type IdxDType, type IdxData } from './idx.js';
export { loadIdxPair, type IdxPairSpec } from './idx_dataset.js';
export {
  loadFashionMnist, FASHION_MNIST_CLASSES, DEFAULT_FASHION_MNIST_DIR, FASHION_MNIST_ENV, type IdxSplitOptions,
} from './fashion_mnist.js';
export { loadMnist, mnistDataDir, MNIST_CLASSES } from './mnist.js';
export { loadImageFolder, IMAGE_EXTENSIONS, type ImageFolderOptions, type ImageFolderSource } from './image_folder.js';
export { RING8, GRID25, MIXTURES, mixtureSource, modeCoverage, type Mixture2D, type ModeCoverage } from './toy2d.js';
export { adaptImages } from './transform.js';
