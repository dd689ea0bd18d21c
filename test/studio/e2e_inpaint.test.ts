import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { startStudio } from '../../src/studio/server.js';
import { exportGenerator } from '../../src/studio/export.js';
import { CLI, browserSkip, openBrowser, staticServer, until } from './helpers.js';

// The inpainting page in headless Chromium: a tiny inpaint run trained in set-up; strokes painted with the
// mouse make a hole, which the exported generator fills in the page; the output equals the photo outside the
// hole and differs from it inside.
const RUN = ['train', 'inpaint', '--data', 'masked:fashion-mnist', '--mask-kind', 'strokes', '--image-size', '32', '--width', '4', '--batch-size', '2', '--data-limit', '32', '--steps', '3', '--sample-every', '0'];

function train(args: string[], out: string): Promise<void> {
  const child = spawn(process.execPath, [CLI, ...args, '--out', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`inpaint exited ${code}: ${stderr}`)))));
}

/** A canvas's RGBA bytes. */
const rgba = (page: Page, id: string) =>
  page.evaluate((i) => {
    const c = document.getElementById(i) as HTMLCanvasElement;
    return Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data);
  }, id);
const frame = async (page: Page) => Number(await page.locator('#ip-output').getAttribute('data-frame'));

/** Paint two strokes on the page's photo; the output must equal the photo outside the hole and differ inside. */
async function paintAndCheck(page: Page): Promise<void> {
  await until(async () => (await frame(page)) >= 1, 'the first frame');
  const photo = await rgba(page, 'ip-input'); // no hole yet: the photo itself
  assert.deepEqual(await rgba(page, 'ip-output'), photo, 'with no hole the output is the photo');

  // Two strokes with the mouse; fills run while they are drawn and after each ends.
  const before = await frame(page);
  const box = (await page.locator('#ip-input').boundingBox())!;
  for (const [y0, dy] of [[0.3, 0.04], [0.7, -0.03]]) {
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height * y0);
    await page.mouse.down();
    for (let i = 1; i <= 8; i++) await page.mouse.move(box.x + box.width * (0.2 + 0.07 * i), box.y + box.height * (y0 + dy * i));
    await page.mouse.up();
  }
  await until(async () => (await frame(page)) > before && /^filled \d+ pixel/.test(await page.locator('#ip-status').innerText()), 'a filled output');
  // Let the last pending fill finish: the frame count settles.
  let settled = await frame(page);
  await until(async () => {
    await new Promise((r) => setTimeout(r, 500));
    const now = await frame(page);
    const same = now === settled;
    settled = now;
    return same;
  }, 'the last fill');

  const shown = await rgba(page, 'ip-input');
  const out = await rgba(page, 'ip-output');
  let holePixels = 0;
  let changed = 0;
  for (let p = 0; p < shown.length / 4; p++) {
    const inHole = shown[p * 4] === 255 && shown[p * 4 + 1] === 0 && shown[p * 4 + 2] === 255; // shown in magenta
    if (inHole) {
      holePixels++;
      if ([0, 1, 2].some((k) => out[p * 4 + k] !== photo[p * 4 + k])) changed++;
    } else {
      for (let k = 0; k < 4; k++) assert.equal(out[p * 4 + k], photo[p * 4 + k], `pixel ${p} outside the hole kept`);
    }
  }
  assert.ok(holePixels > 20, `the strokes made a hole (${holePixels} pixels)`);
  assert.ok(changed > holePixels / 2, `the hole is filled by the generator: ${changed} of ${holePixels} pixels differ from the photo`);
}

test('inpainting in headless Chromium: painted strokes are filled by the generator, the rest of the photo kept; the same in an export', { skip: browserSkip, timeout: 180_000 }, async (t) => {
  const cleanups: (() => unknown)[] = [];
  t.after(async () => {
    for (const undo of cleanups.reverse()) await undo();
  });
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-e2e-ip-'));
  cleanups.push(() => fs.rm(tmp, { recursive: true, force: true }));
  const runs = path.join(tmp, 'runs');
  await train(RUN, path.join(runs, 'ip'));

  const studio = await startStudio({ runs, port: 0, pollMs: 300 });
  cleanups.push(() => studio.close());
  const base = studio.url.replace(/\/$/, '');
  const { context, page, errors } = await openBrowser(tmp);
  cleanups.push(() => context.close());

  await page.goto(`${base}/?backend=cpu#/inpaint/ip`);
  await page.waitForSelector('#view[data-ready="1"]', { timeout: 30_000 });
  await paintAndCheck(page);

  // The exported generator's demo page is the same painting page.
  const out = path.join(tmp, 'export');
  await exportGenerator(path.join(runs, 'ip'), out);
  const server = await staticServer(out);
  cleanups.push(() => server.close());
  await page.goto(`${server.url}/index.html`);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
  await paintAndCheck(page);
  assert.deepEqual(errors, []);
});
