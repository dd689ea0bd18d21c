import type { Command } from 'commander';
import { interpolateRuns } from '../gan/interpolate.js';
import { initBackend } from '../backend/index.js';
import { parseNumber } from './options.js';

/** `ganforge interpolate RUN_PSNR RUN_GAN --alpha a --out RUN`: ESRGAN's network interpolation (§3.4). */
export function registerInterpolateCommand(program: Command): void {
  program
    .command('interpolate')
    .description("blend two runs' generators of one architecture, θ = (1 − α)·θ_PSNR + α·θ_GAN (ESRGAN §3.4), into a run folder that sample/translate/eval/export read")
    .argument('<psnr-run>', 'the PSNR-oriented run (e.g. srresnet --generator rrdb --pixel-loss l1)')
    .argument('<gan-run>', 'the GAN run started from it with --init (e.g. esrgan)')
    .requiredOption('--alpha <a>', 'α in [0, 1]: 0 = the PSNR run, 1 = the GAN run (the paper shows 0.8)', parseNumber('--alpha', false))
    .requiredOption('--out <dir>', 'run folder to write')
    .option('--backend <name>', 'tensor backend: auto | aten | cpu (env GANFORGE_BACKEND)')
    .action(async (psnr: string, gan: string, opts: { alpha: number; out: string; backend?: string }) => {
      await initBackend({ prefer: opts.backend });
      const dir = await interpolateRuns(psnr, gan, opts.alpha, opts.out);
      process.stderr.write(`ganforge: interpolated G with α = ${opts.alpha} → ${dir}\n`);
    });
}
