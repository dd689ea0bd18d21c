// Typed fetches of the studio server's JSON API (same origin: the auth cookie travels with them).
import type { GeneratorManifest } from '../generator_core.js';

export type MetricRecord = Record<string, number | string | null>;
export interface Alert { kind: string; step: number; message: string }
export interface Checkpoint { name: string; data: { shape?: [number, number, number]; numClasses?: number; classNames?: string[] }; numClasses: number }
export interface RunSummary { id: string; model: string; data: string; steps: number; step: number; updated: number }
export interface RunDetail {
  id: string;
  config: Record<string, unknown>;
  metrics: MetricRecord[];
  samples: string[];
  diversity: { step: number; value: number }[];
  checkpoint: Checkpoint | null;
  /** The run's family's condition ('none', 'class', 'image', …). */
  condition: string;
  /** What the run makes ('image', 'points', 'sequence'), when its checkpoint or family says. */
  kind?: string;
  /** How to run the newest checkpoint in the page, or why it cannot run here (manifestError). */
  manifest: GeneratorManifest | null;
  manifestError?: string;
  alerts: Alert[];
}

export const runPath = (id: string) => `/api/runs/${encodeURIComponent(id)}`;

async function json<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return (await res.json()) as T;
}

export const listRuns = () => json<RunSummary[]>('/api/runs');
export const getRun = (id: string) => json<RunDetail>(runPath(id));

/** A run counts as live when its log moved in the last 30 seconds. */
export const isLive = (r: RunSummary) => Date.now() - r.updated < 30_000;

/** Numeric series of `key` over logged steps (events skipped), as uPlot's [xs, ys]. */
export function series(records: MetricRecord[], key: string): [number[], (number | null)[]] {
  const xs: number[] = [];
  const ys: (number | null)[] = [];
  for (const r of records) {
    if (r.event !== undefined || !(key in r)) continue;
    xs.push(Number(r.step));
    ys.push(typeof r[key] === 'number' ? (r[key] as number) : null);
  }
  return [xs, ys];
}
