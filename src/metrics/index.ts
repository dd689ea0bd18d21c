/**
 * Evaluation metrics with their protocol: FID, KID, Inception Score, precision/recall, density/coverage,
 * class histograms, 2-D mode coverage, TimeGAN's discriminative and predictive scores and MMD² for sequences, the
 * feature networks they run on, and `evaluateSets`, which attaches the network, its weights hash, the reference
 * set, counts, resize method and seed to each number; the paired L1/PSNR/SSIM of translators
 * (`evaluateTranslation`), and the TimeGAN paper's PCA/t-SNE figure of sequences (`embed2d`, `writeSequenceFigures`).
 */
export { gaussianStats, symmetricEigen, sqrtmPsd, matmulSquare, type GaussianStats, type SymmetricEigen } from './linalg.js';
export { frechetDistance, fidFromFeatures, type FidParts } from './fid.js';
export { embed2d, embeddingPng, writeSequenceFigures, EMBEDDING_METHODS, EMBEDDING_PROTOCOL, type Embedding2d, type EmbeddingMethod, type SequenceBatch } from './sequence_embedding.js';
export { kernelInceptionDistance, unbiasedMmd2, type KidResult, type KidOptions } from './kid.js';
export { inceptionScore, softmaxRows, type InceptionScoreResult } from './inception_score.js';
export { precisionRecallDensityCoverage, knnRadii, type PrdcResult } from './prdc.js';
export { classHistogram, type ClassHistogram } from './class_histogram.js';
export { mixtureModeCoverage } from './mode_coverage.js';
export {
  l1PerImage, psnrPerImage, ssimPerImage, gaussianWindow1d, SSIM_SETTINGS, psnrWith, ssimWith, rgbToY, measuredPlanes, describeProtocol, formatScore, srProtocol,
  DEFAULT_PROTOCOL, Y_WEIGHTS, type QualityProtocol, type ProtocolScores,
} from './image_quality.js';
export {
  TRANSLATION_METRICS, TRANSLATION_METRIC_NAMES, evaluateTranslation, translationResultJson, formatTranslation,
  type TranslationMetricDef, type TranslationMetricName, type TranslationOptions, type TranslationProtocol, type TranslationResult,
} from './translation.js';
export { METRICS, METRIC_NAMES, SEQUENCE_METRIC_NAMES, parseMetrics, type MetricDef, type MetricOptions, type MetricValue } from './registry.js';
export {
  discriminativeScore, predictiveScore, gaussianMmd2, medianSquaredDistance, discriminativeRepeated, predictiveRepeated, mmdRepeated, setPosthocRecurrent, tfjsGru,
  DEFAULT_REPEATS, type RecurrentFactory, type Sequences, type SequenceMetricOptions,
} from './timeseries/index.js';
export { sequenceReference, type SequenceReference } from './timeseries/reference.js';
export { FeatureNetwork, loadClassifierNet, loadUserNet, wrapModel, shortSha256, type FeatureNetInfo, type ImageSet, type Embedding } from './features.js';
export { buildClassifier, classifierDir, CLASSIFIER_DATASETS, type ClassifierDataset } from './classifier.js';
export { loadInceptionNet, inceptionWeightLayout, inceptionWeightCount, INCEPTION_CLASSES, type InceptionParam } from './inception.js';
export {
  evaluateSets, loadGenerated, loadReference, resolveNet, samplesFromNpy, fromSamples, formatResult,
  REFERENCE_SPECS, NET_NAMES, type SampleSet, type SequenceSet, type Protocol, type MetricResult, type EvaluateOptions, type NetChoice,
} from './evaluate.js';
export { textAgreement, classAgreement, attributeDirection, agreementSentences, type TextAgreement } from './text_agreement.js';
