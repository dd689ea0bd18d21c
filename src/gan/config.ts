import { z } from 'zod';
import { LOSS_NAMES } from './losses.js';
import { UserError, editDistance } from '../util/errors.js';
import { DIFF_AUGMENT_POLICIES, parseDiffAugment } from './tricks/diff_augment.js';
import { ADA_PIPES, ADA_RESAMPLE, adaCentre, type AdaPipe, type AdaResample } from './tricks/ada.js';
import { isColour } from '../util/colour.js';
import type { SequenceLoadOptions } from '../data/registry.js';

/**
 * One typed config per run. CLI flags map one-to-one to these keys (camelCase key ↔ kebab-case flag);
 * presets and model families supply partial overrides; the resolved object is written to config.json.
 */
export interface RunConfig {
  /** Model family, from the registry (e.g. 'dcgan', 'vanilla'). */
  model: string;
  /** Data spec: fashion-mnist | mnist | folder:PATH | toy:ring8 | toy:grid25. */
  data: string;
  /** Total training steps (one D update and one G update each). */
  steps: number;
  batchSize: number;
  /** Adam learning rates of generator and discriminator (separate rates = TTUR). */
  lrG: number;
  lrD: number;
  /** Adam moment decay rates. */
  beta1: number;
  beta2: number;
  loss: (typeof LOSS_NAMES)[number];
  /** Size of the latent vector z ~ N(0, I). */
  latentDim: number;
  /** Seeds weights, latents and data order: same seed + same backend = same run. */
  seed: number;
  /** Run folder. */
  out: string;
  /** Write samples/step-NNNNNN.png every N steps (0 = never). */
  sampleEvery: number;
  /** Write a checkpoint every N steps (0 = only at the end). */
  checkpointEvery: number;
  /** Append to metrics.jsonl every N steps. */
  logEvery: number;
  /** Use only the first N training examples (0 = all). */
  dataLimit: number;
  /** Resize folder images to this square size (0 = keep the first image's size). */
  imageSize: number;
  /** Skip image files that cannot be decoded (and say how many) instead of stopping at the first one. */
  skipBad: boolean;
  /** folder: data: decode into memory (off), stream from disk batch by batch (on), or stream when over a quarter of RAM (auto). */
  stream: 'auto' | 'on' | 'off';
  /** Colour transparent pixels are composited on: #rrggbb, #rgb, white, black or grey. */
  background: string;
  /** Dataset x-flips (StyleGAN's --mirror): every image also appears mirrored, doubling an epoch. */
  xflip: boolean;
  /** folder: data: the sub-folders are ordered bins of one attribute (agecgan), by numeric prefix or else by name. */
  ordinal: boolean;
  /** Translation data: which side is the input (AtoB: A → B; BtoA swaps the domains). */
  direction: 'AtoB' | 'BtoA';
  /** masked: data: its holes, drawn as rectangles, free-form brush strokes, or either (mixed). */
  maskKind: 'rect' | 'strokes' | 'mixed';
  /** masked: data: a folder of mask images (white = hole) to take the holes from instead ('' = drawn). */
  masks: string;
  /** lowres: data: the input is the target's size divided by this (2, 4 or 8). */
  scale: number;
  /** Sequence data (csv:FILE): the feature columns, comma-separated ('' = every numeric column). */
  columns: string;
  /** Sequence data: the column rows are ordered by ('' = file order). */
  timeColumn: string;
  /** Sequence data: a column whose value is each series' class (rcgan's condition; '' = none). */
  conditionColumn: string;
  /** Sequence data: a column naming the series each row belongs to, for many series in one file ('' = one series). */
  idColumn: string;
  /** Sequence data: time steps per training window (0 = the dataset's own, else 24). */
  window: number;
  /** Sequence data: rows between the starts of consecutive windows (0 = the dataset's own). */
  stride: number;
  /** Sequence data: per-feature scaling, minmax to [0, 1] or standard (zero mean, unit variance). */
  scaling: 'minmax' | 'standard';
  /** Sequence data: what to do with missing values: refuse them (none), carry the last value forward, interpolate linearly, or drop their rows. */
  fill: 'none' | 'forward' | 'linear' | 'drop';
  /** lowres: data: bicubic (antialiased, as MATLAB imresize and PIL) or area (block mean) downscaling. */
  downsample: 'bicubic' | 'area';
  /** lowres: data: σ in HR pixels of a Gaussian blur before downscaling (0 = none). */
  blur: number;
  /** lowres: data: σ of Gaussian noise on the low-resolution input, in 0–255 units (0 = none). */
  noise: number;
  /** lowres: data: JPEG quality of a round trip of the input through the codec (0 = none). */
  jpeg: number;
  /** lowres: data: bicubic-upscale the input back to the target's size, for same-size translators (pix2pix, cyclegan). */
  upsampleInput: boolean;
  /** folder: data: train on random --image-size crops (with flips) of the images at their own size instead of resizing them. */
  randomCrop: boolean;
  /** Per-batch augmentation of images: none, flip, crop (upscale to --load-size, random crop back), crop-flip (pix2pix, CycleGAN). */
  augment: 'none' | 'flip' | 'crop' | 'crop-flip';
  /** Size images are upscaled to before the random crop (0 = the image size × 286/256, pix2pix's 256 → 286). */
  loadSize: number;
  /** Width of hidden layers for MLP models (vanilla). */
  hidden: number;
  /** Base channel count of convolutional models (dcgan): the generator's last hidden layer has this many. */
  width: number;
  /** Checkpoints kept (oldest are deleted). */
  keepCheckpoints: number;
  /** Stop (with a checkpoint and final.png) after this many minutes of training (0 = no limit). */
  maxMinutes: number;
  /** Evaluate the generator every N steps (0 = never); scores go to metrics.jsonl as eval/NAME. */
  evalEvery: number;
  /** Metrics for training-time evaluation, comma-separated (the first one picks the best checkpoint). */
  evalMetrics: string;
  /** Generated (and reference) samples per evaluation. */
  evalCount: number;
  /** Reference set for evaluation ('' = the test split of the training data, or the toy mixture itself). */
  evalRef: string;
  /** Stop after this many evaluations without improvement (0 = never). */
  earlyStop: number;
  /** A loss above this (in absolute value) counts as divergence, like NaN/Inf (0 = only NaN/Inf). */
  explodeLoss: number;
  /** Rollbacks to the last good checkpoint before the run stops with an error. */
  maxRollbacks: number;
  /** Each rollback multiplies both learning rates by this. */
  rollbackLrFactor: number;
  /** Optimizer of every player: adam (with beta1/beta2) or rmsprop (WGAN's choice). */
  optimizer: 'adam' | 'rmsprop';
  /** Learning-rate schedule of every player: constant, or linear decay to 0 (pix2pix, CycleGAN). */
  lrSchedule: 'constant' | 'linear';
  /** With --lr-schedule linear: the fraction of --steps after which the decay starts (pix2pix/CycleGAN: 0.5). */
  lrDecayStart: number;
  /** D (critic) updates per G update (WGAN: 5). */
  nCritic: number;
  /** WGAN-GP gradient penalty weight λ on interpolates (0 = off; wgan-gp: 10). */
  gpWeight: number;
  /** R1 penalty γ on real data, γ/2·E‖∇D(x)‖² (0 = off). */
  r1Gamma: number;
  /** R2 penalty γ on generated data (0 = off). */
  r2Gamma: number;
  /** Apply R1/R2 every N steps, scaled by N (lazy regularization; 1 = every step). */
  regInterval: number;
  /** Clip every D weight to [−c, c] after each D update (WGAN: 0.01; 0 = off). */
  clipValue: number;
  // Stabilising tricks (src/gan/tricks), each off by default; they act inside the shared step phases.
  /** One-sided label smoothing: D's real target becomes 1 − α (minimax, non-saturating, least-squares; 0 = off). */
  labelSmoothing: number;
  /** Instance noise: σ₀ of Gaussian noise added to every input of D, annealed to 0 (0 = off). */
  instanceNoise: number;
  /** Steps over which instance noise anneals to 0 (0 = the run's steps). */
  instanceNoiseSteps: number;
  /** Shape of the instance-noise annealing: linear or exponential (both reach 0). */
  instanceNoiseAnneal: 'linear' | 'exponential';
  /** Feature matching: weight of ‖mean f(x) − mean f(G(z))‖² in G's loss, f = input of D's last dense layer (0 = off). */
  featureMatching: number;
  /** Minibatch discrimination kernels before D's last dense layer (vanilla, dcgan and families built on them; 0 = off). */
  minibatchDiscrimination: number;
  /** Minibatch-stddev feature before D's last dense layer, over groups of this size (Karras: 4; 0 = off). */
  minibatchStddev: number;
  /** Historical averaging: weight of ‖θ_D − mean of past θ_D‖² in D's loss (0 = off). */
  historicalAveraging: number;
  /** The same penalty on G's parameters in G's loss (0 = off). */
  historicalAveragingG: number;
  /** Exponential moving average of G's weights with this decay, used for sampling and evaluation (0 = off). */
  emaDecay: number;
  /** DiffAugment policy for both inputs of D in both phases: comma-separated translation,cutout,color ('' = off). */
  diffAugment: string;
  /** ADA: target of r_t = E[sign D(x)] that steers the augmentation probability p of D's inputs (0 = off; Karras et al.: 0.6). */
  adaTarget: number;
  /** ADA: steps between adjustments of p. */
  adaInterval: number;
  /** ADA: thousands of images over which p can move from 0 to 1. */
  adaKimg: number;
  /** ADA: p at the start of the run. */
  adaP: number;
  /** ADA: how fractional geometry resamples: the authors' 2× Symlet-6 filtered path, or plain bilinear (cheaper, aliases). */
  adaResample: AdaResample;
  /** ADA: which augmentation groups run (bgc = blit, geometric, colour: the paper's default; f filter, n noise, c cutout). */
  adaPipe: AdaPipe;
  /** Clip each player's gradient to this global norm before its update (0 = off). */
  gradClip: number;
  /** Text data: words a caption keeps; longer captions are cut with a notice (AttnGAN: 18). */
  maxWords: number;
  /** A run (folder or checkpoint) whose generator this run's G starts from ('' = a fresh G). */
  init: string;
  /** Text families: a folder of pretrained DAMSM encoders (`ganforge text-encoder`, or a text run) to start the text/image encoders from ('' = pretrain them first). */
  textEncoder: string;
  /** Text families without --text-encoder: DAMSM pretraining steps of the encoders before the first GAN step (0 = leave them random). */
  textEncoderSteps: number;
}

/** One setting: its default, its validation and its line of --help. The CLI flag is flagOf(key). */
export interface Setting<T = unknown> {
  default: T;
  schema: z.ZodType<T>;
  help: string;
}

/** A table of settings by camelCase key: the shared ones below, or a family's own (GanFamily.settings). */
export type SettingsTable = Record<string, Setting>;

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();
const rate = z.number().positive().finite();
const beta = z.number().min(0).lt(1);
const weight = z.number().nonnegative().finite();

function setting<T>(def: T, schema: z.ZodType<T>, help: string): Setting<T> {
  return { default: def, schema, help };
}

/**
 * The settings every run has, with defaults, validation and help in one place: DEFAULT_CONFIG, the config
 * schema and the CLI's flags are all generated from this table (and from each family's own table).
 */
export const SHARED_SETTINGS: { [K in keyof RunConfig]: Setting<RunConfig[K]> } = {
  model: setting('dcgan', z.string().min(1), 'model family'),
  data: setting('fashion-mnist', z.string().min(1), "training data: fashion-mnist | mnist | folder:PATH | toy:ring8 | toy:grid25 | paired:DIR | aligned:DIR | unpaired:DIR | edges:SPEC | … (see 'ganforge data')"),
  steps: setting(2000, positiveInt, 'total training steps (one D and one G update each)'),
  batchSize: setting(64, positiveInt, 'examples per batch'),
  lrG: setting(2e-4, rate, 'generator learning rate'),
  lrD: setting(2e-4, rate, 'discriminator learning rate'),
  beta1: setting(0.5, beta, "Adam's β1"),
  beta2: setting(0.999, beta, "Adam's β2"),
  loss: setting<RunConfig['loss']>('non-saturating', z.enum(LOSS_NAMES as unknown as [RunConfig['loss'], ...RunConfig['loss'][]]), `adversarial loss: ${LOSS_NAMES.join(' | ')}`),
  latentDim: setting(100, positiveInt, 'size of the latent vector z'),
  seed: setting(0, nonNegativeInt, 'seed for weights, latents and data order'),
  out: setting('runs/run', z.string().min(1), 'run folder to write'),
  sampleEvery: setting(200, nonNegativeInt, 'write samples/step-N.png every N steps (0 = never)'),
  checkpointEvery: setting(500, nonNegativeInt, 'write a checkpoint every N steps (0 = only at the end)'),
  logEvery: setting(10, positiveInt, 'append to metrics.jsonl every N steps'),
  dataLimit: setting(0, nonNegativeInt, 'use only the first N training examples (0 = all)'),
  imageSize: setting(0, nonNegativeInt, 'resize images to N×N (0 = size of the first image)'),
  skipBad: setting(false, z.boolean(), 'skip image files that cannot be decoded (their count is reported) instead of stopping'),
  stream: setting<RunConfig['stream']>('auto', z.enum(['auto', 'on', 'off']), 'folder: data: stream images from disk in decode threads (on), decode all into memory (off), or stream when over a quarter of RAM (auto)'),
  background: setting('white', z.string().refine((s) => isColour(s), { message: 'expected #rrggbb, #rgb, white, black or grey' }), 'colour transparent pixels are composited on (folder:, captions:, the emoji sets): #rrggbb | #rgb | white | black | grey'),
  xflip: setting(false, z.boolean(), 'dataset x-flips: every image also appears mirrored left–right, doubling an epoch (images only)'),
  ordinal: setting(false, z.boolean(), 'folder: data: sub-folders are ordered bins of one attribute (agecgan), sorted by numeric prefix (2-child < 10-adult) or else by name'),
  direction: setting<RunConfig['direction']>('AtoB', z.enum(['AtoB', 'BtoA']), 'translation data: AtoB (A is the input) or BtoA (the domains swapped)'),
  maskKind: setting<RunConfig['maskKind']>('rect', z.enum(['rect', 'strokes', 'mixed']), 'masked: data: holes drawn as rect (rectangles) | strokes (free-form brush strokes, Yu et al. 2019) | mixed'),
  masks: setting('', z.string(), "masked: data: a folder of mask images (white = hole, resized to the images) to take the holes from ('' = drawn)"),
  scale: setting(4, z.number().int().min(2).max(8), 'lowres: data: downscale factor of the input, 2 | 4 | 8'),
  columns: setting('', z.string(), "sequence data (csv:FILE): feature columns, comma-separated ('' = every numeric column)"),
  timeColumn: setting('', z.string(), "sequence data: the column rows are sorted by before windowing ('' = file order)"),
  conditionColumn: setting('', z.string(), "sequence data: a column whose value is each series' class, the condition of rcgan ('' = none)"),
  idColumn: setting('', z.string(), "sequence data: a column naming each row's series, for many series in one file ('' = one series)"),
  window: setting(0, nonNegativeInt, "sequence data: time steps T per training window (0 = the dataset's own; 24 for CSV files, TimeGAN's)"),
  stride: setting(0, nonNegativeInt, "sequence data: rows between the starts of consecutive windows (0 = the dataset's own: 1, TimeGAN's, for CSV files and stocks; 36 = 0.1 s for ecg)"),
  scaling: setting<RunConfig['scaling']>('minmax', z.enum(['minmax', 'standard']), 'sequence data: per-feature scaling, minmax (to [0, 1], TimeGAN\'s) | standard (zero mean, unit variance); samples are written back in original units'),
  fill: setting<RunConfig['fill']>('none', z.enum(['none', 'forward', 'linear', 'drop']), 'sequence data: missing values are refused (none), carried forward, linearly interpolated, or their rows dropped'),
  downsample: setting<RunConfig['downsample']>('bicubic', z.enum(['bicubic', 'area']), 'lowres: data: bicubic (antialiased, as MATLAB imresize/PIL) | area (block mean)'),
  blur: setting(0, z.number().min(0).max(20), 'lowres: data: σ in HR pixels of a Gaussian blur before downscaling (0 = none)'),
  noise: setting(0, z.number().min(0).max(255), 'lowres: data: σ of Gaussian noise on the input, in 0–255 units (0 = none)'),
  jpeg: setting(0, z.number().int().min(0).max(100), 'lowres: data: JPEG quality 1–100 of a round trip of the input through the codec (0 = none)'),
  upsampleInput: setting(false, z.boolean(), 'lowres: data: bicubic-upscale the input back to the target size (pix2pix, cyclegan need input and target of one size)'),
  randomCrop: setting(false, z.boolean(), 'folder: data: random --image-size crops (default 96) with flips of images at their own size, instead of resizing them (photos always crops)'),
  augment: setting<RunConfig['augment']>('none', z.enum(['none', 'flip', 'crop', 'crop-flip']), 'per-batch image augmentation: none | flip | crop | crop-flip (crop: upscale to --load-size, random crop back; same draw for input and target)'),
  loadSize: setting(0, nonNegativeInt, "with --augment crop: the size images are upscaled to before cropping (0 = image size × 286/256, pix2pix's 256 → 286)"),
  hidden: setting(128, positiveInt, 'hidden width of MLP models (vanilla)'),
  width: setting(64, positiveInt, 'base channel count of convolutional models (dcgan; pix2pix/cyclegan: ngf and ndf)'),
  keepCheckpoints: setting(3, positiveInt, 'how many checkpoints to keep'),
  maxMinutes: setting(0, z.number().nonnegative().finite(), 'stop after this many minutes of training (0 = no limit)'),
  evalEvery: setting(0, nonNegativeInt, 'evaluate every N steps (0 = never): eval/NAME in metrics.jsonl, best checkpoint in checkpoints/best'),
  evalMetrics: setting('fid', z.string().min(1), 'metrics for --eval-every, comma-separated; the first picks the best checkpoint'),
  evalCount: setting(2000, z.number().int().min(2), 'generated and reference samples per evaluation'),
  evalRef: setting('', z.string(), "reference set for evaluation ('' = the training data's test split or toy mixture)"),
  earlyStop: setting(0, nonNegativeInt, 'stop after N evaluations without improvement (0 = never)'),
  explodeLoss: setting(1000, z.number().nonnegative().finite(), 'a |loss| above this counts as divergence, like NaN (0 = NaN/Inf only)'),
  maxRollbacks: setting(3, nonNegativeInt, 'on divergence, roll back to the last good checkpoint this many times, then stop'),
  rollbackLrFactor: setting(0.5, z.number().positive().lt(1), 'each rollback multiplies every learning rate by this'),
  optimizer: setting<RunConfig['optimizer']>('adam', z.enum(['adam', 'rmsprop']), 'optimizer of every player: adam | rmsprop'),
  lrSchedule: setting<RunConfig['lrSchedule']>('constant', z.enum(['constant', 'linear']), 'learning-rate schedule of every player: constant | linear (decay to 0 from --lr-decay-start)'),
  lrDecayStart: setting(0.5, z.number().min(0).lt(1), 'with --lr-schedule linear: fraction of --steps after which the rate decays linearly to 0'),
  nCritic: setting(1, positiveInt, 'D (critic) updates per G update'),
  gpWeight: setting(0, weight, 'gradient penalty λ on real/fake interpolates (WGAN-GP; 0 = off)'),
  r1Gamma: setting(0, weight, 'R1 penalty γ on real data (0 = off)'),
  r2Gamma: setting(0, weight, 'R2 penalty γ on generated data (0 = off)'),
  regInterval: setting(1, positiveInt, 'apply R1/R2 every N steps, scaled by N (lazy regularization)'),
  clipValue: setting(0, weight, 'clip D weights to [-c, c] after each D update (WGAN; 0 = off)'),
  labelSmoothing: setting(0, z.number().min(0).lt(1), "one-sided label smoothing α: D's real target 1 − α (minimax, non-saturating, least-squares; 0 = off)"),
  instanceNoise: setting(0, weight, 'instance noise σ₀ on every input of D, annealed to 0 (0 = off; σ in stats as trick/noise-sigma)'),
  instanceNoiseSteps: setting(0, nonNegativeInt, "steps over which --instance-noise anneals to 0 (0 = the run's --steps)"),
  instanceNoiseAnneal: setting<RunConfig['instanceNoiseAnneal']>('linear', z.enum(['linear', 'exponential']), 'annealing of --instance-noise: linear | exponential'),
  featureMatching: setting(0, weight, "weight of feature matching in G's loss: ‖mean f(x) − mean f(G(z))‖², f = input of D's last dense (0 = off)"),
  minibatchDiscrimination: setting(0, nonNegativeInt, "minibatch-discrimination kernels before D's last dense layer (vanilla, dcgan; 0 = off)"),
  minibatchStddev: setting(0, nonNegativeInt, "minibatch-stddev feature before D's last dense layer over groups of N (Karras: 4; 0 = off)"),
  historicalAveraging: setting(0, weight, "historical averaging weight on D: ‖θ − mean of past θ‖² in D's loss (0 = off)"),
  historicalAveragingG: setting(0, weight, "historical averaging weight on G's parameters (0 = off)"),
  emaDecay: setting(0, z.number().min(0).lt(1), "keep an EMA of G's weights with this decay (e.g. 0.999) for sampling and evaluation (0 = off)"),
  diffAugment: setting('', z.string().refine((s) => parseDiffAugment(s) !== null, {
    message: `expected a comma-separated list of ${DIFF_AUGMENT_POLICIES.join(', ')} (or '' for none)`,
  }), "DiffAugment on D's inputs in both phases, comma-separated: translation,cutout,color ('' = off; images only)"),
  adaTarget: setting(0, z.number().min(0).lt(1), "ADA (adaptive discriminator augmentation): target of r_t = E[sign D(x)]; the probability p of augmenting D's inputs rises while r_t is above it (0 = off, 0.6 typical; images only; stats aug/p, aug/rt)"),
  adaInterval: setting(4, positiveInt, 'with --ada-target: adjust p every N steps, from the r_t of those steps (4 = the paper\'s)'),
  adaKimg: setting(500, z.number().positive().finite(), "with --ada-target: thousands of images over which p can go from 0 to 1 (500 = the paper's, for runs of millions of images; a short run wants about a tenth of the images it sees, e.g. 10 for 2000 steps of 64)"),
  adaP: setting(0, z.number().min(0).max(1), "with --ada-target: the augmentation probability p at the start (0 = the paper's)"),
  adaResample: setting<AdaResample>('sym6', z.enum(ADA_RESAMPLE as unknown as [AdaResample, ...AdaResample[]]), "with --ada-target: how rotations, scalings and fractional moves resample: sym6 (the paper's: 2× upsampling through a Symlet-6 filter, against aliasing) | bilinear (plain, cheaper, aliases when content shrinks)"),
  adaPipe: setting<AdaPipe>('bgc', z.enum(ADA_PIPES as unknown as [AdaPipe, ...AdaPipe[]]), "with --ada-target: the augmentations, as the paper's ablation names them: bgc (blit, geometric, colour: the paper's default) | bgcf (+ band filtering) | bgcfn (+ noise) | bgcfnc (+ cutout) | blit | geom | color | filter | noise | cutout | bg"),
  gradClip: setting(0, weight, "clip each player's gradient to this global norm (0 = off)"),
  maxWords: setting(18, z.number().int().min(1).max(256), "text data: words a caption keeps, longer captions cut with a notice (18 = AttnGAN's; text families only)"),
  textEncoder: setting('', z.string(), "text families: start the text (and image) encoders from pretrained DAMSM encoders: a folder from 'ganforge text-encoder' or a text run's folder; the run's captions are tokenized with their vocabulary ('' = pretrain them first for --text-encoder-steps)"),
  textEncoderSteps: setting(300, nonNegativeInt, 'text families without --text-encoder: steps of DAMSM pretraining of the text and image encoders before the GAN trains, saved in RUN/text-encoder (0 = leave them random)'),
  init: setting('', z.string(), "start G from the generator of another run (folder or checkpoint): SRGAN from an SRResNet run, ESRGAN from its PSNR-oriented run; the family names which runs it accepts ('' = fresh)"),
};

/**
 * Shared settings a family uses only if it says so (GanFamily.honours). Setting one of these for a family that
 * does not honour it is an error naming the flag, never a silent no-op. Every other shared setting (steps,
 * batch size, learning rates and their schedule, data, logging, evaluation, reliability) applies to every family.
 */
export const OPTIONAL_SETTINGS = [
  'loss', 'latentDim', 'hidden', 'width', 'nCritic', 'gpWeight', 'r1Gamma', 'r2Gamma', 'regInterval', 'clipValue',
  'labelSmoothing', 'instanceNoise', 'instanceNoiseSteps', 'instanceNoiseAnneal', 'featureMatching',
  'minibatchDiscrimination', 'minibatchStddev', 'historicalAveraging', 'historicalAveragingG', 'emaDecay', 'diffAugment', 'adaTarget', 'adaInterval', 'adaKimg', 'adaP', 'adaResample', 'adaPipe', 'gradClip',
  'init', 'maxWords', 'textEncoder', 'textEncoderSteps',
] as const satisfies readonly (keyof RunConfig)[];
export type OptionalSetting = (typeof OPTIONAL_SETTINGS)[number];

function defaultsOf(table: SettingsTable): Record<string, unknown> {
  return Object.fromEntries(Object.entries(table).map(([k, s]) => [k, s.default]));
}

export const DEFAULT_CONFIG = defaultsOf(SHARED_SETTINGS) as unknown as RunConfig;

function schemaOf(table: SettingsTable) {
  return z.object(Object.fromEntries(Object.entries(table).map(([k, s]) => [k, s.schema]))).strict();
}

export const runConfigSchema = schemaOf(SHARED_SETTINGS);

/** Whether a numeric setting takes integers only (so the CLI parses `--steps 1.5` as an error). */
export function isIntegerSetting(s: Setting): boolean {
  const format = (s.schema as { format?: string | null }).format;
  return format === 'safeint' || format === 'int32';
}

/** A run's config with a family's own settings (GanFamily.settings) typed: `settingsOf<Pix2PixSettings>(config)`. */
export function settingsOf<T>(config: RunConfig): RunConfig & T {
  return config as RunConfig & T;
}

export const CONFIG_KEYS = Object.keys(DEFAULT_CONFIG) as (keyof RunConfig)[];

/** camelCase key → the CLI flag that sets it: lrG → --lr-g. */
export function flagOf(key: string): string {
  return '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

/**
 * Validate a partial config (from a file, flags or a preset). Unknown keys and wrong types become one
 * UserError naming each key, its flag and, for unknown keys, the nearest valid one.
 */
export function validatePartialConfig(input: unknown, source: string, familySettings: SettingsTable = {}): Partial<RunConfig> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new UserError(`${source}: expected a JSON object of settings, got ${Array.isArray(input) ? 'an array' : typeof input}`);
  }
  const keys = [...CONFIG_KEYS, ...Object.keys(familySettings)];
  const schema = Object.keys(familySettings).length === 0 ? runConfigSchema : schemaOf({ ...SHARED_SETTINGS, ...familySettings });
  const result = schema.partial().safeParse(input);
  if (result.success) return result.data as Partial<RunConfig>;
  const problems = result.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys
        .map((key) => {
          const nearest = [...keys].sort((a, b) => editDistance(key, a) - editDistance(key, b))[0];
          return `unknown setting '${key}' (did you mean '${nearest}', flag ${flagOf(nearest)}?)`;
        })
        .join('; ');
    }
    const key = String(issue.path[0] ?? '');
    return `${key} (${flagOf(key)}): ${issue.message}`;
  });
  throw new UserError(`${source}: ${problems.join('; ')}`);
}

/** Layer partial configs left to right over the defaults; the result is validated as a whole. */
export function resolveConfig(...layers: Partial<RunConfig>[]): RunConfig {
  return resolveFamilyConfig({}, ...layers);
}

/** resolveConfig for a family with settings of its own (GanFamily.settings): their defaults, then the layers. */
export function resolveFamilyConfig(familySettings: SettingsTable, ...layers: Partial<RunConfig>[]): RunConfig {
  const merged = { ...DEFAULT_CONFIG, ...defaultsOf(familySettings) } as RunConfig;
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) if (v !== undefined) (merged as unknown as Record<string, unknown>)[k] = v;
  }
  validatePartialConfig(merged, 'config', familySettings);
  checkCombinations(merged);
  return merged;
}

/** Settings that are valid alone but not together; each error names both flags. */
function checkCombinations(config: RunConfig): void {
  // Label smoothing moves a target, and only these losses have one (wasserstein/hinge/relativistic do not).
  if (config.labelSmoothing > 0 && !['minimax', 'non-saturating', 'least-squares'].includes(config.loss)) {
    throw new UserError(`--label-smoothing needs a loss with a real target (minimax, non-saturating, least-squares); --loss ${config.loss} has none`);
  }
  // Two ways of augmenting D's inputs: ADA's pipeline at an adaptive p, or DiffAugment's at p = 1; not both.
  if (config.adaTarget > 0 && config.diffAugment !== '') {
    throw new UserError(`--ada-target and --diff-augment both augment D's inputs; use one of them (--ada-target ${config.adaTarget} with --diff-augment ${config.diffAugment})`);
  }
  if (config.adaP > 0 && config.adaTarget === 0) throw new UserError(`--ada-p ${config.adaP} sets ADA's starting p; it needs --ada-target (0 turns ADA off)`);
  if (config.adaResample !== 'sym6' && config.adaTarget === 0) throw new UserError(`--ada-resample ${config.adaResample} chooses how ADA resamples; it needs --ada-target (0 turns ADA off)`);
  if (config.adaPipe !== 'bgc' && config.adaTarget === 0) throw new UserError(`--ada-pipe ${config.adaPipe} chooses ADA's augmentations; it needs --ada-target (0 turns ADA off)`);
  // r_t = E[sign D(x)] needs D's outputs to have a fixed level that separates real from fake.
  if (config.adaTarget > 0 && adaCentre(config.loss) === null) {
    const levelled = LOSS_NAMES.filter((name) => adaCentre(name) !== null).join(', ');
    throw new UserError(`--ada-target reads E[sign D(x)], which needs a loss with a fixed decision level (${levelled}); --loss ${config.loss} leaves the level of D's output free (pass --loss hinge, say)`);
  }
}

/**
 * The sequence-data settings as load options, unset ones left out so the dataset's own defaults apply: how
 * training read the data, and how evaluation reads it again (its test split, cut and scaled the same way).
 */
export function sequenceLoadOptions(config: RunConfig): SequenceLoadOptions {
  const list = config.columns.split(',').map((c) => c.trim()).filter((c) => c !== '');
  return {
    ...(list.length > 0 ? { columns: list } : {}),
    ...(config.timeColumn ? { timeColumn: config.timeColumn } : {}),
    ...(config.conditionColumn ? { conditionColumn: config.conditionColumn } : {}),
    ...(config.idColumn ? { idColumn: config.idColumn } : {}),
    ...(config.window ? { window: config.window } : {}),
    ...(config.stride ? { stride: config.stride } : {}),
    scaling: config.scaling, fill: config.fill,
  };
}
