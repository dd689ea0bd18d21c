/**
 * BEGAN's convergence measure M and equilibrium variable k over one run, as the README's figure:
 *
 *   npm run bench:began-curve -- [--steps 3000] [--width 16] [--batch 16] [--seed 0] [--m-patience 1000]
 *        [--out docs/began-curve.png] [--run DIR] [--redraw]
 *
 * Trains began on Fashion-MNIST (28×28) with the given size through `startRun` (exactly `ganforge train began`),
 * logging every 10 steps, then draws M (with L(x) and L(G(z)) beside it) and k from the run's metrics.jsonl into one
 * PNG of two panels, and prints the first and last logged values and the learning-rate decays. The run folder is
 * a temporary one unless --run names it (its samples/final.png is the run's last grid); --redraw draws the figure
 * again from the run already in --run DIR without training.
 */
import '@tensorflow/tfjs-layers';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { initBackend } from '../src/backend/index.js';
import { startRun } from '../src/run.js';
import { lineChartPng } from '../src/io/chart.js';
import type { RunConfig } from '../src/gan/config.js';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '3000' }, width: { type: 'string', default: '16' }, batch: { type: 'string', default: '16' },
    seed: { type: 'string', default: '0' }, 'm-patience': { type: 'string', default: '1000' },
    out: { type: 'string', default: 'docs/began-curve.png' }, run: { type: 'string' }, redraw: { type: 'boolean', default: false },
  },
});
const backend = await initBackend({ quiet: true });
const dir = values.run ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-began-')));
const steps = Number(values.steps);
let seconds = 0;
if (!values.redraw) {
  const t0 = performance.now();
  const trainer = await startRun({
    model: 'began', data: 'fashion-mnist', steps, width: Number(values.width), batchSize: Number(values.batch), seed: Number(values.seed),
    mPatience: Number(values['m-patience']), logEvery: 10, sampleEvery: Math.max(1, Math.floor(steps / 4)), checkpointEvery: steps, out: path.join(dir, 'run'),
  } as Partial<RunConfig>);
  try {
    await trainer.train();
  } finally {
    trainer.dispose();
  }
  seconds = (performance.now() - t0) / 1000;
}

const records = (await fs.readFile(path.join(dir, 'run', 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>)
  .filter((r) => r.event === undefined && typeof r['began/M'] === 'number');
const points = (keys: [string, string][]) => keys.flatMap(([key, label]) => records.map((r) => ({ x: r.step, y: r[key], series: label })));
const width = Number(values.width);
const title = `BEGAN, Fashion-MNIST, width ${width}, batch ${values.batch}`;
const panels = await Promise.all([
  lineChartPng({ title: `${title}: M = L(x) + |γL(x) − L(G(z))|`, x: 'step', y: 'per-pixel L1', points: points([['began/M', 'M'], ['energy/real', 'L(x)'], ['energy/fake', 'L(G(z))']]) }),
  lineChartPng({ title: `equilibrium k (γ 0.75, λ_k 0.001); learning-rate factor at the end ×${records.at(-1)?.['began/lr-scale']}`, x: 'step', y: 'k', points: points([['began/k', 'k']]) }),
]);
const metas = await Promise.all(panels.map((p) => sharp(p).metadata()));
const w = Math.max(...metas.map((m) => m.width!)), h = metas.reduce((s, m) => s + m.height!, 0);
await fs.mkdir(path.dirname(values.out), { recursive: true });
await sharp({ create: { width: w, height: h, channels: 3, background: 'white' } })
  .composite([{ input: panels[0], top: 0, left: 0 }, { input: panels[1], top: metas[0].height!, left: 0 }]).png().toFile(values.out);

const at = (r: Record<string, number>) => `step ${r.step}: M ${r['began/M'].toFixed(4)} L(x) ${r['energy/real'].toFixed(4)} L(G(z)) ${r['energy/fake'].toFixed(4)} k ${r['began/k'].toFixed(4)} lr×${r['began/lr-scale']}`;
if (!values.redraw) console.log(`began on ${backend.name}: ${steps} steps in ${seconds.toFixed(0)} s (${(steps / seconds).toFixed(1)} steps/s); run in ${path.join(dir, 'run')}`);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const window = Math.max(1, Math.floor(records.length / 10));
console.log(`first ${at(records[0])}`);
console.log(`last  ${at(records[records.length - 1])}`);
console.log(`mean M over the first tenth of the log ${mean(records.slice(0, window).map((r) => r['began/M'])).toFixed(4)}, the last tenth ${mean(records.slice(-window).map((r) => r['began/M'])).toFixed(4)}; max k ${Math.max(...records.map((r) => r['began/k'])).toFixed(4)}`);
console.log(`figure: ${values.out}`);
