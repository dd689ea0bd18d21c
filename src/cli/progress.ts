import cliProgress from 'cli-progress';
import type { Trainer } from '../gan/trainer.js';

const fmt = (x: number | undefined, digits = 3) => (x === undefined ? '-' : x.toFixed(digits));

/**
 * Shows training progress from the trainer's stats channel: a live bar on a terminal, or a plain line
 * every ~5 % of the run when output goes to a file or CI log.
 */
export function attachProgress(trainer: Trainer): () => void {
  const total = trainer.parts.config.steps;
  let ips: number | undefined;
  const smooth = (v: number) => (ips = ips === undefined ? v : 0.9 * ips + 0.1 * v);
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: 'step {value}/{total} |{bar}| {ips} img/s | D {lossD} G {lossG} | ETA {eta_formatted}', stream: process.stderr, etaBuffer: 50, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, trainer.step, { ips: '-', lossD: '-', lossG: '-' });
    const off = trainer.stats.subscribe((step, s) => bar.update(step, { ips: fmt(smooth(s['img/s']), 1), lossD: fmt(s['loss/D']), lossG: fmt(s['loss/G']) }));
    return () => {
      off();
      bar.stop();
    };
  }
  const every = Math.max(1, Math.round(total / 20));
  const started = Date.now();
  const startStep = trainer.step;
  return trainer.stats.subscribe((step, s) => {
    smooth(s['img/s']);
    if (step % every !== 0 && step !== total) return;
    const perStep = (Date.now() - started) / Math.max(1, step - startStep);
    const eta = Math.round((perStep * (total - step)) / 1000);
    process.stderr.write(`step ${step}/${total} | ${fmt(ips, 1)} img/s | D ${fmt(s['loss/D'])} G ${fmt(s['loss/G'])} | ETA ${eta}s\n`);
  });
}
