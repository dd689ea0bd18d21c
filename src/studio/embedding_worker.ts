// A worker thread for sequences.ts: one embed2d call, its result posted back (the coordinates' buffers moved).
import { parentPort, workerData } from 'node:worker_threads';
import { embed2d, type EmbedOptions, type SequenceBatch } from '../metrics/sequence_embedding.js';

const { real, fake, opts } = workerData as { real: SequenceBatch; fake: SequenceBatch; opts: EmbedOptions };
const e = embed2d(real, fake, opts);
parentPort!.postMessage(e, [e.real.buffer as ArrayBuffer, e.fake.buffer as ArrayBuffer]);
