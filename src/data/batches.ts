import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../util/errors.js';
import { Rng, type RngState } from '../util/rng.js';
import type { ArraySource, Batch, DataSource } from './types.js';
import { Augmenter } from './augment.js';

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
  /**
   * Data-parallel training: `batchSize` is the global batch, and this stream yields only rank `rank`'s share
   * of each one (`count` equal slices). Every rank draws the same order, crops, flips and unpaired picks, so
   * the ranks' slices together are exactly the batch one process would get, and `state()` is the same on all.
   */
  shard?: Shard;
}

/** Which slice of every global batch a rank takes. */
export interface Shard {
  rank: number;
  count: number;
}

/** [lo, hi): rank `rank`'s examples of a batch of `b` split in `count` slices (sizes differ by at most one). */
export function shardRange(b: number, shard: Shard | undefined): [number, number] {
  if (!shard || shard.count === 1) return [0, b];
  return [Math.floor((b * shard.rank) / shard.count), Math.floor((b * (shard.rank + 1)) / shard.count)];
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
  /** float32 [B, ...info.input.shape] in [-1, 1]: translation data's input images. */
  input?: Float32Array;
  /** Which stored inputs: the same as `indices` for paired data, independent draws for unpaired. */
  inputIndices?: Int32Array;
}

/**
 * Batches from a DataSource. Array sources are visited in a fresh random order every epoch (every example
 * once per epoch, minus the dropped remainder); sampler sources draw `batchSize` new examples per batch.
 * Images are uint8 in storage and become x/127.5 − 1 in the batch. The caller owns (and disposes) the
 * tensors returned by `next()`.
 *
 * Translation data (source.inputs) also yields `input`: input i of paired data belongs to example i; for
 * unpaired data each input index is drawn from the stream's rng, as CycleGAN's loader draws B at random.
 * `source.augment` crops and flips every image (paired: one draw for target and input; unpaired: a draw
 * each). All draws come from the stream's rng after the epoch's shuffle, so `state()`/`restore()` replay them.
 */
export class BatchStream implements AsyncIterable<Batch> {
  readonly batchSize: number;
  private readonly source: DataSource;
  private readonly rng: Rng;
  private readonly shuffle: boolean;
  private readonly dropLast: boolean;
  private readonly epochs?: number;
  private readonly exampleSize: number;
  private readonly inputSize: number;
  private readonly augmenter?: Augmenter;
  private readonly shard?: Shard;
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
    if (opts.shard) checkShard(opts.shard, this.batchSize);
    this.shard = opts.shard;
    this.exampleSize = source.info.shape.reduce((a, b) => a * b, 1);
    this.inputSize = source.info.input?.shape.reduce((a, b) => a * b, 1) ?? 0;
    if (source.kind === 'array') {
      checkInputs(source, this.inputSize);
      if (source.augment) {
        if (source.info.kind !== 'image') throw new UserError(`${source.info.name}: loadSize/flip apply to images only`);
        const [h, w] = source.info.shape;
        this.augmenter = new Augmenter([h, w], source.augment, source.info.name);
      }
    }
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

  /** Next batch as typed arrays (no tensors): this rank's slice of it when sharded. */
  nextRaw(): RawBatch {
    const src = this.source;
    if (src.kind === 'sampler') {
      const { values, labels } = src.sample(this.batchSize, this.rng);
      this.cursor++;
      const [lo, hi] = shardRange(this.batchSize, this.shard);
      if (hi - lo === this.batchSize) return { x: values, labels };
      const d = values.length / this.batchSize;
      return { x: values.slice(lo * d, hi * d), labels: labels?.slice(lo, hi) };
    }
    const limit = this.epochLimit();
    if (this.cursor >= limit) this.startEpoch();
    const b = Math.min(this.batchSize, limit - this.cursor);
    const global = this.order!.slice(this.cursor, this.cursor + b);
    this.cursor += b;
    const [lo, hi] = shardRange(b, this.shard);
    const indices = global.subarray(lo, hi);
    const d = this.exampleSize;
    const x = new Float32Array(indices.length * d);
    const v = src.values;
    const isImage = src.info.kind === 'image';
    for (let i = 0; i < indices.length; i++) {
      const off = indices[i] * d;
      const o = i * d;
      if (isImage) for (let j = 0; j < d; j++) x[o + j] = v[off + j] / 127.5 - 1;
      else x.set(v.subarray(off, off + d), o);
    }
    const labels = src.labels ? Int32Array.from(indices, (i) => src.labels![i]) : undefined;
    if (!src.inputs && !this.augmenter) return { x, labels, indices: Int32Array.from(indices) };
    return { ...this.translate(src, global, lo, x), labels, indices: Int32Array.from(indices) };
  }

  /**
   * x augmented (when asked) and the input images of examples [lo, lo + plain's count) of the global batch
   * `global`, drawing unpaired picks, then crops and flips, in order. The draws are made for the whole global
   * batch (every rank consumes the same numbers); only this rank's slice is loaded.
   */
  private translate(src: ArraySource, global: Int32Array, lo: number, plain: Float32Array): Pick<RawBatch, 'x' | 'input' | 'inputIndices'> {
    const d = this.exampleSize;
    const b = plain.length / d;
    const indices = global.subarray(lo, lo + b);
    const inp = src.inputs;
    const unpaired = src.info.input?.pairing === 'unpaired';
    const inputIndices = inp ? (unpaired ? Int32Array.from(global, () => this.rng.int(inp.count)).slice(lo, lo + b) : Int32Array.from(indices)) : undefined;
    const aug = this.augmenter;
    const di = this.inputSize;
    const x = aug ? new Float32Array(b * d) : plain;
    const input = inp ? new Float32Array(b * di) : undefined;
    const c = src.info.shape[2];
    const ci = src.info.input?.shape[2] ?? 0;
    for (let g = 0; g < global.length; g++) {
      const draw = aug?.draw(this.rng);
      // Paired: the target's crop and flip, so A and B stay aligned; unpaired: a draw of its own.
      const inputDraw = draw && inp && unpaired ? aug!.draw(this.rng) : draw;
      const i = g - lo;
      if (i < 0 || i >= b) continue; // another rank's example: its draws are made, its pixels not loaded
      if (draw) aug!.apply(src.values as Uint8Array, indices[i] * d, c, draw, x, i * d);
      if (!inp || !input || !inputIndices) continue;
      const off = inputIndices[i] * di;
      if (inputDraw) aug!.apply(inp.values, off, ci, inputDraw, input, i * di);
      else for (let j = 0; j < di; j++) input[i * di + j] = inp.values[off + j] / 127.5 - 1;
    }
    return { x, input, inputIndices };
  }

  /** Next batch as tensors: x float32 [B, ...shape], labels int32 [B]. The caller disposes them. */
  next(): Batch {
    const raw = this.nextRaw();
    const b = raw.x.length / this.exampleSize;
    const x = tf.tensor(raw.x, [b, ...this.source.info.shape], 'float32');
    const batch: Batch = raw.labels ? { x, labels: tf.tensor1d(raw.labels, 'int32') } : { x };
    if (raw.input) batch.input = tf.tensor(raw.input, [b, ...this.source.info.input!.shape], 'float32');
    return batch;
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

function checkShard(shard: Shard, batchSize: number): void {
  if (!Number.isInteger(shard.count) || shard.count < 1 || !Number.isInteger(shard.rank) || shard.rank < 0 || shard.rank >= shard.count) {
    throw new Error(`shard ${shard.rank} of ${shard.count} is not a rank of the group`);
  }
  if (batchSize % shard.count !== 0) {
    throw new UserError(`--batch-size ${batchSize} (the global batch) must be a multiple of the ${shard.count} ranks, so that every rank gets the same share`);
  }
}

/** Translation data must come whole: inputs with their info, sized as declared. */
function checkInputs(src: ArraySource, inputSize: number): void {
  const inp = src.inputs;
  if (!inp && !src.info.input) return;
  if (!inp || !src.info.input) throw new UserError(`${src.info.name}: info.input and inputs must be given together`);
  if (inp.values.length !== inp.count * inputSize) {
    throw new UserError(`${src.info.name}: inputs hold ${inp.values.length} bytes, expected ${inp.count} × [${src.info.input.shape}]`);
  }
  if (inp.count < 1 || (src.info.input.pairing === 'paired' && inp.count !== src.count)) {
    throw new UserError(`${src.info.name}: ${inp.count} inputs for ${src.count} ${src.info.input.pairing} examples`);
  }
  const [h, w] = src.info.shape;
  const [ih, iw] = src.info.input.shape;
  if (src.augment && (ih !== h || iw !== w)) throw new UserError(`${src.info.name}: augmentation needs inputs of the targets' size, ${ih}×${iw} vs ${h}×${w}`);
}
