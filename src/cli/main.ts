#!/usr/bin/env -S node --single-threaded --max-semi-space-size=32
import { Command, CommanderError, Option } from 'commander';
import { addConfigOptions, explicitConfig, parseNumber } from './options.js';
import { doctorCommand, infoCommand, modelsCommand, resumeCommand, sampleCommand, trainCommand, type SampleOptions } from './commands.js';
import { PRESETS } from './presets.js';
import { registerEvalCommand } from './eval.js';
import { registerExportCommand } from './export.js';
import { registerEncodeCommand } from './encode.js';
import { registerStudioCommand } from './studio.js';
import { registerTranslateCommand } from './translate.js';
import { registerRefineCommand } from './refine.js';
import { registerUpscaleCommand } from './upscale.js';
import { registerInpaintCommand } from './inpaint.js';
import { registerProjectCommand } from './style_tools.js';
import { registerInterpolateCommand } from './interpolate.js';
import { registerTextEncoderCommand } from './text_encoder.js';
import { registerEditCommand } from './edit.js';
import { registerAugmentCommand } from './augment.js';
import { addLaunchOptions, type LaunchOptions } from './launch.js';
import { MODELS, MODEL_NAMES } from '../models/registry.js';
import { UserError } from '../util/errors.js';

const program = new Command('ganforge')
  .description('Train, sample and inspect Generative Adversarial Networks.')
  .showSuggestionAfterError(true)
  .exitOverride();

const backendOption = () => new Option('--backend <name>', 'tensor backend: auto | aten | cpu (env GANFORGE_BACKEND)');
const int = (flag: string) => parseNumber(flag, true);

const train = program
  .command('train')
  .description(`train a GAN; models: ${MODEL_NAMES.join(', ')} (see 'ganforge models')`)
  .argument('<model>', `model family: ${MODEL_NAMES.join(' | ')}`)
  .option('--config <file>', 'JSON file of settings (same keys as the flags, camelCase); flags override it')
  .option('--preset <name>', `named settings: ${Object.keys(PRESETS).join(' | ')}`)
  .addOption(backendOption());
const families = Object.values(MODELS);
addLaunchOptions(train, int);
addConfigOptions(train, families).action(async (model: string, opts: { config?: string; preset?: string; backend?: string } & LaunchOptions, cmd: Command) => {
  await trainCommand(model, explicitConfig(cmd, families), opts);
});

const resume = program
  .command('resume')
  .description('continue a run from its newest checkpoint (on any number of ranks)')
  .argument('<run-dir>', 'the --out folder of a training run')
  .option('--steps <n>', 'train until this many steps in total (default: the run’s own target)', int('--steps'))
  .addOption(backendOption());
addLaunchOptions(resume, int).action((dir: string, opts: { steps?: number; backend?: string } & LaunchOptions) => resumeCommand(dir, opts));

program
  .command('sample')
  .description('draw samples from a trained generator into .npy (uint8 [N,H,W,C] images, float32 [N,2] points, float32 [N,T,F] sequences in original units), .csv (sequences: one row per step) or .png')
  .argument('<run-or-checkpoint>', 'a run folder (newest checkpoint) or a checkpoint folder')
  .requiredOption('--out <file>', 'output file: .npy, .csv (sequence runs) or .png')
  .option('--count <n>', 'number of samples', int('--count'), 64)
  .option('--seed <n>', 'seed for the latents', int('--seed'), 0)
  .option('--class <k>', 'class to draw from a conditional model (cgan, acgan, biggan, stylegan2 on labelled data), by index or by name (a class folder\'s name); default: cycle through the classes', (v: string) => (/^\d+$/.test(v.trim()) ? Number(v) : v))
  .option('--condition <value>', "a conditional run's condition by name (rcgan: a value of the CSV's --condition-column; a class-conditional run: a class name) or index")
  .option('--code <name=value>', 'infogan runs: fix latent codes, e.g. cat=3 or cat=3,cont1=0.5 (repeatable); the rest are drawn from the prior', (v: string, all: string[]) => [...all, v], [] as string[])
  .option('--vary <name>', 'infogan runs: sweep one code along the grid’s columns (cont0, cont1: −2 … 2 in 9 steps; cat: 0 … 9); rows are the categories, or ⌊count / columns⌋ draws when cat is fixed')
  .option('--raw', 'sample the trained generator itself, not its EMA copy (runs trained with --ema-decay)')
  .option('--truncation <psi>', 'the truncation trick (stylegan2: w toward the mean w; biggan: truncated z), ψ in (0, 1]; smaller: more typical, less varied', parseNumber('--truncation', false))
  .option('--standing-stats <n>', "BigGAN's standing statistics: batch-norm statistics averaged over N training-mode passes of fresh latents (and classes) replace G's moving averages for this sampling (16 is BigGAN's); the run is not changed", int('--standing-stats'))
  .option('--style-mix <seeds...>', 'stylegan2: the style-mixing grid of ROW_SEEDS COL_SEEDS (two comma lists, e.g. 1,2,3 10,11); writes a .png')
  .option('--mix-layers <a-b>', 'with --style-mix: the style inputs taken from the column seeds (0 = coarsest, 4×4); default: the coarse half')
  .option('--text <sentence>', 'text-to-image runs: a sentence to draw (repeatable; samples cycle through them)', (v: string, all: string[]) => [...all, v], [] as string[])
  .option('--text-file <file>', 'text-to-image runs: sentences to draw, one per line (blank lines skipped)')
  .option('--text-to <sentence>', 'text-to-image runs: interpolate from the one --text sentence to this one across --count samples, with one latent')
  .addOption(backendOption())
  .action((target: string, opts: SampleOptions) => sampleCommand(target, opts));

program.command('info').description('model, config, step and last losses of a run').argument('<run-dir>').action((dir: string) => infoCommand(dir));
program.command('models').description('list the model families').action(() => modelsCommand());
program.command('doctor').description('show the active backend, libtorch version, device, threads and BLAS').action(() => doctorCommand());
registerEvalCommand(program, int);
registerExportCommand(program);
registerEncodeCommand(program);
registerStudioCommand(program, int);
registerTranslateCommand(program);
registerRefineCommand(program, int);
registerUpscaleCommand(program, int);
registerInpaintCommand(program);
registerProjectCommand(program, int);
registerInterpolateCommand(program);
registerTextEncoderCommand(program, int);
registerEditCommand(program, int, (flag) => parseNumber(flag, false));
registerAugmentCommand(program, int);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // commander already printed its message (unknown option, missing argument, --help …)
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else if (e instanceof UserError) {
    process.stderr.write(`ganforge: ${e.message}\n`);
    process.exitCode = 2;
  } else {
    throw e;
  }
}
