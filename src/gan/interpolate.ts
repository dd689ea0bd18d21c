import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { loadGenerator, saveCheckpoint } from './checkpoint.js';
import { RunFolder } from './run_folder.js';
import { UserError } from '../util/errors.js';
import { exists, writeFileAtomic } from '../util/fs.js';

/** Where an interpolated run came from (interpolation.json in its folder). */
export interface InterpolationRecord {
  psnr: string;
  gan: string;
  alpha: number;
  psnrStep: number;
  ganStep: number;
}

/** The first way two generators' architectures differ (layer classes and names, weight shapes), or null. */
export function architectureDifference(a: tfl.LayersModel, b: tfl.LayersModel): string | null {
  const layers = (m: tfl.LayersModel) => m.layers.map((l) => `${l.getClassName()} ${l.name}`);
  const [la, lb] = [layers(a), layers(b)];
  if (la.length !== lb.length) return `${la.length} layers vs ${lb.length}`;
  const i = la.findIndex((l, k) => l !== lb[k]);
  if (i >= 0) return `layer ${i} is ${la[i]} vs ${lb[i]}`;
  if (a.weights.length !== b.weights.length) return `${a.weights.length} weights vs ${b.weights.length}`;
  const j = a.weights.findIndex((w, k) => w.shape.join() !== b.weights[k].shape.join());
  if (j >= 0) return `weight ${a.weights[j].originalName} is [${a.weights[j].shape.join(', ')}] vs [${b.weights[j].shape.join(', ')}]`;
  return null;
}

/** θ = (1 − α)·θ_a + α·θ_b for every weight (moving statistics included), written into `a`. */
export function blendWeights(a: tfl.LayersModel, b: tfl.LayersModel, alpha: number): void {
  tf.tidy(() => a.setWeights(a.weights.map((w, k) => tf.add(tf.mul(1 - alpha, w.read()), tf.mul(alpha, b.weights[k].read())))));
}

/**
 * Network interpolation (Wang et al. 2018, ESRGAN §3.4): a generator whose every parameter is
 * (1 − α)·θ_PSNR + α·θ_GAN, trading the PSNR model's smoothness for the GAN's detail without retraining. Both
 * runs' generators (their EMA copies when they keep one) must have the same architecture. Writes a run folder
 * `out` that sample, translate, eval and export read: the GAN run's config, a checkpoint holding the blended
 * G alone, and interpolation.json saying where it came from. It is not meant to be resumed.
 */
export async function interpolateRuns(psnrRun: string, ganRun: string, alpha: number, out: string): Promise<string> {
  if (!Number.isFinite(alpha) || alpha < 0 || alpha > 1) throw new UserError(`--alpha must be in [0, 1] (0 = the PSNR run, 1 = the GAN run), got ${alpha}`);
  if (await exists(path.join(out, 'config.json'))) throw new UserError(`--out ${out} already holds a run; choose another folder`);
  const psnr = await loadGenerator(psnrRun);
  const gan = await loadGenerator(ganRun);
  try {
    const diff = architectureDifference(psnr.generator, gan.generator);
    if (diff) {
      throw new UserError(`interpolate: the generators of '${psnrRun}' (${psnr.state.config.model}) and '${ganRun}' (${gan.state.config.model}) differ: ${diff}; interpolate a GAN run with the run it was started from (--init), which has the same generator settings`);
    }
    blendWeights(psnr.generator, gan.generator, alpha);
    const config = { ...gan.state.config, out };
    const run = new RunFolder(out);
    await fs.mkdir(out, { recursive: true });
    await run.writeConfig(config);
    const record: InterpolationRecord = { psnr: path.resolve(psnrRun), gan: path.resolve(ganRun), alpha, psnrStep: psnr.state.step, ganStep: gan.state.step };
    await writeFileAtomic(path.join(out, 'interpolation.json'), JSON.stringify(record, null, 2) + '\n');
    const g = tf.train.adam(); // no moments: the checkpoint format wants G's optimizer, and nothing resumes from here
    try {
      const state = { ...gan.state, config, lastStats: {}, savedAt: new Date().toISOString(), tricks: undefined, evalBest: undefined };
      return await saveCheckpoint(run, { generator: psnr.generator }, { g }, state, 1);
    } finally {
      g.dispose();
    }
  } finally {
    psnr.generator.dispose();
    gan.generator.dispose();
  }
}
