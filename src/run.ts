import * as tf from '@tensorflow/tfjs-core';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { MODELS, getModel } from './models/registry.js';
import { loadData, sequenceFlagsOf, type SequenceLoadOptions } from './data/registry.js';
import { maskOptionsOf } from './data/masks.js';
import { lowresOptions } from './data/derived.js';
import { BatchStream } from './data/batches.js';
import { isStored, type DataSource, type TextConditionInfo } from './data/types.js';
import { flagOf, resolveConfig, resolveFamilyConfig, sequenceLoadOptions, type RunConfig } from './gan/config.js';
import { playersOf } from './gan/family.js';
import { checkHonoured, checkLossTarget, unusedSettings } from './gan/settings.js';
import { Trainer } from './gan/trainer.js';
import { averageGradientsOver, shardOf, weightsFromRoot, type Collectives } from './gan/replicas.js';
import { makeEvaluator } from './training_eval.js';
import { loadCheckpoint } from './gan/checkpoint.js';
import { restoreOptimizers } from './gan/optimizers.js';
import { conditionProblem, disposeState, freshState } from './gan/training_step.js';
import { checkInit, initGenerator } from './gan/init_from.js';
import { RunFolder } from './gan/run_folder.js';
import { Rng } from './util/rng.js';
import { UserError } from './util/errors.js';
import { parseColour } from './util/colour.js';
import { exists } from './util/fs.js';
import { attachTrickNetworks, createTrickState, trickProblem } from './gan/tricks/index.js';
import { prepareTextEncoders, useEncoderVocabulary } from './text/run_encoders.js';

/**
 * Start a fresh run: load the data, let the model family fill in its paper's defaults under the user's
 * settings, build the networks from the seed, and write config.json. `userConfig` holds only what the user
 * set (flags, --config file, preset); everything else comes from the family, then DEFAULT_CONFIG.
 */
export async function startRun(userConfig: Partial<RunConfig>, opts: { preset?: Partial<RunConfig>; source?: DataSource; group?: Collectives } = {}): Promise<Trainer> {
  const family = getModel(userConfig.model ?? opts.preset?.model ?? resolveConfig().model);
  const settings = family.settings ?? {};
  const draft = resolveFamilyConfig(settings, opts.preset ?? {}, userConfig);
  checkDataFlags(userConfig, draft.data);
  const source = opts.source ?? (await loadSource(draft)); // in-memory data from a library user, or --data
  // The data must provide what the family consumes, and every setting the user gave must be one it uses.
  const mismatch = conditionProblem(family, source.info);
  if (mismatch) throw new UserError(mismatch);
  checkLossTarget(family, source.info, userConfig, Object.values(MODELS));
  checkHonoured(family, source.info, userConfig);
  // --text-encoder: the captions take the pretrained encoder's token ids before the family sizes its networks.
  for (const notice of await useEncoderVocabulary(source, draft.textEncoder, userConfig.textEncoderSteps)) process.stderr.write(`ganforge: ${notice}\n`);
  const config = resolveFamilyConfig(settings, family.defaults(source.info), presetFor(family, source.info, opts.preset), userConfig);
  augmentSource(source, config);
  const problem = family.check(source.info, config) ?? trickProblem(source.info, config);
  if (problem) throw new UserError(problem);
  const evaluator = makeEvaluator(config, source.info, family); // validates --eval-metrics before anything is written
  await checkInit(family, config);

  // Rank 0 of a data-parallel run owns the folder; the others wait until it has checked and made it.
  const leader = (opts.group?.rank ?? 0) === 0;
  const run = new RunFolder(config.out);
  if (leader && (await exists(run.checkpoints))) {
    throw new UserError(`'${config.out}' already holds a run; continue it with 'ganforge resume ${config.out}' or choose another --out`);
  }

  // The networks (with the tricks' copies), optimizers, batch stream and latent RNG, seeded per concern;
  // G taken from another run when --init names one (every rank reads the same checkpoint). Before the folder
  // is written, so that a G that does not fit --init's leaves nothing behind.
  const state = freshState(family, source, config, opts.group);
  try {
    await initGenerator(family, state.nets, config);
    if (leader) {
      await fs.mkdir(config.out, { recursive: true });
      await run.writeConfig(config);
    }
    await prepareTextEncoders(state.nets, source, config, { leader }); // DAMSM encoders: --text-encoder's, or pretrained now
  } catch (e) {
    disposeState(state);
    throw e;
  }
  return new Trainer({ ...state, source, evaluator });
}

/** Continue a run from its newest checkpoint, to `steps` total (default: the run's own target). */
export async function resumeRun(dir: string, opts: { steps?: number; source?: DataSource; group?: Collectives } = {}): Promise<Trainer> {
  const ck = await loadCheckpoint(dir);
  // The run folder is where the loaded checkpoint lives (RUN/checkpoints/NAME), not the `out` saved in its
  // config: a run that was moved or copied must continue where it is now, not write into its old place.
  const out = path.dirname(path.dirname(ck.dir));
  const family = getModel(ck.state.config.model);
  const config = resolveFamilyConfig(family.settings ?? {}, ck.state.config, { out }, opts.steps === undefined ? {} : { steps: opts.steps });
  if (config.steps <= ck.state.step) {
    tf.dispose(Object.values(ck.optimizerWeights).flat().map((w) => w.tensor));
    throw new UserError(`run '${dir}' is already at step ${ck.state.step}; pass --steps N with N > ${ck.state.step} to train further`);
  }
  if ((opts.group?.rank ?? 0) === 0) await new RunFolder(config.out).writeConfig(config);
  // Captions keep the token ids the checkpoint's networks learnt, whatever the caption files say now.
  const source = opts.source ?? (await loadSource(config, ck.state.data.text));
  augmentSource(source, config);
  // Every rank loads the same checkpoint (the run folder must be one they all see), on any number of ranks:
  // the data order and the latent RNG it saved are the global ones.
  const group = opts.group;
  const restored = await restoreOptimizers(config, ck.optimizerWeights, ck.state.optimizerScalars, playersOf(family), ck.state.step);
  const optimizers = group ? averageGradientsOver(restored, group) : restored;
  if (group) weightsFromRoot(ck.nets, group);
  const familyState = family.createState?.(source.info, config);
  if (familyState && ck.familyState) familyState.restore(ck.familyState);
  if (ck.familyState) tf.dispose(ck.familyState.tensors.map((t) => t.tensor));
  // The EMA of G and historical averages come back from the checkpoint; a run whose checkpoint predates them gets fresh copies.
  attachTrickNetworks(ck.nets, config);
  const tricks = createTrickState(config); // ADA's p, as the checkpoint saved it
  tricks?.restore(ck.state.tricks);
  const stream = new BatchStream(source, { batchSize: config.batchSize, rng: new Rng(0), shard: shardOf(group) });
  stream.restore(ck.state.stream as ReturnType<BatchStream['state']>);
  return new Trainer({
    config,
    family,
    source,
    data: source.info,
    familyState,
    tricks,
    nets: ck.nets,
    optimizers,
    stream,
    latentRng: Rng.fromState(ck.state.rng.latent),
    step: ck.state.step,
    evaluator: makeEvaluator(config, source.info, family),
    evalBest: ck.state.evalBest,
    group,
  });
}

/** A preset's settings that this family uses (a preset is generic: e.g. smoke's --hidden means nothing to dcgan). */
function presetFor(family: Parameters<typeof checkHonoured>[0], data: Parameters<typeof checkHonoured>[1], preset: Partial<RunConfig> | undefined): Partial<RunConfig> {
  if (!preset) return {};
  const unused = new Set<string>(unusedSettings(family, data, preset));
  return Object.fromEntries(Object.entries(preset).filter(([k]) => !unused.has(k))) as Partial<RunConfig>;
}

/**
 * Put the run's --augment and --xflip on its data (BatchStream applies them per batch with the stream's RNG,
 * so resume stays exact). Loading happens before the family's defaults are known, so this is set after the
 * config is resolved.
 */
function augmentSource(source: DataSource, config: RunConfig): void {
  if (config.xflip) {
    if (source.kind === 'sampler' && source.info.kind === 'image') throw new UserError(`--xflip doubles a fixed set of images; ${source.info.name} draws random crops, flipped at random already: drop --xflip`);
    if (!isStored(source) || source.info.kind !== 'image') throw new UserError(`--xflip mirrors images, and ${source.info.name} is not image data`);
    source.xflip = true;
  }
  if (config.augment === 'none') return;
  // Random crops (photos, --random-crop) are drawn cropped and flipped already: crop/flip is what they are.
  if (source.kind === 'sampler' && source.info.kind === 'image') return;
  if (!isStored(source) || source.info.kind !== 'image') throw new UserError(`--augment ${config.augment} works on images, and ${source.info.name} is not image data; pass --augment none`);
  const side = source.info.shape[0];
  const crop = config.augment === 'crop' || config.augment === 'crop-flip';
  const loadSize = crop ? config.loadSize || Math.round((side * 286) / 256) : undefined;
  if (loadSize !== undefined && loadSize < Math.max(source.info.shape[0], source.info.shape[1])) {
    throw new UserError(`--load-size ${loadSize} is smaller than the ${source.info.shape[0]}×${source.info.shape[1]} images; it must be at least their size`);
  }
  source.augment = { loadSize, flip: config.augment === 'flip' || config.augment === 'crop-flip' };
}

/** The lowres: flags describe a degradation, and --random-crop a way of reading a folder: given for other data they would do nothing, so they are refused. */
const LOWRES_FLAGS = ['scale', 'downsample', 'blur', 'noise', 'jpeg', 'upsampleInput'] as const;

function checkDataFlags(user: Partial<RunConfig>, data: string): void {
  const lowres = LOWRES_FLAGS.filter((k) => user[k] !== undefined).map(flagOf);
  if (lowres.length > 0 && !data.startsWith('lowres:')) throw new UserError(`${lowres.join(', ')} describe lowres: data (super-resolution), and --data ${data} is not; use --data lowres:${data}`);
  if (user.randomCrop && !/^(lowres:)?folder:/.test(data)) throw new UserError(`--random-crop reads folder:PATH images at their own size (photos always crops); --data ${data} is not a folder`);
  // The sequence flags say how rows become windows: data that is not read from rows would ignore them.
  const given = SEQUENCE_FLAGS.filter((k) => user[k] !== undefined);
  const read = sequenceFlagsOf(data);
  const ignored = given.filter((k) => !read?.includes(k));
  if (ignored.length > 0) {
    const flags = ignored.map(flagOf).join(', ');
    throw new UserError(read
      ? `${flags} ${ignored.length > 1 ? 'do' : 'does'} not apply to --data ${data}, which reads only ${read.map(flagOf).join(', ')}`
      : `${flags} describe${ignored.length > 1 ? '' : 's'} sequence data (csv:FILE, stocks:sp500, ecg, weather, sensors, sines), and --data ${data} is not`);
  }
}

/** The RunConfig keys that become SequenceLoadOptions (same names). */
const SEQUENCE_FLAGS = ['columns', 'timeColumn', 'conditionColumn', 'idColumn', 'window', 'stride', 'scaling', 'fill'] as const satisfies readonly (keyof SequenceLoadOptions & keyof RunConfig)[];

async function loadSource(config: RunConfig, text?: TextConditionInfo): Promise<DataSource> {
  const source = await loadData(config.data, {
    ...lowresOptions(config),
    ...(config.randomCrop ? { randomCrop: true } : {}),
    limit: config.dataLimit || undefined,
    imageSize: config.imageSize || undefined,
    skipBad: config.skipBad || undefined,
    maxWords: config.maxWords,
    ...(text ? { vocab: text.vocab, maxLen: text.maxLen } : {}),
    ordinal: config.ordinal || undefined,
    sequence: sequenceLoadOptions(config),
    stream: config.stream,
    background: parseColour(config.background),
    masks: maskOptionsOf(config),
    ...(config.direction === 'BtoA' ? { direction: config.direction } : {}),
  });
  for (const notice of source.notices ?? []) process.stderr.write(`ganforge: ${notice}\n`);
  // Skipping must not be silent: the person asked for it, and should see how much data it cost.
  if (isStored(source) && source.skipped) {
    process.stderr.write(`ganforge: --skip-bad: skipped ${source.skipped} unreadable image file(s) in ${config.data}; training on ${source.count}\n`);
  }
  return source;
}
