import { availableParallelism } from 'node:os';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
// sharp must be loaded by the main thread before any worker loads it, so that its shared libraries outlive
// the workers (lovell/sharp#2263); decode.ts imports it.
import './decode.js';
import type { DecodeTarget, ImageHeader } from './decode.js';

/** A job for a decode thread: pixels of some files, or only their headers. */
export type DecodeJob =
  | { op: 'decode'; id: number; files: string[]; target: DecodeTarget }
  | { op: 'probe'; id: number; files: string[] }
  | { op: 'jpeg'; id: number; images: Uint8Array; shape: number[]; quality: number };

/** A thread's answer: uint8 [n, ...target.shape] pixels, or packed headers (see decode_worker.ts), or an error. */
export interface DecodeReply {
  id: number;
  data?: Uint8Array;
  headers?: Int32Array;
  /** Probe: files whose header could not be read, [index in the job, reason]. */
  bad?: [number, string][];
  error?: { file?: string; message: string };
}

/**
 * Threads a pool starts by default: one per core but one (the training thread), at least 1, and at most libuv's
 * thread pool (UV_THREADPOOL_SIZE, default 4), which sharp's decodes in every worker share: more decode threads
 * than that would only queue. libuv reads the variable once, when its pool starts, and under ESM the module loader
 * starts it before any of our code runs, so it must be set when node is launched (`UV_THREADPOOL_SIZE=16 ganforge …`).
 */
export function defaultDecodeThreads(cores = availableParallelism(), uvPool = libuvPoolSize()): number {
  return Math.max(1, Math.min(uvPool, cores - 1));
}

/** libuv's thread pool size as libuv reads it: UV_THREADPOOL_SIZE when it is a positive number, else 4. */
export function libuvPoolSize(): number {
  return Number(process.env.UV_THREADPOOL_SIZE) || 4;
}

/** How long `take` waits for one job before it gives up (a huge image on a slow disk takes seconds, not minutes). */
const TAKE_TIMEOUT_MS = 10 * 60_000;

/**
 * Worker threads running sharp decodes, whose results the calling thread takes synchronously. Job k goes to
 * thread k mod n and each thread answers its jobs in order, so results are taken in submission order;
 * `take` blocks on an Atomics wait until the job's thread replies (decoded bytes are transferred, not
 * copied). The caller bounds memory by bounding how many jobs it keeps submitted (`pending`).
 * Threads are unref'd, so a pool nobody closes does not keep the process alive; `close` ends them.
 */
export class DecodePool {
  readonly size: number;
  private readonly threads: { worker: Worker; port: MessagePort }[] = [];
  private readonly signal = new Int32Array(new SharedArrayBuffer(4));
  private submitted = 0;
  private taken = 0;
  private closed = false;

  constructor(size = defaultDecodeThreads()) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`a decode pool needs at least one thread, got ${size}`);
    this.size = size;
    for (let i = 0; i < size; i++) {
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(new URL('./decode_worker.js', import.meta.url), { workerData: { port: port2, signal: this.signal }, transferList: [port2] });
      worker.unref();
      port1.unref();
      this.threads.push({ worker, port: port1 });
    }
  }

  /** Jobs submitted and not yet taken. */
  get pending(): number {
    return this.submitted - this.taken;
  }

  /** Start decoding `files` to `target`; returns the ticket to `take` the pixels with. */
  decode(files: string[], target: DecodeTarget): number {
    return this.submit({ op: 'decode', id: this.submitted, files, target });
  }

  /** Start a JPEG round trip at `quality` of uint8 images [n, ...shape]; the reply's data is the decoded images. */
  jpeg(images: Uint8Array, shape: number[], quality: number): number {
    return this.submit({ op: 'jpeg', id: this.submitted, images, shape, quality });
  }

  /** Start reading the headers of `files`. */
  probe(files: string[]): number {
    return this.submit({ op: 'probe', id: this.submitted, files });
  }

  /** The reply to job `ticket`, blocking until it is there. Tickets are taken in the order they were given. */
  take(ticket: number): DecodeReply {
    if (ticket !== this.taken) throw new Error(`decode results are taken in order: next is ${this.taken}, asked for ${ticket}`);
    if (ticket >= this.submitted) throw new Error(`no decode job ${ticket} was submitted`);
    const { port } = this.threads[ticket % this.size];
    const deadline = Date.now() + TAKE_TIMEOUT_MS;
    for (;;) {
      // Read the signal before looking, so a reply that lands in between ends the wait at once.
      const seen = Atomics.load(this.signal, 0);
      const got = receiveMessageOnPort(port);
      if (got) {
        const reply = got.message as DecodeReply;
        if (reply.id !== ticket) throw new Error(`decode thread answered job ${reply.id} when ${ticket} was next`);
        this.taken++;
        return reply;
      }
      if (Date.now() > deadline) throw new Error(`decode thread ${ticket % this.size} gave no answer for job ${ticket} in ${TAKE_TIMEOUT_MS / 60_000} minutes`);
      Atomics.wait(this.signal, 0, seen, 1000);
    }
  }

  /** Take and drop every pending reply (a stream that jumps elsewhere no longer wants them). */
  drain(): void {
    while (this.pending > 0) this.take(this.taken);
  }

  /** Let every thread finish its jobs and end. The pool cannot be used afterwards. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.threads) {
      t.worker.postMessage({ op: 'stop' });
      t.port.close();
    }
  }

  private submit(job: DecodeJob): number {
    if (this.closed) throw new Error('this decode pool is closed');
    this.threads[job.id % this.size].worker.postMessage(job);
    return this.submitted++;
  }
}

/** Unpack a probe reply's headers (undefined for an unreadable file). */
export function unpackHeaders(reply: DecodeReply, n: number): (ImageHeader | undefined)[] {
  const out: (ImageHeader | undefined)[] = [];
  const h = reply.headers!;
  for (let i = 0; i < n; i++) out.push(h[i * 4] === 0 ? undefined : { h: h[i * 4], w: h[i * 4 + 1], grey: h[i * 4 + 2] === 1, alpha: h[i * 4 + 3] === 1 });
  return out;
}
