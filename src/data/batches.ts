import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../util/errors.js';
import { Rng, type RngState } from '../util/rng.js';
import { isStored, type ArraySource, type Batch, type DataSource, type StoredSource, type StreamSource } from './types.js';
import { Augmenter, type AugmentDraw } from './augment.js';
import { DecodePool, defaultDecodeThreads } from './decode_pool.js';

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
  /** Batches decoded ahead of use, for streamed sources (default 2 per decode thread, at least 2). */
  prefetch?: number;
  /** Decode threads for streamed sources (default: one per core but one, at most 4). */
  threads?: number;
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
  /** Indices into the source (stored sources only). */
  indices?: Int32Array;
  /** float32 [B, ...info.input.shape] in [-1, 1]: translation data's input images. */
  input?: Float32Array;
  /** Text data: the drawn caption of each example as token ids [B, maxLen] and lengths [B]. */
  tokens?: Int32Array;
  lengths?: Int32Array;
  /** Which stored inputs: the same as `indices` for paired data, independent draws for unpaired. */
  inputIndices?: Int32Array;
}

/** One stored batch's draws, made before its pixels are loaded, so that a streamed batch can be decoded ahead. */
interface BatchPlan {
  /** The stream's position before this batch was drawn: what `state()` reports while it waits to be used. */
  before: BatchStreamState;
  /** This rank's examples: positions in [0, count·(xflip ? 2 : 1)); position p is example p mod count, mirrored when p ≥ count. */
  positions: Int32Array;
  /** Source indices of `positions`. */
  indices: Int32Array;
  /** Unpaired translation data: the input drawn for each of this rank's examples. */
  inputIndices?: Int32Array;
  /** Crop/flip per example (source.augment), and per input when the input draws its own (unpaired). */
  draws?: AugmentDraw[];
  inputDraws?: AugmentDraw[];
  /** Streamed sources: the decode job of this batch's pixels. */
  ticket?: number;
  /** Text data: the caption drawn for each of this rank's examples. */
  captionIndices?: Int32Array;
}

/**
 * Batches from a DataSource. Stored sources (arrays in memory, streamed folders) are visited in a fresh random
 * order every epoch (every example once per epoch, minus the dropped remainder; with `xflip` every example
 * twice, once mirrored); sampler sources draw `batchSize` new examples per batch.
 * Images are uint8 in storage and become x/127.5 − 1 in the batch. The caller owns (and disposes) the
 * tensors returned by `next()`.
 *
 * Translation data (source.inputs) also yields `input`: input i of paired data belongs to example i; for
 * unpaired data each input index is drawn from the stream's rng, as CycleGAN's loader draws B at random.
 * `source.augment` crops and flips every image (paired: one draw for target and input; unpaired: a draw
 * each). All draws come from the stream's rng after the epoch's shuffle, so `state()`/`restore()` replay them.
 *
 * A streamed source (kind 'stream') has its batches drawn `prefetch` batches ahead and decoded by worker
 * threads meanwhile; `next()` stays synchronous and waits only if decoding has fallen behind. The draws are
 * the ones an ArraySource of the same files gets, and `state()` is the position of the next batch handed
 * out, not of the batches drawn ahead, so a resume replays exactly. `close()` ends the threads.
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
  /** Text data: the captions of each example. */
  private readonly captionsOf?: Int32Array[];
  private readonly shard?: Shard;
  /** Examples per epoch before dropping the remainder: count, doubled by xflip. */
  private readonly size: number;
  private readonly prefetch: number;
  private readonly threads?: number;
  private pool?: DecodePool;
  /** Streamed batches drawn and submitted for decoding, oldest first. */
  private readonly ahead: BatchPlan[] = [];
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
    this.size = isStored(source) ? source.count * (source.xflip ? 2 : 1) : 0;
    this.threads = opts.threads;
    this.prefetch = opts.prefetch ?? Math.max(2, 2 * (opts.threads ?? defaultDecodeThreads()));
    if (!Number.isInteger(this.prefetch) || this.prefetch < 1) throw new UserError(`prefetch must be a positive number of batches, got ${opts.prefetch}`);
    if (isStored(source)) {
      if (source.kind === 'array') checkInputs(source, this.inputSize);
      if (source.kind === 'array' && (source.captions || source.info.text)) this.captionsOf = captionsByExample(source);
      if (source.kind === 'stream' && source.info.text) throw new UserError(`${source.info.name}: captioned data is held in memory; it cannot be streamed (pass --stream off)`);
      if ((source.augment || source.xflip) && source.info.kind !== 'image') throw new UserError(`${source.info.name}: loadSize/flip/xflip apply to images only`);
      if (source.xflip && source.info.input) throw new UserError(`${source.info.name}: --xflip mirrors targets only; translation data needs its inputs mirrored alike, so use --augment flip`);
      if (source.augment) {
        const [h, w] = source.info.shape;
        this.augmenter = new Augmenter([h, w], source.augment, source.info.name);
      }
      if (this.dropLast && this.size < this.batchSize) {
        throw new UserError(`--batch-size ${this.batchSize} is larger than the ${this.size} examples in ${source.info.name}; pass --batch-size ${this.size} or less`);
      }
    }
    this.epochRng = this.rng.state();
    if (isStored(source)) this.order = this.makeOrder();
  }

  /** Batches per epoch for stored sources; undefined for samplers. */
  get batchesPerEpoch(): number | undefined {
    if (!isStored(this.source)) return undefined;
    return this.dropLast ? Math.floor(this.size / this.batchSize) : Math.ceil(this.size / this.batchSize);
  }

  /** Completed epochs (stored sources); for samplers, the number of batches drawn. */
  get epoch(): number {
    const s = this.state();
    return isStored(this.source) ? s.epoch + (s.cursor >= this.epochLimit() ? 1 : 0) : s.cursor;
  }

  /** Streamed batches drawn ahead and not yet handed out (each one decoding or decoded): at most `prefetch`. */
  get prefetched(): number {
    return this.ahead.length;
  }

  /** Decode jobs submitted to the threads and not yet taken back (each one batch's pixels). */
  get decoding(): number {
    return this.pool?.pending ?? 0;
  }

  /** Examples used per epoch: all of them, or the largest multiple of the batch size when dropping the remainder. */
  private epochLimit(): number {
    return this.dropLast ? this.size - (this.size % this.batchSize) : this.size;
  }

  /** Next batch as typed arrays (no tensors): this rank's slice of it when sharded. */
  nextRaw(): RawBatch {
    const src = this.source;
    if (src.kind === 'sampler') {
      const { values, labels, input } = src.sample(this.batchSize, this.rng);
      this.cursor++;
      const [lo, hi] = shardRange(this.batchSize, this.shard);
      if (hi - lo === this.batchSize) return { x: values, labels, input };
      const d = values.length / this.batchSize;
      const di = this.inputSize;
      return { x: values.slice(lo * d, hi * d), labels: labels?.slice(lo, hi), input: input?.slice(lo * di, hi * di) };
    }
    if (src.kind === 'array') return this.load(src, this.plan(), src.values as Uint8Array | Float32Array, (i, plan) => plan.indices[i] * this.exampleSize);
    // Streamed: hand out the oldest batch drawn ahead, top the queue up so threads decode while the caller
    // computes, then wait for this batch's pixels (uint8 [b, ...shape], in the plan's order).
    this.fillAhead();
    const plan = this.ahead.shift()!;
    this.fillAhead();
    const reply = this.pool!.take(plan.ticket!);
    if (reply.error) {
      const what = reply.error.file ? `cannot decode image ${reply.error.file}` : `decoding ${src.info.name} failed`;
      throw new UserError(`${what}: ${reply.error.message} (its header was readable when the folder was opened; remove or replace the file)`);
    }
    return this.load(src, plan, reply.data!, (i) => i * this.exampleSize);
  }

  /**
   * Draw the next stored batch: take the global batch's positions from the epoch's order (shuffling a new
   * epoch when one ends), then the unpaired input picks and the crops/flips of the whole global batch in that
   * order (every rank consumes the same numbers), keeping this rank's share.
   */
  private plan(): BatchPlan {
    const src = this.source as StoredSource;
    const before = this.liveState();
    const limit = this.epochLimit();
    if (this.cursor >= limit) this.startEpoch();
    const b = Math.min(this.batchSize, limit - this.cursor);
    const global = this.order!.slice(this.cursor, this.cursor + b);
    this.cursor += b;
    const [lo, hi] = shardRange(b, this.shard);
    const positions = global.slice(lo, hi);
    const indices = positions.map((p) => p % src.count);
    const inp = src.kind === 'array' ? src.inputs : undefined;
    const unpaired = src.info.input?.pairing === 'unpaired';
    const inputIndices = inp ? (unpaired ? Int32Array.from(global, () => this.rng.int(inp.count)).slice(lo, hi) : Int32Array.from(indices)) : undefined;
    const aug = this.augmenter;
    const captionIndices = this.drawCaptions(global, lo, hi);
    if (!aug) return { before, positions, indices, inputIndices, captionIndices };
    const draws: AugmentDraw[] = [];
    const inputDraws: AugmentDraw[] = [];
    for (let g = 0; g < global.length; g++) {
      const draw = aug.draw(this.rng);
      // Paired: the target's crop and flip, so A and B stay aligned; unpaired: a draw of its own.
      const inputDraw = inp && unpaired ? aug.draw(this.rng) : draw;
      if (g < lo || g >= hi) continue; // another rank's example: its draws are made, its pixels not loaded
      draws.push(draw);
      inputDraws.push(inputDraw);
    }
    return { before, positions, indices, inputIndices, draws, inputDraws: inp ? inputDraws : undefined, captionIndices };
  }

  /** Text data: one caption per example of the global batch, uniformly among its own (every rank draws them all), keeping [lo, hi). */
  private drawCaptions(global: Int32Array, lo: number, hi: number): Int32Array | undefined {
    const lists = this.captionsOf;
    if (!lists) return undefined;
    const count = (this.source as StoredSource).count;
    const picks = Int32Array.from(global, (p) => {
      const own = lists[p % count];
      return own[own.length === 1 ? 0 : this.rng.int(own.length)];
    });
    return picks.slice(lo, hi);
  }

  /**
   * The batch of `plan` as floats: example i's uint8 pixels are `pixels[at(i) …]`, mirrored when its position
   * is a dataset x-flip, then cropped/flipped by its draw; labels and translation inputs follow the indices.
   */
  private load(src: StoredSource, plan: BatchPlan, pixels: Uint8Array | Float32Array, at: (i: number, plan: BatchPlan) => number): RawBatch {
    const d = this.exampleSize;
    const n = plan.positions.length;
    const x = new Float32Array(n * d);
    const [h, w, c] = src.info.shape;
    const mirror = src.xflip ? new Uint8Array(d) : undefined;
    for (let i = 0; i < n; i++) {
      let buf = pixels;
      let off = at(i, plan);
      if (mirror && plan.positions[i] >= src.count) {
        mirrorImage(pixels as Uint8Array, off, [h, w, c], mirror);
        [buf, off] = [mirror, 0];
      }
      if (plan.draws) this.augmenter!.apply(buf as Uint8Array, off, c, plan.draws[i], x, i * d);
      else if (src.info.kind === 'image') for (let j = 0; j < d; j++) x[i * d + j] = buf[off + j] / 127.5 - 1;
      else x.set(buf.subarray(off, off + d), i * d);
    }
    const labels = src.labels ? Int32Array.from(plan.indices, (i) => src.labels![i]) : undefined;
    const text = src.kind === 'array' && plan.captionIndices ? captionRows(src, plan.captionIndices) : {};
    const inp = src.kind === 'array' ? src.inputs : undefined;
    if (!inp || !plan.inputIndices) return { x, labels, indices: plan.indices, ...text };
    const di = this.inputSize;
    const ci = src.info.input!.shape[2];
    const input = new Float32Array(n * di);
    for (let i = 0; i < n; i++) {
      const off = plan.inputIndices[i] * di;
      if (plan.inputDraws) this.augmenter!.apply(inp.values, off, ci, plan.inputDraws[i], input, i * di);
      else for (let j = 0; j < di; j++) input[i * di + j] = inp.values[off + j] / 127.5 - 1;
    }
    return { x, labels, indices: plan.indices, input, inputIndices: plan.inputIndices, ...text };
  }

  /** Draw streamed batches and submit their files for decoding until `prefetch` are ahead. */
  private fillAhead(): void {
    const src = this.source as StreamSource;
    this.pool ??= new DecodePool(this.threads);
    const target = { shape: src.info.shape as [number, number, number], background: src.background };
    while (this.ahead.length < this.prefetch) {
      const plan = this.plan();
      plan.ticket = this.pool.decode(Array.from(plan.indices, (i) => src.files[i]), target);
      this.ahead.push(plan);
    }
  }

  /** Next batch as tensors: x float32 [B, ...shape], labels int32 [B]. The caller disposes them. */
  next(): Batch {
    const raw = this.nextRaw();
    const b = raw.x.length / this.exampleSize;
    const x = tf.tensor(raw.x, [b, ...this.source.info.shape], 'float32');
    const batch: Batch = raw.labels ? { x, labels: tf.tensor1d(raw.labels, 'int32') } : { x };
    if (raw.input) batch.input = tf.tensor(raw.input, [b, ...this.source.info.input!.shape], 'float32');
    if (raw.tokens && raw.lengths) batch.text = { tokens: tf.tensor2d(raw.tokens, [b, raw.tokens.length / b], 'int32'), lengths: tf.tensor1d(raw.lengths, 'int32') };
    return batch;
  }

  /** Yields `next()` until `epochs` (if given) is reached; breaking out of the loop is fine. */
  async *[Symbol.asyncIterator](): AsyncIterator<Batch> {
    while (this.epochs === undefined || this.epoch < this.epochs) yield this.next();
  }

  /** A snapshot to pass to `restore` (here or in a new stream over the same source and batch size). */
  state(): BatchStreamState {
    return this.ahead[0]?.before ?? this.liveState();
  }

  /** Resume at `s`: the following batches equal those that followed when `s` was taken. */
  restore(s: BatchStreamState): void {
    // Batches drawn ahead belong to the old position: wait for their threads and drop them.
    this.pool?.drain();
    this.ahead.length = 0;
    this.epochNo = s.epoch;
    this.cursor = s.cursor;
    this.epochRng = { s: [...s.epochRng.s], spare: s.epochRng.spare };
    if (isStored(this.source)) {
      this.rng.setState(this.epochRng);
      this.order = this.makeOrder();
    }
    this.rng.setState({ s: [...s.rng.s], spare: s.rng.spare });
  }

  /** End the decode threads of a streamed source (a no-op otherwise). The stream cannot draw streamed batches afterwards. */
  close(): void {
    this.pool?.drain();
    this.pool?.close();
    if (this.source.kind === 'sampler') this.source.close?.();
  }

  /** Where drawing stands now (ahead of `state()` while streamed batches wait in the queue). */
  private liveState(): BatchStreamState {
    return { epoch: this.epochNo, cursor: this.cursor, epochRng: this.epochRng, rng: this.rng.state() };
  }

  private startEpoch(): void {
    // The first epoch's order was made in the constructor; each later one starts with a new shuffle.
    this.epochNo++;
    this.cursor = 0;
    this.epochRng = this.rng.state();
    this.order = this.makeOrder();
  }

  private makeOrder(): Int32Array {
    const order = Int32Array.from({ length: this.size }, (_, i) => i);
    return this.shuffle ? this.rng.shuffle(order) : order;
  }
}

/** Write image `src[off …]` ([h, w, c] uint8) mirrored left–right into `out`. */
export function mirrorImage(src: Uint8Array, off: number, [h, w, c]: number[], out: Uint8Array): void {
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const from = off + (y * w + (w - 1 - x)) * c;
      const to = (y * w + x) * c;
      for (let k = 0; k < c; k++) out[to + k] = src[from + k];
    }
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

/** Every example's caption indices; text data must come whole, and every example needs a caption. */
function captionsByExample(src: ArraySource): Int32Array[] {
  const caps = src.captions;
  const info = src.info.text;
  if (!caps || !info) throw new UserError(`${src.info.name}: info.text and captions must be given together`);
  const n = caps.owner.length;
  if (caps.tokens.length !== n * info.maxLen || caps.lengths.length !== n || caps.texts.length !== n) {
    throw new UserError(`${src.info.name}: captions hold ${caps.tokens.length} tokens, ${caps.lengths.length} lengths and ${caps.texts.length} texts for ${n} captions of ${info.maxLen} tokens`);
  }
  const lists: number[][] = Array.from({ length: src.count }, () => []);
  caps.owner.forEach((o, j) => {
    if (!(o >= 0 && o < src.count)) throw new UserError(`${src.info.name}: caption ${j} belongs to example ${o}, and there are ${src.count}`);
    lists[o].push(j);
  });
  const missing = lists.findIndex((l) => l.length === 0);
  if (missing >= 0) throw new UserError(`${src.info.name}: example ${src.names?.[missing] ?? missing} has no caption; give every image one (or drop it)`);
  return lists.map((l) => Int32Array.from(l));
}

/** Token rows [B, maxLen] and lengths [B] of the chosen captions. */
function captionRows(src: ArraySource, picks: Int32Array): { tokens: Int32Array; lengths: Int32Array } {
  const caps = src.captions!;
  const t = src.info.text!.maxLen;
  const tokens = new Int32Array(picks.length * t);
  picks.forEach((j, i) => tokens.set(caps.tokens.subarray(j * t, (j + 1) * t), i * t));
  return { tokens, lengths: Int32Array.from(picks, (j) => caps.lengths[j]) };
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
