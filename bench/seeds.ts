/**
 * Shared by the benches that repeat a run over seeds (bench:toy, bench:zoo): the --seeds, --losses and --set lists,
 * and mean ± sample standard deviation (n − 1) of each figure over the seeds, with the per-seed values.
 */
import { LOSS_NAMES, type LossName } from '../src/gan/losses.js';
import { UserError, unknownChoice } from '../src/util/errors.js';
import type { RunConfig } from '../src/gan/config.js';

export const DEFAULT_SEEDS = [0, 1, 2];

/** '0,1,2' → [0, 1, 2]: distinct integers ≥ 0. */
export function parseSeeds(raw: string | undefined): number[] {
  if (raw === undefined) return DEFAULT_SEEDS;
  const seeds = raw.split(',').map((s) => s.trim());
  for (const s of seeds) {
    if (s === '' || !Number.isInteger(Number(s)) || Number(s) < 0) throw new UserError(`--seeds needs integers ≥ 0 separated by commas, got '${raw}'`);
  }
  const out = seeds.map(Number);
  if (new Set(out).size !== out.length) throw new UserError(`--seeds lists a seed twice: '${raw}'`);
  return out;
}

/** 'f-kl,f-js' → the losses, each a registered one; undefined or '' → none (each family's own loss). */
export function parseLosses(raw: string | undefined): LossName[] {
  const names = (raw ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const name of names) if (!(LOSS_NAMES as string[]).includes(name)) throw unknownChoice('loss in --losses', name, LOSS_NAMES);
  return names as LossName[];
}

/** Mean and sample standard deviation (0 for one value). */
export function meanStd(xs: readonly number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1));
  return { mean, std };
}

/** 'mean ± std' with `digits` decimals; NaN values (a failed seed) are left out and counted. */
export function formatMeanStd(xs: readonly number[], digits: number): string {
  const ok = xs.filter((x) => Number.isFinite(x));
  if (ok.length === 0) return 'n/a';
  const { mean, std } = meanStd(ok);
  const missing = xs.length - ok.length;
  return `${mean.toFixed(digits)} ± ${std.toFixed(digits)}${missing > 0 ? ` (${missing} failed)` : ''}`;
}

/** The per-seed values, '8 / 3 / 8'. */
export function formatPerSeed(xs: readonly number[], digits: number): string {
  return xs.map((x) => (Number.isFinite(x) ? x.toFixed(digits) : '—')).join(' / ');
}

/** `key=value,key=value` → config keys; numbers and booleans are read as such, anything else stays a string. */
export function parseSet(raw: string): Partial<RunConfig> {
  const out: Record<string, unknown> = {};
  for (const pair of raw.split(',').filter((s) => s.trim() !== '')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UserError(`--set takes key=value pairs separated by commas (config keys, e.g. margin=0.1); got '${pair}'`);
    const [key, value] = [pair.slice(0, eq).trim(), pair.slice(eq + 1).trim()];
    out[key] = value === 'true' ? true : value === 'false' ? false : value !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
  }
  return out as Partial<RunConfig>;
}
