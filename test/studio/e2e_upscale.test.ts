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

// The upscale viewer in headless Chromium on a tiny srresnet run (×4, grey): the page's output of an uploaded
// 16×16 image is `ganforge upscale` with one 16-px tile (the same generator on the same pixels); the slider moves
// the split between before and after; a click centres the zoomed crops there. The same in an export.
const RUN = ['train', 'srresnet', '--data', 'lowres:fashion-mnist', '--image-size', '32', '--batch-size', '4', '--data-limit', '32', '--steps', '3', '--sample-every', '0'];

function cli(args: string[]): Promise<void> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ganforge ${args[0]} exited ${code}: ${stderr}`)))));
}

const canvas = (page: Page, id: string) =>
  page.evaluate((i) => {
    const c = document.getElementById(i) as HTMLCanvasElement;
    return { w: c.width, h: c.height, data: Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data) };
  }, id);
const renders = async (page: Page, root: string) => Number(await page.locator(root).getAttribute('data-renders'));

async function checkViewer(page: Page, root: string, upload: string, cliOut: { data: Buffer; width: number; height: number }): Promise<void> {
  await until(async () => (await renders(page, root)) >= 1, 'the test card upscaled').catch(async (e: Error) => {
    throw new Error(`${e.message}; the page says: ${await page.locator('#up-status').innerText().catch(() => '(no viewer)')}`);
  });
  const card = await canvas(page, 'up-after');
  assert.equal(card.w, 4 * (await canvas(page, 'up-before')).w / 4, 'before and after are drawn at the output size');
  assert.ok(card.w >= 32 && card.w % 4 === 0, `×4 output of the card (${card.w} px)`);

  // Upload the 16×16 image: the page's output is the CLI's, within 1 level (float rounding across backends).
  const n = await renders(page, root);
  await page.locator('#up-upload').setInputFiles(upload);
  await until(async () => (await renders(page, root)) > n, 'the upload upscaled');
  const out = await canvas(page, 'up-after');
  assert.deepEqual([out.w, out.h], [cliOut.width, cliOut.height]);
  let worst = 0;
  for (let p = 0; p < out.w * out.h; p++) worst = Math.max(worst, Math.abs(out.data[p * 4] - cliOut.data[p]));
  assert.ok(worst <= 1, `page = ganforge upscale to 1 level, worst ${worst}`);
  assert.match(await page.locator('#up-status').innerText(), /16×16 → 64×64 \(×4\)/);

  // The slider moves the split; a click puts the crops where it landed; the crops show before and after.
  await page.locator('#up-split').fill('20');
  assert.equal(await page.locator('#up-after').evaluate((e) => (e as HTMLElement).style.clipPath), 'inset(0px 0px 0px 20%)');
  const box = (await page.locator('#up-frame').boundingBox())!;
  await page.mouse.click(box.x + box.width * 0.9, box.y + box.height * 0.9);
  assert.equal(await page.locator(root).getAttribute('data-zoom'), '32,32', 'the crop is clamped inside the output at its corner');
  const [zb, za] = [await canvas(page, 'up-zoom-before'), await canvas(page, 'up-zoom-after')];
  assert.notDeepEqual(zb.data, za.data, 'before and after differ in the crop');
  for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) assert.equal(za.data[(y * 32 + x) * 4], out.data[((32 + y) * 64 + 32 + x) * 4], `crop pixel ${x},${y}`);
}

test('upscale viewer in headless Chromium: page output = ganforge upscale, split slider, zoomed crop; the same in an export', { skip: browserSkip, timeout: 180_000 }, async (t) => {
  const cleanups: (() => unknown)[] = [];
  t.after(async () => {
    for (const undo of cleanups.reverse()) await undo();
  });
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-e2e-up-'));
  cleanups.push(() => fs.rm(tmp, { recursive: true, force: true }));
  const runs = path.join(tmp, 'runs');
  const run = path.join(runs, 'sr');
  await cli([...RUN, '--out', run]);
  const upload = path.join(tmp, 'sixteen.png');
  const pixels = Buffer.from(Array.from({ length: 256 }, (_, i) => ((i % 16) * 13 + Math.floor(i / 16) * 7) % 256));
  await sharp(pixels, { raw: { width: 16, height: 16, channels: 1 } }).toColourspace('b-w').png().toFile(upload);
  await cli(['upscale', run, upload, '--out', path.join(tmp, 'up'), '--tile', '16', '--overlap', '0', '--backend', 'cpu']);
  const { data, info } = await sharp(path.join(tmp, 'up', 'sixteen.png')).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  const cliOut = { data, width: info.width, height: info.height };

  const studio = await startStudio({ runs, port: 0, pollMs: 300 });
  cleanups.push(() => studio.close());
  const { context, page, errors } = await openBrowser(tmp);
  cleanups.push(() => context.close());
  await page.goto(`${studio.url.replace(/\/$/, '')}/?backend=cpu#/upscale/sr`);
  await page.waitForSelector('#view[data-ready="1"]', { timeout: 30_000 });
  await checkViewer(page, '#translate', upload, cliOut);

  const out = path.join(tmp, 'export');
  await exportGenerator(run, out);
  const server = await staticServer(out);
  cleanups.push(() => server.close());
  await page.goto(`${server.url}/index.html?backend=cpu`);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
  await checkViewer(page, '#app', upload, cliOut);
  assert.deepEqual(errors, []);
});
