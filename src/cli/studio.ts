import type { Command } from 'commander';
import { initBackend } from '../backend/index.js';

export function registerStudioCommand(program: Command, int: (flag: string) => (v: string) => number): void {
  program
    .command('studio')
    .description('serve a local web page to watch, compare and explore runs (live samples, curves, alerts, latents)')
    .option('--runs <dir>', 'folder of run folders', 'runs')
    .option('--port <n>', 'port', int('--port'), 7860)
    .option('--host <addr>', 'address to listen on; anything but 127.0.0.1/localhost requires the printed token', '127.0.0.1')
    .option('--token <t>', 'access token for a non-local --host (default: random)')
    .action(async (opts: { runs: string; port: number; host: string; token?: string }) => {
      // Sequence runs are sampled in this process (studio/sequences.ts): on ATen when it is built.
      await initBackend({ quiet: true });
      // Loaded here, not at the top: every other command runs without the web server's packages.
      const { startStudio } = await import('../studio/server.js');
      const studio = await startStudio(opts);
      process.stdout.write(`ganforge studio: watching ${opts.runs} at ${studio.url}\n`);
      if (studio.token) process.stdout.write('ganforge studio: listening beyond this machine; the token in that URL is required\n');
      const stop = () => void studio.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
