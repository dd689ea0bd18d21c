// Screenshots of studio for the README: `node docs/screenshots.mjs RUNS_DIR` (after the build) opens the
// first run under RUNS_DIR in headless Chromium and writes docs/studio.png and docs/studio-explore.png.
import { chromium } from 'playwright-core';
import { startStudio } from '../dist/src/studio/server.js';

const runs = process.argv[2] ?? 'runs';
const studio = await startStudio({ runs, port: 0 });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
const base = studio.url.replace(/\/$/, '');
await page.goto(`${base}/?backend=cpu`);
await page.waitForSelector('#grid[src*="step-"]');
await page.waitForTimeout(1000); // let the charts draw
await page.screenshot({ path: new URL('studio.png', import.meta.url).pathname });
const id = await page.evaluate(() => decodeURIComponent(location.hash.split('/')[2]));
await page.goto(`${base}/?backend=cpu#/explore/${encodeURIComponent(id)}`);
await page.waitForSelector('#view[data-ready="1"]');
await page.screenshot({ path: new URL('studio-explore.png', import.meta.url).pathname });
await browser.close();
await studio.close();
