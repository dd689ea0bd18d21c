import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { providedConditions, type Batch, type ConditionKind, type DatasetInfo, type TextBatch } from '../data/types.js';
import type { OptionalSetting, RunConfig, SettingsTable } from './config.js';
import type { Rng } from '../util/rng.js';
import type { AdversarialLoss } from './losses.js';
import type { NamedTensor } from './model_io.js';

/**
 * A run's networks. `generator` is there in every family (a translator's G: A → B); `discriminator` in every
 * adversarial one (a model trained on pixel loss alone, such as SRResNet, the PSNR model that SRGAN starts from,
 * has none); `extra` holds any further ones by name, each saved in checkpoints as a folder of that name: an
 * encoder (bigan, aae), CycleGAN's second generator and discriminator, or `EMA_GENERATOR`, the moving average of
 * G's weights that sampling prefers.
 */
export interface GanNetworks {
  generator: tfl.LayersModel;
  discriminator?: tfl.LayersModel;
  extra?: Record<string, tfl.LayersModel>;
}

/** Name of the exponential moving average of G's weights (--ema-decay) among GanNetworks.extra. */
export const EMA_GENERATOR = 'generator-ema';

/** The generator to sample from: the EMA copy when the run keeps one (it is the better one), else G. */
export function samplingGenerator(nets: { generator: tfl.LayersModel; extra?: Record<string, tfl.LayersModel> }): tfl.LayersModel {
  return nets.extra?.[EMA_GENERATOR] ?? nets.generator;
}

/** Every network of a run, G and D (when there is one) first, with the name each is saved under. */
export function allNetworks(nets: GanNetworks): [string, tfl.LayersModel][] {
  const d: [string, tfl.LayersModel][] = nets.discriminator ? [['discriminator', nets.discriminator]] : [];
  return [['generator', nets.generator], ...d, ...Object.entries(nets.extra ?? {})];
}

/** D of an adversarial family, or an error saying the run has none (its family declares no 'd' player). */
export function discriminatorOf(nets: GanNetworks): tfl.LayersModel {
  if (!nets.discriminator) throw new Error("these networks have no discriminator (the family trains G on a pixel loss alone and declares no 'd' player); a D phase or D trick cannot run on them");
  return nets.discriminator;
}

/** A further network of a run by name, or an error naming the family's declaration that should have built it. */
export function extraNetwork(nets: GanNetworks, name: string, family: string): tfl.LayersModel {
  const model = nets.extra?.[name];
  if (!model) throw new Error(`${family}: the networks hold no '${name}' (GanNetworks.extra.${name}); its build() must make it`);
  return model;
}

/** Optimizers of a run by player: G's, D's (adversarial families), and any further players' (see GanFamily.players). */
export interface Optimizers {
  g: tf.Optimizer;
  /** Absent for a family without a discriminator. */
  d?: tf.Optimizer;
  extra?: Record<string, tf.Optimizer>;
}

/**
 * A player: one optimizer over a fixed list of variables, with its learning rate taken from a config key and
 * the run's schedule (--lr-schedule). Adam keeps its moments by position in the variable list, so a phase that
 * updates another set of variables needs a player of its own.
 */
export interface Player {
  /** 'g', 'd', or a further name (saved as optimizer-NAME). */
  name: string;
  /** The config key holding its base learning rate. */
  lr: 'lrG' | 'lrD';
  /** What it moves, for --help and `ganforge models`. */
  moves: string;
  /**
   * For a player that a lazy regulariser updates on its own every k-th step (StyleGAN2's R1 and path length,
   * Karras et al. 2020, appendix B): k under this config, or 0 when the regulariser is off. The player then
   * makes k + 1 updates per k minibatches, so its optimizer runs with lr·c and β^c (each β of Adam, RMSProp's
   * decay), c = k/(k + 1), which keeps its per-minibatch dynamics those of k plain updates (optimizers.ts).
   */
  lazyInterval?(config: RunConfig): number;
}

/** The players of a family that declares none: G and D. */
export const DEFAULT_PLAYERS: readonly Player[] = [
  { name: 'g', lr: 'lrG', moves: 'the generator' },
  { name: 'd', lr: 'lrD', moves: 'the discriminator' },
];

/** What one training step reports. Every entry of `extra` named `loss/…` is watched by the divergence guard too. */
export interface StepStats {
  /** D's loss and mean sigmoid(D) on real and generated data (monitoring): absent in a family without D. */
  lossD?: number;
  lossG: number;
  dReal?: number;
  dFake?: number;
  /** Further named numbers to report: penalties ('reg/gp'), a family's own losses ('loss/L1', 'loss/cycle'). */
  extra?: Record<string, number>;
}

/** Everything a family's step may read or move. */
export interface StepContext {
  nets: GanNetworks;
  opt: Optimizers;
  loss: AdversarialLoss;
  config: RunConfig;
  data: DatasetInfo;
  /** The condition the family consumes (GanFamily.condition): 'class' puts labels into both players. */
  condition: ConditionKind;
  /** Steps completed before this one (0-based), e.g. for lazy regularization. */
  step: number;
  /** The step's real batch [B, ...shape] and its class labels [B] int32, when the data has them. */
  real: tf.Tensor;
  labels?: tf.Tensor1D;
  /** The step's input images [B, ...data.input.shape] (image condition: the translation's source domain A). */
  input?: tf.Tensor;
  /** The step's captions (text condition): one per example, token ids and lengths. */
  text?: TextBatch;
  /** The step's latents [B, latentDim]. */
  z: tf.Tensor2D;
  /** Another real batch from the run's stream. */
  nextBatch(): Batch;
  /** Fresh latents [B, latentDim] from the run's latent RNG. */
  latents(): tf.Tensor2D;
  /** The run's latent RNG, for other randomness a step needs (GP's ε, sampled class labels). */
  rng: Rng;
  /** The family's own state (GanFamily.createState), when it keeps one. */
  state?: FamilyState;
  /**
   * The mean over the data-parallel ranks of a few numbers, the same on every rank: for a decision a family takes
   * from its own losses (whether to update a player), which every rank must take alike. Absent when training alone.
   */
  groupMean?: (values: number[]) => number[];
}

/** A family's own training step (see GanFamily.step). */
export type FamilyStep = (ctx: StepContext) => StepStats;

/**
 * State of a family that is not a network, e.g. CycleGAN's image pools: saved with every checkpoint and put
 * back on resume and rollback, so that exact resume stays bit-for-bit.
 */
export interface FamilyState {
  /** What to checkpoint; the tensors are new ones, which the caller frees once written. */
  save(): { json: unknown; tensors: NamedTensor[] };
  /** Put back what `save` returned (the tensors are the caller's; copy what you keep). */
  restore(saved: { json: unknown; tensors: NamedTensor[] }): void;
  dispose(): void;
}

/** What `ganforge sample`, `translate`, evaluation, the studio and the progress grid ask of a family. */
export interface SampleRequest {
  count: number;
  /** Seeds the latents (and any other randomness). */
  seed: number;
  /** A class to draw from (class-conditional families); default: cycle through the classes. */
  class?: number;
  /**
   * One class per sample, in order (class-conditional families; not with `class`): `eval` draws a sequence
   * run's samples in its reference's class mix, so the metrics compare like with like.
   */
  classes?: ArrayLike<number>;
  /** infogan: codes fixed by `--code NAME=VALUE` and a `--vary NAME` sweep. */
  code?: string[];
  vary?: string;
  /** Image condition: input images [count, H, W, C] in [-1, 1]; the caller owns them. */
  input?: tf.Tensor;
  /**
   * Text condition: the sentences to draw, one per sample (cycled when fewer than `count`). The family
   * tokenizes them with the run's vocabulary (DatasetInfo.text); unknown words become UNK.
   */
  text?: string[];
  /**
   * Text condition: interpolate from the sentence `text[0]` to this one across the `count` samples (one latent
   * for all, the sentence feature moving linearly from the first to the second): how smoothly the model's
   * images follow its text space.
   */
  textTo?: string;
  /** Translators with two generators (CycleGAN): which way to translate. */
  direction?: 'AtoB' | 'BtoA';
  /** The truncation trick's ψ in (0, 1] (GanFamily.truncation says what it truncates); absent or 1: none. */
  truncation?: number;
  /**
   * "Standing statistics" (Brock et al. 2019, §4 and Appendix C.1): before sampling, every batch-norm layer of the
   * generator takes as its statistics the average of its batch statistics over this many training-mode passes on
   * fresh latents (and classes), instead of the moving averages kept in training. The networks are left as they
   * were afterwards. Absent or 0: the moving averages.
   */
  standingStats?: number;
}

/**
 * What a family's truncation trick acts on (`--truncation ψ`): 'w' draws w = w̄ + ψ(w − w̄) toward the tracked
 * mean of the intermediate latent (StyleGAN, Karras et al. 2019 §B); 'z' draws z from N(0, I) truncated to
 * [−2, 2] and scaled by ψ, the form BigGAN's released models sample with (Brock et al. 2019 §3.1 redraws values
 * beyond a threshold). Either trades variety for fidelity.
 */
export type TruncationKind = 'w' | 'z';

/**
 * A generator with an intermediate latent space W (StyleGAN's mapping network): what style mixing, the
 * truncation trick, projection of a real image (`ganforge project`) and perceptual path length read. Tensors it
 * returns are the caller's.
 */
export interface StyleSpace {
  zDim: number;
  wDim: number;
  /** How many w's the synthesis network takes, one per style input, coarse to fine (w+). */
  numWs: number;
  /** The output resolution at each style input, index-aligned with w+, for messages and `--mix-layers` help. */
  resolutions: number[];
  /** z [B, zDim] (and one-hot classes [B, K] for a class-conditional mapping) → w [B, wDim]. */
  mapping(z: tf.Tensor2D, classes?: tf.Tensor2D): tf.Tensor2D;
  /** The mean w tracked during training (w̄, the truncation trick's centre): [1, wDim], or [B, wDim] per class for a conditional mapping given classes [B, K]. */
  meanW(classes?: tf.Tensor2D): tf.Tensor2D;
  /** [H, W] of each per-pixel noise input, in the order `synthesis` takes explicit noise maps. */
  noiseShapes: [number, number][];
  /**
   * w+ [B, numWs, wDim] → images [B, H, W, C] in [−1, 1], differentiable in ws (and in explicit noise maps).
   * `noise`: 'random' draws the per-pixel noise inputs from `seed` (the same seed, the same draw); 'zero' turns
   * them off; explicit maps [B or 1, H, W, 1], one per `noiseShapes` entry, are used as given (projection optimises them).
   */
  synthesis(ws: tf.Tensor3D, options?: { noise?: 'random' | 'zero' | tf.Tensor[]; seed?: number }): tf.Tensor4D;
  /**
   * The two halves as layers models, for `ganforge export` and the studio's explorer, which run them in the
   * browser: mapping z [B, zDim] (and one-hot classes [B, K] as a second input when conditional) → w [B, wDim];
   * synthesis w+ [B, numWs, wDim] → images [B, H, W, C] (noise drawn inside). Owned by the networks. A family
   * with a style space provides them (only test doubles leave them out).
   */
  models?: { mapping: tfl.LayersModel; synthesis: tfl.LayersModel };
}

/** Samples as floats (images in [-1, 1]), `count` of `shape`, and the grid columns a picture of them should use. */
export interface SampleResult {
  values: Float32Array;
  count: number;
  shape: number[];
  cols?: number;
}

/**
 * What the progress grid (samples/step-N.png, final.png, the studio's live view) is drawn from: fixed latents,
 * and for data with an input domain a fixed batch of examples (input, target). Both stay the same all run.
 */
export interface Probe {
  z: tf.Tensor2D;
  batch?: Batch;
}

/**
 * How a real image's latent is found before an attribute edit (Antipov et al. 2017, §3.2, the paper's three
 * reconstructions): 'none' takes the encoder's z₀ = E(x) as it is (the "initial" reconstruction); 'pixel'
 * optimises z from z₀ to minimise ‖x − G(z, y₀)‖²; 'feature' to minimise ‖FR(x) − FR(G(z, y₀))‖², FR an
 * identity embedding (the "identity-preserving" one).
 */
export const IDENTITY_MODES = ['none', 'pixel', 'feature'] as const;
export type IdentityMode = (typeof IDENTITY_MODES)[number];

/** An identity embedding FR: images [B, H, W, C] in [-1, 1] → features [B, D], differentiable in the images. */
export type IdentityNet = (x: tf.Tensor4D) => tf.Tensor2D;

/** What `ganforge edit` and the edit evaluation ask of a family with an attribute edit. */
export interface EditRequest {
  /** The images to edit [N, H, W, C] in [-1, 1], at the run's size; the caller owns them. */
  images: tf.Tensor4D;
  /** Each image's own bin y₀ (index into the data's classNames); absent: the bin whose G(E(x), y) is nearest x. */
  from?: number[];
  /** The bins to render each edit at. */
  to: number[];
  identity: IdentityMode;
  /** FR, needed by identity 'feature'. */
  identityNet?: IdentityNet;
  /** Optimisation steps of z (identity 'pixel' and 'feature'), and Adam's rate. */
  steps?: number;
  lr?: number;
}

/** An edit's results, floats in [-1, 1]. */
export interface EditResult {
  /** G(z*, y₀) for each image: [N, ...shape] flat. */
  reconstructions: Float32Array;
  /** G(z*, to[t]) for each target bin t: [N, ...shape] flat each. */
  edits: Float32Array[];
  /** The source bins used (given or found). */
  from: number[];
  /** The optimised latents z*: [N, latentDim] flat. */
  z: Float32Array;
  /** Mean objective of the mode at z₀ and at z* (0 and 0 for 'none'). */
  loss: { initial: number; final: number };
}

/**
 * An attribute edit (Age-cGAN): a conditional G on an ordinal attribute, an encoder of its latent, and the
 * reconstruction of a real image's latent that keeps who it is while the attribute moves. `ganforge edit`
 * and `bench:agecgan` read it; a family without it has no edit.
 */
export interface AttributeEdit {
  edit(nets: GanNetworks, run: { config: RunConfig; data: DatasetInfo }, request: EditRequest): EditResult;
}

/**
 * A GAN family: one file in src/models that reads like its paper — network builders, the paper's
 * hyper-parameters as defaults, its step — plus a registry line. Everything outside src/models reads these
 * declarations; none of it tests a family's name or counts a network's inputs.
 */
export interface GanFamily {
  name: string;
  /** One line for `--help`. */
  summary: string;
  /** The paper it implements. */
  paper: string;
  /** The condition its networks consume (default 'none'); the data must provide it (DatasetInfo). */
  condition?: ConditionKind;
  /** The kinds of data it trains on (default DEFAULT_DATA_KINDS: images and 2-D points); other data is refused before anything is built. */
  dataKinds?: readonly DatasetInfo['kind'][];
  /**
   * The condition is used when the data provides it and left out when it does not: the family then builds and
   * trains unconditional networks (biggan: class-conditional on labelled data, unconditional on a plain folder).
   * Default false: data without the condition is refused. Read the condition of a run with `conditionOf`.
   */
  optionalCondition?: boolean;
  /** For translators (condition 'image'): the directions `sample` can translate (SampleRequest.direction). */
  directions?: readonly ('AtoB' | 'BtoA')[];
  /**
   * For translators: the checkpoint folder (a network's name, see GanNetworks) of the generator that translates
   * each direction, for whatever runs one generator alone (`ganforge export`, the studio's translate page).
   */
  exportGenerators?: Readonly<Partial<Record<'AtoB' | 'BtoA', string>>>;
  /**
   * Sampling runs the generator as in training (dropout on, batch norm on the batch's own statistics), as
   * pix2pix's test-time protocol does; a browser copy of the generator must run it the same way.
   */
  sampleInTrainingMode?: boolean;
  /**
   * The shared settings among OPTIONAL_SETTINGS this family uses (the rest of the shared settings apply to
   * every family). Setting any other optional one is an error naming the flag.
   */
  honours: readonly OptionalSetting[] | ((data: DatasetInfo) => readonly OptionalSetting[]);
  /**
   * The families whose runs may start this one's generator (`--init RUN`, which the family must honour): e.g.
   * SRGAN starts from an SRResNet run, as Ledig et al. 2017 do to avoid poor local optima. G's architecture must
   * match (same settings); the weights are copied before the first step.
   */
  initFrom?: readonly string[];
  /**
   * What D's adversarial output is (default 'score'): 'score', a real number per sample (or per patch, or per
   * head beside auxiliary ones, as acgan's source logit) that the adversarial loss reads — a logit, a critic's
   * value, f-GAN's variational function V; 'energy', an autoencoder D's reconstruction error (EBGAN, BEGAN),
   * which only the family's own loss reads. A `--loss` on a family whose D outputs an energy is refused.
   */
  discriminatorOutput?: 'score' | 'energy';
  /**
   * Reported losses whose size grows with the data (sums over pixels or features, e.g. VAE/GAN's L_llike): the
   * divergence guard still stops on NaN/Inf in them but does not hold them to --explode-loss, an O(1) bound.
   */
  extensiveLosses?: readonly string[];
  /** Settings of its own (e.g. pix2pix's λ_L1): flags, help, defaults and validation come from this table. */
  settings?: SettingsTable;
  /**
   * Its players (optimizers); default DEFAULT_PLAYERS. Must include 'g'; 'd' exactly when `build` makes a
   * discriminator (a family trained on a pixel loss alone has none).
   */
  players?: readonly Player[];
  /** What this family changes from DEFAULT_CONFIG (and its own settings' defaults), given the data. */
  defaults(data: DatasetInfo): Partial<RunConfig>;
  /** null when the family can train on this data, else a sentence saying why not and what to do. */
  check(data: DatasetInfo, config: RunConfig): string | null;
  /** Build fresh networks; `rng` seeds every initializer so a seed reproduces the run. */
  build(data: DatasetInfo, config: RunConfig, rng: Rng): GanNetworks;
  /**
   * The family's own training step — its algorithm box — composed from step.ts's phases. Absent: the trainer
   * uses `standardStep` (n_critic D updates with the configured penalties and clipping, then one G update).
   */
  step?: FamilyStep;
  /** State that is not a network (saved and restored with checkpoints), made fresh for a new run. */
  createState?(data: DatasetInfo, config: RunConfig): FamilyState;
  /**
   * What sampling means for this family. Absent: G on z ~ N(0, I) (with class labels for class-conditional
   * families, and `sampleLatents` when the family has one).
   */
  sample?(nets: GanNetworks, request: SampleRequest, run: { config: RunConfig; data: DatasetInfo }): SampleResult;
  /** The progress grid. Absent: `sample` on the probe's 64 fixed latents. */
  picture?(nets: GanNetworks, probe: Probe, run: { config: RunConfig; data: DatasetInfo }): SampleResult;
  /**
   * For a family whose latent carries codes at fixed places (infogan): sampling's latents, drawn from `seed`,
   * with the codes `--code NAME=VALUE` fixes and a `--vary NAME` sweep along `cols` grid columns (which may set
   * the count). Absent: z ~ N(0, I), and --code/--vary are refused.
   */
  sampleLatents?(config: RunConfig, seed: number, count: number, request: { code?: string[]; vary?: string }): { z: tf.Tensor2D; cols?: number };
  /** Its truncation trick, when it has one: `sample --truncation ψ` is refused for families without. */
  truncation?: TruncationKind;
  /**
   * Its intermediate latent space over a checkpoint's networks, when it has one (stylegan2): `sample
   * --style-mix`, `project` and PPL need it and are refused for families without.
   */
  styleSpace?(nets: GanNetworks, run: { config: RunConfig; data: DatasetInfo }): StyleSpace;
  /**
   * A text-conditioned family (condition 'text'): one layers model over the networks (sharing their weights)
   * that takes [z [B, latentDim], token ids [B, maxLen] as float32] and gives images [B, H, W, C] in [−1, 1],
   * drawing what `sample --text` draws for the same z (every noise G uses is in z: StackGAN's conditioning
   * augmentation takes its ε from z's tail). `ganforge export` and the studio's text page run it in the browser.
   */
  textGenerator?(nets: GanNetworks, run: { config: RunConfig; data: DatasetInfo }): tfl.LayersModel;
  /** Its attribute edit, when it has one (agecgan): `ganforge edit` is refused for families without. */
  attributeEdit?: AttributeEdit;
}

/** The data a family trains on when it does not say: images and 2-D points (every family before sequences). */
export const DEFAULT_DATA_KINDS: readonly DatasetInfo['kind'][] = ['image', 'points'];

/** Each kind of data in words, for messages that name what a run or a family takes. */
export const DATA_KIND_WORDS: Readonly<Record<DatasetInfo['kind'], string>> = { image: 'images', points: '2-D points', sequence: 'sequence data (time series)' };

/** The optional shared settings a family honours on this data. */
export function honouredSettings(family: GanFamily, data: DatasetInfo): readonly OptionalSetting[] {
  return typeof family.honours === 'function' ? family.honours(data) : family.honours;
}

/** The condition a family's networks consume on this data: its declared one, or 'none' when that is optional and the data lacks it. */
export function conditionOf(family: GanFamily, data: DatasetInfo): ConditionKind {
  const declared = family.condition ?? 'none';
  return family.optionalCondition && !providedConditions(data).includes(declared) ? 'none' : declared;
}

/** A family's players, G and D first. */
export function playersOf(family: GanFamily): readonly Player[] {
  return family.players ?? DEFAULT_PLAYERS;
}
