/**
 * npm run bench:soak [-- --steps N] — memory soak: trains DCGAN at the reference size (batch 64, width 64,
 * 28×28 Fashion-MNIST) for 5,000 steps on the active backend, with the periodic checkpoint, sample and log
 * writes a real run does, and prints live TF.js tensors, native bytes (aten) and process RSS after warm-up
 * and at the end, and whether each stayed flat. A leak of one tensor per step shows as thousands here.
 */
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../src/backend/index.js';
import { startRun } from '../src/run.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} needs a positive integer, got '${process.argv[i + 1]}'`);
  return n;
}

const steps = arg('--steps', 5000);
const warmup = Math.min(50, Math.max(1, Math.floor(steps / 10)));
const every = Math.max(1, Math.floor(steps / 5)); // a few checkpoints and sample grids within any length
const backend = await initBackend({ quiet: true });
const out = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-soak-'));

interface Reading { step: number; tensors: number; nativeMiB: number | null; rssMiB: number }
function read(step: number): Reading {
  const mem = tf.memory() as tf.MemoryInfo & { nativeBytes?: number };
  return {
    step,
    tensors: mem.numTensors,
    nativeMiB: typeof mem.nativeBytes === 'number' ? mem.nativeBytes / 2 ** 20 : null,
    rssMiB: process.memoryUsage().rss / 2 ** 20,
  };
}

const trainer = await startRun({
  model: 'dcgan', data: 'fashion-mnist', batchSize: 64, width: 64, steps, seed: 0, out,
  checkpointEvery: every, sampleEvery: every, logEvery: 10, keepCheckpoints: 2,
});
const readings: Reading[] = [];
const t0 = performance.now();
trainer.stats.subscribe((step) => {
  if (step === warmup || step === steps || step % every === 0) readings.push(read(step));
});
try {
  await trainer.train();
} finally {
  trainer.dispose();
  await fs.rm(out, { recursive: true, force: true });
}
const seconds = (performance.now() - t0) / 1000;

const first = readings.find((r) => r.step === warmup)!;
const last = readings[readings.length - 1];
const fmt = (r: Reading) =>
  `step ${String(r.step).padStart(5)}  tensors ${r.tensors}  native ${r.nativeMiB === null ? 'n/a' : r.nativeMiB.toFixed(1) + ' MiB'}  rss ${r.rssMiB.toFixed(0)} MiB`;
console.log(`soak: dcgan batch 64 width 64 fashion-mnist, ${steps} steps on ${backend.name} in ${seconds.toFixed(0)} s (${(steps / seconds).toFixed(1)} steps/s)`);
for (const r of readings) console.log(`  ${fmt(r)}`);
// Flat: not one tensor more; native memory within 1 MiB (allocator slack); RSS within 10% or 64 MiB,
// whichever is larger (the V8 heap and glibc arenas settle during the first few hundred steps).
const tensorsFlat = last.tensors === first.tensors;
const nativeFlat = first.nativeMiB === null || last.nativeMiB === null || last.nativeMiB - first.nativeMiB <= 1;
const rssGrowth = last.rssMiB - first.rssMiB;
const rssFlat = rssGrowth <= Math.max(64, 0.1 * first.rssMiB);
console.log(`tensors ${first.tensors} → ${last.tensors}: ${tensorsFlat ? 'flat' : 'GROWING'}`);
console.log(`native ${first.nativeMiB === null ? 'n/a (no nativeBytes on this backend)' : `${first.nativeMiB.toFixed(1)} → ${last.nativeMiB!.toFixed(1)} MiB: ${nativeFlat ? 'flat' : 'GROWING'}`}`);
console.log(`rss ${first.rssMiB.toFixed(0)} → ${last.rssMiB.toFixed(0)} MiB (${rssGrowth >= 0 ? '+' : ''}${rssGrowth.toFixed(0)}): ${rssFlat ? 'flat' : 'GROWING'}`);
process.exitCode = tensorsFlat && nativeFlat && rssFlat ? 0 : 1;
