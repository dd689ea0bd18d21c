/**
 * npm run bench:vaegan-gamma — VAE/GAN's decoder weight γ and the balance rule, over seeds: each arm trains
 * `ganforge train vaegan` on Fashion-MNIST (`--steps`, `--width`) and scores it with `ganforge eval --metrics fid
 * --count N` (against fashion-mnist:test, the run's own data's test split), then prints FID mean ± std per arm.
 *
 *   node dist/bench/vaegan_gamma.js [--gammas 1e-6,1e-2] [--margins 0.4,0] [--seeds 0,1,2] [--steps 300] [--width 16] [--count 1000]
 *
 * Arms are every γ with the first margin, and the second and later margins with the last γ (the rule matters where
 * the decoder learns at all).
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ganforge } from './child.js';
import { formatMeanStd, formatPerSeed, parseSeeds } from './seeds.js';

const { values } = parseArgs({
  options: {
    gammas: { type: 'string', default: '1e-6,1e-2' }, margins: { type: 'string', default: '0.4,0' }, seeds: { type: 'string', default: '0,1,2' },
    steps: { type: 'string', default: '300' }, width: { type: 'string', default: '16' }, count: { type: 'string', default: '1000' },
  },
});
const list = (s: string) => s.split(',').filter((v) => v !== '');
const gammas = list(values.gammas!), margins = list(values.margins!), seeds = parseSeeds(values.seeds);
const arms = [...gammas.map((g) => [g, margins[0]]), ...margins.slice(1).map((m) => [gammas.at(-1)!, m])];

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-vaegan-gamma-'));
console.log(`bench:vaegan-gamma — fashion-mnist, ${values.steps} steps, width ${values.width}, FID on ${values.count} vs fashion-mnist:test, seeds ${seeds.join(', ')}`);
try {
  for (const [gamma, margin] of arms) {
    const fids: number[] = [];
    for (const seed of seeds) {
      const out = path.join(tmp, `g${gamma}-m${margin}-s${seed}`);
      await ganforge(['train', 'vaegan', '--data', 'fashion-mnist', '--steps', values.steps!, '--width', values.width!, '--seed', String(seed),
        '--gamma', gamma, '--equilibrium-margin', margin, '--sample-every', '0', '--out', out], `γ ${gamma} m ${margin} s${seed}`);
      const e = JSON.parse(await ganforge(['eval', out, '--metrics', 'fid', '--count', values.count!, '--json'], 'eval')) as { values: { fid: number } };
      fids.push(e.values.fid);
      await fs.rm(out, { recursive: true, force: true });
    }
    console.log(`gamma ${gamma.padEnd(6)} margin ${margin.padEnd(4)} FID ${formatMeanStd(fids, 1)} | ${formatPerSeed(fids, 1)}`);
  }
} finally {
  await fs.rm(tmp, { recursive: true, force: true });
}
