import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Page } from 'playwright-core';
import { initBackend } from '../../src/backend/index.js';
import { startStudio } from '../../src/studio/server.js';
import { exportGenerator } from '../../src/studio/export.js';
import { randomLatents } from '../../src/studio/generator_core.js';
import { encodeSentences } from '../../src/data/tokenizer.js';
import { loadSamplingNetworks } from '../../src/gan/checkpoint.js';
import { allNetworks } from '../../src/gan/family.js';
import { getModel } from '../../src/models/registry.js';
import { CLI, browserSkip, openBrowser, staticServer, until } from './helpers.js';

// The text page in headless Chromium on a tiny dfgan run (captions:fashion-mnist): typing a sentence draws 8
// samples in the page, equal to the run's composed model (GanFamily.textGenerator) evaluated in Node on the
// same latents and token ids; a word outside the vocabulary is named; another sentence draws other pixels.
// The same in an export.
const RUN = ['train', 'dfgan', '--data', 'captions:fashion-mnist', '--data-limit', '64', '--batch-size', '8', '--steps', '3', '--width', '8', '--text-encoder-steps', '2', '--sample-every', '0'];

function cli(args: string[]): Promise<void> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ganforge ${args[0]} exited ${code}: ${stderr}`)))));
}

/** The first channel of the 8 sample canvases, 0–255. */
const drawn = (page: Page) =>
  page.evaluate(() => Array.from(document.querySelectorAll('#tx-out canvas')).map((c) => {
    const canvas = c as HTMLCanvasElement;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    return Array.from({ length: data.length / 4 }, (_, p) => data[p * 4]);
  }));

/** What the page must show for `sentence`: the composed model in Node on randomLatents(8, latentDim, 0), as 0–255 levels. */
async function expected(run: string, sentence: string): Promise<number[][]> {
  const { nets, state } = await loadSamplingNetworks(run);
  try {
    const model = getModel(state.config.model).textGenerator!(nets, { config: state.config, data: state.data });
    const text = state.data.text!;
    const { tokens } = encodeSentences(text.vocab, text.maxLen, Array(8).fill(sentence));
    const y = tf.tidy(() => model.apply([tf.tensor2d(randomLatents(8, state.config.latentDim, 0), [8, state.config.latentDim]), tf.tensor2d(Float32Array.from(tokens), [8, text.maxLen])]) as tf.Tensor4D);
    const [, h, w, c] = y.shape;
    const values = await y.data();
    y.dispose();
    return Array.from({ length: 8 }, (_, i) => Array.from({ length: h * w }, (_, p) => Math.floor(Math.min(1, Math.max(0, (values[(i * h * w + p) * c] + 1) / 2)) * 255)));
  } finally {
    for (const [, m] of allNetworks(nets)) m.dispose();
  }
}

async function checkPage(page: Page, root: string, run: string): Promise<void> {
  const box = page.locator('#tx-sentence');
  await box.fill('a dark small sneaker');
  await until(async () => (await page.locator(root).getAttribute('data-drawn')) === 'a dark small sneaker', 'the sentence drawn');
  const ours = await drawn(page);
  const want = await expected(run, 'a dark small sneaker');
  let worst = 0;
  ours.forEach((img, i) => img.forEach((v, p) => (worst = Math.max(worst, Math.abs(v - want[i][p])))));
  assert.ok(worst <= 2, `page = textGenerator in Node to 2 levels, worst ${worst}`);

  await box.fill('a light large bag zorblax');
  await until(async () => (await page.locator(root).getAttribute('data-drawn')) === 'a light large bag zorblax', 'the second sentence drawn');
  assert.match(await page.locator('#tx-notice').innerText(), /not in the run's vocabulary.*zorblax/);
  assert.notDeepEqual(await drawn(page), ours, 'another sentence draws other pixels');
}

test('text page in headless Chromium: typing draws the composed model\'s samples, unknown words named; the same in an export', { skip: browserSkip, timeout: 240_000 }, async (t) => {
  await initBackend({ prefer: 'cpu', quiet: true });
  const cleanups: (() => unknown)[] = [];
  t.after(async () => {
    for (const undo of cleanups.reverse()) await undo();
  });
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-e2e-text-'));
  cleanups.push(() => fs.rm(tmp, { recursive: true, force: true }));
  const runs = path.join(tmp, 'runs');
  const run = path.join(runs, 'words');
  await cli([...RUN, '--out', run]);

  const studio = await startStudio({ runs, port: 0, pollMs: 300 });
  cleanups.push(() => studio.close());
  const { context, page, errors } = await openBrowser(tmp);
  cleanups.push(() => context.close());
  await page.goto(`${studio.url.replace(/\/$/, '')}/?backend=cpu#/explore/words`); // the explorer forwards a text run to its page
  await page.waitForSelector('#view[data-ready="1"]', { timeout: 60_000 });
  assert.match(page.url(), /#\/text\/words$/);
  await checkPage(page, '#text', run);

  const out = path.join(tmp, 'export');
  const { info } = await exportGenerator(run, out);
  assert.equal(info.condition, 'text');
  const server = await staticServer(out);
  cleanups.push(() => server.close());
  await page.goto(`${server.url}/index.html?backend=cpu`);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 60_000 });
  await checkPage(page, '#app', run);
  assert.deepEqual(errors, []);
});
