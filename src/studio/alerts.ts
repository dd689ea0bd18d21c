import type { MetricRecord } from './runs.js';

export interface Alert {
  kind: 'non-finite' | 'rollback' | 'd-winning' | 'collapse' | 'fid-worse';
  step: number;
  message: string;
}

/** Keys that hold FID-like scores (lower is better): "eval/fid", "fid", "fid50k", "eval/kid". */
export const isScoreKey = (k: string) => k.startsWith('eval/') || k.startsWith('fid');
const isLowerBetter = (k: string) => /fid|kid/i.test(k);
const isCoverageKey = (k: string) => /coverage|modes|classes/i.test(k);

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/**
 * Everything that can go wrong in a run, read from metrics.jsonl and the sample grids' diversity. Pure, so
 * the thresholds are tested on hand-written logs; each rule is a heuristic and says what it saw.
 */
export function detectAlerts(records: MetricRecord[], diversity: { step: number; value: number }[] = [], window = 20): Alert[] {
  const alerts: Alert[] = [];
  const steps = records.filter((r) => r.event === undefined);

  // NaN/Inf: JSON writes them as null, so a null or non-number loss is the sign.
  const bad = steps.find((r) => Object.entries(r).some(([k, v]) => k.startsWith('loss/') && (v === null || typeof v !== 'number' || !Number.isFinite(v))));
  if (bad) alerts.push({ kind: 'non-finite', step: Number(bad.step), message: `non-finite loss at step ${bad.step}` });

  for (const r of records.filter((r) => r.event === 'rollback')) {
    alerts.push({ kind: 'rollback', step: Number(r.step), message: `rolled back to step ${r.step} (${r.reason ?? 'divergence'}) from step ${r.from ?? '?'}` });
  }

  // D winning: its loss near 0 over the last window while G's loss rose against the window before.
  const num = (k: string) => steps.map((r) => r[k]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const d = num('loss/D');
  const g = num('loss/G');
  if (d.length >= 2 * window && g.length >= 2 * window) {
    const dNow = mean(d.slice(-window));
    const gNow = mean(g.slice(-window));
    const gBefore = mean(g.slice(-2 * window, -window));
    if (dNow < 0.05 && gNow > gBefore * 1.2) {
      alerts.push({ kind: 'd-winning', step: Number(steps[steps.length - 1].step), message: `discriminator winning: D loss ${dNow.toFixed(3)} while G loss rose ${gBefore.toFixed(2)} → ${gNow.toFixed(2)}` });
    }
  }

  // Mode collapse from the sample grid: diversity fell below 40% of its peak (after the first grids).
  if (diversity.length >= 3) {
    const peak = Math.max(...diversity.slice(1).map((p) => p.value));
    const last = diversity[diversity.length - 1];
    if (peak > 0 && last.value < 0.4 * peak) {
      alerts.push({ kind: 'collapse', step: last.step, message: `sample diversity fell to ${last.value.toFixed(3)} from a peak of ${peak.toFixed(3)} (possible mode collapse)` });
    }
  }

  // Evaluated scores: FID/KID rising 20% over its best, or mode/class coverage falling 30% under its best.
  const keys = new Set(steps.flatMap((r) => Object.keys(r).filter(isScoreKey)));
  for (const k of keys) {
    const series = steps.filter((r) => typeof r[k] === 'number').map((r) => ({ step: Number(r.step), v: r[k] as number }));
    if (series.length < 2) continue;
    const last = series[series.length - 1];
    if (isLowerBetter(k)) {
      const best = Math.min(...series.map((p) => p.v));
      if (last.v > best * 1.2) alerts.push({ kind: 'fid-worse', step: last.step, message: `${k} got worse: ${last.v.toFixed(2)} vs best ${best.toFixed(2)}` });
    } else if (isCoverageKey(k)) {
      const best = Math.max(...series.map((p) => p.v));
      if (last.v < best * 0.7) alerts.push({ kind: 'collapse', step: last.step, message: `${k} fell to ${last.v.toFixed(3)} from ${best.toFixed(3)} (possible mode collapse)` });
    }
  }
  return alerts;
}
