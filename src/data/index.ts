/**
 * Datasets and batching: `loadData(spec)` for the named datasets (see DATASET_SPECS), the individual
 * loaders, the 2-D toy mixtures with their mode-coverage metric, translation data (paired:, aligned:,
 * unpaired:, edges:/gray:/masked:/lowres:, openmoji), photos and random crops for super-resolution with their
 * degradations and tiling, streamed folders and `BatchStream` for resumable shuffled batches.
 */
export type { DatasetInfo, ArraySource, SamplerSource, StreamSource, StoredSource, DataSource, Batch, AugmentOptions } from './types.js';
export { isStored } from './types.js';
export { loadData, DATASET_SPECS, type LoadDataOptions } from './registry.js';
export { BatchStream, type BatchStreamOptions, type BatchStreamState, type RawBatch } from './batches.js';
export { parseIdx, readIdx, encodeIdx, writeIdx, type IdxArray, type IdxDType, type IdxData } from './idx.js';
export { loadIdxPair, type IdxPairSpec } from './idx_dataset.js';
export {
  loadFashionMnist, FASHION_MNIST_CLASSES, DEFAULT_FASHION_MNIST_DIR, FASHION_MNIST_ENV, type IdxSplitOptions,
} from './fashion_mnist.js';
export { loadMnist, mnistDataDir, MNIST_CLASSES } from './mnist.js';
export { loadImageFolder, IMAGE_EXTENSIONS, type ImageFolderOptions, type ImageFolderSource } from './image_folder.js';
export { loadFolderData, STREAM_MODES, STREAM_MEMORY_SHARE, type StreamMode, type FolderDataOptions } from './stream_folder.js';
export { DecodePool } from './decode_pool.js';
export { loadFluentEmoji, FLUENT_EMOJI_3D, type FluentEmojiOptions } from './fluent_emoji.js';
export { RING8, GRID25, MIXTURES, mixtureSource, modeCoverage, type Mixture2D, type ModeCoverage } from './toy2d.js';
export { adaptImages } from './transform.js';
export { resizeImages, reshapeImages } from './transform.js';
export { translationSource, domainOf, DIRECTIONS, type Direction, type Domain } from './translation.js';
export { loadPairedFolder, matchPairs, type TranslationFolderOptions } from './paired.js';
export { loadAlignedFolder } from './aligned.js';
export { loadUnpairedFolder, loadUnpairedSpecs, type SpecLoader } from './unpaired.js';
export { loadDerived, loadDerivedData, lowresOptions, lowresSpec, roundBytes, DERIVED_KINDS, type DerivedKind } from './derived.js';
export {
  degrade, degradeSync, jpegRoundTrip, downscale, modcrop, toUint8, bicubicUpscale, gaussianBlur, cubic, checkDegrade, describeDegrade, DEFAULT_DEGRADE, DOWNSAMPLE_METHODS, SR_SCALES,
  type DegradeSpec, type DownsampleMethod, type ByteImage,
} from './degrade.js';
export { applyTiled, tiledRows, tileStarts, type PlainImage, type RowBand, type TileOptions } from './tiles.js';
export {
  imageStore, cropSampler, centreCrops, lowresCrops, loadFolderCrops, readStoredImage, isCropSampler, PHOTO_MAX_SIDE, type ImageStore, type CropSampler,
} from './crops.js';
export {
  loadPhotos, loadPhotosTest, photoStore, PHOTOS, PHOTOS_TEST_NAMES, PLASMA_WALLPAPERS, MATE_BACKGROUNDS, SKIMAGE_DATA, type PhotoOptions,
} from './photos.js';
export { edgeMaps } from './edge_map.js';
export { loadEmoji, loadOpenmoji, codePointKey, isTestKey, OPENMOJI, TWEMOJI, EMOJI_STYLES, type EmojiStyle, type EmojiOptions } from './emoji.js';
export { ensureNpmPackage, ensureDebPackage, cachedImages, cacheDir, type NpmDataPackage, type DebDataPackage, type DebFetcher, type Log } from './package_data.js';
export { Augmenter, type AugmentDraw } from './augment.js';
export {
  loadCaptionFiles, captionedSource, textSettings, scanCaptionFolder, scanCaptionManifest, manifestOf, scriptOf, mainScript, DEFAULT_MAX_WORDS,
  type CaptionOptions, type CaptionedItem, type CaptionedFile, type TextSettings,
} from './captions.js';
export { loadTuxpaint, listStamps, TUXPAINT_STAMPS, type TuxpaintOptions } from './tuxpaint.js';
export { loadOpenmojiCaptions, openmojiCaptions, openmojiSentences, type OpenmojiCaptionOptions } from './openmoji_captions.js';
export {
  loadFashionCaptions, fashionCaptionData, measureGarment, garmentAttributes, garmentSentences, sentenceAttributes, fashionBins, fashionVocabSentences,
  FASHION_BINS, FASHION_CLASS_WORDS, BRIGHTNESS_WORDS, SIZE_WORDS, type GarmentMeasure, type GarmentAttributes, type FashionBins, type FashionCaptionData,
} from './fashion_captions.js';
export { sequenceSource, sinesSource, fitScaling, rescale, unscale, windowStarts, SCALINGS, DEFAULT_WINDOW, type Series, type ScalingKind, type SequenceSourceOptions } from './sequences.js';
export { loadCsvSeries, readCsvTable, seriesFromTable, seriesSource, testFileOf, FILLS, HELD_OUT, type CsvLoadOptions, type CsvSeriesOptions, type FillKind, type SequenceFlags } from './csv_series.js';
export { loadNamedSeries, loadEcg, NAMED_SERIES, VEGA_DATASETS, SENSOR_NETWORK, SCIPY, ECG_HZ, type NamedSeriesOptions } from './named_series.js';
