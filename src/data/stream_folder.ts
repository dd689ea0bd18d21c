import { totalmem } from 'node:os';
import { UserError } from '../util/errors.js';
import type { StreamSource } from './types.js';
import { conversionNotice, type ImageHeader } from './decode.js';
import { DecodePool, unpackHeaders } from './decode_pool.js';
import {
  folderInfo, loadPlannedFolder, planImageFolder, unreadable, type FolderPlan, type ImageFolderOptions, type ImageFolderSource,
} from './image_folder.js';

/** Whether a folder is decoded into memory (off), streamed from disk (on), or chosen by its size (auto). */
export const STREAM_MODES = ['auto', 'on', 'off'] as const;
export type StreamMode = (typeof STREAM_MODES)[number];

/** `auto` streams a folder whose decoded images would take more than this share of the machine's memory. */
export const STREAM_MEMORY_SHARE = 0.25;

/** Files whose headers one probe job reads. */
const PROBE_CHUNK = 512;

export interface FolderDataOptions extends ImageFolderOptions {
  /** Default 'auto'. */
  stream?: StreamMode;
  /** Decode threads for reading the headers of a streamed folder (default: see defaultDecodeThreads). */
  threads?: number;
}

/**
 * A folder as training data: decoded into memory when that is small enough (or `stream: 'off'`), else a
 * StreamSource that BatchStream decodes batch by batch. Both have the same order, size, channels, labels
 * and pixels; `auto` decides by the decoded size against STREAM_MEMORY_SHARE of the machine's memory.
 */
export async function loadFolderData(dir: string, opts: FolderDataOptions = {}): Promise<ImageFolderSource | StreamSource> {
  const mode = opts.stream ?? 'auto';
  if (!(STREAM_MODES as readonly string[]).includes(mode)) throw new UserError(`--stream must be one of ${STREAM_MODES.join(', ')}, got '${mode}'`);
  const plan = await planImageFolder(dir, opts);
  const bytes = plan.entries.length * plan.target.shape.reduce((a, b) => a * b, 1);
  if (!shouldStream(mode, bytes, totalmem())) return loadPlannedFolder(plan, opts);
  const why = mode === 'on' ? '--stream on' : `${gb(bytes)} decoded, over ${Math.round(STREAM_MEMORY_SHARE * 100)}% of the ${gb(totalmem())} of memory; --stream off loads it whole`;
  return openImageStream(plan, { ...opts, why });
}

/**
 * A StreamSource over a planned folder. Every file's header is read first (in decode threads), so that
 * unreadable files are skipped (skipBad) or named before training starts, and the notice counting resized
 * and converted files is complete; the pixels are decoded only when BatchStream draws them.
 */
export async function openImageStream(plan: FolderPlan, opts: FolderDataOptions & { why?: string } = {}): Promise<StreamSource> {
  const { entries } = plan;
  const headers: (ImageHeader | undefined)[] = [];
  const pool = new DecodePool(opts.threads);
  try {
    const chunks = Math.ceil(entries.length / PROBE_CHUNK);
    const files = (k: number) => entries.slice(k * PROBE_CHUNK, (k + 1) * PROBE_CHUNK).map((e) => e.path);
    let next = 0;
    const ahead = 2 * pool.size;
    for (; next < Math.min(ahead, chunks); next++) pool.probe(files(next));
    for (let k = 0; k < chunks; k++) {
      const reply = pool.take(k);
      if (next < chunks) pool.probe(files(next++));
      if (reply.error) throw new Error(`reading image headers in ${plan.dir}: ${reply.error.message}`);
      const chunk = unpackHeaders(reply, Math.min(PROBE_CHUNK, entries.length - k * PROBE_CHUNK));
      for (const [i, reason] of reply.bad ?? []) unreadable(entries[k * PROBE_CHUNK + i].path, new Error(reason), opts.skipBad);
      headers.push(...chunk);
    }
  } finally {
    pool.drain();
    pool.close();
  }
  const keep = entries.filter((_, i) => headers[i] !== undefined);
  if (keep.length === 0) throw new UserError(`none of the ${entries.length + plan.skippedFiles.length} image files in ${plan.dir} could be read`);
  const skipped = plan.skippedFiles.length + entries.length - keep.length;
  const n = keep.length.toLocaleString('en-US');
  const notices = [`folder:${plan.dir}: streaming ${n} images from disk (${opts.why ?? 'streamed'})`];
  const conversions = conversionNotice(`folder:${plan.dir}`, headers.filter((h) => h !== undefined), plan.target.shape, plan.target.background);
  if (conversions) notices.push(conversions);
  return {
    kind: 'stream',
    info: folderInfo(plan, keep.length),
    count: keep.length,
    files: keep.map((e) => e.path),
    ...(plan.classNames ? { labels: Int32Array.from(keep, (e) => e.label ?? 0) } : {}),
    background: [...plan.target.background],
    skipped,
    notices,
  };
}

/** Whether a folder of `bytes` decoded is streamed on a machine with `memory` bytes. */
export function shouldStream(mode: StreamMode, bytes: number, memory: number): boolean {
  return mode === 'on' || (mode === 'auto' && bytes > STREAM_MEMORY_SHARE * memory);
}

function gb(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${Math.round(bytes / 1e6)} MB`;
}
