import * as tf from '@tensorflow/tfjs-core';
import type { GanNetworks, Optimizers } from './family.js';
import { allNetworks } from './family.js';
import { allOptimizers } from './optimizers.js';
import type { Shard } from '../data/batches.js';
import { Rng } from '../util/rng.js';

/**
 * What data-parallel training needs from the group of ranks it runs in. src/backend/distributed.ts makes one
 * on PyTorch's c10d (Gloo on CPU, NCCL on GPU); the training loop only sees this.
 *
 * Every rank must make the same calls in the same order (as with any collective engine): the loop below
 * guarantees that because every rank runs the same step on the same schedule, and agrees on every decision
 * that could differ between ranks (divergence, stop requests, time limits, early stopping) before acting.
 */
export interface Collectives {
  readonly rank: number;
  readonly worldSize: number;
  /** The element-wise mean over ranks of each tensor, as new tensors (one synchronous collective). */
  average(tensors: tf.Tensor[]): tf.Tensor[];
  /** Rank 0's values of each tensor, as new tensors (synchronous). */
  fromRoot(tensors: tf.Tensor[]): tf.Tensor[];
  /** The element-wise maximum over ranks of small numbers (flags, counters). */
  max(values: number[]): Promise<number[]>;
  /** Wait until every rank arrives. */
  barrier(): Promise<void>;
}

/** The mean over the ranks of a few numbers (one small all-reduce); every rank receives the same values. */
export function meanOverRanks(group: Collectives, values: number[]): number[] {
  const local = tf.tensor1d(values);
  const [mean] = group.average([local]);
  const out = Array.from(mean.dataSync());
  tf.dispose([local, mean]);
  return out;
}

/** The slice of every global batch this rank trains on, or undefined when it trains alone. */
export function shardOf(group: Collectives | undefined): Shard | undefined {
  return group && group.worldSize > 1 ? { rank: group.rank, count: group.worldSize } : undefined;
}

/**
 * Average each update's gradients over the ranks as soon as they are computed, before anything reads them
 * (every update of every player computes them through `computeGradients`: tfjs's `minimize` does, and so does
 * gradient clipping, which then clips the averaged gradient as one process would). Each rank's loss is the
 * mean over its equal share of the global batch, so the average of the ranks' gradients is the gradient of
 * the mean over the whole global batch. They travel in one collective per update (the native side packs them
 * into buckets), in the order the variables are listed, the same on every rank since every rank builds the
 * same networks.
 */
export function averageGradientsOver(opt: Optimizers, group: Collectives): Optimizers {
  for (const [, optimizer] of allOptimizers(opt)) {
    const compute = optimizer.computeGradients.bind(optimizer);
    optimizer.computeGradients = (f, varList) => {
      const { value, grads } = compute(f, varList);
      const names = Object.keys(grads);
      const averaged = group.average(names.map((n) => grads[n]));
      tf.dispose(Object.values(grads));
      return { value, grads: Object.fromEntries(names.map((n, i) => [n, averaged[i]])) };
    };
  }
  return opt;
}

/**
 * Give every rank rank 0's weights (trainable or not: batch-norm moving statistics too), as torch DDP does
 * at construction. Fresh runs build the same weights from the same seed anyway; this makes it a guarantee.
 */
export function weightsFromRoot(nets: GanNetworks, group: Collectives): void {
  for (const [, model] of allNetworks(nets)) {
    const weights = model.getWeights();
    const root = group.fromRoot(weights);
    model.setWeights(root);
    tf.dispose(root);
  }
}

/**
 * This step's generator for the noise a rank draws on its own (a step's extra latents, GP's ε, augmentation,
 * dropout seeds): seeded from one draw of the run's shared RNG and the rank, so ranks differ, while the shared
 * RNG (which a checkpoint saves) stays the same on every rank and resumes exactly on any number of ranks.
 */
export function rankRng(shared: Rng, shard: Shard): Rng {
  return new Rng((shared.nextUint32() ^ Math.imul(shard.rank + 1, 0x9e3779b9)) >>> 0);
}

/** Rows [lo, hi) of a global [B, …] batch drawn the same on every rank (e.g. the step's latents). */
export function rowsOf(values: Float32Array, rowSize: number, [lo, hi]: [number, number]): Float32Array {
  return values.subarray(lo * rowSize, hi * rowSize);
}
