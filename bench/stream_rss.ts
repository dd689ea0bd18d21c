/**
 * npm run bench:stream [-- --files N --size S --train-steps K] — memory and speed of a streamed image folder
 * against the same folder decoded into memory. Writes N (default 100,000) S×S RGB PNGs (default 32 px; a
 * gradient and a disc each, a few hundred bytes) into a temporary folder, then, each in a fresh process so
 * peak RSS is its own:
 *   stream   --stream on: read every header (the open), then draw one whole epoch of batches of 64;
 *   memory   --stream off: decode every file into memory (the load), then draw one whole epoch;
 * both at N/10 files and at N, so that growth with the folder's size shows; then K training steps of a small
 * DCGAN (width 16, batch 64; default 200 steps) on the whole folder streamed, and on a tenth of it in memory
 * (the same steps, without decoding them all first). Prints images/s and peak RSS
 * (getrusage maxrss, which counts the decode threads too), and removes the folder.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} needs a non-negative integer, got '${process.argv[i + 1]}'`);
  return n;
}

const BATCH = 64;

interface PhaseResult {
  phase: string;
  files: number;
  /** Seconds to open (streamed: read headers) or load (memory: decode everything). */
  openS: number;
  /** Seconds for one epoch of batches, or for the training steps. */
  runS: number;
  images: number;
  peakRssMiB: number;
  /** RSS when opened/loaded, before drawing batches. */
  openRssMiB: number;
  /** RSS after each tenth of the epoch: flat when streaming is bounded. */
  trace: number[];
}

// ---- child: one phase, one process ----
const phaseIx = process.argv.indexOf('--phase');
if (phaseIx >= 0) {
  const phase = process.argv[phaseIx + 1];
  const dir = process.argv[process.argv.indexOf('--dir') + 1];
  const files = arg('--limit', 0);
  const steps = arg('--train-steps', 0);
  process.stdout.write(JSON.stringify(await runPhase(phase, dir, files, steps)) + '\n');
  process.exit(0);
}

async function runPhase(phase: string, dir: string, limit: number, steps: number): Promise<PhaseResult> {
  const { loadData } = await import('../src/data/registry.js');
  const { BatchStream } = await import('../src/data/batches.js');
  const streamed = phase.startsWith('stream');
  const rssMiB = () => process.memoryUsage().rss / 2 ** 20;
  const peakMiB = () => process.resourceUsage().maxRSS / 1024;
  if (phase.endsWith('train')) {
    await import('@tensorflow/tfjs-layers');
    const { initBackend } = await import('../src/backend/index.js');
    const { startRun } = await import('../src/run.js');
    await initBackend({ quiet: true });
    const out = await mkdtemp(join(tmpdir(), 'ganforge-stream-run-'));
    const t0 = performance.now();
    const trainer = await startRun({
      model: 'dcgan', data: `folder:${dir}`, stream: streamed ? 'on' : 'off', dataLimit: limit, batchSize: BATCH, width: 16,
      latentDim: 64, steps, seed: 0, out, sampleEvery: 0, checkpointEvery: 0, logEvery: 50,
    });
    const openS = (performance.now() - t0) / 1000;
    const openRssMiB = rssMiB();
    const t1 = performance.now();
    try {
      await trainer.train();
    } finally {
      trainer.dispose();
      await rm(out, { recursive: true, force: true });
    }
    return { phase, files: limit, openS, runS: (performance.now() - t1) / 1000, images: steps * BATCH, peakRssMiB: peakMiB(), openRssMiB, trace: [] };
  }
  const t0 = performance.now();
  const source = await loadData(`folder:${dir}`, { stream: streamed ? 'on' : 'off', limit: limit || undefined, log: () => {} });
  const openS = (performance.now() - t0) / 1000;
  const openRssMiB = rssMiB();
  const stream = new BatchStream(source, { batchSize: BATCH, seed: 0 });
  const batches = stream.batchesPerEpoch!;
  const t1 = performance.now();
  let checksum = 0;
  const trace: number[] = [];
  for (let b = 0; b < batches; b++) {
    checksum += stream.nextRaw().x[0];
    if ((b + 1) % Math.max(1, Math.floor(batches / 10)) === 0 && trace.length < 10) trace.push(Math.round(rssMiB()));
  }
  stream.close();
  if (!Number.isFinite(checksum)) throw new Error('non-finite pixels');
  return { phase, files: limit, openS, runS: (performance.now() - t1) / 1000, images: batches * BATCH, peakRssMiB: peakMiB(), openRssMiB, trace };
}

// ---- parent: write the folder, run the phases, print the table ----

/** CRC-32 (PNG's chunk checksum). */
const CRC_TABLE = Int32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});
function crc32(buf: Uint8Array): number {
  let c = -1;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** An 8-bit RGB PNG of `px` ([s, s, 3]), written by hand: sharp takes ~2 ms a file, this a few µs. */
function png(px: Uint8Array, s: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(s, 0);
  ihdr.writeUInt32BE(s, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8 bits, RGB, deflate, no filter choice, no interlace
  const rows = Buffer.alloc(s * (1 + 3 * s));
  for (let y = 0; y < s; y++) rows.set(px.subarray(y * s * 3, (y + 1) * s * 3), y * (1 + 3 * s) + 1); // filter byte 0
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([sig, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(rows, { level: 6 })), chunk('IEND', new Uint8Array(0))]);
}

/** Image i: a two-colour gradient with a disc, all drawn from i, so no two files are alike. */
function picture(i: number, s: number): Uint8Array {
  const px = new Uint8Array(s * s * 3);
  const hue = (k: number) => (i * (37 + 11 * k)) % 256;
  const [cy, cx, r] = [(i * 7) % s, (i * 13) % s, 3 + (i % (s / 4))];
  for (let y = 0; y < s; y++) {
    for (let x = 0; x < s; x++) {
      const inside = (y - cy) ** 2 + (x - cx) ** 2 < r * r;
      for (let k = 0; k < 3; k++) px[(y * s + x) * 3 + k] = inside ? 255 - hue(k) : (hue(k) + ((x + y) * 255) / (2 * s)) % 256;
    }
  }
  return px;
}

async function writeFolder(dir: string, n: number, s: number): Promise<number> {
  let bytes = 0;
  const perFolder = 10_000; // sub-folders of 10,000 keep directories a sane size
  for (let i = 0; i < n; i++) {
    const sub = join(dir, `part${Math.floor(i / perFolder)}`);
    if (i % perFolder === 0) await mkdir(sub, { recursive: true });
    const file = png(picture(i, s), s);
    bytes += file.length;
    await writeFile(join(sub, `${String(i).padStart(7, '0')}.png`), file);
  }
  return bytes;
}

function runChild(phase: string, dir: string, limit: number, steps = 0): PhaseResult {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, [self, '--phase', phase, '--dir', dir, '--limit', String(limit), '--train-steps', String(steps)], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`phase ${phase} (${limit} files) failed with status ${r.status}`);
  const line = r.stdout.trim().split('\n').pop()!;
  return JSON.parse(line) as PhaseResult;
}

const n = arg('--files', 100_000);
const size = arg('--size', 32);
const trainSteps = arg('--train-steps', 200);
const root = await mkdtemp(join(tmpdir(), 'ganforge-stream-bench-'));
try {
  const t0 = performance.now();
  const bytes = await writeFolder(root, n, size);
  console.log(`wrote ${n.toLocaleString('en-US')} ${size}×${size} RGB PNGs (${(bytes / 2 ** 20).toFixed(0)} MiB) in ${((performance.now() - t0) / 1000).toFixed(0)} s to ${root}`);
  console.log(`decoded: ${((n * size * size * 3) / 2 ** 20).toFixed(0)} MiB at uint8; batch ${BATCH}\n`);
  const rows: PhaseResult[] = [];
  // Sub-folders are classes to the loader, so the files carry labels 0..9; that changes nothing measured here.
  for (const files of [Math.floor(n / 10), n]) {
    for (const phase of ['stream', 'memory']) {
      const r = runChild(phase, root, files);
      rows.push(r);
      console.log(row(r));
    }
  }
  if (trainSteps > 0) {
    // Streamed training reads the whole folder; in memory a tenth of it is enough to time the same steps.
    for (const [phase, files] of [['stream-train', n], ['memory-train', Math.floor(n / 10)]] as const) {
      const r = runChild(phase, root, files, trainSteps);
      rows.push(r);
      console.log(row(r));
    }
  }
} finally {
  await rm(root, { recursive: true, force: true });
}

function row(r: PhaseResult): string {
  const what = r.phase.endsWith('train') ? `${r.images / BATCH} dcgan steps` : 'one epoch';
  const open = r.phase.startsWith('stream') ? 'open (headers)' : 'load (decode all)';
  const trace = r.trace.length ? `  rss by tenths ${r.trace.join(' ')}` : '';
  return `${r.phase.padEnd(13)} ${String(r.files).padStart(7)} files  ${open} ${r.openS.toFixed(1).padStart(6)} s  ${what} ${r.runS.toFixed(1).padStart(6)} s = ${Math.round(r.images / r.runS).toString().padStart(6)} img/s  rss after open ${r.openRssMiB.toFixed(0).padStart(5)} MiB  peak rss ${r.peakRssMiB.toFixed(0).padStart(5)} MiB${trace}`;
}
