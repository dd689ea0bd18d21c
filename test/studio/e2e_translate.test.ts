import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import type { Page } from 'playwright-core';
import { startStudio } from '../../src/studio/server.js';
import { exportGenerator } from '../../src/studio/export.js';
import { CLI, browserSkip, openBrowser, staticServer, until } from './helpers.js';

// Translators in a real browser: two tiny runs (pix2pix on edges:fashion-mnist, CycleGAN on mnist ↔
// fashion-mnist) trained in set-up, then in headless Chromium the studio's live grid and translate page (draw
// a stroke → a new output; upload an image, switch direction), and an exported pix2pix in a plain page.
const TINY = ['--image-size', '32', '--width', '4', '--batch-size', '2', '--data-limit', '64', '--log-every', '1'];
const RUNS = {
  p2p: ['train', 'pix2pix', '--data', 'edges:fashion-mnist', '--steps', '6', '--sample-every', '3', ...TINY],
  cg: ['train', 'cyclegan', '--data', 'unpaired:mnist,fashion-mnist', '--steps', '2', '--lambda-identity', '0', ...TINY],
};

function train(args: string[], out: string): Promise<void> {
  const child = spawn(process.execPath, [CLI, ...args, '--out', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${args[1]} exited ${code}: ${stderr}`)))));
}

const pixels = (page: Page, id: string) => page.evaluate((i) => (document.getElementById(i) as HTMLCanvasElement).toDataURL(), id);
const frame = async (page: Page) => Number(await page.locator('#tr-output').getAttribute('data-frame'));

/** A stroke across the input canvas with the mouse (pointer events), and the output drawn after it. */
async function strokeChangesOutput(page: Page): Promise<void> {
  await until(async () => (await frame(page)) >= 1, 'the first translation');
  const [input, output, framesBefore] = [await pixels(page, 'tr-input'), await pixels(page, 'tr-output'), await frame(page)];
  const box = (await page.locator('#tr-input').boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.3);
  await page.mouse.down();
  for (let i = 1; i <= 8; i++) await page.mouse.move(box.x + box.width * (0.2 + 0.07 * i), box.y + box.height * (0.3 + 0.05 * i));
  await page.mouse.up();
  assert.notEqual(await pixels(page, 'tr-input'), input, 'the stroke is on the input canvas');
  // Translations run while the stroke is drawn and after it ends (pointerup): the output is redrawn.
  await until(async () => (await pixels(page, 'tr-output')) !== output, 'a changed output after the stroke', 20_000);
  assert.ok((await frame(page)) > framesBefore);
}

test('translators in headless Chromium: draw → pix2pix, upload + direction → CycleGAN, exported pix2pix', { skip: browserSkip, timeout: 120_000 }, async (t) => {
  const cleanups: (() => unknown)[] = [];
  t.after(async () => {
    for (const undo of cleanups.reverse()) await undo();
  });
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-e2e-tr-'));
  cleanups.push(() => fs.rm(tmp, { recursive: true, force: true }));
  const runs = path.join(tmp, 'runs');
  let t0 = Date.now();
  await Promise.all(Object.entries(RUNS).map(([id, args]) => train(args, path.join(runs, id))));
  t.diagnostic(`training both runs: ${Date.now() - t0} ms`);

  const studio = await startStudio({ runs, port: 0, pollMs: 300 });
  cleanups.push(() => studio.close());
  const base = studio.url.replace(/\/$/, '');
  const { context, page, errors } = await openBrowser(tmp);
  cleanups.push(() => context.close());

  // The live view shows pix2pix's picture (input | output | target rows) and links to the translate page.
  t0 = Date.now();
  await page.goto(`${base}/?backend=cpu#/run/p2p`);
  await page.waitForSelector('#grid.rows[src*="step-"]', { timeout: 30_000 });
  assert.equal(await page.locator('a[href="#/translate/p2p"]').count(), 1);
  assert.equal(await page.locator('#chart-div').isHidden(), true);

  // #/explore of a translator leads to its translate page; a stroke recolours the output, computed in the page.
  await page.goto(`${base}/?backend=cpu#/explore/p2p`);
  await page.waitForSelector('#view[data-ready="1"]', { timeout: 30_000 });
  assert.match(page.url(), /#\/translate\/p2p$/);
  assert.equal(await page.locator('#tr-direction').isVisible(), false, 'pix2pix translates one way');
  await strokeChangesOutput(page);
  t.diagnostic(`studio pix2pix page: ${Date.now() - t0} ms`);

  // CycleGAN: an uploaded colour image, resized and greyed to the 32×32×1 input, then the other direction.
  t0 = Date.now();
  await page.goto(`${base}/?backend=cpu#/translate/cg`);
  await page.waitForSelector('#view[data-ready="1"]', { timeout: 30_000 });
  await until(async () => (await frame(page)) >= 1, 'the first CycleGAN translation');
  const blank = await pixels(page, 'tr-input');
  const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 30, b: 30 } } })
    .composite([{ input: Buffer.from('<svg width="64" height="48"><circle cx="32" cy="24" r="14" fill="white"/></svg>') }])
    .png()
    .toBuffer();
  let before = await frame(page);
  await page.setInputFiles('#tr-upload', { name: 'photo.png', mimeType: 'image/png', buffer: png });
  await until(async () => (await pixels(page, 'tr-input')) !== blank && (await frame(page)) > before, 'the upload translated');
  const aToB = await pixels(page, 'tr-output');
  assert.deepEqual(await page.locator('#tr-direction option').allInnerTexts(), ['A → B', 'B → A']);
  before = await frame(page);
  await page.selectOption('#tr-direction', 'BtoA');
  await until(async () => (await frame(page)) > before, 'a B → A translation');
  assert.match(await page.locator('#tr-status').innerText(), /^B → A in \d+ ms/);
  assert.notEqual(await pixels(page, 'tr-output'), aToB, "F's output differs from G's");
  t.diagnostic(`studio CycleGAN page: ${Date.now() - t0} ms`);

  // Export: the pix2pix folder runs in a page of its own; its module translates, and so does the demo page.
  t0 = Date.now();
  const out = path.join(tmp, 'export');
  const { info } = await exportGenerator(path.join(runs, 'p2p'), out);
  assert.deepEqual(Object.keys(info.directions ?? {}), ['AtoB']);
  const server = await staticServer(out);
  cleanups.push(() => server.close());
  await page.goto(`${server.url}/index.html`);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
  const n = await page.evaluate(async () => {
    const m = await import(`${location.origin}/generator.js`);
    return (await m.translate(new Float32Array(2 * 32 * 32).fill(1))).length as number; // two blank sheets
  });
  assert.equal(n, 2 * 32 * 32);
  await strokeChangesOutput(page);
  t.diagnostic(`exported pix2pix page: ${Date.now() - t0} ms`);
  assert.deepEqual(errors, []);
});
