import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
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
