import type { DatasetInfo } from '../data/types.js';
import type { GanFamily, GanNetworks } from '../gan/family.js';
import type { OptionalSetting, RunConfig } from '../gan/config.js';
import { SeededInit } from '../nn/init.js';
import type { Rng } from '../util/rng.js';
import { rganDiscriminator, rganGenerator, type RecurrentGanSpec } from './nets/recurrent_nets.js';

/** Latent numbers per time step, the paper's `latent_dim` (the authors' settings files: 5). */
export const LATENT_PER_STEP = 5;

/**
 * The shared settings RGAN and RCGAN use: the loss and the D rounds of the standard step (with WGAN's clipping),
 * --latent-dim (T × the latent per step) and --hidden (both LSTMs' units). Penalties on ∇ₓD are left out: they
 * need the gradient of the LSTM's gradient, which the fused kernel does not provide.
 */
export const RGAN_HONOURS: readonly OptionalSetting[] = ['loss', 'nCritic', 'clipValue', 'latentDim', 'hidden'];

/**
 * The paper's sizes and schedule (Esteban et al. 2017, §3 and the authors' settings files): 100 hidden units in
 * both LSTMs, 5 latent numbers per step, batch 28, 5 D updates per G update, G on Adam at TensorFlow's default
 * rate 1e-3 (β1 0.9). The authors update D by plain gradient descent at 0.1; ganforge's players share one
 * optimizer kind, so D runs Adam too, at G's rate.
 */
export function rganDefaults(data: DatasetInfo): Partial<RunConfig> {
  return {
    latentDim: LATENT_PER_STEP * data.shape[0], hidden: 100, batchSize: 28, nCritic: 5,
    lrG: 1e-3, lrD: 1e-3, beta1: 0.9, beta2: 0.999, steps: 2000, sampleEvery: 250, checkpointEvery: 500,
  };
}

/**
 * null when the data are sequences (the trainer refuses other data first; this keeps `check` true on its own) and
 * --latent-dim splits into whole per-step latents, else a sentence naming the flag and a valid value.
 */
export function sequenceProblem(name: string, data: DatasetInfo, config: RunConfig): string | null {
  if (data.kind !== 'sequence') return `${name} trains on sequences (sines, csv:FILE, …), and ${data.name} is not sequence data`;
  const t = data.shape[0];
  if (config.latentDim % t === 0) return null;
  const near = Math.max(1, Math.round(config.latentDim / t)) * t;
  return `--latent-dim ${config.latentDim}: ${name} reads one latent vector per time step, so --latent-dim must be a multiple of the window (${t} steps); ` +
    `pass --latent-dim ${near} (${near / t} per step)`;
}

/** The networks' sizes on this data: G ends in a sigmoid where the data lie in [0, 1] (min-max or fixed scaling), else it is linear. */
export function recurrentSpec(data: DatasetInfo, config: RunConfig, classes: number): RecurrentGanSpec {
  const [steps, features] = data.shape;
  const output = data.sequence?.scaling.kind === 'standard' ? 'linear' : 'sigmoid';
  return { steps, features, latentPerStep: config.latentDim / steps, hidden: config.hidden, classes, output };
}

/** G and D of RGAN (classes 0) or RCGAN, with every initializer seeded from the run. */
export function buildRecurrentGan(data: DatasetInfo, config: RunConfig, rng: Rng, classes: number): GanNetworks {
  const init = new SeededInit(rng);
  const spec = recurrentSpec(data, config, classes);
  return { generator: rganGenerator(spec, init), discriminator: rganDiscriminator(spec, init) };
}

/**
 * Recurrent GAN (Esteban, Hyland & Rätsch 2017, "Real-valued (Medical) Time Series Generation with Recurrent
 * Conditional GANs", §2): G is an LSTM that reads a latent sequence z_1..z_T, z_t ~ N(0, I), and emits one
 * observation per step through a dense layer shared by all steps; D is an LSTM that reads a sequence and gives a
 * logit at every step. D's loss is the cross-entropy of every step's logit against the sequence's label (real 1,
 * generated 0), averaged over time steps and the batch; G's loss is the same average for its sequences labelled
 * real. The standard step does the rest: 5 D updates (each on a fresh batch and fresh latents) per G update.
 *
 * The latent sequence is the contract's flat latent z [B, latentDim] with latentDim = T × latentPerStep, reshaped to
 * [B, T, latentPerStep] inside G (step t reads numbers t·L … t·L + L − 1). So sampling, the progress pictures,
 * checkpoints and export see an ordinary noise generator, and `--latent-dim` sets the total (a multiple of T).
 */
export const rgan: GanFamily = {
  name: 'rgan',
  summary: 'recurrent GAN (Esteban et al. 2017): LSTM G over a latent sequence, LSTM D scoring every time step; sequence data',
  paper: 'Esteban, Hyland & Rätsch 2017, Real-valued (Medical) Time Series Generation with Recurrent Conditional GANs, arXiv:1706.02633',

  dataKinds: ['sequence'],
  honours: RGAN_HONOURS,

  defaults: rganDefaults,

  check: (data, config) => sequenceProblem('rgan', data, config),

  build: (data, config, rng) => buildRecurrentGan(data, config, rng, 0),

  // No step of its own: the standard step with --n-critic D updates; per-step logits make its mean a time average.
};
