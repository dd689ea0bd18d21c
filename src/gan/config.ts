import { z } from 'zod';
import { LOSS_NAMES } from './losses.js';
import { UserError, editDistance } from '../util/errors.js';
import { DIFF_AUGMENT_POLICIES, parseDiffAugment } from './tricks/diff_augment.js';

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
  /** Optimizer of both players: adam (with beta1/beta2) or rmsprop (WGAN's choice). */
  optimizer: 'adam' | 'rmsprop';
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
  /** Clip each player's gradient to this global norm before its update (0 = off). */
  gradClip: number;
}

export const DEFAULT_CONFIG: RunConfig = {
  model: 'dcgan',
  data: 'fashion-mnist',
  steps: 2000,
  batchSize: 64,
  lrG: 2e-4,
  lrD: 2e-4,
  beta1: 0.5,
  beta2: 0.999,
  loss: 'non-saturating',
  latentDim: 100,
  seed: 0,
  out: 'runs/run',
  sampleEvery: 200,
  checkpointEvery: 500,
  logEvery: 10,
  dataLimit: 0,
  imageSize: 0,
  skipBad: false,
  hidden: 128,
  width: 64,
  keepCheckpoints: 3,
  maxMinutes: 0,
  evalEvery: 0,
  evalMetrics: 'fid',
  evalCount: 2000,
  evalRef: '',
  earlyStop: 0,
  explodeLoss: 1000,
  maxRollbacks: 3,
  rollbackLrFactor: 0.5,
  optimizer: 'adam',
  nCritic: 1,
  gpWeight: 0,
  r1Gamma: 0,
  r2Gamma: 0,
  regInterval: 1,
  clipValue: 0,
  labelSmoothing: 0,
  instanceNoise: 0,
  instanceNoiseSteps: 0,
  instanceNoiseAnneal: 'linear',
  featureMatching: 0,
  minibatchDiscrimination: 0,
  minibatchStddev: 0,
  historicalAveraging: 0,
  historicalAveragingG: 0,
  emaDecay: 0,
  diffAugment: '',
  gradClip: 0,
};

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();
const rate = z.number().positive().finite();
const beta = z.number().min(0).lt(1);

export const runConfigSchema = z
  .object({
    model: z.string().min(1),
    data: z.string().min(1),
    steps: positiveInt,
    batchSize: positiveInt,
    lrG: rate,
    lrD: rate,
    beta1: beta,
    beta2: beta,
    loss: z.enum(LOSS_NAMES as [string, ...string[]]),
    latentDim: positiveInt,
    seed: nonNegativeInt,
    out: z.string().min(1),
    sampleEvery: nonNegativeInt,
    checkpointEvery: nonNegativeInt,
    logEvery: positiveInt,
    dataLimit: nonNegativeInt,
    imageSize: nonNegativeInt,
    skipBad: z.boolean(),
    hidden: positiveInt,
    width: positiveInt,
    keepCheckpoints: positiveInt,
    maxMinutes: z.number().nonnegative().finite(),
    evalEvery: nonNegativeInt,
    evalMetrics: z.string().min(1),
    evalCount: z.number().int().min(2),
    evalRef: z.string(),
    earlyStop: nonNegativeInt,
    explodeLoss: z.number().nonnegative().finite(),
    maxRollbacks: nonNegativeInt,
    rollbackLrFactor: z.number().positive().lt(1),
    optimizer: z.enum(['adam', 'rmsprop']),
    nCritic: positiveInt,
    gpWeight: z.number().nonnegative().finite(),
    r1Gamma: z.number().nonnegative().finite(),
    r2Gamma: z.number().nonnegative().finite(),
    regInterval: positiveInt,
    clipValue: z.number().nonnegative().finite(),
    labelSmoothing: z.number().min(0).lt(1),
    instanceNoise: z.number().nonnegative().finite(),
    instanceNoiseSteps: nonNegativeInt,
    instanceNoiseAnneal: z.enum(['linear', 'exponential']),
    featureMatching: z.number().nonnegative().finite(),
    minibatchDiscrimination: nonNegativeInt,
    minibatchStddev: nonNegativeInt,
    historicalAveraging: z.number().nonnegative().finite(),
    historicalAveragingG: z.number().nonnegative().finite(),
    emaDecay: z.number().min(0).lt(1),
    diffAugment: z.string().refine((s) => parseDiffAugment(s) !== null, {
      message: `expected a comma-separated list of ${DIFF_AUGMENT_POLICIES.join(', ')} (or '' for none)`,
    }),
    gradClip: z.number().nonnegative().finite(),
  })
  .strict();

export const CONFIG_KEYS = Object.keys(DEFAULT_CONFIG) as (keyof RunConfig)[];

/** camelCase key → the CLI flag that sets it: lrG → --lr-g. */
export function flagOf(key: string): string {
  return '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

/**
 * Validate a partial config (from a file, flags or a preset). Unknown keys and wrong types become one
 * UserError naming each key, its flag and, for unknown keys, the nearest valid one.
 */
export function validatePartialConfig(input: unknown, source: string): Partial<RunConfig> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new UserError(`${source}: expected a JSON object of settings, got ${Array.isArray(input) ? 'an array' : typeof input}`);
  }
  const result = runConfigSchema.partial().safeParse(input);
  if (result.success) return result.data as Partial<RunConfig>;
  const problems = result.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys
        .map((key) => {
          const nearest = [...CONFIG_KEYS].sort((a, b) => editDistance(key, a) - editDistance(key, b))[0];
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
  const merged: RunConfig = { ...DEFAULT_CONFIG };
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) if (v !== undefined) (merged as unknown as Record<string, unknown>)[k] = v;
  }
  validatePartialConfig(merged, 'config');
  checkCombinations(merged);
  return merged;
}

/** Settings that are valid alone but not together; each error names both flags. */
function checkCombinations(config: RunConfig): void {
  // Label smoothing moves a target, and only these losses have one (wasserstein/hinge/relativistic do not).
  if (config.labelSmoothing > 0 && !['minimax', 'non-saturating', 'least-squares'].includes(config.loss)) {
    throw new UserError(`--label-smoothing needs a loss with a real target (minimax, non-saturating, least-squares); --loss ${config.loss} has none`);
  }
}
