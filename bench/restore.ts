/**
 * npm run bench:restore — issue #14's restoration benchmark, at one stated wall-clock budget per run:
 * 1. ×4 super-resolution trained on lowres:photos (random 96 px HR crops, ×4 antialiased bicubic) and scored on
 *    the held-out photos-test photos at their own size (modcropped; stored with the long side ≤ --max-side):
 *    bicubic, srresnet, srgan (--init srresnet), the ESRGAN PSNR model (srresnet --generator rrdb --pixel-loss l1),
 *    esrgan (--init that) and their interpolation (ganforge interpolate --alpha 0.8). Each photo's LR is made by
 *    the training degradation and upscaled tile by tile (applyTiled, tiles of the generator's trained input
 *    size) through the family's sample(). PSNR/SSIM under the SR protocol (Y, border = scale, 8-bit), the
 *    perceptual distance and FID (ganforge's CIFAR-10 CNN, not VGG/Inception) on seeded 32 px crops.
 * 2. Inpainting: inpaint on masked: CIFAR-10 (rectangular holes fixed per example), L1/PSNR in the hole on the
 *    test split against mean fill and diffusion fill.
 * 3. SimGAN's TSTR comparison is its own bench (npm run bench:simgan); a line points there.
 * Every trained row is mean ± std over --seeds; results also go to --out/restore.json.
 *
 *   npm run bench:restore                                 # 10 min per run, seeds 0,1,2: hours
 *   node dist/bench/restore.js --minutes 0.5 --seeds 0 --skip simgan
 */
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../src/backend/index.js';
import { loadSamplingNetworks } from '../src/gan/checkpoint.js';
import { allNetworks } from '../src/gan/family.js';
import { sampleFamily } from '../src/gan/sampling.js';
import { getModel } from '../src/models/registry.js';
import { loadData } from '../src/data/registry.js';
import { photoStore } from '../src/data/photos.js';
import { readStoredImage } from '../src/data/crops.js';
import { bicubicUpscale, DEFAULT_DEGRADE, degrade, describeDegrade, modcrop } from '../src/data/degrade.js';
import { applyTiled, type PlainImage } from '../src/data/tiles.js';
import { psnrWith, ssimWith, srProtocol, describeProtocol } from '../src/metrics/image_quality.js';
import { PerceptualDistance } from '../src/metrics/perceptual.js';
import { loadClassifierNet, type FeatureNetwork } from '../src/metrics/features.js';
import { fidFromFeatures } from '../src/metrics/fid.js';
import { baselineScores, inpaintingScores, type InpaintingScores } from '../src/metrics/inpainting.js';
import { Rng } from '../src/util/rng.js';
import { UserError } from '../src/util/errors.js';

const HERE = path.dirname(fileURLToPath(import.meta.url)); // dist/bench
const MAIN = path.resolve(HERE, '../src/cli/main.js');
const REPO = path.resolve(HERE, '../..');
const SCALE = 4;
const HR_CROP = 96;
/** Side of the crops the perceptual distance and FID read: the feature network's input. */
const CROP = 32;
/** Fixed, so every model and seed is scored on the same crops. */
const CROP_SEED = 0x63726f70;

function run(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`ganforge ${args.join(' ')} exited ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`))));
  });
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const std = (v: number[]) => (v.length < 2 ? 0 : Math.sqrt(v.reduce((a, b) => a + (b - mean(v)) ** 2, 0) / (v.length - 1)));
const fmt = (v: number[], digits = 2) => (v.length ? `${mean(v).toFixed(digits)} ± ${std(v).toFixed(digits)}` : '-');

async function lastStep(dir: string): Promise<number> {
  const logged = (await fs.readFile(path.join(dir, 'metrics.jsonl'), 'utf8')).trim().split('\n');
  return (JSON.parse(logged[logged.length - 1]) as { step: number }).step;
}

/** One held-out photo: HR (modcropped) and its LR, both uint8 [h, w, 3]. */
interface TestPhoto { name: string; hr: PlainImage; lr: PlainImage }

const toUnit = (v: ArrayLike<number>, from255 = true) => Float32Array.from(v as ArrayLike<number>, (x) => (from255 ? x / 127.5 - 1 : x));

/** Seeded crop positions per photo: the same for every model, so the perceptual distance pairs output and HR crops. */
function cropPositions(photos: TestPhoto[], count: number): { k: number; y: number; x: number }[] {
  const rng = new Rng(CROP_SEED);
  const per = Math.ceil(count / photos.length);
  const out: { k: number; y: number; x: number }[] = [];
  photos.forEach((p, k) => {
    for (let i = 0; i < per; i++) out.push({ k, y: rng.int(p.hr.h - CROP + 1), x: rng.int(p.hr.w - CROP + 1) });
  });
  return out;
}

/** The crops of images in [−1, 1], [n, 32, 32, 3] flat. */
function cutCrops(images: Float32Array[], photos: TestPhoto[], at: { k: number; y: number; x: number }[]): Float32Array {
  const out = new Float32Array(at.length * CROP * CROP * 3);
  at.forEach(({ k, y, x }, i) => {
    const w = photos[k].hr.w;
    for (let r = 0; r < CROP; r++) out.set(images[k].subarray(((y + r) * w + x) * 3, ((y + r) * w + x + CROP) * 3), (i * CROP + r) * CROP * 3);
  });
  return out;
}

interface SrScores { psnr: number; ssim: number; perceptual: number; fid: number }

class SrEvaluator {
  private readonly hrCrops: Float32Array;
  private readonly hrFeatures: Float32Array;
  constructor(readonly photos: TestPhoto[], private readonly at: { k: number; y: number; x: number }[],
    readonly perceptual: PerceptualDistance, readonly fidNet: FeatureNetwork) {
    this.hrCrops = cutCrops(photos.map((p) => toUnit(p.hr.values)), photos, at);
    this.hrFeatures = fidNet.embed({ values: this.hrCrops, n: at.length, h: CROP, w: CROP, c: 3 }).features;
  }

  /** Scores of upscaled photos (floats in [−1, 1], one per test photo, HR-sized). */
  score(outputs: Float32Array[]): SrScores {
    const p = srProtocol(SCALE);
    let psnr = 0, ssim = 0;
    this.photos.forEach((photo, k) => {
      const shape: [number, number, number, number] = [1, photo.hr.h, photo.hr.w, 3];
      const [x, y] = [tf.tensor4d(outputs[k], shape), tf.tensor4d(toUnit(photo.hr.values), shape)];
      psnr += psnrWith(x, y, p).mean;
      ssim += ssimWith(x, y, p).mean;
      tf.dispose([x, y]);
    });
    const crops = cutCrops(outputs, this.photos, this.at);
    const n = this.at.length;
    let dist = 0;
    for (let lo = 0; lo < n; lo += 200) {
      const b = Math.min(200, n - lo);
      const size = CROP * CROP * 3;
      const d = tf.tidy(() => tf.sum(this.perceptual.distance(tf.tensor4d(crops.subarray(lo * size, (lo + b) * size), [b, CROP, CROP, 3]), tf.tensor4d(this.hrCrops.subarray(lo * size, (lo + b) * size), [b, CROP, CROP, 3]))));
      dist += d.dataSync()[0];
      d.dispose();
    }
    const features = this.fidNet.embed({ values: crops, n, h: CROP, w: CROP, c: 3 }).features;
    const fid = fidFromFeatures(features, n, this.hrFeatures, n, this.fidNet.info.featureDim).fid;
    return { psnr: psnr / this.photos.length, ssim: ssim / this.photos.length, perceptual: dist / n, fid };
  }
}

/** Every test photo upscaled by a trained run, through its family's sample() on tiles of the generator's input size. */
async function upscaleWithRun(dir: string, photos: TestPhoto[]): Promise<Float32Array[]> {
  const { nets, state } = await loadSamplingNetworks(dir);
  try {
    const family = getModel(state.config.model);
    const [th, tw] = state.data.input!.shape;
    const tile = Math.min(th, tw);
    return photos.map((p) => applyTiled({ ...p.lr, values: toUnit(p.lr.values) }, { tile, overlap: Math.floor(tile / 3), scale: SCALE }, (t) => {
      const input = tf.tensor4d(t.values, [1, t.h, t.w, t.c]);
      try {
        const r = sampleFamily(family, nets, { count: 1, seed: 0, input }, { config: state.config, data: state.data });
        return { values: r.values, h: r.shape[0], w: r.shape[1], c: r.shape[2] };
      } finally {
        input.dispose();
      }
    }).values as Float32Array);
  } finally {
    for (const [, model] of allNetworks(nets)) model.dispose();
  }
}

interface SrModel { name: string; psnrRow?: string; train?: (dir: (m: string) => string) => string[]; interpolate?: [string, string] }

const SR_MODELS: SrModel[] = [
  { name: 'bicubic' },
  { name: 'srresnet', train: () => ['srresnet'] },
  { name: 'srgan', psnrRow: 'srresnet', train: (d) => ['srgan', '--init', d('srresnet')] },
  { name: 'esrgan-psnr', train: () => ['srresnet', '--generator', 'rrdb', '--pixel-loss', 'l1'] },
  { name: 'esrgan', psnrRow: 'esrgan-psnr', train: (d) => ['esrgan', '--init', d('esrgan-psnr')] },
  { name: 'interp-0.8', psnrRow: 'esrgan-psnr', interpolate: ['esrgan-psnr', 'esrgan'] },
];

type Series = Record<'psnr' | 'ssim' | 'perceptual' | 'fid' | 'steps', number[]>;

async function benchSr(o: { minutes: number; seeds: number[]; out: string; maxSide: number; crops: number }): Promise<object> {
  const { store } = await photoStore({ split: 'test', maxSide: o.maxSide });
  const photos: TestPhoto[] = [];
  for (let k = 0; k < store.images.length; k++) {
    const img = modcrop(readStoredImage(store, k), SCALE);
    const hr = { values: img.values, h: img.h, w: img.w, c: 3 };
    photos.push({ name: img.name, hr, lr: await degrade(hr, { ...DEFAULT_DEGRADE, scale: SCALE }, new Rng(0)) });
  }
  const at = cropPositions(photos, o.crops);
  const perceptual = await PerceptualDistance.load();
  const fidNet = await loadClassifierNet('cifar10');
  const ev = new SrEvaluator(photos, at, perceptual, fidNet);
  const protocol = `${describeProtocol('psnr', srProtocol(SCALE))}; ${describeProtocol('ssim', srProtocol(SCALE))}`;
  process.stdout.write(`restore sr: ×${SCALE}, trained on lowres:photos (${HR_CROP} px HR crops, ${describeDegrade({ ...DEFAULT_DEGRADE, scale: SCALE })}), ${o.minutes} min per run, seeds ${o.seeds.join(',')}\n`);
  process.stdout.write(`restore sr: test = photos-test, ${photos.length} photos at their own size (long side ≤ ${o.maxSide}, modcrop ×${SCALE}): ${photos.map((p) => `${p.hr.w}×${p.hr.h}`).join(' ')}\n`);
  process.stdout.write(`restore sr: ${protocol}\n`);
  process.stdout.write(`restore sr: perceptual = ${perceptual.name} (weights ${perceptual.weightsSha256}); FID in ${fidNet.info.name} ${fidNet.info.featureLayer} (${fidNet.info.featureDim}-d, ${fidNet.info.caveat ?? ''}); both on the same ${at.length} seeded ${CROP} px crops of output vs HR\n`);
  const rows: Record<string, Series> = {};
  const failed: Record<string, string> = {};
  for (const m of SR_MODELS) rows[m.name] = { psnr: [], ssim: [], perceptual: [], fid: [], steps: [] };
  const add = (name: string, s: SrScores, steps?: number) => {
    for (const k of ['psnr', 'ssim', 'perceptual', 'fid'] as const) rows[name][k].push(s[k]);
    if (steps !== undefined) rows[name].steps.push(steps);
  };
  add('bicubic', ev.score(photos.map((p) => Float32Array.from(bicubicUpscale(p.lr.values, [p.lr.h, p.lr.w, 3], SCALE), (v) => Math.min(1, Math.max(-1, v / 127.5 - 1))))));
  for (const seed of o.seeds) {
    const dir = (m: string) => path.join(o.out, `sr-${m}-s${seed}`);
    for (const m of SR_MODELS) {
      if (m.name === 'bicubic' || failed[m.name]) continue;
      const upstream = m.train ? m.psnrRow : m.interpolate?.[1];
      if (upstream && failed[upstream]) {
        failed[m.name] = `needs ${upstream}`;
        continue;
      }
      try {
        await fs.rm(dir(m.name), { recursive: true, force: true });
        let steps: number | undefined;
        process.stderr.write(`bench:restore: ${m.name} seed ${seed}…\n`);
        if (m.train) {
          await run(['train', ...m.train(dir), '--data', 'lowres:photos', '--scale', String(SCALE), '--image-size', String(HR_CROP), '--max-minutes', String(o.minutes), '--steps', '1000000', '--seed', String(seed), '--out', dir(m.name)]);
          steps = await lastStep(dir(m.name));
        } else {
          await run(['interpolate', dir(m.interpolate![0]), dir(m.interpolate![1]), '--alpha', '0.8', '--out', dir(m.name)]);
        }
        add(m.name, ev.score(await upscaleWithRun(dir(m.name), photos)), steps);
      } catch (e) {
        failed[m.name] = (e as Error).message.split('\n')[0];
      }
    }
  }
  perceptual.dispose();
  fidNet.dispose();
  process.stdout.write(`restore sr: mean ± std over seeds ${o.seeds.join(',')} (bicubic is deterministic); lower perceptual and FID are better; steps = the last logged step\n`);
  process.stdout.write(`${'model'.padEnd(12)} ${'PSNR dB'.padEnd(15)} ${'SSIM'.padEnd(17)} ${'perceptual'.padEnd(17)} ${'FID'.padEnd(15)} steps\n`);
  for (const m of SR_MODELS) {
    const r = rows[m.name];
    if (failed[m.name]) process.stdout.write(`${m.name.padEnd(12)} failed: ${failed[m.name]}\n`);
    else process.stdout.write(`${m.name.padEnd(12)} ${fmt(r.psnr).padEnd(15)} ${fmt(r.ssim, 4).padEnd(17)} ${fmt(r.perceptual, 4).padEnd(17)} ${fmt(r.fid).padEnd(15)} ${r.steps.length ? fmt(r.steps, 0) : '-'}\n`);
  }
  // The papers' pattern: each GAN row below its PSNR row in PSNR, and better (lower) in perceptual distance and FID.
  const verdicts: Record<string, { losesPsnr: boolean; winsPerceptual: boolean; winsFid: boolean }> = {};
  for (const m of SR_MODELS.filter((x) => x.psnrRow && !failed[x.name] && !failed[x.psnrRow])) {
    const [g, b] = [rows[m.name], rows[m.psnrRow!]];
    const v = { losesPsnr: mean(g.psnr) < mean(b.psnr), winsPerceptual: mean(g.perceptual) < mean(b.perceptual), winsFid: mean(g.fid) < mean(b.fid) };
    verdicts[m.name] = v;
    process.stdout.write(`restore sr pattern ${m.name} vs ${m.psnrRow}: PSNR ${(mean(g.psnr) - mean(b.psnr)).toFixed(2)} dB (${v.losesPsnr ? 'loses' : 'does not lose'}), perceptual ${(mean(g.perceptual) - mean(b.perceptual)).toFixed(4)} (${v.winsPerceptual ? 'wins' : 'does not win'}), FID ${(mean(g.fid) - mean(b.fid)).toFixed(2)} (${v.winsFid ? 'wins' : 'does not win'})\n`);
  }
  const all = Object.values(verdicts);
  const holds = all.length > 0 && all.every((v) => v.losesPsnr && v.winsPerceptual && v.winsFid);
  process.stdout.write(`restore sr: the papers' pattern (GAN rows lose PSNR to their PSNR row but win perceptual distance and FID) ${all.length === 0 ? 'cannot be checked (no pair ran)' : holds ? 'HOLDS' : 'does NOT hold'} here, over ${all.length} pair(s) at ${o.minutes} min per run\n`);
  process.stdout.write(`restore sr: not comparable with the papers' BSD100 ×4 figures (SRResNet 27.58 dB / 0.762, SRGAN 25.16 dB / 0.669; Ledig et al. 2017, Table 2): other test images (ganforge's photos-test), far smaller nets and budgets, and a CIFAR-10 CNN instead of VGG/Inception\n`);
  return { scale: SCALE, hrCrop: HR_CROP, protocol, perceptual: perceptual.name, fidNet: fidNet.info.name, crops: at.length, maxSide: o.maxSide, photos: photos.map((p) => ({ name: p.name, w: p.hr.w, h: p.hr.h })), rows, failed, verdicts, patternHolds: holds };
}

async function unpackCifar(dir: string): Promise<void> {
  if (existsSync(path.join(dir, 'train')) && existsSync(path.join(dir, 'test'))) return;
  const tar = path.resolve(REPO, '../shared/datasets/cifar10-jpeg.tar.gz');
  if (!existsSync(tar)) throw new UserError(`CIFAR-10 is not at ${tar}; unpack it yourself and pass --cifar DIR (DIR/train/<class>/*.jpg, DIR/test/<class>/*.jpg)`);
  await fs.mkdir(dir, { recursive: true });
  await new Promise<void>((resolve, reject) => spawn('tar', ['-xzf', tar, '-C', dir], { stdio: 'inherit' }).on('close', (c) => (c === 0 ? resolve() : reject(new Error(`tar exited ${c}`)))));
}

async function benchInpaint(o: { minutes: number; seeds: number[]; out: string; cifar: string; trainLimit: number; testCount: number }): Promise<object> {
  await unpackCifar(o.cifar);
  const test = await loadData(`masked:folder:${o.cifar}/test`, { limit: o.testCount });
  if (test.kind !== 'array' || !test.inputs) throw new Error('masked: test data is not held in memory');
  const shape = test.info.shape; // [H, W, C]
  const [h, w, c] = shape;
  const n = test.count;
  const targets = toUnit(test.values);
  const inputs = toUnit(test.inputs.values);
  const holes = Array.from({ length: n }, (_, i) => Uint8Array.from({ length: h * w }, (_, p) => (test.inputs!.values[(i * h * w + p) * (c + 1) + c] > 127 ? 1 : 0)));
  process.stdout.write(`restore inpaint: inpaint on masked:folder:CIFAR-10/train (first ${o.trainLimit}, ${w}×${h}, rectangular holes ¼–½ of a side, fixed per example), ${o.minutes} min per run, seeds ${o.seeds.join(',')}; scored on ${n} test images, L1 on [−1, 1], PSNR with range 2\n`);
  const base = baselineScores(targets, holes, shape);
  const scores: Record<keyof InpaintingScores | 'steps', number[]> = { holeL1: [], holePsnr: [], l1: [], psnr: [], steps: [] };
  let failed = '';
  for (const seed of o.seeds) {
    const dir = path.join(o.out, `inpaint-s${seed}`);
    process.stderr.write(`bench:restore: inpaint seed ${seed}…\n`);
    try {
      await fs.rm(dir, { recursive: true, force: true });
      await run(['train', 'inpaint', '--data', `masked:folder:${o.cifar}/train`, '--data-limit', String(o.trainLimit), '--max-minutes', String(o.minutes), '--steps', '1000000', '--seed', String(seed), '--out', dir]);
      scores.steps.push(await lastStep(dir));
      const { nets, state } = await loadSamplingNetworks(dir);
      try {
        const input = tf.tensor4d(inputs, [n, h, w, c + 1]);
        const r = sampleFamily(getModel(state.config.model), nets, { count: n, seed: 0, input }, { config: state.config, data: state.data });
        input.dispose();
        const s = inpaintingScores(r.values, targets, holes, shape);
        for (const k of ['holeL1', 'holePsnr', 'l1', 'psnr'] as const) scores[k].push(s[k]);
      } finally {
        for (const [, model] of allNetworks(nets)) model.dispose();
      }
    } catch (e) {
      failed = (e as Error).message.split('\n')[0];
      break;
    }
  }
  process.stdout.write(`${'fill'.padEnd(10)} ${'hole L1'.padEnd(17)} ${'hole PSNR dB'.padEnd(15)} ${'image PSNR dB'.padEnd(15)} steps\n`);
  const line = (name: string, s: Record<string, number[]>, steps: string) => process.stdout.write(`${name.padEnd(10)} ${fmt(s.holeL1, 4).padEnd(17)} ${fmt(s.holePsnr).padEnd(15)} ${fmt(s.psnr).padEnd(15)} ${steps}\n`);
  const one = (x: InpaintingScores) => ({ holeL1: [x.holeL1], holePsnr: [x.holePsnr], psnr: [x.psnr] });
  line('mean fill', one(base.mean), '-');
  line('diffusion', one(base.diffusion), '-');
  if (failed) process.stdout.write(`inpaint    failed: ${failed}\n`);
  else {
    line('inpaint', scores, fmt(scores.steps, 0));
    const best = Math.min(base.mean.holeL1, base.diffusion.holeL1);
    process.stdout.write(`restore inpaint: the trained model ${mean(scores.holeL1) < best ? 'beats' : 'does NOT beat'} the better baseline in hole L1 (${mean(scores.holeL1).toFixed(4)} vs ${best.toFixed(4)})\n`);
  }
  return { data: `masked:folder:${o.cifar}`, trainLimit: o.trainLimit, testCount: n, baselines: base, inpaint: scores, failed };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '10' }, seeds: { type: 'string', default: '0,1,2' }, skip: { type: 'string', default: '' },
      out: { type: 'string', default: path.join(os.tmpdir(), 'ganforge-bench-restore') }, 'max-side': { type: 'string', default: '512' },
      crops: { type: 'string', default: '1000' }, cifar: { type: 'string', default: '/tmp/ganforge-cifar10' },
      'inpaint-train': { type: 'string', default: '5000' }, 'inpaint-test': { type: 'string', default: '500' },
    },
    strict: true,
  });
  const minutes = Number(values.minutes);
  const seeds = values.seeds!.split(',').map(Number);
  const skip = values.skip!.split(',').filter(Boolean);
  const [maxSide, crops, trainLimit, testCount] = [values['max-side'], values.crops, values['inpaint-train'], values['inpaint-test']].map(Number);
  if (!(minutes > 0)) throw new UserError(`--minutes must be > 0, got ${values.minutes}`);
  if (seeds.some((s) => !Number.isInteger(s))) throw new UserError(`--seeds must be comma-separated integers, got ${values.seeds}`);
  const unknown = skip.filter((s) => !['sr', 'inpaint', 'simgan'].includes(s));
  if (unknown.length) throw new UserError(`--skip takes sr, inpaint, simgan; got ${unknown.join(', ')}`);
  // 256: the narrowest test photo (3:2) then still gives LR sides over the generator's 24 px tiles.
  if (!Number.isInteger(maxSide) || maxSide < 256) throw new UserError(`--max-side (the test photos' longest side) must be an integer ≥ 256, got ${values['max-side']}`);
  if (!Number.isInteger(crops) || crops < 2) throw new UserError(`--crops must be an integer ≥ 2, got ${values.crops}`);
  if (!Number.isInteger(trainLimit) || trainLimit < 1 || !Number.isInteger(testCount) || testCount < 1) throw new UserError('--inpaint-train and --inpaint-test must be positive integers');
  const out = values.out!;
  await fs.mkdir(out, { recursive: true });
  await initBackend({ log: (line) => process.stderr.write(`${line}\n`) });
  const result: Record<string, unknown> = { minutes, seeds };
  if (!skip.includes('sr')) result.sr = await benchSr({ minutes, seeds, out, maxSide, crops });
  if (!skip.includes('inpaint')) result.inpaint = await benchInpaint({ minutes, seeds, out, cifar: values.cifar!, trainLimit, testCount });
  if (!skip.includes('simgan')) process.stdout.write('restore simgan: TSTR accuracy raw vs refined over 3 seeds is its own bench: npm run bench:simgan (bench/simgan_tstr.ts)\n');
  const file = path.join(out, 'restore.json');
  await fs.writeFile(file, `${JSON.stringify(result, null, 1)}\n`);
  process.stdout.write(`restore: results → ${file}\n`);
}

try {
  await main();
} catch (e) {
  if (!(e instanceof UserError)) throw e;
  process.stderr.write(`bench:restore: ${e.message}\n`);
  process.exitCode = 2;
}
