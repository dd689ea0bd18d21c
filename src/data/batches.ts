import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../util/errors.js';
import { Rng, type RngState } from '../util/rng.js';
import type { Batch, DataSource } from './types.js';

export interface BatchStreamOptions {
  batchSize: number;
  /** Generator for shuffling (arrays) or sampling (samplers); default `new Rng(seed ?? 0)`. The stream owns it. */
  rng?: Rng;
  seed?: number;
  /** Shuffle array sources every epoch (default true). */
  shuffle?: boolean;
  /** Drop each epoch's last partial batch so every batch has `batchSize` examples (default true). */
  dropLast?: boolean;
  /** Stop the async iterator after this many epochs (arrays) or batches (samplers count one epoch per batch); default: never. */
  epochs?: number;
}

/** Everything needed to resume a stream at the same position with the same future batches. JSON-safe. */
export interface BatchStreamState {
  epoch: number;
  /** Position in this epoch's permutation (arrays) or batches drawn so far (samplers). */
  cursor: number;
  /** Rng state before this epoch's shuffle; replaying the shuffle from it rebuilds the permutation. */
  epochRng: RngState;
  /** Rng state now. */
  rng: RngState;
}

/** Raw batch contents before they become tensors. */
export interface RawBatch {
  /** float32 [B, ...shape]; images already mapped to [-1, 1]. */
  x: Float32Array;
  labels?: Int32Array;
  /** Indices into the source (arrays only). */
  indices?: Int32Array;
}

/**
 * Batches from a DataSource. Array sources are visited in a fresh random order every epoch (every example
 * once per epoch, minus the dropped remainder); sampler sources draw `batchSize` new examples per batch.
 * Images are uint8 in storage and become x/127.5 − 1 in the batch. The caller owns (and disposes) the
 * tensors returned by `next()`.
 */
export class BatchStream implements AsyncIterable<Batch> {
  readonly batchSize: number;
  private readonly source: DataSource;
  private readonly rng: Rng;
  private readonly shuffle: boolean;
  private readonly dropLast: boolean;
  private readonly epochs?: number;
  private readonly exampleSize: number;
  private epochNo = 0;
  private cursor = 0;
  private epochRng: RngState;
  private order?: Int32Array;

  constructor(source: DataSource, opts: BatchStreamOptions) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new UserError(`batch size must be a positive integer, got ${opts.batchSize}`);
    this.source = source;
    this.batchSize = opts.batchSize;
    this.rng = opts.rng ?? new Rng(opts.seed ?? 0);
    this.shuffle = opts.shuffle ?? true;
    this.dropLast = opts.dropLast ?? true;
    this.epochs = opts.epochs;
    this.exampleSize = source.info.shape.reduce((a, b) => a * b, 1);
    if (source.kind === 'array' && this.dropLast && source.count < this.batchSize) {
      throw new UserError(`batch size ${this.batchSize} is larger than the ${source.count} examples in ${source.info.name}`);
    }
    this.epochRng = this.rng.state();
    if (source.kind === 'array') this.order = this.makeOrder();
  }

  /** Batches per epoch for array sources; undefined for samplers. */
  get batchesPerEpoch(): number | undefined {
    if (this.source.kind !== 'array') return undefined;
    const n = this.source.count;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** Completed epochs (arrays); for samplers, the number of batches drawn. */
  get epoch(): number {
    return this.source.kind === 'array' ? this.epochNo + (this.cursor >= this.epochLimit() ? 1 : 0) : this.cursor;
  }

  /** Examples used per epoch: all of them, or the largest multiple of the batch size when dropping the remainder. */
  private epochLimit(): number {
    const n = (this.source as { count: number }).count;
    return this.dropLast ? n - (n % this.batchSize) : n;
  }

  /** Next batch as typed arrays (no tensors). */
  nextRaw(): RawBatch {
    const src = this.source;
    if (src.kind === 'sampler') {
      const { values, labels } = src.sample(this.batchSize, this.rng);
      this.cursor++;
      return { x: values, labels };
    }
    const limit = this.epochLimit();
    if (this.cursor >= limit) this.startEpoch();
    const b = Math.min(this.batchSize, limit - this.cursor);
    const indices = this.order!.slice(this.cursor, this.cursor + b);
    this.cursor += b;
    const d = this.exampleSize;
    const x = new Float32Array(b * d);
    const v = src.values;
    const isImage = src.info.kind === 'image';
    for (let i = 0; i < b; i++) {
      const off = indices[i] * d;
      const o = i * d;
      if (isImage) for (let j = 0; j < d; j++) x[o + j] = v[off + j] / 127.5 - 1;
      else x.set(v.subarray(off, off + d), o);
    }
    const labels = src.labels ? Int32Array.from(indices, (i) => src.labels![i]) : undefined;
    return { x, labels, indices };
  }

  /** Next batch as tensors: x float32 [B, ...shape], labels int32 [B]. The caller disposes them. */
  next(): Batch {
    const raw = this.nextRaw();
    const b = raw.x.length / this.exampleSize;
    const x = tf.tensor(raw.x, [b, ...this.source.info.shape], 'float32');
    return raw.labels ? { x, labels: tf.tensor1d(raw.labels, 'int32') } : { x };
  }

  /** Yields `next()` until `epochs` (if given) is reached; breaking out of the loop is fine. */
  async *[Symbol.asyncIterator](): AsyncIterator<Batch> {
    while (this.epochs === undefined || this.epoch < this.epochs) yield this.next();
  }

  /** A snapshot to pass to `restore` (here or in a new stream over the same source and batch size). */
  state(): BatchStreamState {
    return { epoch: this.epochNo, cursor: this.cursor, epochRng: this.epochRng, rng: this.rng.state() };
  }

  /** Resume at `s`: the following batches equal those that followed when `s` was taken. */
  restore(s: BatchStreamState): void {
    this.epochNo = s.epoch;
    this.cursor = s.cursor;
    this.epochRng = { s: [...s.epochRng.s], spare: s.epochRng.spare };
    if (this.source.kind === 'array') {
      this.rng.setState(this.epochRng);
      this.order = this.makeOrder();
    }
    this.rng.setState({ s: [...s.rng.s], spare: s.rng.spare });
  }

  private startEpoch(): void {
    // The first epoch's order was made in the constructor; each later one starts with a new shuffle.
    this.epochNo++;
    this.cursor = 0;
    this.epochRng = this.rng.state();
    this.order = this.makeOrder();
  }

  private makeOrder(): Int32Array {
    const n = (this.source as { count: number }).count;
    const order = Int32Array.from({ length: n }, (_, i) => i);
    return this.shuffle ? this.rng.shuffle(order) : order;
  }
}
