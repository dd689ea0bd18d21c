// Screenshots of studio for the README: `node docs/screenshots.mjs RUNS_DIR` (after the build) opens runs under
// RUNS_DIR in headless Chromium and writes docs/studio.png and docs/studio-explore.png for the first run that
// samples noise, and docs/studio-translate.png (a t-shirt sketched with the mouse) for the first translator run.
import { chromium } from 'playwright-core';
import { startStudio } from '../dist/src/studio/server.js';

const runs = process.argv[2] ?? 'runs';
const studio = await startStudio({ runs, port: 0 });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
const base = studio.url.replace(/\/$/, '');
const shot = (name) => page.screenshot({ path: new URL(name, import.meta.url).pathname });
const api = async (p) => (await fetch(`${base}/api/${p}`)).json();
const details = await Promise.all((await api('runs')).map((r) => api(`runs/${encodeURIComponent(r.id)}`)));
const noise = details.find((d) => d.condition !== 'image');
const translator = details.find((d) => d.condition === 'image');

if (noise) {
  await page.goto(`${base}/?backend=cpu#/run/${encodeURIComponent(noise.id)}`);
  await page.waitForSelector('#grid[src*="step-"]');
  await page.waitForTimeout(1000); // let the charts draw
  await shot('studio.png');
  await page.goto(`${base}/?backend=cpu#/explore/${encodeURIComponent(noise.id)}`);
  await page.waitForSelector('#view[data-ready="1"]');
  await shot('studio-explore.png');
}
if (translator) {
  await page.goto(`${base}/?backend=cpu#/translate/${encodeURIComponent(translator.id)}`);
  await page.waitForSelector('#view[data-ready="1"]');
  // A t-shirt outline, in fractions of the input canvas: neck, left sleeve, hem, right sleeve, back to the neck.
  const tshirt = [[0.38, 0.12], [0.2, 0.18], [0.06, 0.4], [0.18, 0.47], [0.27, 0.36], [0.27, 0.9], [0.73, 0.9], [0.73, 0.36], [0.82, 0.47], [0.94, 0.4], [0.8, 0.18], [0.62, 0.12], [0.5, 0.2], [0.38, 0.12]];
  const box = await page.locator('#tr-input').boundingBox();
  const at = ([x, y]) => [box.x + x * box.width, box.y + y * box.height];
  await page.mouse.move(...at(tshirt[0]));
  await page.mouse.down();
  for (const p of tshirt.slice(1)) await page.mouse.move(...at(p), { steps: 6 });
  await page.mouse.up();
  await page.waitForTimeout(1500); // the translation after the stroke
  await shot('studio-translate.png');
}
await browser.close();
await studio.close();
