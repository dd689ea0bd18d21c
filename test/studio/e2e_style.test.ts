import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { Page } from 'playwright-core';
import { exportGenerator, writeStyleModels, writeWebFiles } from '../../src/studio/export.js';
import { styleExport } from '../../src/studio/style_export.js';
import type { GeneratorManifest } from '../../src/studio/generator_core.js';
import { spawn } from 'node:child_process';
import sharp from 'sharp';
import { MODELS } from '../../src/models/registry.js';
import { startStudio } from '../../src/studio/server.js';
import { CLI, browserSkip, openBrowser, staticServer, until } from './helpers.js';
import { SIDE, Z, tinyStyleSpace } from './style_helpers.js';

// The style explorer in headless Chromium, on exported tiny style generators (test/studio/style_helpers.ts):
// the truncation slider redraws and at ψ = 0 two seeds give one image, mixing cells differ from their rows and
// equal their column when every input comes from it, the interpolation strip ends at the seeds' images, and a
// conditional run's class picker changes the samples. Everything is computed in the page. And a family that
// truncates z (BigGAN), trained for two steps, on the studio's latent explorer: ψ → 0 sends every sample to z = 0.

/** An export folder of a tiny style space, written by the export's own writers. */
async function exportTiny(out: string, seed: number, classes: number): Promise<void> {
  await tf.setBackend('cpu');
  const space = tinyStyleSpace(seed, classes);
  try {
    const found = (await styleExport(space, classes, { mapping: 'mapping', synthesis: 'synthesis' }))!;
    const info: GeneratorManifest = {
      format: 'ganforge-generator', version: 1, model: 'tiny-style', data: 'none', checkpoint: 'step-000001', step: 1,
      condition: classes ? 'class' : 'none', latentDim: Z, shapes: { output: [SIDE, SIDE, 3] }, numClasses: classes,
      ...(classes ? { classNames: Array.from({ length: classes }, (_, k) => `class ${k}`) } : {}),
      trainingMode: false, truncation: 'w', style: found.style,
    };
    await writeStyleModels(out, found.files);
    await writeWebFiles(out, info, 'tiny style space');
  } finally {
    space.dispose();
  }
}

/** RGBA bytes of a canvas. */
const bytes = (page: Page, selector: string) =>
  page.evaluate((sel) => {
    const c = document.querySelector(sel) as HTMLCanvasElement;
    return Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data);
  }, selector);

const maxDiff = (a: number[], b: number[]) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const renders = async (page: Page) => Number(await page.locator('#app').getAttribute('data-renders'));

/** Changes a control as a person does (input, then change) and waits for the explorer to redraw. */
async function set(page: Page, selector: string, value: string): Promise<void> {
  const before = await renders(page);
  const control = page.locator(selector);
  if ((await control.evaluate((e) => e.tagName)) === 'SELECT') await control.selectOption(value);
  else {
    await control.fill(value);
    await control.dispatchEvent('change');
  }
  await until(async () => (await renders(page)) > before, `a redraw after ${selector} = ${value}`, 20_000);
  assert.equal(await page.locator('#st-status').innerText().then((s) => /^drawn in/.test(s)), true, await page.locator('#st-status').innerText());
}

test('style explorer in headless Chromium: truncation, mixing, interpolation, class picker', { skip: browserSkip, timeout: 90_000 }, async (t) => {
  const cleanups: (() => unknown)[] = [];
  t.after(async () => {
    for (const undo of cleanups.reverse()) await undo();
  });
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-e2e-style-'));
  cleanups.push(() => fs.rm(tmp, { recursive: true, force: true }));
  await exportTiny(path.join(tmp, 'plain'), 1, 0);
  await exportTiny(path.join(tmp, 'cond'), 2, 3);
  const server = await staticServer(tmp);
  cleanups.push(() => server.close());
  const { context, page, errors } = await openBrowser(tmp);
  cleanups.push(() => context.close());

  const open = async (url: string) => {
    await page.goto(url);
    await page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 }).catch((e: Error) => {
      throw new Error(`${e.message.split('\n')[0]}; page errors: ${errors.join(' | ') || 'none'}`);
    });
  };
  await open(`${server.url}/plain/index.html?backend=cpu`);
  const seed1 = '#st-gallery canvas[data-seed="1"]', seed2 = '#st-gallery canvas[data-seed="2"]';
  const [a1, b1] = [await bytes(page, seed1), await bytes(page, seed2)];
  assert.ok(maxDiff(a1, b1) > 10, 'two seeds, two images at ψ = 1');

  // Truncation: ψ = 0.5 redraws; ψ = 0 sends every seed to w̄, one image.
  await set(page, '#st-psi', '0.5');
  assert.ok(maxDiff(await bytes(page, seed1), a1) > 3, 'ψ = 0.5 changes seed 1');
  await set(page, '#st-psi', '0');
  assert.ok(maxDiff(await bytes(page, seed1), await bytes(page, seed2)) <= 1, 'ψ = 0: seeds 1 and 2 give the mean-w image');
  await set(page, '#st-psi', '1');
  assert.deepEqual(await bytes(page, seed1), a1, 'back at ψ = 1, the same image (the noise is pinned)');

  // Style mixing: rows 1,2,3 × columns 4,5,6,7 over the coarse inputs (0–3): each cell differs from its row.
  assert.match(await page.locator('#st-range').innerText(), /inputs 0–3, 4–8 px/);
  assert.equal(await page.locator('#st-mix canvas[data-cell]').count(), 12);
  const cell = (r: number, c: number) => bytes(page, `#st-mix canvas[data-cell="${r},${c}"]`);
  const coarse = await cell(1, 2);
  assert.ok(maxDiff(coarse, await bytes(page, '#st-mix canvas[data-row="1"]')) > 3, 'a coarse mix differs from its row');
  await set(page, '#st-preset', 'middle');
  assert.equal(await page.locator('#st-a').inputValue(), '4');
  const middle = await cell(1, 2);
  assert.ok(maxDiff(middle, coarse) > 3 && maxDiff(middle, await bytes(page, '#st-mix canvas[data-row="1"]')) > 0, 'the middle inputs mix otherwise');
  await set(page, '#st-a', '0');
  assert.equal(await page.locator('#st-preset').inputValue(), 'custom');
  assert.ok(maxDiff(await cell(1, 2), await bytes(page, '#st-mix canvas[data-col="2"]')) <= 1, 'inputs 0–5 all from the column: the column\'s image');
  await set(page, '#st-rows', '8,9');
  assert.equal(await page.locator('#st-mix canvas[data-cell]').count(), 8);

  // Interpolation in W between seeds 1 and 2: the strip's ends are their samples; t redraws the frame.
  assert.ok(maxDiff(await bytes(page, '#st-strip canvas[data-t="0"]'), a1) <= 1 && maxDiff(await bytes(page, '#st-strip canvas[data-t="7"]'), b1) <= 1, 'ends');
  const frame = await bytes(page, '#st-frame');
  await set(page, '#st-t', '0.9');
  assert.ok(maxDiff(await bytes(page, '#st-frame'), frame) > 3, 'moving t moves the frame');

  // A conditional mapping: the class picker changes the samples.
  await open(`${server.url}/cond/index.html?backend=cpu`);
  assert.equal(await page.locator('#st-class option').count(), 3);
  const class0 = await bytes(page, seed1);
  await set(page, '#st-class', '2');
  assert.ok(maxDiff(await bytes(page, seed1), class0) > 3, 'class 2 draws seed 1 otherwise');
  assert.deepEqual(errors, []);
});

/** `ganforge ARGS`, resolving when it exits 0. */
function cli(args: string[], cwd?: string): Promise<void> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'], cwd });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ganforge ${args.join(' ')} exited ${code}: ${stderr}`)))));
}

const styleFamily = Object.entries(MODELS).find(([, f]) => f.styleSpace && f.truncation === 'w' && ((f.condition ?? 'none') === 'none' || f.optionalCondition))?.[0];

test('a style-based run in the studio and exported: the page\'s mixing grid is `sample --style-mix`, ψ = 0 is one image, generator.js from a page', { skip: browserSkip, timeout: 120_000 }, async (t) => {
  assert.ok(styleFamily, 'a registered family declares a style space with truncation in w (stylegan2)');
  const cleanups: (() => unknown)[] = [];
  t.after(async () => {
    for (const undo of cleanups.reverse()) await undo();
  });
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-e2e-stylerun-'));
  cleanups.push(() => fs.rm(tmp, { recursive: true, force: true }));
  const run = path.join(tmp, 'runs', 's');
  // A folder of unlabelled images: the unconditional form of the family (labelled data makes stylegan2 conditional).
  const images = path.join(tmp, 'images');
  await fs.mkdir(images);
  for (let i = 0; i < 8; i++) {
    const raw = Buffer.from(Array.from({ length: 16 * 16 * 3 }, (_, j) => (j * (i + 3) * 37) % 256));
    await sharp(raw, { raw: { width: 16, height: 16, channels: 3 } }).png().toFile(path.join(images, `${i}.png`));
  }
  await cli(['train', styleFamily!, '--data', `folder:${images}`, '--image-size', '16', '--steps', '2', '--width', '8', '--batch-size', '4',
    '--latent-dim', '16', '--sample-every', '0', '--out', run]);
  await cli(['sample', run, '--style-mix', '1,2', '3,4,5', '--mix-layers', '0-3', '--truncation', '0.7', '--backend', 'cpu', '--out', path.join(tmp, 'mix.png')]);

  const studio = await startStudio({ runs: path.join(tmp, 'runs'), port: 0 });
  cleanups.push(() => studio.close());
  const { context, page, errors } = await openBrowser(tmp);
  cleanups.push(() => context.close());
  await page.goto(`${studio.url.replace(/\/$/, '')}/?backend=cpu#/explore/s`);
  await page.waitForSelector('#view[data-ready="1"]', { timeout: 60_000 }).catch((e: Error) => {
    throw new Error(`${e.message.split('\n')[0]}; page errors: ${errors.join(' | ') || 'none'}`);
  });
  const root = '#style';
  const redraw = async (selector: string, value: string) => {
    const before = Number(await page.locator(root).getAttribute('data-renders'));
    const control = page.locator(selector);
    if ((await control.evaluate((e) => e.tagName)) === 'SELECT') await control.selectOption(value);
    else {
      await control.fill(value);
      await control.dispatchEvent('change');
    }
    await until(async () => Number(await page.locator(root).getAttribute('data-renders')) > before, `a redraw after ${selector}`, 30_000);
  };
  const seed1 = '#st-gallery canvas[data-seed="1"]', seed2 = '#st-gallery canvas[data-seed="2"]';
  const first = await bytes(page, seed1);
  assert.ok(maxDiff(first, await bytes(page, seed2)) > 0, 'two seeds, two images');

  // The grid of `sample --style-mix 1,2 3,4,5 --mix-layers 0-3 --truncation 0.7`, cell by cell (PNG: 2 px of padding).
  await redraw('#st-rows', '1,2');
  await redraw('#st-cols', '3,4,5');
  await redraw('#st-psi', '0.7');
  await redraw('#st-a', '0');
  await redraw('#st-b', '3');
  const { data: png, info } = await sharp(path.join(tmp, 'mix.png')).raw().toBuffer({ resolveWithObject: true });
  const side = 16;
  const cliCell = (r: number, c: number) => {
    const out: number[] = [];
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const at = ((2 + r * (side + 2) + y) * info.width + 2 + c * (side + 2) + x) * info.channels;
        out.push(png[at], png[at + Math.min(1, info.channels - 1)], png[at + Math.min(2, info.channels - 1)], 255);
      }
    }
    return out;
  };
  for (let c = 0; c < 3; c++) assert.ok(maxDiff(await bytes(page, `#st-mix canvas[data-col="${c}"]`), cliCell(0, c + 1)) <= 2, `column ${c}`);
  for (let r = 0; r < 2; r++) {
    assert.ok(maxDiff(await bytes(page, `#st-mix canvas[data-row="${r}"]`), cliCell(r + 1, 0)) <= 2, `row ${r}`);
    for (let c = 0; c < 3; c++) assert.ok(maxDiff(await bytes(page, `#st-mix canvas[data-cell="${r},${c}"]`), cliCell(r + 1, c + 1)) <= 2, `cell ${r},${c}`);
  }

  // Truncation: ψ = 0 sends seeds 1 and 2 to w̄.
  assert.ok(maxDiff(await bytes(page, seed1), first) > 0, 'ψ = 0.7 moved seed 1');
  await redraw('#st-psi', '0');
  assert.ok(maxDiff(await bytes(page, seed1), await bytes(page, seed2)) <= 1, 'ψ = 0: one image');

  // `ganforge export`: the halves instead of G; its page draws the studio's seed 1, and generator.js works from a page.
  const out = path.join(tmp, 'export');
  await exportGenerator(run, out);
  assert.deepEqual((await fs.readdir(out)).filter((f) => !f.endsWith('.js')).sort(), ['index.html', 'manifest.json', 'mapping', 'synthesis']);
  const server = await staticServer(out);
  cleanups.push(() => server.close());
  await page.goto(`${server.url}/index.html?backend=cpu`);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
  assert.ok(maxDiff(await bytes(page, seed1), first) <= 1, 'the exported page draws seed 1 as the studio did');
  const sizes = await page.evaluate(async () => {
    const g = await import(`${location.origin}/generator.js`);
    const zDim = g.info.style.zDim;
    const pixels = await g.generate(g.seedLatents([1, 2], zDim), { truncation: 0.5 });
    const [a, b] = [await g.mapping(g.seedLatents([1], zDim)), await g.mapping(g.seedLatents([2], zDim))];
    return [pixels.length, (await g.synthesize(g.mix(a, b, [0, 3]))).length, a.length];
  });
  const manifest = JSON.parse(await fs.readFile(path.join(out, 'manifest.json'), 'utf8')) as GeneratorManifest;
  const imageSize = manifest.shapes.output.reduce((a, b) => a * b);
  assert.deepEqual(sizes, [2 * imageSize, imageSize, manifest.style!.wDim]);
  assert.deepEqual(errors, []);
});

const zFamily = Object.entries(MODELS).find(([, f]) => f.truncation === 'z' && f.condition === 'class')?.[0];

test('truncation in z and the class picker on the studio\'s latent explorer', { skip: browserSkip, timeout: 90_000 }, async (t) => {
  assert.ok(zFamily, 'a registered class-conditional family truncates z (biggan)');
  const cleanups: (() => unknown)[] = [];
  t.after(async () => {
    for (const undo of cleanups.reverse()) await undo();
  });
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-e2e-ztrunc-'));
  cleanups.push(() => fs.rm(tmp, { recursive: true, force: true }));
  await cli(['train', zFamily!, '--data', 'fashion-mnist', '--data-limit', '64', '--image-size', '32', '--steps', '2', '--width', '4', '--batch-size', '4',
    '--latent-dim', '32', '--sample-every', '0', '--out', path.join(tmp, 'runs', 'z')]);

  const studio = await startStudio({ runs: path.join(tmp, 'runs'), port: 0 });
  cleanups.push(() => studio.close());
  const { context, page, errors } = await openBrowser(tmp);
  cleanups.push(() => context.close());
  await page.goto(`${studio.url.replace(/\/$/, '')}/?backend=cpu#/explore/z`);
  await page.waitForSelector('#view[data-ready="1"]', { timeout: 60_000 });
  assert.equal(await page.locator('#psi').getAttribute('max'), '1', 'ψ ≤ 1 for truncation in z');
  const sample = (i: number) => bytes(page, `#gallery canvas:nth-child(${i + 1})`);
  const frames = () => page.locator('#gallery canvas').first().getAttribute('data-frame').then(Number);
  const redrawn = async (change: () => Promise<unknown>) => {
    const before = await frames();
    await change();
    await until(async () => (await frames()) > before, 'a redrawn gallery', 20_000);
  };
  const [first, second] = [await sample(0), await sample(1)];
  assert.ok(maxDiff(first, second) > 0, 'two samples');
  await redrawn(() => page.locator('#label').selectOption('3'));
  assert.ok(maxDiff(await sample(0), first) > 0, 'another class, another sample');
  await redrawn(() => page.locator('#psi').fill('0'));
  assert.ok(maxDiff(await sample(0), await sample(1)) <= 1, 'ψ = 0: z = 0 for every sample, one image per class');
  assert.deepEqual(errors, []);
});
