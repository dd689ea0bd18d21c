import type { Command } from 'commander';
import { exportGenerator } from '../studio/export.js';
import { initBackend } from '../backend/index.js';

export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description('write a self-contained generator for web pages: manifest.json, TF.js model files, vendored TF.js, generator.js with generate(z, label?), translate(pixels, direction?), or for style-based generators generate(z, { truncation, label }), mapping, synthesize and mix')
    .argument('<run-or-checkpoint>', 'a run folder (newest checkpoint) or a checkpoint folder')
    .requiredOption('--out <dir>', 'output folder (created)')
    .action(async (target: string, opts: { out: string }) => {
      await initBackend({ quiet: true }); // a text run's encoder is read with tensors; pick the backend as every command does
      const { dir, checkpoint, info } = await exportGenerator(target, opts.out);
      const what = info.directions
        ? `translator ${Object.keys(info.directions).join(', ')}, ${info.shapes.input!.join('×')} → ${info.shapes.output.join('×')}`
        : info.style
          ? `style-based: z ${info.style.zDim} → w ${info.style.wDim}, ${info.style.numWs} style inputs, ${info.shapes.output.join('×')}`
          : `latent ${info.latentDim}, ${info.shapes.output.join('×')}`;
      process.stdout.write(`ganforge: exported ${checkpoint} → ${dir} (${what}); serve ${dir} and open index.html\n`);
    });
}
