import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_CONFIG, flagOf, type RunConfig } from '../gan/config.js';
import { LOSS_NAMES } from '../gan/losses.js';

/** What each config flag means, for --help. The flag is always flagOf(key). */
const HELP: Record<Exclude<keyof RunConfig, 'model'>, string> = {
  data: 'training data: fashion-mnist | mnist | folder:PATH | toy:ring8 | toy:grid25',
  steps: 'total training steps (one D and one G update each)',
  batchSize: 'examples per batch',
  lrG: 'generator learning rate (Adam)',
  lrD: 'discriminator learning rate (Adam)',
  beta1: "Adam's β1",
  beta2: "Adam's β2",
  loss: `adversarial loss: ${LOSS_NAMES.join(' | ')}`,
  latentDim: 'size of the latent vector z',
  seed: 'seed for weights, latents and data order',
  out: 'run folder to write',
  sampleEvery: 'write samples/step-N.png every N steps (0 = never)',
  checkpointEvery: 'write a checkpoint every N steps (0 = only at the end)',
  logEvery: 'append to metrics.jsonl every N steps',
  dataLimit: 'use only the first N training examples (0 = all)',
  imageSize: 'resize folder images to N×N (0 = size of the first image)',
  skipBad: 'skip image files that cannot be decoded (their count is reported) instead of stopping',
  hidden: 'hidden width of MLP models (vanilla)',
  width: 'base channel count of convolutional models (dcgan)',
  keepCheckpoints: 'how many checkpoints to keep',
  maxMinutes: 'stop after this many minutes of training (0 = no limit)',
  evalEvery: 'evaluate every N steps (0 = never): eval/NAME in metrics.jsonl, best checkpoint in checkpoints/best',
  evalMetrics: 'metrics for --eval-every, comma-separated; the first picks the best checkpoint',
  evalCount: 'generated and reference samples per evaluation',
  evalRef: "reference set for evaluation ('' = the training data's test split or toy mixture)",
  earlyStop: 'stop after N evaluations without improvement (0 = never)',
  explodeLoss: 'a |loss| above this counts as divergence, like NaN (0 = NaN/Inf only)',
  maxRollbacks: 'on divergence, roll back to the last good checkpoint this many times, then stop',
  rollbackLrFactor: 'each rollback multiplies both learning rates by this',
  optimizer: 'optimizer of both players: adam | rmsprop',
  nCritic: 'D (critic) updates per G update',
  gpWeight: 'gradient penalty λ on real/fake interpolates (WGAN-GP; 0 = off)',
  r1Gamma: 'R1 penalty γ on real data (0 = off)',
  r2Gamma: 'R2 penalty γ on generated data (0 = off)',
  regInterval: 'apply R1/R2 every N steps, scaled by N (lazy regularization)',
  clipValue: 'clip D weights to [-c, c] after each D update (WGAN; 0 = off)',
  labelSmoothing: "one-sided label smoothing α: D's real target 1 − α (minimax, non-saturating, least-squares; 0 = off)",
  instanceNoise: 'instance noise σ₀ on every input of D, annealed to 0 (0 = off; σ in stats as trick/noise-sigma)',
  instanceNoiseSteps: "steps over which --instance-noise anneals to 0 (0 = the run's --steps)",
  instanceNoiseAnneal: 'annealing of --instance-noise: linear | exponential',
  featureMatching: "weight of feature matching in G's loss: ‖mean f(x) − mean f(G(z))‖², f = input of D's last dense (0 = off)",
  minibatchDiscrimination: "minibatch-discrimination kernels before D's last dense layer (vanilla, dcgan; 0 = off)",
  minibatchStddev: "minibatch-stddev feature before D's last dense layer over groups of N (Karras: 4; 0 = off)",
  historicalAveraging: "historical averaging weight on D: ‖θ − mean of past θ‖² in D's loss (0 = off)",
  historicalAveragingG: "historical averaging weight on G's parameters (0 = off)",
  emaDecay: "keep an EMA of G's weights with this decay (e.g. 0.999) for sampling and evaluation (0 = off)",
  diffAugment: "DiffAugment on D's inputs in both phases, comma-separated: translation,cutout,color ('' = off; images only)",
  gradClip: "clip each player's gradient to this global norm (0 = off)",
};

/** A commander argument parser: the flag's value as a number (an integer when asked), else an error naming the flag. */
export function parseNumber(flag: string, integer: boolean) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
      throw new InvalidArgumentError(`${flag} needs ${integer ? 'an integer' : 'a number'}, got '${value}'`);
    }
    return n;
  };
}

/** Add one flag per config key (defaults shown in --help; model families may change them, see `ganforge models`). */
export function addConfigOptions(cmd: Command): Command {
  for (const [key, about] of Object.entries(HELP) as [keyof RunConfig, string][]) {
    const def = DEFAULT_CONFIG[key];
    const flag = flagOf(key);
    // A boolean setting is a bare switch (--skip-bad), not a flag taking a value.
    const opt = typeof def === 'boolean' ? new Option(flag, about).default(def) : new Option(`${flag} <${typeof def === 'number' ? 'n' : 'value'}>`, about).default(def);
    if (typeof def === 'number') opt.argParser(parseNumber(flag, Number.isInteger(def) && !/^lr|beta|maxMinutes|explodeLoss|rollbackLrFactor|gpWeight|Gamma|clipValue|labelSmoothing|^instanceNoise$|featureMatching|historicalAveraging|emaDecay|gradClip/.test(key)));
    if (key === 'loss') opt.choices(LOSS_NAMES);
    if (key === 'optimizer') opt.choices(['adam', 'rmsprop']);
    if (key === 'instanceNoiseAnneal') opt.choices(['linear', 'exponential']);
    cmd.addOption(opt);
  }
  return cmd;
}

/** Only the options the user actually typed: defaults must not mask a family's or a preset's values. */
export function explicitConfig(cmd: Command): Partial<RunConfig> {
  const out: Record<string, unknown> = {};
  const values = cmd.opts();
  for (const key of Object.keys(HELP)) {
    if (cmd.getOptionValueSource(key) === 'cli') out[key] = values[key];
  }
  return out as Partial<RunConfig>;
}
