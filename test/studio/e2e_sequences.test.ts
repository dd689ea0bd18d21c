import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import type { Page } from 'playwright-core';
import { initBackend } from '../../src/backend/index.js';
import { startStudio } from '../../src/studio/server.js';
import { loadData } from '../../src/data/registry.js';
import { unscale } from '../../src/data/sequences.js';
import type { ArraySource, DatasetInfo } from '../../src/data/types.js';
import { loadSamplingNetworks } from '../../src/gan/checkpoint.js';
import { allNetworks } from '../../src/gan/family.js';
import { sampleFamily, sequenceInfoOf } from '../../src/gan/sampling.js';
import { chooseIndices, embed2d, sequenceBatch } from '../../src/metrics/sequence_embedding.js';
import { getModel } from '../../src/models/registry.js';
import { sequenceLoadOptions, type RunConfig } from '../../src/gan/config.js';
import { Rng } from '../../src/util/rng.js';
import { CLI, browserSkip, fakeRun, openBrowser, until } from './helpers.js';

// The sequences page in headless Chromium on a tiny timegan run of sines and an rcgan run of two classes of CSV
// series: the real and generated line charts hold the run's data windows and the newest checkpoint's samples
// (sampleFamily in Node) in original units, for the feature picked; resample draws the next seed's; the condition
// picker restricts both to one class; the PCA and t-SNE plots hold embed2d's coordinates of the same sets.
const TINY = ['--hidden', '8', '--steps', '3', '--batch-size', '8', '--sample-every', '0'];

function cli(args: string[]): Promise<void> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ganforge ${args[0]} exited ${code}: ${stderr}`)))));
}

/** Six slow and six fast series of two features, one class each (the condition column). */
async function waveCsv(file: string): Promise<void> {
  const rows = ['id,kind,t,a,b'];
  for (let s = 0; s < 12; s++) {
    const kind = s % 2 === 0 ? 'slow' : 'fast', w = kind === 'slow' ? 0.1 : 0.6;
    for (let t = 0; t < 100; t++) rows.push(`${s},${kind},${t},${Math.sin(w * t + s).toFixed(5)},${(100 + 10 * Math.cos(w * t)).toFixed(4)}`);
  }
  await fs.writeFile(file, rows.join('\n') + '\n');
}

/** The run's data as training saw it (scaled, with labels): loaded the way the run loads it. */
async function runData(run: string): Promise<{ source: ArraySource; config: RunConfig; data: DatasetInfo }> {
  const { state, nets } = await loadSamplingNetworks(run);
  for (const [, m] of allNetworks(nets)) m.dispose();
  const source = (await loadData(state.config.data, { limit: state.config.dataLimit || undefined, sequence: sequenceLoadOptions(state.config) })) as ArraySource;
  return { source, config: state.config, data: state.data };
}

/** The lines a chart draws: uPlot's data rows after x. */
const plotted = (page: Page, sel: string) => page.evaluate((s) => ((document.querySelector(s) as unknown as { plot: { data: number[][] } }).plot.data.slice(1)), sel);

/** What the charts must hold for `seed` and feature j: the chosen real windows and sampleFamily's samples, unscaled. */
async function expected(run: string, source: ArraySource, seed: number, j: number, k?: number): Promise<{ real: number[][]; fake: number[][] }> {
  const real = source.values as Float32Array;
  const { nets, state } = await loadSamplingNetworks(run);
  const seq = sequenceInfoOf(state.data);
  const [t, f] = state.data.shape;
  const size = t * f;
  let fake: Float32Array;
  try {
    fake = sampleFamily(getModel(state.config.model), nets, { count: 8, seed, ...(k !== undefined ? { class: k } : {}) }, { config: state.config, data: state.data }).values;
  } finally {
    for (const [, m] of allNetworks(nets)) m.dispose();
  }
  // The windows of class k (all when k is not given), 8 of them chosen by the seed.
  const pool = Array.from({ length: real.length / size }, (_, i) => i).filter((i) => k === undefined || source.labels![i] === k);
  const rows = Array.from(chooseIndices(pool.length, 8, new Rng(seed)), (i) => pool[i]);
  const column = (values: Float32Array, k: number) => Array.from({ length: t }, (_, i) => values[(k * t + i) * f + j]);
  const shown = unscale(Float32Array.from(Array.from(rows).flatMap((r) => Array.from(real.subarray(r * size, (r + 1) * size)))), seq.scaling);
  const fakeShown = unscale(fake, seq.scaling);
  return { real: Array.from({ length: 8 }, (_, k) => column(shown, k)), fake: Array.from({ length: 8 }, (_, k) => column(fakeShown, k)) };
}

function assertClose(got: number[][], want: number[][], what: string): void {
  assert.equal(got.length, want.length, `${what}: ${got.length} lines`);
  let worst = 0;
  got.forEach((line, k) => line.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - want[k][i])))));
  assert.ok(worst < 1e-6, `${what}: worst difference ${worst}`);
}

test('sequences page in headless Chromium: real windows and the checkpoint\'s samples per feature, resample, a condition, and the PCA/t-SNE figure', { skip: browserSkip, timeout: 300_000 }, async (t) => {
  await initBackend({ prefer: 'cpu', quiet: true });
  const cleanups: (() => unknown)[] = [];
  t.after(async () => {
    for (const undo of cleanups.reverse()) await undo();
  });
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-e2e-seq-'));
  cleanups.push(() => fs.rm(tmp, { recursive: true, force: true }));
  const runs = path.join(tmp, 'runs');
  const run = path.join(runs, 'waves'), conditional = path.join(runs, 'kinds');
  await waveCsv(path.join(tmp, 'waves.csv'));
  await cli(['train', 'timegan', '--data', 'sines', '--data-limit', '150', ...TINY, '--out', run]);
  await cli(['train', 'rcgan', '--data', `csv:${path.join(tmp, 'waves.csv')}`, '--id-column', 'id', '--condition-column', 'kind', '--time-column', 't', '--window', '16', '--stride', '4', ...TINY, '--out', conditional]);
  const { source, data } = await runData(run);
  const realScaled = source.values as Float32Array;

  const studio = await startStudio({ runs, port: 0, pollMs: 300 });
  cleanups.push(() => studio.close());
  const base = studio.url.replace(/\/$/, '');
  const detail = (await (await fetch(`${base}/api/runs/waves`)).json()) as { kind: string; manifestError: string };
  assert.equal(detail.kind, 'sequence');
  assert.match(detail.manifestError, /makes sequences.*#\/sequences/);
  assert.equal((await fetch(`${base}/api/runs/waves/embedding?method=umap`)).status, 400);
  assert.equal((await fetch(`${base}/api/runs/waves/sequences?count=1000`)).status, 400);
  // A run of images has no sequences to show: the reason comes back, not a crash.
  await fakeRun(path.join(runs, 'pictures'), []);
  const refused = await fetch(`${base}/api/runs/pictures/sequences`);
  assert.equal(refused.status, 422);
  assert.match(((await refused.json()) as { error: string }).error, /no checkpoint yet/);

  const { context, page, errors } = await openBrowser(tmp);
  cleanups.push(() => context.close());
  await page.goto(`${base}/#/run/waves`);
  await page.click('text=sequences, PCA and t-SNE'); // the run page links a sequence run to its page
  await page.waitForSelector('#view[data-ready="1"]', { timeout: 60_000 });
  await page.goto(`${base}/#/explore/waves`); // and the explorer forwards it there
  await page.waitForSelector('#view[data-ready="1"]', { timeout: 60_000 });
  assert.match(page.url(), /#\/sequences\/waves$/);
  const features = await page.locator('#sq-feature option').allInnerTexts();
  assert.deepEqual(features, sequenceInfoOf(data).features);

  const check = async (seed: number, j: number, on = run, from = source, k?: number) => {
    const drawn = `${seed}:${j}${k !== undefined ? `:${k}` : ''}`;
    for (const sel of ['#sq-real', '#sq-fake']) await until(async () => (await page.locator(sel).getAttribute('data-drawn')) === drawn, `${sel} ${drawn}`);
    const want = await expected(on, from, seed, j, k);
    assertClose(await plotted(page, '#sq-real'), want.real, `real, seed ${seed}, feature ${j}`);
    assertClose(await plotted(page, '#sq-fake'), want.fake, `generated, seed ${seed}, feature ${j}`);
    return want;
  };
  const first = await check(0, 0);
  await page.selectOption('#sq-feature', '2');
  await check(0, 2);
  await page.click('#sq-resample');
  const next = await check(1, 2);
  assert.notDeepEqual(next.fake, (await expected(run, source, 0, 2)).fake, 'another seed, other samples');
  assert.ok(await page.locator('#sq-class-label').isHidden(), 'an unconditional run has no condition picker');
  assert.notDeepEqual(first.real, next.real);

  // The figure: embed2d in Node of all the run's windows and as many samples of seed 0.
  const { nets, state } = await loadSamplingNetworks(run);
  const n = realScaled.length / (data.shape[0] * data.shape[1]);
  const fake = sampleFamily(getModel(state.config.model), nets, { count: n, seed: 0 }, { config: state.config, data: state.data }).values;
  for (const [, m] of allNetworks(nets)) m.dispose();
  for (const method of ['pca', 'tsne'] as const) {
    await page.waitForSelector(`#sq-${method}[data-drawn="${method}:${n}"]`, { timeout: 120_000 });
    const shown = await page.evaluate((sel) => (document.querySelector(sel) as unknown as { points: { real: number[]; fake: number[] } }).points, `#sq-${method}`);
    const want = embed2d(sequenceBatch(realScaled, data), sequenceBatch(fake, data), { method, seed: 0 });
    let worst = 0;
    shown.real.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - want.real[i]))));
    shown.fake.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - want.fake[i]))));
    assert.ok(worst < 1e-9, `${method}: page vs embed2d in Node, worst ${worst}`);
    const colours = await page.evaluate((sel) => {
      const c = document.querySelector(sel) as HTMLCanvasElement;
      const px = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let red = 0, blue = 0;
      for (let i = 0; i < px.length; i += 4) {
        if (px[i] > px[i + 2] + 40) red++;
        if (px[i + 2] > px[i] + 40) blue++;
      }
      return { red, blue };
    }, `#sq-${method}`);
    assert.ok(colours.red >= 10 && colours.blue >= 10, `${method}: ${colours.red} red and ${colours.blue} blue pixels`); // a dot is ~20 px; a young generator's samples may share one spot
  }
  assert.match(await page.locator('#sq-tsne-note').innerText(), /perplexity 40, 300 iterations/);

  // rcgan: the condition picker offers the CSV's classes; picking one shows its windows and samples drawn with it.
  const kinds = await runData(conditional);
  await page.goto(`${base}/#/sequences/kinds`);
  await until(async () => (await page.locator('#sq-fake').getAttribute('data-drawn')) === '0:0', 'the rcgan page');
  assert.deepEqual(await page.locator('#sq-class option').allInnerTexts(), ['all (samples cycle through them)', ...kinds.data.classNames!]);
  const slow = kinds.data.classNames!.indexOf('slow');
  await page.selectOption('#sq-class', String(slow));
  const ofClass = await check(0, 0, conditional, kinds.source, slow);
  // An oracle beside the pool: slow series move by at most 0.1 per step, fast ones by up to 0.6.
  for (const line of ofClass.real) line.slice(1).forEach((v, i) => assert.ok(Math.abs(v - line[i]) <= 0.1 + 1e-6, `a real window of class slow steps by ${Math.abs(v - line[i])}`));
  assert.notDeepEqual(ofClass.fake, (await expected(conditional, kinds.source, 0, 0, 1 - slow)).fake, 'the other class, other samples');
  if (process.env.GANFORGE_SCREENSHOT) await page.screenshot({ path: process.env.GANFORGE_SCREENSHOT, fullPage: true }); // to look at it
  assert.deepEqual(errors, []);
});
