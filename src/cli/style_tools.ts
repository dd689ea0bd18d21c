// The commands that read a family's intermediate latent space or truncation trick, never its name:
// `ganforge project` and the model-based parts of `ganforge eval` (PPL, the truncation curve).
import type { Command } from 'commander';
import * as tf from '@tensorflow/tfjs-core';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { initBackend } from '../backend/index.js';
import { loadSamplingNetworks } from '../gan/checkpoint.js';
import { allNetworks, type GanFamily, type GanNetworks, type StyleSpace } from '../gan/family.js';
import { checkTruncation, oneHotLabels, sampleFamily, sampledClasses } from '../gan/sampling.js';
import type { DatasetInfo } from '../data/types.js';
import type { RunConfig } from '../gan/config.js';
import { getModel } from '../models/registry.js';
import { PerceptualDistance } from '../metrics/perceptual.js';
import { perceptualPathLength, type PplResult } from '../metrics/ppl.js';
import { projectImage } from '../metrics/projection.js';
import { evaluateSets, fromSamples, type MetricResult, type SampleSet } from '../metrics/evaluate.js';
import type { FeatureNetwork, ImageSet } from '../metrics/features.js';
import { imageGrid, toUint8Images } from '../io/png.js';
import { encodeNpy } from '../io/npy.js';
import { lineChartPng } from '../io/chart.js';
import { UserError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';

/** A run's networks with its family's style space, or an error naming what `what` needs. */
async function withStyleSpace<T>(target: string, what: string, f: (space: StyleSpace, run: { family: GanFamily; config: RunConfig; data: DatasetInfo; nets: GanNetworks; step: number }) => Promise<T>): Promise<T> {
  const { nets, state } = await loadSamplingNetworks(target);
  try {
    const family = getModel(state.config.model);
    const space = family.styleSpace?.(nets, { config: state.config, data: state.data });
    if (!space) throw new UserError(`${what} needs a model with an intermediate latent w (stylegan2); ${family.name} has none`);
    return await f(space, { family, config: state.config, data: state.data, nets, step: state.step });
  } finally {
    for (const [, model] of allNetworks(nets)) model.dispose();
  }
}

/** `--class K` (default 0) as one-hot [1, K] for a class-conditional run; undefined for an unconditional one. */
function classOf(family: GanFamily, data: DatasetInfo, k: number | undefined): tf.Tensor2D | undefined {
  const classes = sampledClasses(family, data, k);
  return classes > 0 ? oneHotLabels([k ?? 0], classes) : undefined;
}

export interface ProjectOptions {
  out: string;
  steps: number;
  seed: number;
  wPlus?: boolean;
  class?: number;
  backend?: string;
}

/** A real image as [1, H, W, C] in [−1, 1] at the generator's size: upright, alpha on white, centre-cropped. */
async function readTarget(file: string, [h, w, c]: number[]): Promise<tf.Tensor4D> {
  let raw: Buffer;
  try {
    const p = sharp(file).rotate().flatten({ background: '#ffffff' }).resize(w, h, { fit: 'cover' });
    raw = await (c === 1 ? p.toColourspace('b-w') : p.toColourspace('srgb')).raw().toBuffer();
  } catch (e) {
    throw new UserError(`cannot read image '${file}': ${(e as Error).message.split('\n')[0]}`);
  }
  if (raw.length !== h * w * c) throw new UserError(`cannot read image '${file}' as ${w}×${h}×${c}`);
  return tf.tensor4d(Float32Array.from(raw, (v) => v / 127.5 - 1), [1, h, w, c]);
}

/**
 * `ganforge project RUN IMAGE --out DIR`: find the w (or w+) whose image matches IMAGE (src/metrics/projection.ts).
 * Writes latent.npy, reconstruction.png, progress.png (target, then the reconstruction as it forms) and
 * projection.json (distance, PSNR and settings).
 */
export async function projectCommand(target: string, image: string, opts: ProjectOptions): Promise<void> {
  if (!Number.isInteger(opts.steps) || opts.steps < 1) throw new UserError(`--steps must be a positive integer, got ${opts.steps}`);
  await initBackend({ prefer: opts.backend });
  await fs.access(image).catch(() => { throw new UserError(`image not found: ${image}`); });
  await withStyleSpace(target, 'project', async (space, run) => {
    const targetImage = await readTarget(image, run.data.shape);
    const classes = classOf(run.family, run.data, opts.class);
    const distance = await PerceptualDistance.load();
    const marks = [0, 0.05, 0.1, 0.2, 0.4, 0.7].map((f) => Math.floor(f * opts.steps));
    const every = Math.max(1, Math.floor(opts.steps / 10));
    try {
      const result = projectImage(space, distance, targetImage, {
        steps: opts.steps, seed: opts.seed, wPlus: opts.wPlus, classes, snapshots: marks,
        onStep: (step, loss) => { if (step % every === 0 || step === opts.steps - 1) process.stderr.write(`ganforge: project step ${step + 1}/${opts.steps} loss ${loss.toPrecision(4)}\n`); },
      });
      const [h, w, c] = run.data.shape;
      await fs.mkdir(opts.out, { recursive: true });
      await writeFileAtomic(path.join(opts.out, 'latent.npy'), encodeNpy(result.latent.values, result.latent.shape));
      await writeFileAtomic(path.join(opts.out, 'reconstruction.png'), await imageGrid(toUint8Images(result.image), 1, h, w, c, { cols: 1 }));
      const strip = [targetImage.dataSync() as Float32Array, ...result.snapshots.map((s) => s.image), result.image];
      const all = new Float32Array(strip.length * h * w * c);
      strip.forEach((v, i) => all.set(v, i * h * w * c));
      await writeFileAtomic(path.join(opts.out, 'progress.png'), await imageGrid(toUint8Images(all), strip.length, h, w, c, { cols: strip.length }));
      const report = {
        image, run: target, step: run.step, latent: opts.wPlus ? 'w+' : 'w', latentShape: result.latent.shape, steps: opts.steps, seed: opts.seed,
        perceptualDistance: result.distance, psnr: result.psnr, distance: distance.name, weightsSha256: distance.weightsSha256,
        progress: ['target', ...result.snapshots.map((s) => `step ${s.step}`), `step ${opts.steps} (final)`],
      };
      await writeFileAtomic(path.join(opts.out, 'projection.json'), JSON.stringify(report, null, 2) + '\n');
      process.stderr.write(`ganforge: projected ${image} into ${report.latent} (${opts.steps} steps): perceptual distance ${result.distance.toPrecision(4)}, PSNR ${result.psnr.toFixed(2)} dB → ${opts.out}\n`);
    } finally {
      tf.dispose([targetImage, ...(classes ? [classes] : [])]);
      distance.dispose();
    }
  });
}

export function registerProjectCommand(program: Command, int: (flag: string) => (v: string) => number): void {
  program
    .command('project')
    .description('find the latent w (or w+) whose image matches a real image (stylegan2): writes latent.npy, reconstruction.png, progress.png, projection.json')
    .argument('<run>', 'a run folder (newest checkpoint) or a checkpoint folder')
    .argument('<image>', 'the image to project (any size: centre-cropped and resized to the generator\'s)')
    .requiredOption('--out <dir>', 'output folder')
    .option('--steps <n>', 'optimisation steps (the paper: 1000)', int('--steps'), 1000)
    .option('--w-plus', 'optimise one w per style input (closer fit, less editable)')
    .option('--class <k>', 'class-conditional runs: the class to project within', int('--class'))
    .option('--seed <n>', 'seed of the mean-w estimate, the noise maps and the w jitter', int('--seed'), 0)
    .option('--backend <name>', 'tensor backend: auto | aten | cpu (env GANFORGE_BACKEND)')
    .action((run: string, image: string, opts: ProjectOptions) => projectCommand(run, image, opts));
}

/** `eval --metrics ppl`: perceptual path length of a run with a style space. */
export async function pplMetric(target: string, opts: { count?: number; seed: number; pplSpace?: string; pplSampling?: string; class?: number }): Promise<MetricResult> {
  const where = opts.pplSpace ?? 'w';
  const sampling = opts.pplSampling ?? 'end';
  if (where !== 'w' && where !== 'z') throw new UserError(`--ppl-space must be w or z, got '${where}'`);
  if (sampling !== 'end' && sampling !== 'full') throw new UserError(`--ppl-sampling must be end or full, got '${sampling}'`);
  return withStyleSpace(target, 'ppl', async (space, run) => {
    const distance = await PerceptualDistance.load();
    const classes = classOf(run.family, run.data, opts.class);
    try {
      const r: PplResult = perceptualPathLength(space, distance, { count: opts.count ?? 10_000, seed: opts.seed, space: where, sampling, classes });
      return { metric: 'ppl', values: { ppl: r.ppl, kept: r.kept }, protocol: { generated: `${target} (step ${run.step})`, backend: tf.getBackend(), ...r.settings } } as unknown as MetricResult;
    } finally {
      classes?.dispose();
      distance.dispose();
    }
  });
}

export interface CurvePoint {
  psi: number;
  precision: number;
  recall: number;
  density: number;
  coverage: number;
}

/**
 * The truncation trade-off (Kynkäänniemi et al. 2019, Fig. 6; Brock et al. 2019, Fig. 4): precision and recall
 * of samples drawn at each ψ against the reference, in one feature network. Lower ψ: higher precision, lower
 * recall. Writes `plot` (.png) and the same numbers beside it as .json.
 */
export async function truncationCurve(
  target: string, psis: number[], ref: { set: SampleSet; name: string; selection: string }, net: FeatureNetwork,
  opts: { count?: number; seed: number; k?: number; plot: string; log: (line: string) => void },
): Promise<CurvePoint[]> {
  const count = opts.count ?? 10_000;
  const points: CurvePoint[] = [];
  let protocol: Record<string, unknown> = {};
  // The networks are loaded and the reference embedded once; only the samples change with ψ.
  const { nets, state, dir } = await loadSamplingNetworks(target);
  try {
    const family = getModel(state.config.model);
    opts.log(`embedding ${ref.set.n} reference images with ${net.info.name}`);
    const realEmbedding = net.embed(ref.set as ImageSet);
    for (const psi of psis) {
      opts.log(`truncation ψ = ${psi}: sampling ${count}`);
      const result = sampleFamily(family, nets, { count, seed: opts.seed, truncation: psi }, { config: state.config, data: state.data });
      const fake = fromSamples(result, state.data.kind, `${dir} (step ${state.step}, latent seed ${opts.seed}, truncation ψ ${psi})`);
      const [r] = evaluateSets(fake, ref.set, net, ref, { metrics: 'prdc', seed: opts.seed, k: opts.k, realEmbedding });
      const v = r.values as Record<string, number>;
      points.push({ psi, precision: v.precision, recall: v.recall, density: v.density, coverage: v.coverage });
      protocol = r.protocol;
    }
  } finally {
    for (const [, model] of allNetworks(nets)) model.dispose();
  }
  const chart = points.flatMap((p) => (['precision', 'recall'] as const).map((m) => ({ x: p.psi, y: p[m], series: m })));
  await writeFileAtomic(opts.plot, await lineChartPng({ title: 'Truncation trade-off', x: 'truncation ψ', y: `k-NN precision / recall (k = ${opts.k ?? 5})`, points: chart }));
  const json = opts.plot.replace(/\.png$/i, '') + '.json';
  await writeFileAtomic(json, JSON.stringify({ points, protocol }, null, 2) + '\n');
  return points;
}

/** `--truncation-curve 0.2,0.5,1`: ψ values in (0, 1], for a family with a truncation trick. */
export function parsePsiList(spec: string, family: GanFamily): number[] {
  const psis = spec.split(',').map((s) => Number(s.trim()));
  if (psis.length === 0 || psis.some((p) => !Number.isFinite(p))) throw new UserError(`--truncation-curve takes comma-separated ψ values, e.g. 0.2,0.4,0.6,0.8,1; got '${spec}'`);
  for (const p of psis) checkTruncation(family, p);
  return psis;
}
