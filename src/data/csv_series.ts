import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { UserError, unknownChoice } from '../util/errors.js';
import type { ArraySource, FeatureScaling } from './types.js';
import { DEFAULT_WINDOW, fitScaling, sequenceSource, type ScalingKind, type Series } from './sequences.js';

/**
 * Sequence data from CSV files (`--data csv:FILE`): a header row, then one row per time step. Named columns
 * become features, a time column orders the rows, an id column cuts the file into many series, and a condition
 * column gives each series its class. Every refusal names the file line, the column or the flag.
 */

export const FILLS = ['none', 'forward', 'linear', 'drop'] as const;
export type FillKind = (typeof FILLS)[number];

/** What a CSV's columns mean (the --columns … --fill flags); unset: every numeric column, file order, one series. */
export interface CsvSeriesOptions {
  columns?: string[];
  timeColumn?: string;
  conditionColumn?: string;
  idColumn?: string;
  fill?: FillKind;
}

/** A CSV file as read: header names, rows of trimmed cells, and the file line each row ends on (for messages). */
export interface CsvTable {
  file: string;
  header: string[];
  rows: string[][];
  lines: number[];
}

/** The series of a table, with their feature names and (with a condition column) class names. */
export interface SeriesTable {
  series: Series[];
  features: string[];
  classNames?: string[];
  notices: string[];
}

/** Cells taken as missing in numeric columns: empty, or the NA markers pandas and R write. */
const MISSING = /^(|na|nan|null|n\/a)$/i;
/** A decimal number as CSV files write them; hexadecimal, 'Infinity' and thousands separators are not numbers here. */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
/** ISO 8601 dates and date-times (the forms Date.parse reads the same everywhere once a zone is given). */
const ISO_DATE = /^\d{4}-\d{2}(-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?)?$/;

/** Read and parse a CSV file with a header row; a missing file, a ragged row or an empty table is refused. */
export async function readCsvTable(file: string): Promise<CsvTable> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? `csv:${file}: no such file (relative paths start at ${process.cwd()})` : `csv:${file}: cannot read it (${code ?? (e as Error).message})`);
  }
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { info: true, bom: true, skip_empty_lines: true, trim: true }) as unknown as typeof records;
  } catch (e) {
    throw new UserError(`csv:${file}: ${(e as Error).message}`);
  }
  if (records.length === 0) throw new UserError(`csv:${file}: the file is empty (expected a header row, then one row per time step)`);
  const header = records[0].record;
  const seen = new Set<string>();
  for (const h of header) {
    if (h === '') throw new UserError(`csv:${file}: the header row (line ${records[0].info.lines}) has an empty column name`);
    if (seen.has(h)) throw new UserError(`csv:${file}: the header row names column '${h}' twice`);
    seen.add(h);
  }
  if (records.length === 1) throw new UserError(`csv:${file}: the file has a header row and no data rows`);
  return { file, header, rows: records.slice(1).map((r) => r.record), lines: records.slice(1).map((r) => r.info.lines) };
}

const isNumber = (cell: string): boolean => NUMBER.test(cell);
const isMissing = (cell: string): boolean => MISSING.test(cell);

/**
 * Cut a table into series: check the named columns, choose the features, refuse or fill missing cells, order
 * each series' rows by the time column, and give each series its class. `classNames`: map the condition onto
 * these (a test file takes its training file's classes).
 */
export function seriesFromTable(table: CsvTable, opts: CsvSeriesOptions = {}, classNames?: readonly string[]): SeriesTable {
  const { file, header, rows, lines } = table;
  const where = (r: number) => `csv:${file} line ${lines[r]}`;
  const indexOf = (flag: string, name: string): number => {
    const j = header.indexOf(name);
    if (j < 0) throw new UserError(`csv:${file} ${flag}: ${unknownChoice('column', name, header).message}`);
    return j;
  };
  const special = [
    ['--time-column', opts.timeColumn], ['--id-column', opts.idColumn], ['--condition-column', opts.conditionColumn],
  ].filter((p): p is [string, string] => p[1] !== undefined && p[1] !== '');
  const specialIndex = new Map(special.map(([flag, name]) => [name, { flag, j: indexOf(flag, name) }]));
  const notices: string[] = [];

  // The features: the named columns, each cell a number or missing; else every column whose cells all are.
  let featureIdx: number[];
  if (opts.columns && opts.columns.length > 0) {
    featureIdx = opts.columns.map((c) => indexOf('--columns', c));
    for (const c of opts.columns) {
      const s = specialIndex.get(c);
      if (s) throw new UserError(`--columns ${opts.columns.join(',')}: '${c}' is the ${s.flag}, not a feature; leave it out of --columns`);
      if (opts.columns.indexOf(c) !== opts.columns.lastIndexOf(c)) throw new UserError(`--columns ${opts.columns.join(',')}: '${c}' is named twice`);
    }
    for (let r = 0; r < rows.length; r++) {
      for (const j of featureIdx) {
        const cell = rows[r][j];
        if (!isMissing(cell) && !isNumber(cell)) throw new UserError(`${where(r)}, column '${header[j]}': '${cell}' is not a number; every --columns column must be numeric`);
      }
    }
  } else {
    const candidates = header.map((_, j) => j).filter((j) => !specialIndex.has(header[j]));
    // A column of numbers with a stray word in it is a broken cell, not a text column: dropping it silently would
    // train on fewer features than the user meant.
    for (const j of candidates) {
      const numbers = rows.filter((row) => isNumber(row[j])).length;
      const bad = rows.findIndex((row) => !isMissing(row[j]) && !isNumber(row[j]));
      if (bad >= 0 && numbers >= 0.9 * rows.length) {
        const others = candidates.filter((k) => k !== j).map((k) => header[k]).join(',');
        throw new UserError(`${where(bad)}, column '${header[j]}': '${rows[bad][j]}' is not a number, though ${numbers} of the column's ${rows.length} cells are; ` +
          `fix the cell, make it missing (empty or NA, with --fill), or leave the column out${others ? ` (--columns ${others})` : ''}`);
      }
    }
    featureIdx = candidates.filter((j) => rows.some((row) => isNumber(row[j])) && rows.every((row) => isMissing(row[j]) || isNumber(row[j])));
    if (featureIdx.length === 0) throw new UserError(`csv:${file}: no column holds only numbers (columns: ${header.join(', ')}); name the features with --columns`);
    const left = candidates.filter((j) => !featureIdx.includes(j)).map((j) => header[j]);
    if (left.length > 0) notices.push(`csv:${file}: left out the non-numeric column${left.length > 1 ? 's' : ''} ${left.join(', ')} (features: ${featureIdx.map((j) => header[j]).join(', ')}; choose them with --columns)`);
  }
  const features = featureIdx.map((j) => header[j]);
  const f = features.length;

  // Missing feature cells are refused where they are, unless a fill was chosen.
  const fill = opts.fill ?? 'none';
  if (fill === 'none') {
    for (let r = 0; r < rows.length; r++) {
      for (const j of featureIdx) {
        if (isMissing(rows[r][j])) throw new UserError(`${where(r)}, column '${header[j]}': the value is missing ('${rows[r][j]}'); pass --fill forward (carry the last value), --fill linear (interpolate) or --fill drop (drop rows with gaps)`);
      }
    }
  }

  // Time: every cell a number, or every cell an ISO date; the series' rows are ordered by it.
  const time = special.find(([flag]) => flag === '--time-column');
  let times: Float64Array | undefined;
  if (time) {
    const j = specialIndex.get(time[1])!.j;
    times = new Float64Array(rows.length);
    const numeric = isNumber(rows[0][j]);
    for (let r = 0; r < rows.length; r++) {
      const cell = rows[r][j];
      if (cell === '') throw new UserError(`${where(r)}, column '${header[j]}' (--time-column): the time is missing`);
      const t = numeric && isNumber(cell) ? Number(cell) : !numeric && ISO_DATE.test(cell) ? Date.parse(isoUtc(cell)) : NaN;
      if (!Number.isFinite(t)) {
        throw new UserError(`${where(r)}, column '${header[j]}' (--time-column): '${cell}' is not ${numeric ? 'a number like the first row\'s' : 'an ISO date (2020-01-31 or 2020-01-31T12:00:00) like the first row\'s'}`);
      }
      times[r] = t;
    }
  }

  // Series: one per id value in order of first appearance, else the whole file.
  const idSpec = special.find(([flag]) => flag === '--id-column');
  const groups = new Map<string, number[]>();
  if (idSpec) {
    const j = specialIndex.get(idSpec[1])!.j;
    for (let r = 0; r < rows.length; r++) {
      const id = rows[r][j];
      if (id === '') throw new UserError(`${where(r)}, column '${header[j]}' (--id-column): the series id is missing`);
      const g = groups.get(id);
      if (g) g.push(r);
      else groups.set(id, [r]);
    }
  } else {
    groups.set(file, rows.map((_, r) => r));
  }
  if (times) {
    let repeated = 0;
    for (const g of groups.values()) {
      g.sort((a, b) => times![a] - times![b] || a - b);
      for (let i = 1; i < g.length; i++) if (times[g[i]] === times[g[i - 1]]) repeated++;
    }
    // Two rows at one time usually mean two series interleaved in one file.
    if (repeated > 0) notices.push(`csv:${file}: ${repeated} row${repeated > 1 ? 's' : ''} repeat${repeated > 1 ? '' : 's'} a time of ${idSpec ? 'its series' : 'the file'} (--time-column ${time![1]}), kept in file order${idSpec ? '' : '; if the file holds several series, name the column that tells them apart with --id-column'}`);
  }

  // Condition: one value per series; its distinct values (or the given ones) are the classes.
  const condSpec = special.find(([flag]) => flag === '--condition-column');
  let labels: Map<string, string> | undefined;
  if (condSpec) {
    const j = specialIndex.get(condSpec[1])!.j;
    labels = new Map();
    for (const [id, g] of groups) {
      const first = g.reduce((a, b) => Math.min(a, b));
      const value = rows[first][j];
      for (const r of g) {
        const v = rows[r][j];
        if (v === '') throw new UserError(`${where(r)}, column '${header[j]}' (--condition-column): the class is missing`);
        if (v !== value) {
          const [a, b] = [first, r].sort((x, y) => x - y);
          throw new UserError(idSpec
            ? `series '${id}' (--id-column ${idSpec[1]}) has two classes in --condition-column ${header[j]}: '${rows[a][j]}' on line ${lines[a]} and '${rows[b][j]}' on line ${lines[b]}; a series has one class`
            : `--condition-column ${header[j]}: csv:${file} is one series (no --id-column) and a series has one class, but it holds '${rows[a][j]}' on line ${lines[a]} and '${rows[b][j]}' on line ${lines[b]}; name the column that tells the series apart with --id-column`);
        }
      }
      labels.set(id, value);
    }
  }
  const names = classNames ? [...classNames] : labels ? [...new Set(labels.values())].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })) : undefined;

  const series: Series[] = [];
  let filled = 0, dropped = 0;
  for (const [id, g] of groups) {
    let order = g;
    if (fill === 'drop') {
      order = g.filter((r) => featureIdx.every((j) => !isMissing(rows[r][j])));
      dropped += g.length - order.length;
    }
    const values = new Float64Array(order.length * f);
    order.forEach((r, i) => featureIdx.forEach((j, k) => { values[i * f + k] = isMissing(rows[r][j]) ? NaN : Number(rows[r][j]); }));
    if (fill === 'forward' || fill === 'linear') {
      const at = times ? order.map((r) => times![r]) : order.map((_, i) => i);
      for (let k = 0; k < f; k++) {
        const n = fillColumn(values, f, k, order.length, fill, at);
        if (n < 0) throw new UserError(`csv:${file}: column '${features[k]}' has no values${idSpec ? ` in series '${id}'` : ''}, so there is nothing to fill its gaps from; leave it out with --columns`);
        filled += n;
      }
    }
    let label: number | undefined;
    if (labels && names) {
      label = names.indexOf(labels.get(id)!);
      if (label < 0) throw new UserError(`series '${id}' of csv:${file} has class '${labels.get(id)}' (--condition-column ${condSpec![1]}), which the training data does not have (classes: ${names.join(', ')})`);
    }
    series.push({ values, rows: order.length, ...(label !== undefined ? { label } : {}), name: id });
  }
  if (filled > 0) notices.push(`csv:${file}: --fill ${fill} filled ${filled} missing value${filled > 1 ? 's' : ''}`);
  if (dropped > 0) notices.push(`csv:${file}: --fill drop dropped ${dropped} row${dropped > 1 ? 's' : ''} with missing values`);
  return { series, features, ...(names ? { classNames: names } : {}), notices };
}

/** A date without a zone is read as UTC, so its order never depends on the machine's daylight-saving rules. */
function isoUtc(cell: string): string {
  const t = cell.replace(' ', 'T');
  return t.length <= 10 || /(Z|[+-]\d{2}:?\d{2})$/.test(t) ? t : `${t}Z`;
}

/**
 * Fill the NaN gaps of feature k in place: carry the last value forward, or interpolate linearly in `at` (the
 * rows' times, else their positions). A leading gap has no earlier value and takes the first one; a trailing
 * gap under 'linear' takes the last. Returns how many values were filled, or −1 when the column has none.
 */
function fillColumn(values: Float64Array, f: number, k: number, rows: number, fill: 'forward' | 'linear', at: ArrayLike<number>): number {
  let prev = -1, filled = 0;
  for (let i = 0; i < rows; i++) {
    if (!Number.isNaN(values[i * f + k])) {
      // A gap between prev and i (or before the first value): fill it now that its right end is known.
      for (let g = prev + 1; g < i; g++) {
        const w = prev < 0 || fill === 'forward' ? 0 : at[i] === at[prev] ? 0 : (at[g] - at[prev]) / (at[i] - at[prev]);
        const left = prev < 0 ? values[i * f + k] : values[prev * f + k];
        values[g * f + k] = fill === 'forward' && prev >= 0 ? left : left + w * (values[i * f + k] - left);
        filled++;
      }
      prev = i;
    }
  }
  if (prev < 0) return -1;
  for (let g = prev + 1; g < rows; g++, filled++) values[g * f + k] = values[prev * f + k];
  return filled;
}

/** Share of every series' rows held out as the test split when the data has no test file of its own. */
export const HELD_OUT = 0.2;

export interface SeriesSourceOptions {
  /** For messages and DatasetInfo.name: 'csv:prices.csv', 'stocks:sp500'. */
  name: string;
  split?: 'train' | 'test';
  /** 0 or unset: `defaultWindow`. */
  window?: number;
  defaultWindow?: number;
  stride?: number;
  scaling?: ScalingKind;
  limit?: number;
  /** Series of a test file of its own; unset: the last HELD_OUT of every series' rows. */
  testSeries?: readonly Series[];
  /** What the test split is, for the notice ("csv:x-test.csv"). */
  testName?: string;
  classNames?: string[];
  conditionColumn?: string;
  timeColumn?: string;
  origin?: string;
  notices?: string[];
}

/**
 * Windows of one split of `series` as training data. Without a test file the series are split in time: the first
 * 80 % of every series' rows train and the last 20 % test, so no test window shares a row with a training
 * window (windows of neighbouring starts overlap by T − 1 rows). The scaling is always fitted on the training
 * rows, so both splits are in the same units. The window must fit in both parts of the longest series.
 */
export function seriesSource(series: readonly Series[], features: readonly string[], opts: SeriesSourceOptions): ArraySource {
  const window = opts.window || opts.defaultWindow || DEFAULT_WINDOW;
  const split = opts.split ?? 'train';
  const parts = opts.testSeries ? { train: [...series], test: [...opts.testSeries] } : heldOut(series);
  const longest = (ss: readonly Series[]) => Math.max(0, ...ss.map((s) => s.rows));
  const fits = Math.min(longest(parts.train), longest(parts.test));
  if (window > fits) {
    const whole = longest(series);
    const why = window > whole
      ? `${series.length > 1 ? 'the longest series' : 'the series'} (${whole} rows)`
      : opts.testSeries
        ? `the longest series of the test file${opts.testName ? ` ${opts.testName}` : ''} (${longest(parts.test)} rows)`
        : `the held-out last ${HELD_OUT * 100} % of ${series.length > 1 ? 'the longest series' : 'the series'} (${longest(parts.test)} of ${whole} rows)`;
    throw new UserError(`--window ${window} is longer than ${why} in ${opts.name}; pass --window ${fits} or less`);
  }
  const scaling: FeatureScaling = fitScaling(parts.train, [...features], opts.scaling ?? 'minmax');
  const notices = [...(opts.notices ?? [])];
  notices.push(opts.testSeries
    ? `${opts.name}: test split from ${opts.testName ?? 'its test file'}; scaling fitted on the training file`
    : `${opts.name}: no test file, so the last ${HELD_OUT * 100} % of every series' rows are the test split and the first ${100 - HELD_OUT * 100} % train (scaling fitted on those)`);
  return sequenceSource(parts[split], {
    name: opts.name, features: [...features], window, stride: opts.stride ?? 1, scaling, notices,
    ...(opts.classNames ? { classNames: opts.classNames } : {}),
    ...(opts.conditionColumn ? { conditionColumn: opts.conditionColumn } : {}),
    ...(opts.timeColumn ? { timeColumn: opts.timeColumn } : {}),
    ...(opts.origin ? { origin: opts.origin } : {}),
    ...(opts.limit ? { limit: opts.limit } : {}),
  });
}

/** Every series cut in time: its first rows train, its last HELD_OUT test. */
function heldOut(series: readonly Series[]): { train: Series[]; test: Series[] } {
  const train: Series[] = [], test: Series[] = [];
  for (const s of series) {
    const f = s.rows === 0 ? 0 : s.values.length / s.rows;
    const cut = Math.round(s.rows * (1 - HELD_OUT));
    train.push({ ...s, rows: cut, values: s.values.subarray(0, cut * f) });
    test.push({ ...s, rows: s.rows - cut, values: s.values.subarray(cut * f) });
  }
  return { train, test };
}

/** FILE-test.csv beside FILE.csv (the test file convention of captions:FILE.jsonl). */
export function testFileOf(file: string): string {
  return file.replace(/(\.csv)?$/i, (ext) => `-test${ext || ''}`);
}

/** Every sequence flag: what the columns mean, and how the series are cut and scaled (registry's SequenceLoadOptions). */
export interface SequenceFlags extends CsvSeriesOptions {
  window?: number;
  stride?: number;
  scaling?: ScalingKind;
}

export interface CsvLoadOptions extends SequenceFlags {
  split?: 'train' | 'test';
  limit?: number;
  /** For named series read from a CSV: their name, default window, origin and licence lines. */
  name?: string;
  defaultWindow?: number;
  origin?: string;
  notices?: string[];
}

/**
 * `csv:FILE`: the file's series cut into windows. The test split is FILE-test.csv when it exists (same columns;
 * its classes must be the training file's), else the last 20 % of every series' rows.
 */
export async function loadCsvSeries(file: string, opts: CsvLoadOptions = {}): Promise<ArraySource> {
  const name = opts.name ?? `csv:${file}`;
  const train = seriesFromTable(await readCsvTable(file), opts);
  const testFile = testFileOf(file);
  const test = testFile !== file && existsSync(testFile)
    ? seriesFromTable(await readCsvTable(testFile), { ...opts, columns: train.features }, train.classNames)
    : undefined;
  return seriesSource(train.series, train.features, {
    name, split: opts.split, window: opts.window, defaultWindow: opts.defaultWindow, stride: opts.stride, scaling: opts.scaling, limit: opts.limit,
    ...(test ? { testSeries: test.series, testName: `csv:${testFile}` } : {}),
    ...(train.classNames ? { classNames: train.classNames, conditionColumn: opts.conditionColumn } : {}),
    ...(opts.timeColumn ? { timeColumn: opts.timeColumn } : {}),
    ...(opts.origin ? { origin: opts.origin } : {}),
    notices: [...(opts.notices ?? []), ...train.notices, ...(opts.split === 'test' && test ? test.notices : [])],
  });
}
