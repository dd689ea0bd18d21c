import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/backend/index.js';
import { startRun, resumeRun } from '../../src/run.js';
import { readCheckpointState, resolveCheckpoint } from '../../src/gan/checkpoint.js';
import type { BatchStreamState } from '../../src/data/batches.js';
import type { RunConfig } from '../../src/gan/config.js';
import type { Trainer } from '../../src/gan/trainer.js';
import { metrics, tempDir } from './helpers.js';

// Bit-for-bit claims only hold per backend; the JS cpu backend is the one every machine has.
await initBackend({ prefer: 'cpu', quiet: true });

const tmp = await tempDir('resume');
test.after(() => fs.rm(tmp, { recursive: true, force: true }));

/** The files of a checkpoint that hold numbers: both networks and both optimizers' moments. */
const NUMERIC = ['generator/weights.bin', 'discriminator/weights.bin', 'optimizer-g.bin', 'optimizer-d.bin'];
/** Their manifests. Layer and variable names carry TF.js's per-process counters, so only shapes, dtypes and order are compared. */
const MANIFESTS = ['generator/model.json', 'discriminator/model.json', 'optimizer-g.json', 'optimizer-d.json'];

async function layout(file: string): Promise<string[]> {
  const json = JSON.parse(await fs.readFile(file, 'utf8'));
  const specs: { shape: number[]; dtype: string }[] = Array.isArray(json) ? json : json.weightsManifest[0].weights;
  return specs.map((s) => `${s.dtype}[${s.shape.join(',')}]`);
}
/** Stats that depend on the numbers (img/s and time depend on the clock); ADA's p and r_t where the run has them. */
const LOSSES = ['loss/D', 'loss/G', 'D(x)', 'D(G(z))'];
const TRICK_STATS = ['aug/p', 'aug/rt'];

/**
 * Rng states as uint32. Rng keeps one word as a signed int32 between draws (`b ^ (b >>> 9)`) and setState
 * stores it unsigned: the same bits, so the same future numbers, but deepEqual would call them different.
 */
function norm<T>(v: T): T {
  return JSON.parse(JSON.stringify(v), (k, x) => (k === 's' && Array.isArray(x) ? x.map((w: number) => w >>> 0) : x)) as T;
}

/** Train, and record the batch stream's position after every step (the data order, step by step). */
async function trainRecording(trainer: Trainer, streams: Map<number, BatchStreamState>, stopAt?: number): Promise<void> {
  const off = trainer.stats.subscribe((step) => {
    streams.set(step, norm(trainer.parts.stream.state()));
    if (step === stopAt) trainer.requestStop(); // what the CLI does on Ctrl-C
  });
  try {
    await trainer.train();
  } finally {
    off();
    trainer.dispose();
  }
}

/**
 * One run straight to `n`, one stopped at each of `stops` and resumed from its checkpoint; the final
 * checkpoints must be byte-identical, and so must the per-step losses and the data order.
 */
async function compareResume(name: string, config: Partial<RunConfig>, n: number, stops: number[]): Promise<Record<string, unknown>[]> {
  const straight = path.join(tmp, `${name}-straight`);
  const resumed = path.join(tmp, `${name}-resumed`);
  const base = { ...config, steps: n, seed: 11, logEvery: 1, sampleEvery: 0, checkpointEvery: 0, keepCheckpoints: 10 };

  const straightStreams = new Map<number, BatchStreamState>();
  await trainRecording(await startRun({ ...base, out: straight }), straightStreams);

  const resumedStreams = new Map<number, BatchStreamState>();
  await trainRecording(await startRun({ ...base, out: resumed }), resumedStreams, stops[0]);
  for (let i = 0; i < stops.length; i++) {
    const ck = await readCheckpointState(await resolveCheckpoint(resumed));
    assert.equal(ck.step, stops[i], 'the stop request is honoured after the step it arrived in');
    // The saved stream position is the one the straight run had after the same step.
    assert.deepEqual(norm(ck.stream), straightStreams.get(stops[i]), `data order at step ${stops[i]}`);
    await trainRecording(await resumeRun(resumed), resumedStreams, stops[i + 1]);
  }

  const a = await resolveCheckpoint(straight);
  const b = await resolveCheckpoint(resumed);
  assert.equal(path.basename(a), path.basename(b));
  for (const f of NUMERIC) {
    const [x, y] = await Promise.all([fs.readFile(path.join(a, f)), fs.readFile(path.join(b, f))]);
    assert.ok(x.length > 0 && x.equals(y), `${name}: ${f} differs between the straight and the resumed run`);
  }
  for (const f of MANIFESTS) assert.deepEqual(await layout(path.join(b, f)), await layout(path.join(a, f)), f);
  const [sa, sb] = await Promise.all([readCheckpointState(a), readCheckpointState(b)]);
  assert.equal(sb.step, n);
  assert.deepEqual(sb.optimizerScalars, sa.optimizerScalars, 'Adam β powers');
  assert.deepEqual(norm(sb.rng), norm(sa.rng), 'latent RNG');
  assert.deepEqual(norm(sb.stream), norm(sa.stream), 'batch stream');
  assert.deepEqual(sb.tricks, sa.tricks, "the tricks' state (ADA's p)");
  for (const k of LOSSES) assert.equal(sb.lastStats[k], sa.lastStats[k], k);
  for (let s = 1; s <= n; s++) assert.deepEqual(resumedStreams.get(s), straightStreams.get(s), `stream after step ${s}`);

  const [la, lb] = await Promise.all([metrics(straight), metrics(resumed)]);
  assert.deepEqual(lb.map((l) => l.step), Array.from({ length: n }, (_, i) => i + 1), 'one log line per step, no duplicates from the resumes');
  for (let s = 0; s < n; s++) {
    for (const k of [...LOSSES, ...TRICK_STATS]) assert.equal(lb[s][k], la[s][k], `${name} step ${s + 1} ${k}`);
  }
  return la;
}

test('dcgan: stopped at an epoch boundary and mid-epoch, resumed twice → bit-identical to a straight run', async () => {
  // 64 examples / batch 16 = 4 batches per epoch, so the 7 steps cross an epoch boundary (a reshuffle)
  // and the stops land on one (step 4) and inside an epoch (step 6).
  await compareResume('dcgan', { model: 'dcgan', data: 'fashion-mnist', dataLimit: 64, batchSize: 16, width: 8, latentDim: 16 }, 7, [4, 6]);
});

test('vanilla on toy:ring8: stopped twice and resumed → bit-identical to a straight run', async () => {
  await compareResume('vanilla', { model: 'vanilla', data: 'toy:ring8', batchSize: 32, hidden: 32 }, 12, [5, 8]);
});

test('dcgan with ADA: stopped mid-interval and resumed → bit-identical, p and r_t included', async () => {
  // Interval 2 and stops at steps 3 and 5: each resume lands inside an interval, with one step's signs counted.
  // From p = ½, each adjustment (2 steps × 16 images over 128 images) moves p by ¼.
  const log = await compareResume('dcgan-ada', {
    model: 'dcgan', data: 'fashion-mnist', dataLimit: 64, batchSize: 16, width: 8, latentDim: 16, adaTarget: 0.6, adaInterval: 2, adaKimg: 0.128, adaP: 0.5,
  }, 8, [3, 5]);
  const ps = log.map((l) => l['aug/p']);
  assert.equal(ps[0], 0.5);
  assert.ok(new Set(ps).size > 1, `p moved during the run: ${ps}`);
});

test('dcgan on a streamed folder with --xflip: stopped mid-epoch and resumed → bit-identical to a straight run', async () => {
  // 12 images, mirrored: 24 positions / batch 4 = 6 batches per epoch; the stops land inside the first and
  // second epochs, while the decode threads hold batches drawn ahead of the checkpointed position.
  const dir = path.join(tmp, 'stream-folder');
  await fs.mkdir(dir, { recursive: true });
  for (let i = 0; i < 12; i++) {
    const px = Buffer.alloc(16 * 16 * 3);
    for (let j = 0; j < px.length; j++) px[j] = (i * 29 + j * 7 + (j % 48) * 3) % 256;
    await sharp(px, { raw: { width: 16, height: 16, channels: 3 } }).png().toFile(path.join(dir, `im${String(i).padStart(2, '0')}.png`));
  }
  await compareResume('stream', { model: 'dcgan', data: `folder:${dir}`, stream: 'on', xflip: true, batchSize: 4, width: 8, latentDim: 16 }, 9, [3, 7]);
});

test('pix2pix on lowres: random crops of a folder (noise, --upsample-input): stopped and resumed → bit-identical', async () => {
  // Images of three sizes; every step draws crops, flips and noise from the stream's rng, so resume must replay them.
  const dir = path.join(tmp, 'crop-folder');
  await fs.mkdir(dir, { recursive: true });
  for (const [i, [h, w]] of [[40, 52], [33, 64], [48, 48]].entries()) {
    const px = Buffer.alloc(h * w * 3);
    for (let j = 0; j < px.length; j++) px[j] = (i * 53 + j * 11 + (j % 57) * 5) % 256;
    await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toFile(path.join(dir, `p${i}.png`));
  }
  await compareResume('crops', {
    model: 'pix2pix', data: `lowres:folder:${dir}`, randomCrop: true, imageSize: 16, scale: 2, noise: 5, upsampleInput: true, batchSize: 2, width: 8,
  }, 6, [3]);
});
