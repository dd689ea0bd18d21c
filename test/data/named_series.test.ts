import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { zipSync } from 'fflate';
import { ECG_PATH, SCIPY, VEGA_DATASETS, loadEcg, loadNamedSeries } from '../../src/data/named_series.js';
import type { DebFetcher, Installer } from '../../src/data/package_data.js';
import { loadData } from '../../src/data/registry.js';
import { unscale } from '../../src/data/sequences.js';
import type { ArraySource } from '../../src/data/types.js';
import { UserError } from '../../src/util/errors.js';
import { tmp } from './image_fixtures.js';

const run = promisify(execFile);

/** The windows of a source in original units, concatenated. */
const original = (src: ArraySource): Float32Array => unscale(Float32Array.from(src.values), src.info.sequence!.scaling);

test('stocks (a faked vega-datasets): installed on first use with a progress line and the licence, then cached; the user\'s flags override its columns', async () => {
  const dir = await tmp('ganforge-series-');
  const rows = Array.from({ length: 30 }, (_, i) => `2000-01-${String(30 - i).padStart(2, '0')},${100 + i},${101 + i},${99 + i},${100.5 + i},${100.5 + i},${1000 * (i + 1)}`);
  let installs = 0;
  const install: Installer = async (prefix, spec) => {
    installs++;
    assert.equal(spec, `vega-datasets@${VEGA_DATASETS.version}`);
    const pkg = join(prefix, 'node_modules', 'vega-datasets');
    await mkdir(join(pkg, 'data'), { recursive: true });
    await writeFile(join(pkg, 'package.json'), JSON.stringify({ name: 'vega-datasets', version: VEGA_DATASETS.version }));
    await writeFile(join(pkg, 'data', 'sp500-2000.csv'), `date,open,high,low,close,adjclose,volume\n${rows.join('\n')}\n`);
  };
  const log: string[] = [];
  const opts = { cache: join(dir, 'cache'), log: (l: string) => log.push(l), install, sequence: { window: 3 } };
  const src = await loadNamedSeries('stocks', opts);
  assert.match(log[0], /installing vega-datasets@3\.2\.1 .* \(first use only\)/);
  assert.ok(log.includes(VEGA_DATASETS.attribution));
  assert.equal(src.info.name, 'stocks:sp500');
  assert.deepEqual(src.info.sequence!.features, ['open', 'high', 'low', 'close', 'adjclose', 'volume']);
  assert.equal(src.info.sequence!.timeColumn, 'date');
  assert.match(src.info.sequence!.origin!, /Yahoo Finance.*BSD-3-Clause/);
  // Written newest first; sorted by date, the first window starts at 2000-01-01, the row with i = 29.
  assert.deepEqual([...original(src).subarray(0, 6)].map((x) => Math.round(x * 100) / 100), [129, 130, 128, 129.5, 129.5, 30000]);
  assert.equal(src.count, 24 - 2); // 24 of 30 rows train
  const again = await loadNamedSeries('stocks:sp500', { ...opts, sequence: { window: 3, columns: ['close'] } });
  assert.equal(installs, 1);
  assert.deepEqual(again.info.shape, [3, 1]);
  await assert.rejects(loadNamedSeries('stocks:nasdaq', opts), (e: unknown) => e instanceof UserError && /unknown series 'stocks:nasdaq'.*valid: stocks:sp500/.test((e as Error).message));
});

/** Bytes of a .npy of uint16 values, as NumPy writes ecg.npy ('<u2', version 1.0). */
function npyU16(values: number[]): Uint8Array {
  const dict = `{'descr': '<u2', 'fortran_order': False, 'shape': (${values.length},), }`;
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const header = Buffer.alloc(total, 0x20);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(header);
  header.writeUInt16LE(total - 10, 8);
  header.write(dict, 10, 'latin1');
  header[total - 1] = 0x0a;
  const data = Buffer.alloc(2 * values.length);
  values.forEach((v, i) => data.writeUInt16LE(v, 2 * i));
  return Buffer.concat([header, data]);
}

test('ecg (a faked python3-scipy): the .npz read without Python, uint16 → mV = (x − 1024)/200, licence and origin printed; column flags refused', async () => {
  const dir = await tmp('ganforge-series-');
  const raw = Array.from({ length: 100 }, (_, i) => 1024 + 2 * i); // 0, 0.01, … mV
  const root = join(dir, 'pkg');
  await mkdir(join(root, 'DEBIAN'), { recursive: true });
  await mkdir(join(root, ECG_PATH, '..'), { recursive: true });
  await writeFile(join(root, 'DEBIAN', 'control'), `Package: ${SCIPY.name}\nVersion: ${SCIPY.version}\nArchitecture: all\nMaintainer: t <t@t>\nDescription: test\n`);
  await writeFile(join(root, ECG_PATH), zipSync({ 'ecg.npy': npyU16(raw) }));
  const deb = join(dir, 'scipy.deb');
  await run('dpkg-deb', ['--build', '--root-owner-group', root, deb]);
  const fetch: DebFetcher = async (into) => {
    await run('cp', [deb, join(into, 'scipy.deb')]);
    return join(into, 'scipy.deb');
  };
  const log: string[] = [];
  const opts = { cache: join(dir, 'cache'), log: (l: string) => log.push(l), fetch };
  const src = await loadEcg({ ...opts, sequence: { window: 10, stride: 10 } });
  assert.match(log[0], /downloading python3-scipy/);
  assert.ok(log.includes(SCIPY.attribution));
  assert.deepEqual(src.info.shape, [10, 1]);
  assert.deepEqual(src.info.sequence!.features, ['mV']);
  assert.ok(src.notices!.some((n) => /MIT-BIH Arrhythmia Database record 208.*BSD-3-Clause/.test(n)));
  assert.equal(src.count, 8); // 80 training samples
  const mv = original(src);
  mv.forEach((x, i) => assert.ok(Math.abs(x - i / 100) < 1e-5, `${i}: ${x}`));
  // The default window is one second at 360 Hz, longer than this fake: refused, naming it.
  await assert.rejects(loadEcg(opts), (e: unknown) => e instanceof UserError && /--window 360 is longer than the series \(100 rows\) in ecg/.test((e as Error).message));
  await assert.rejects(loadEcg({ ...opts, sequence: { columns: ['x'], idColumn: 'id' } }), (e: unknown) => e instanceof UserError && /drop --columns, --id-column/.test((e as Error).message));
});

// The real series: each installs what it reads on first use (npm, or Debian's archive for the ECG), then is cached.

test('stocks:sp500, the real file: 5,105 trading days 2000-01-03 … 2020-04-17 in TimeGAN\'s layout', { timeout: 600_000 }, async () => {
  const train = await loadData('stocks:sp500', { log: () => {} });
  assert.deepEqual(train.info.shape, [24, 6]);
  assert.deepEqual(train.info.sequence!.features, ['open', 'high', 'low', 'close', 'adjclose', 'volume']);
  // 5,105 rows (one more than the 5,104 often quoted for this file). 4,084 training days (the first 80 %) hold 4,061 windows of 24; the 1,021 test days 998.
  assert.equal(train.kind === 'array' && train.count, 4061);
  const first = original(train as ArraySource).subarray(0, 6);
  [1469.25, 1478, 1438.359985, 1455.219971, 1455.219971, 931800000].forEach((v, j) => assert.ok(Math.abs(first[j] - v) / v < 1e-6, `${j}: ${first[j]}`));
  const test2 = (await loadData('stocks', { split: 'test', log: () => {} })) as ArraySource;
  assert.equal(test2.count, 998);
  const last = original(test2).subarray(test2.values.length - 6);
  assert.ok(Math.abs(last[3] - 2874.560059) < 1e-3, `last close ${last[3]}`);
  const v = train.kind === 'array' ? (train.values as Float32Array) : new Float32Array();
  assert.ok(v.every((x) => x >= 0 && x <= 1), 'minmax-scaled training windows lie in [0, 1]');
});

test('ecg, the real file: SciPy\'s electrocardiogram() values, mean −0.1651 mV and std 0.5992 mV as its documentation gives', { timeout: 600_000 }, async () => {
  // Windows of one second, one second apart, cover the 4 training and 1 test minute exactly.
  const train = await loadEcg({ log: () => {}, sequence: { stride: 360 } });
  const test2 = await loadEcg({ log: () => {}, split: 'test', sequence: { stride: 360 } });
  assert.deepEqual(train.info.shape, [360, 1]);
  assert.equal(train.count, 240);
  assert.equal(test2.count, 60);
  const all = Float64Array.from([...original(train), ...original(test2)]);
  assert.equal(all.length, 108000);
  assert.deepEqual([...all.subarray(0, 3)].map((x) => Math.round(x * 1000) / 1000), [-0.245, -0.215, -0.185]);
  assert.deepEqual([...all.subarray(-3)].map((x) => Math.round(x * 1000) / 1000), [-0.405, -0.395, -0.385]);
  const mean = all.reduce((a, b) => a + b) / all.length;
  const std = Math.sqrt(all.reduce((a, b) => a + (b - mean) ** 2, 0) / all.length);
  assert.ok(Math.abs(mean - -0.16510875) < 1e-6, `mean ${mean}`);
  assert.ok(Math.abs(std - 0.5992473991177294) < 1e-6, `std ${std}`);
});

test('weather and sensors, the real files: Seattle hourly normals (3 features) and 4 sensor motes, one series each, with indoor as a class', { timeout: 600_000 }, async () => {
  const weather = (await loadData('weather', { log: () => {} })) as ArraySource;
  assert.deepEqual(weather.info.sequence!.features, ['pressure', 'temperature', 'wind']);
  assert.equal(weather.count, Math.round(8759 * 0.8) - 23);
  assert.deepEqual([...original(weather).subarray(0, 3)].map((x) => Math.round(x * 10) / 10), [1016.6, 4, 3.8]);
  const sensors = (await loadData('sensors', { log: () => {}, sequence: { conditionColumn: 'indoor' } })) as ArraySource;
  assert.deepEqual(sensors.info.sequence!.features, ['humidity', 'temperature']);
  assert.equal(sensors.info.sequence!.series, 4);
  assert.deepEqual(sensors.info.classNames, ['0', '1']);
  // Motes 1, 2 are indoors (class '1'), 3, 4 outdoors; 4,417, 4,417, 5,039, 5,041 readings, 80 % of each trains.
  const perMote = [4417, 4417, 5039, 5041].map((n) => Math.round(n * 0.8) - 23);
  assert.equal(sensors.count, perMote.reduce((a, b) => a + b));
  assert.equal(sensors.labels![0], 1);
  assert.equal(sensors.labels![sensors.count - 1], 0);
  assert.deepEqual([...original(sensors).subarray(0, 2)].map((x) => Math.round(x * 100) / 100), [45.93, 27.97]);
});
