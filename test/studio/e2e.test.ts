import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { startStudio } from '../../src/studio/server.js';
import { exportGenerator } from '../../src/studio/export.js';
import { CLI, browserSkip as skip, openBrowser, staticServer, until } from './helpers.js';

// The whole loop in a real browser: a tiny training run writes its folder, studio serves it, headless
// Chromium shows the grid and curves moving, the explorer redraws on a slider, and an exported generator
// draws in a plain page. (docs/screenshots.mjs makes the README's pictures the same way.)
const attr = (page: Page, sel: string, name: string) => page.locator(sel).getAttribute(name);

test('studio in headless Chromium: live grid and curves, explorer slider, exported generator', { skip, timeout: 150_000 }, async (t) => {
  // Undo the set-up in reverse: stop the browser, servers and the training child before removing the
  // folder they write in (t.after hooks run in registration order, which removed it first).
  const cleanups: (() => unknown)[] = [];
  t.after(async () => {
    for (const undo of cleanups.reverse()) await undo();
  });
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-e2e-'));
  cleanups.push(() => fs.rm(tmp, { recursive: true, force: true }));
  const runs = path.join(tmp, 'runs');
  const run = path.join(runs, 'r');
  const trainArgs = ['train', 'dcgan', '--data', 'fashion-mnist', '--data-limit', '256', '--batch-size', '16', '--width', '8', '--steps', '400', '--sample-every', '5', '--log-every', '1',
    '--ada-target', '0.6', '--ada-kimg', '1', '--out', run]; // ADA: its p has a chart of its own
  const trainer = spawn(process.execPath, [CLI, ...trainArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  trainer.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise((r) => trainer.on('exit', r));
  cleanups.push(async () => {
    trainer.kill('SIGKILL');
    await exited;
  });
  await until(() => existsSync(path.join(run, 'checkpoints', 'latest')), `the run's first checkpoint (stderr: ${stderr})`);

  const studio = await startStudio({ runs, port: 0, pollMs: 300 });
  cleanups.push(() => studio.close());
  const base = studio.url.replace(/\/$/, '');
  const { context, page, errors } = await openBrowser(tmp);
  cleanups.push(() => context.close());

  // Live run: the grid image and the loss chart move while training writes the folder.
  await page.goto(`${base}/?backend=cpu#/run/r`);
  await page.waitForSelector('#grid[src*="step-"]', { timeout: 60_000 });
  const firstSrc = await attr(page, '#grid', 'src');
  const firstPoints = Number(await attr(page, '#chart-loss', 'data-points'));
  await until(async () => (await attr(page, '#grid', 'src')) !== firstSrc, 'a new sample grid in the page');
  await until(async () => Number(await attr(page, '#chart-loss', 'data-points')) > firstPoints, 'more points on the loss chart');
  assert.match(await page.locator('#stats').innerText(), /step \d+\/400/);
  await until(async () => Number(await attr(page, '#chart-aug', 'data-points')) > 0, "ADA's p on its chart");

  // Latent explorer: moving the interpolation slider draws a different frame, computed in the page.
  await page.goto(`${base}/?backend=cpu#/explore/r`);
  await page.waitForSelector('#view[data-ready="1"]', { timeout: 60_000 });
  const before = await page.evaluate(() => (document.getElementById('interp') as HTMLCanvasElement).toDataURL());
  await page.locator('#t').fill('0.05');
  await until(() => page.evaluate((b) => (document.getElementById('interp') as HTMLCanvasElement).toDataURL() !== b, before), 'a new interpolation frame', 20_000);

  // Export: the generator folder works in a page of its own, served by a bare static server.
  const out = path.join(tmp, 'export');
  await exportGenerator(run, out);
  const server = await staticServer(out);
  cleanups.push(() => server.close());
  await page.goto(`${server.url}/index.html`);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
  assert.equal(await page.locator('canvas').count(), 8);
  assert.deepEqual(errors, []);
});
