import { existsSync, promises as fs } from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { imageGrid } from '../../src/io/png.js';

/** GET with the path sent byte for byte (fetch and URL would normalise '/../' away before it left). */
export function rawGet(port: number, rawPath: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: rawPath, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A 64-sample 28×28 grid like the trainer's, each sample from `pixel(i, p)` in 0..255. */
export function grid(pixel: (i: number, p: number) => number): Promise<Buffer> {
  const n = 64, h = 28, w = 28;
  const bytes = new Uint8Array(n * h * w);
  for (let i = 0; i < n; i++) for (let p = 0; p < h * w; p++) bytes[i * h * w + p] = pixel(i, p);
  return imageGrid(bytes, n, h, w, 1);
}

/** A hand-made run folder: config.json, metrics.jsonl and two sample grids. */
export async function fakeRun(dir: string, records: object[]): Promise<void> {
  await fs.mkdir(path.join(dir, 'samples'), { recursive: true });
  await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify({ model: 'dcgan', data: 'fashion-mnist', steps: 100, latentDim: 8, out: dir }));
  await fs.writeFile(path.join(dir, 'metrics.jsonl'), records.map((r) => JSON.stringify(r) + '\n').join(''));
  await fs.writeFile(path.join(dir, 'samples', 'step-000005.png'), await grid((i, p) => (i * 37 + p * 11) % 256));
  await fs.writeFile(path.join(dir, 'samples', 'step-000010.png'), await grid((i, p) => (i * 53 + p * 7) % 256));
}

// Browser tests (e2e*.test.ts): Debian's chromium driven by playwright-core.
export const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url)); // dist/test/studio → repo root
export const CLI = path.join(ROOT, 'dist/src/cli/main.js');

/** Why browser tests cannot run here, or false. */
export const browserSkip: string | false = !existsSync(CHROMIUM)
  ? 'no /usr/bin/chromium (scripts/setup.sh installs it)'
  : !existsSync(path.join(ROOT, 'dist/studio-web/index.html'))
    ? "page not built: run 'npm run build:studio'"
    : false;

export async function until(check: () => Promise<boolean> | boolean, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Headless Chromium with a profile under `dir`, and a page whose errors (uncaught, console.error) are collected. */
export async function openBrowser(dir: string): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await chromium.launchPersistentContext(path.join(dir, 'profile'), { executablePath: CHROMIUM, args: ARGS, headless: true, viewport: { width: 1400, height: 900 } });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
  return { context, page, errors };
}

/** A bare static server for a flat folder (an export), on a free port. */
export async function staticServer(dir: string): Promise<{ url: string; close: () => Promise<void> }> {
  const types: Record<string, string> = { '.js': 'text/javascript', '.html': 'text/html', '.json': 'application/json' };
  const server = http.createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/+/, '') || 'index.html';
    const file = path.resolve(dir, rel);
    if (!file.startsWith(path.resolve(dir) + path.sep)) return void res.writeHead(404).end();
    fs.readFile(file).then((b) => res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' }).end(b), () => res.writeHead(404).end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, close: () => new Promise((r) => server.close(() => r())) };
}
