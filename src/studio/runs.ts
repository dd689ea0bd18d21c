import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { RunFolder, listDirs } from '../gan/run_folder.js';
import { resolveCheckpoint, readCheckpointState } from '../gan/checkpoint.js';

/** A run id is one or two folder names under the studio's runs folder ("demo" or "sweep/lr-1e-4"). */
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** A metrics.jsonl line: a logged step (numbers, or null where JSON turned NaN/Inf into null) or an event. */
export type MetricRecord = Record<string, number | string | null>;

export interface RunSummary {
  id: string;
  model: string;
  data: string;
  steps: number;
  step: number;
  /** Milliseconds since the epoch of the last metrics line (0 when none): "live" is decided by the page. */
  updated: number;
}

/**
 * The runs under `root`. Only names matching SEGMENT are accepted, and the resolved path must stay inside
 * `root` after symlinks are followed, so no id can reach a file outside it.
 */
export class RunStore {
  readonly root: string;
  constructor(root: string) {
    this.root = path.resolve(root);
  }

  /** Run folders at depth 1 or 2 (a folder of sweeps), found by their config.json. */
  async list(): Promise<string[]> {
    const ids: string[] = [];
    for (const a of await listDirs(this.root, SEGMENT)) {
      if (await isRun(path.join(this.root, a))) ids.push(a);
      else for (const b of await listDirs(path.join(this.root, a), SEGMENT)) if (await isRun(path.join(this.root, a, b))) ids.push(`${a}/${b}`);
    }
    return ids;
  }

  /** The folder of run `id`, or null when the id is malformed, escapes the root or is not a run. */
  async resolve(id: string): Promise<RunFolder | null> {
    const parts = id.split('/');
    if (parts.length > 2 || !parts.every((p) => SEGMENT.test(p))) return null;
    const dir = path.join(this.root, ...parts);
    try {
      const [real, realRoot] = await Promise.all([fs.realpath(dir), fs.realpath(this.root)]);
      if (real !== realRoot && !real.startsWith(realRoot + path.sep)) return null;
    } catch {
      return null;
    }
    return (await isRun(dir)) ? new RunFolder(dir) : null;
  }

  async summary(id: string, run: RunFolder): Promise<RunSummary> {
    const config = await readConfig(run);
    const last = lastRecord(await readMetricsFrom(run, 0).then((r) => r.records));
    return {
      id,
      model: String(config.model ?? '?'),
      data: String(config.data ?? '?'),
      steps: Number(config.steps ?? 0),
      step: Number(last?.step ?? 0),
      updated: Number(last?.time ?? 0),
    };
  }
}

async function isRun(dir: string): Promise<boolean> {
  try {
    return (await fs.stat(path.join(dir, 'config.json'))).isFile();
  } catch {
    return false;
  }
}

export async function readConfig(run: RunFolder): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await fs.readFile(run.config, 'utf8')) as Record<string, unknown>;
  } catch {
    return {}; // being written by a starting run: the next poll will see it
  }
}

/**
 * Complete lines of metrics.jsonl from byte `offset` on, and the offset after the last complete line, so a
 * poller reads only what training appended and never a half-written line.
 */
export async function readMetricsFrom(run: RunFolder, offset: number): Promise<{ records: MetricRecord[]; offset: number }> {
  let buf: Buffer;
  try {
    const fh = await fs.open(run.metrics, 'r');
    try {
      const { size } = await fh.stat();
      if (size < offset) offset = 0; // truncated by a resume: start over (the page resets on offset 0)
      buf = Buffer.alloc(size - offset);
      await fh.read(buf, 0, buf.length, offset);
    } finally {
      await fh.close();
    }
  } catch {
    return { records: [], offset: 0 };
  }
  const end = buf.lastIndexOf(0x0a) + 1;
  const records = buf
    .subarray(0, end)
    .toString('utf8')
    .split('\n')
    .flatMap((l) => {
      try {
        return l.trim() ? [JSON.parse(l) as MetricRecord] : [];
      } catch {
        return [];
      }
    });
  return { records, offset: offset + end };
}

function lastRecord(records: MetricRecord[]): MetricRecord | undefined {
  for (let i = records.length - 1; i >= 0; i--) if (records[i].event === undefined) return records[i];
  return undefined;
}

/** samples/step-NNNNNN.png file names, oldest first. */
export async function listSamples(run: RunFolder): Promise<string[]> {
  try {
    return (await fs.readdir(run.samples)).filter((f) => /^step-\d+\.png$/.test(f)).sort();
  } catch {
    return [];
  }
}

/** The newest complete checkpoint's folder name and dataset info, or null before the first one. */
export async function latestCheckpoint(run: RunFolder): Promise<{ dir: string; name: string; data: unknown; numClasses: number } | null> {
  try {
    const dir = await resolveCheckpoint(run.dir);
    const state = await readCheckpointState(dir);
    const data = state.data as { numClasses?: number };
    return { dir, name: path.basename(dir), data: state.data, numClasses: data?.numClasses ?? 0 };
  } catch {
    return null;
  }
}
