/**
 * One decode thread of a DecodePool. Jobs run one after another in arrival order, so replies leave in the
 * order the pool expects; each reply is followed by a bump of the shared signal, which wakes a main thread
 * blocked in DecodePool.take. Every failure becomes a reply, never a silent death: a pool waiting on a
 * thread that died would wait forever.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { DecodeJob, DecodeReply } from './decode_pool.js';

const { port, signal } = workerData as { port: MessagePort; signal: Int32Array };

// Loaded here, not at the top, so that a module that fails to load is reported to the pool as a reply.
// libvips' operation cache (process-wide, up to 50 MB) only helps repeated work on one image; streamed files
// are each decoded once an epoch, so it would hold memory for nothing.
const decoding = import('./decode.js');
void import('sharp').then((s) => s.default.cache(false));

let chain: Promise<void> = Promise.resolve();
parentPort!.on('message', (job: DecodeJob | { op: 'stop' }) => {
  chain = chain.then(async () => {
    if (job.op === 'stop') {
      port.close();
      parentPort!.close();
      return;
    }
    reply(await run(job));
  });
});

function reply(r: DecodeReply): void {
  port.postMessage(r, r.data ? [r.data.buffer as ArrayBuffer] : r.headers ? [r.headers.buffer as ArrayBuffer] : []);
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
}

async function run(job: DecodeJob): Promise<DecodeReply> {
  try {
    const { decodePixels, forEachBounded, headerOf } = await decoding;
    if (job.op === 'decode') {
      const per = job.target.shape.reduce((a, b) => a * b, 1);
      const data = new Uint8Array(job.files.length * per);
      let failed: { file: string; message: string } | undefined;
      await forEachBounded(job.files.length, 16, async (i) => {
        try {
          data.set(await decodePixels(job.files[i], job.target), i * per);
        } catch (e) {
          failed ??= { file: job.files[i], message: (e as Error).message };
        }
      });
      return failed ? { id: job.id, error: failed } : { id: job.id, data };
    }
    if (job.op === 'jpeg') {
      const { jpegRoundTrip } = await import('./degrade.js');
      const [h, w, c] = job.shape;
      const per = h * w * c;
      const data = new Uint8Array(job.images.length);
      for (let i = 0; i < job.images.length / per; i++) data.set((await jpegRoundTrip({ values: job.images.subarray(i * per, (i + 1) * per), h, w, c }, job.quality)).values, i * per);
      return { id: job.id, data };
    }
    // Headers: h, w, grey, alpha per file; h = 0 marks an unreadable file, its reason in `bad`.
    const sharp = (await import('sharp')).default;
    const headers = new Int32Array(job.files.length * 4);
    const bad: [number, string][] = [];
    await forEachBounded(job.files.length, 16, async (i) => {
      try {
        const h = headerOf(await sharp(job.files[i]).metadata());
        headers.set([h.h, h.w, h.grey ? 1 : 0, h.alpha ? 1 : 0], i * 4);
      } catch (e) {
        bad.push([i, (e as Error).message]);
      }
    });
    return { id: job.id, headers, bad };
  } catch (e) {
    return { id: job.id, error: { message: (e as Error).message } };
  }
}
