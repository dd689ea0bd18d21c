/**
 * Which of a run's reported numbers the live view draws on charts of their own, beyond its fixed ones (losses of D
 * and G, D's outputs, evaluation, augmentation): every other series a step reports through the stats channel, a
 * chart per prefix before the '/' ('began/k' and 'began/M' on one, 'energy/real' and 'energy/fake' on another,
 * 'reg/gp' on a third), so a family's own state (BEGAN's k and M, TimeGAN's phase) shows without the studio
 * knowing the family. Shared by the page and its tests.
 */

/** Keys the fixed charts already draw, or that are not series (record fields, speed). */
const FIXED = new Set(['step', 'time', 'event', 'loss/D', 'loss/G', 'D(x)', 'D(G(z))', 'img/s']);
const onFixedChart = (key: string) => FIXED.has(key) || key.startsWith('eval/') || key.startsWith('fid') || key.startsWith('aug/');

/** A key's chart: the part before its first '/' (the whole key when it has none). */
export const groupOf = (key: string): string => key.split('/')[0];

/**
 * The further charts for a run's metric records: [group, keys] in the order each first appears. Event records
 * (rollbacks, whose fields are not step series) and non-numeric fields are left out.
 */
export function seriesGroups(records: readonly Record<string, unknown>[]): [string, string[]][] {
  const groups = new Map<string, string[]>();
  for (const r of records) {
    if (r.event !== undefined) continue;
    for (const [key, value] of Object.entries(r)) {
      if (typeof value !== 'number' || onFixedChart(key)) continue;
      const keys = groups.get(groupOf(key)) ?? [];
      if (!keys.includes(key)) keys.push(key);
      groups.set(groupOf(key), keys);
    }
  }
  return [...groups.entries()];
}

/** An element id for a group's chart ('chart-series-began'). */
export const chartIdOf = (group: string): string => `chart-series-${group.replace(/[^A-Za-z0-9_-]/g, '-')}`;
