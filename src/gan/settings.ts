import type { DatasetInfo } from '../data/types.js';
import { OPTIONAL_SETTINGS, flagOf, resolveFamilyConfig, type OptionalSetting, type RunConfig } from './config.js';
import { honouredSettings, type GanFamily } from './family.js';
import { UserError } from '../util/errors.js';

/**
 * Groups of optional shared settings, for families to declare what they honour (GanFamily.honours).
 * A family lists the groups its step and networks really use; anything else a person sets is refused.
 */
export const HONOURS = {
  /** The adversarial loss and the critic loop of the standard step: loss, n_critic, GP/R1/R2, clipping. */
  standardStep: ['loss', 'nCritic', 'gpWeight', 'r1Gamma', 'r2Gamma', 'regInterval', 'clipValue'],
  /** Tricks that act inside the shared D and G phases (src/gan/tricks). */
  phaseTricks: ['labelSmoothing', 'instanceNoise', 'instanceNoiseSteps', 'instanceNoiseAnneal', 'featureMatching', 'historicalAveraging', 'historicalAveragingG', 'gradClip'],
  /** Augmentation of D's inputs, DiffAugment or ADA: images, and a D loss that goes through the step tricks' discriminatorLoss (ADA reads D's real outputs there). */
  augment: ['diffAugment', 'adaTarget', 'adaInterval', 'adaKimg', 'adaP', 'adaResample', 'adaPipe'],
  /** The moving average of G's weights used for sampling. */
  ema: ['emaDecay'],
  /** Text-conditioned families: caption length, and the DAMSM encoders (--text-encoder) or the steps of the pretraining phase that makes them. */
  text: ['maxWords', 'textEncoder', 'textEncoderSteps'],
  /** Minibatch layers before D's last dense layer (D builders that insert them). */
  minibatch: ['minibatchDiscrimination', 'minibatchStddev'],
} as const satisfies Record<string, readonly OptionalSetting[]>;

/** A family's configuration on `data` as `ganforge train` makes it: its own settings' defaults, its defaults for the data, then `layers`. */
export function familyConfig(family: GanFamily, data: DatasetInfo, ...layers: Partial<RunConfig>[]): RunConfig {
  return resolveFamilyConfig(family.settings ?? {}, family.defaults(data), ...layers);
}

/** The optional settings among `given` (a user's flags, --config file, or a preset) that `family` does not use on `data`. */
export function unusedSettings(family: GanFamily, data: DatasetInfo, given: Partial<RunConfig>): OptionalSetting[] {
  const honoured = new Set<string>(honouredSettings(family, data));
  return OPTIONAL_SETTINGS.filter((key) => key in given && given[key] !== undefined && !honoured.has(key));
}

/**
 * Refuse settings the family would silently ignore: every optional shared setting the user gave must be one
 * the family honours on this data. The error names each flag and what the family does use.
 */
export function checkHonoured(family: GanFamily, data: DatasetInfo, given: Partial<RunConfig>): void {
  const unused = unusedSettings(family, data, given);
  if (unused.length === 0) return;
  const honoured = honouredSettings(family, data).map(flagOf);
  const flags = unused.map(flagOf).join(', ');
  throw new UserError(
    `${flags}: ${family.name} does not use ${unused.length === 1 ? 'this setting' : 'these settings'} on ${data.name}; drop ${unused.length === 1 ? 'it' : 'them'}` +
      (honoured.length > 0 ? ` (of the optional settings it uses ${honoured.join(', ')})` : ''),
  );
}

/** Join groups and single settings into one honours list (false entries are left out). */
export function honourList(...parts: (readonly OptionalSetting[] | OptionalSetting | false)[]): OptionalSetting[] {
  return [...new Set(parts.flatMap((p) => (p === false ? [] : typeof p === 'string' ? [p] : [...p])))];
}

/**
 * What a family honours when it is the standard step over vanilla's MLPs (2-D points) or DCGAN's conv nets
 * (images): the whole standard step, every phase trick, DiffAugment on images, EMA, and the backbone's size
 * (--hidden for points, --width for images); `minibatch` when its D is the backbone's own.
 */
export function backboneHonours(data: DatasetInfo, opts: { minibatch: boolean; mlpOnImages?: boolean }): OptionalSetting[] {
  const mlp = data.kind === 'points' || opts.mlpOnImages === true;
  return honourList(HONOURS.standardStep, HONOURS.phaseTricks, HONOURS.ema, 'latentDim', data.kind === 'image' && HONOURS.augment,
    mlp ? 'hidden' : 'width', opts.minibatch && HONOURS.minibatch);
}

/**
 * Refuse `--loss` on a family whose D outputs an energy rather than a score (GanFamily.discriminatorOutput): every
 * adversarial loss, the f-GAN ones included, reads D's output as a score. `families` are those to suggest instead.
 */
export function checkLossTarget(family: GanFamily, data: DatasetInfo, given: Partial<RunConfig>, families: readonly GanFamily[]): void {
  if (given.loss === undefined || (family.discriminatorOutput ?? 'score') === 'score') return;
  // Those that can train on this data at their own defaults (pix2pix honours --loss but needs paired images).
  const trains = (f: GanFamily) => f.check(data, familyConfig(f, data, { model: f.name })) === null;
  const scoring = families.filter((f) => (f.discriminatorOutput ?? 'score') === 'score' && honouredSettings(f, data).includes('loss') && trains(f)).map((f) => f.name);
  throw new UserError(
    `${flagOf('loss')} ${given.loss} reads D's output as a score (a logit, or f-GAN's variational function V), but ${family.name}'s D outputs an ` +
      `energy (an autoencoder's reconstruction error) that only its own loss reads; drop ${flagOf('loss')}, or train a family whose D scores ` +
      `its input and takes ${flagOf('loss')} on this data (${scoring.join(', ')})`,
  );
}
