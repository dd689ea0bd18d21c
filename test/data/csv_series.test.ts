import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadCsvSeries, readCsvTable, seriesFromTable, testFileOf } from '../../src/data/csv_series.js';
import { loadData } from '../../src/data/registry.js';
import { unscale } from '../../src/data/sequences.js';
import { startRun } from '../../src/run.js';
import { UserError } from '../../src/util/errors.js';
import { tmp } from './image_fixtures.js';

/** Write `text` as NAME in a fresh folder and return its path. */
async function csv(name: string, text: string, dir?: string): Promise<string> {
  const d = dir ?? (await tmp('ganforge-csv-'));
  const file = join(d, name);
  await writeFile(file, text);
  return file;
}

/** Rows of a numeric table as CSV text. */
const lines = (header: string, rows: (string | number)[][]): string => `${header}\n${rows.map((r) => r.join(',')).join('\n')}\n`;

/** The windows of a source back in original units, as rows of T × F numbers. */
function windows(src: { values: Uint8Array | Float32Array; count: number; info: { shape: number[]; sequence?: { scaling: Parameters<typeof unscale>[1] } } }): number[][] {
  const v = unscale(Float32Array.from(src.values), src.info.sequence!.scaling);
  const size = src.info.shape[0] * src.info.shape[1];
  return Array.from({ length: src.count }, (_, n) => [...v.subarray(n * size, (n + 1) * size)].map((x) => Math.round(x * 1e4) / 1e4));
}

const refused = (pattern: RegExp) => (e: unknown) => e instanceof UserError && pattern.test((e as Error).message);

test('csv: every numeric column by default, rows sorted by an ISO time column, the first 80 % of rows train and the last 20 % test', async () => {
  // Twenty days written out of order, with a text column that is left out.
  const days = Array.from({ length: 20 }, (_, i) => [`2020-01-${String(i + 1).padStart(2, '0')}`, i, 100 + 10 * i, `note${i}`]);
  const shuffled = days.map((_, i) => days[(7 * i + 3) % 20]);
  const file = await csv('prices.csv', lines('date,a,b,note', shuffled));
  const train = await loadCsvSeries(file, { timeColumn: 'date', window: 3 });
  assert.equal(train.info.kind, 'sequence');
  assert.deepEqual(train.info.sequence!.features, ['a', 'b']);
  assert.deepEqual(train.info.shape, [3, 2]);
  assert.equal(train.info.sequence!.timeColumn, 'date');
  // Rows 0–15 train: 14 windows of 3 at stride 1, in time order.
  assert.equal(train.count, 14);
  assert.deepEqual(windows(train)[0], [0, 100, 1, 110, 2, 120]);
  assert.deepEqual(windows(train)[13], [13, 230, 14, 240, 15, 250]);
  // minmax fitted on the training rows only: a ∈ [0, 15] → [0, 1].
  assert.deepEqual(train.info.sequence!.scaling, { kind: 'minmax', offset: [0, 100], scale: [15, 150] });
  assert.ok(train.notices!.some((n) => /left out the non-numeric column note/.test(n)));
  assert.ok(train.notices!.some((n) => /last 20 % of every series' rows are the test split/.test(n)));
  // Rows 16–19 test: two windows, scaled with the training scaling (so 16 → 16/15).
  const test2 = await loadCsvSeries(file, { timeColumn: 'date', window: 3, split: 'test' });
  assert.equal(test2.count, 2);
  assert.deepEqual(windows(test2)[0], [16, 260, 17, 270, 18, 280]);
  assert.ok(Math.abs((test2.values as Float32Array)[0] - 16 / 15) < 1e-6);
  // A window that fits the series but not its held-out part is refused at once, not when evaluating.
  await assert.rejects(loadCsvSeries(file, { window: 5 }), refused(/--window 5 is longer than the held-out last 20 % of the series \(4 of 20 rows\).*--window 4 or less/));
});

test('csv: standard scaling, stride, numeric time column and --data-limit; loadData reads csv:FILE with the sequence options', async () => {
  const file = await csv('s.csv', lines('t,x', Array.from({ length: 20 }, (_, i) => [19 - i, (19 - i) ** 2])));
  const src = await loadData(`csv:${file}`, { sequence: { timeColumn: 't', window: 4, stride: 3, scaling: 'standard' } });
  // 16 training rows (t = 0 … 15): starts 0, 3, 6, 9, 12.
  assert.equal(src.info.name, `csv:${file}`);
  assert.equal(src.kind === 'array' && src.count, 5);
  const s = src.info.sequence!;
  assert.equal(s.scaling.kind, 'standard');
  const rows = Array.from({ length: 16 }, (_, t) => t * t);
  const mean = rows.reduce((a, b) => a + b) / 16;
  assert.ok(Math.abs(s.scaling.offset[0] - mean) < 1e-9);
  assert.ok(Math.abs(s.scaling.scale[0] - Math.sqrt(rows.reduce((a, b) => a + (b - mean) ** 2, 0) / 16)) < 1e-9);
  assert.deepEqual(windows(src as never)[4], [144, 169, 196, 225]);
  assert.ok(!src.notices!.some((n) => /repeat/.test(n)));
  // Two series interleaved without --id-column: every time appears twice, which a notice points out.
  const twice = await csv('twice.csv', lines('t,x', Array.from({ length: 20 }, (_, i) => [i >> 1, i])));
  assert.ok((await loadCsvSeries(twice, { timeColumn: 't', window: 2 })).notices!.some((n) => /10 rows repeat a time of the file \(--time-column t\).*--id-column/.test(n)));
  const limited = await loadData(`csv:${file}`, { limit: 2, sequence: { window: 4 } });
  assert.equal(limited.kind === 'array' && limited.count, 2);
});

test('csv: --id-column makes one series per id and --condition-column their classes; a series with two classes is refused by id and lines', async () => {
  const rows: (string | number)[][] = [];
  for (let i = 0; i < 10; i++) rows.push(['b', 'walk', i, 2 * i], ['a', 'run', i, -i], ['c', 'walk', i, 3 * i]);
  const file = await csv('people.csv', lines('who,activity,step,v', rows));
  const src = await loadCsvSeries(file, { idColumn: 'who', conditionColumn: 'activity', timeColumn: 'step', columns: ['v'], window: 2, stride: 6 });
  assert.deepEqual(src.info.classNames, ['run', 'walk']);
  assert.equal(src.info.numClasses, 2);
  assert.equal(src.info.sequence!.series, 3);
  assert.equal(src.info.sequence!.conditionColumn, 'activity');
  // 8 training rows per series: windows at rows 0 and 6 of each, in order of first appearance b, a, c.
  assert.deepEqual([...src.labels!], [1, 1, 0, 0, 1, 1]);
  assert.deepEqual(windows(src).map((w) => w[1]), [2, 14, -1, -7, 3, 21]);

  const mixed = await csv('mixed.csv', lines('who,activity,v', [['a', 'run', 1], ['b', 'walk', 2], ['a', 'walk', 3]]));
  await assert.rejects(loadCsvSeries(mixed, { idColumn: 'who', conditionColumn: 'activity' }), refused(/series 'a' \(--id-column who\) has two classes in --condition-column activity: 'run' on line 2 and 'walk' on line 4/));
  await assert.rejects(loadCsvSeries(mixed, { conditionColumn: 'activity', columns: ['v'] }), refused(/one series \(no --id-column\).*'run' on line 2 and 'walk' on line 3.*--id-column/));
});

test('csv: a non-numeric cell in --columns, an unknown column, a constant column, a missing file and a window past the series are refused by name', async () => {
  const file = await csv('bad.csv', 'a,b,flat\n1,2,5\n\n3,x,5\n4,5,5\n');
  // Line 4: the empty line 3 counts, so the number is the file's line.
  await assert.rejects(loadCsvSeries(file, { columns: ['a', 'b'], window: 2 }), refused(/bad\.csv line 4, column 'b': 'x' is not a number/));
  // Without --columns a column of numbers with one word in it is a broken cell, refused by line; a text column is left out.
  const stray = await csv('stray.csv', lines('a,b,note', Array.from({ length: 20 }, (_, i) => [i, i === 12 ? 'n/a?' : 2 * i, `row ${i}`])));
  await assert.rejects(loadCsvSeries(stray, { window: 2 }), refused(/stray\.csv line 14, column 'b': 'n\/a\?' is not a number, though 19 of the column's 20 cells are; .*--columns a/));
  await assert.rejects(loadCsvSeries(file, { columns: ['a', 'bb'], window: 2 }), refused(/bad\.csv --columns: unknown column 'bb' \(did you mean 'b'\?\); valid: a, b, flat/));
  await assert.rejects(loadCsvSeries(file, { timeColumn: 'tme', window: 2 }), refused(/--time-column: unknown column 'tme'/));
  const flat = await csv('flat.csv', lines('a,flat', Array.from({ length: 10 }, (_, i) => [i, 5])));
  await assert.rejects(loadCsvSeries(flat, { window: 2 }), refused(/'flat' is constant \(value 5\).*--columns/));
  await assert.rejects(loadCsvSeries(file, { columns: ['a'], window: 9 }), refused(/--window 9 is longer than the series \(3 rows\) in csv:.*bad\.csv; pass --window/));
  await assert.rejects(loadCsvSeries(join(file, '..', 'nope.csv')), refused(/csv:.*nope\.csv: no such file/));
  await assert.rejects(loadCsvSeries(file, { columns: ['a'], timeColumn: 'a' }), refused(/'a' is the --time-column, not a feature/));
  const ragged = await csv('ragged.csv', 'a,b\n1,2\n3\n');
  await assert.rejects(loadCsvSeries(ragged), refused(/ragged\.csv: .*line 3/));
  const dates = await csv('dates.csv', 'd,v\n2020-01-01,1\nyesterday,2\n');
  await assert.rejects(loadCsvSeries(dates, { timeColumn: 'd' }), refused(/line 3, column 'd' \(--time-column\): 'yesterday' is not an ISO date/));
});

test('csv: a missing value is refused by line and column unless --fill forward, linear or drop says what to do', async () => {
  // t is irregular, so linear fill interpolates in time: between t=0 (x=0) and t=4 (x=40), t=1 gives 10.
  const text = 't,x,y\n0,0,1\n1,,2\n4,40,NA\n5,50,4\n6,,5\n';
  const file = await csv('gaps.csv', text);
  await assert.rejects(loadCsvSeries(file, { timeColumn: 't', window: 2 }), refused(/gaps\.csv line 3, column 'x': the value is missing.*--fill forward.*--fill linear.*--fill drop/));
  const table = await readCsvTable(file);
  const rows = (fill: 'forward' | 'linear' | 'drop') => {
    const { series, notices } = seriesFromTable(table, { timeColumn: 't', fill });
    return { values: [...series[0].values], rows: series[0].rows, notices };
  };
  const fwd = rows('forward');
  assert.deepEqual(fwd.values, [0, 1, 0, 2, 40, 2, 50, 4, 50, 5]);
  assert.match(fwd.notices.join(), /--fill forward filled 3 missing values/);
  // y between t=1 (2) and t=5 (4) at t=4: 2 + ¾·2.
  assert.deepEqual(rows('linear').values, [0, 1, 10, 2, 40, 3.5, 50, 4, 50, 5]);
  const drop = rows('drop');
  assert.equal(drop.rows, 2);
  assert.deepEqual(drop.values, [0, 1, 50, 4]);
  assert.match(drop.notices.join(), /dropped 3 rows/);
  // A leading gap has nothing before it and takes the first value.
  const lead2 = seriesFromTable(await readCsvTable(await csv('lead2.csv', 'x,y\n,1\n,2\n7,3\n')), { fill: 'linear', columns: ['x', 'y'] });
  assert.deepEqual([...lead2.series[0].values], [7, 1, 7, 2, 7, 3]);
  await assert.rejects(async () => seriesFromTable(await readCsvTable(await csv('none.csv', 'x,y\n,1\n,2\n')), { fill: 'forward', columns: ['x', 'y'] }), refused(/column 'x' has no values/));
});

test('csv: FILE-test.csv is the test split when it exists, in the training scaling and classes', async () => {
  const dir = await tmp('ganforge-csv-');
  const rows = (k: number, cls: string) => Array.from({ length: 6 }, (_, i) => [`s${k}`, cls, i, 10 * k + i]);
  const file = await csv('d.csv', lines('id,c,t,v', [...rows(1, 'x'), ...rows(2, 'y')]), dir);
  assert.equal(testFileOf(file), join(dir, 'd-test.csv'));
  await csv('d-test.csv', lines('id,c,t,v', [['s9', 'y', 0, 100], ['s9', 'y', 1, 101], ['s9', 'y', 2, 102]]), dir);
  const opts = { idColumn: 'id', conditionColumn: 'c', timeColumn: 't', window: 3 };
  const train = await loadCsvSeries(file, opts);
  assert.equal(train.count, 8); // all 6 rows of both series train: 4 windows each
  assert.ok(train.notices!.some((n) => /test split from csv:.*d-test\.csv/.test(n)));
  const test2 = await loadCsvSeries(file, { ...opts, split: 'test' });
  assert.equal(test2.count, 1);
  assert.deepEqual(test2.info.classNames, ['x', 'y']);
  assert.deepEqual([...test2.labels!], [1]);
  assert.deepEqual(test2.info.sequence!.scaling, train.info.sequence!.scaling);
  assert.deepEqual(windows(test2)[0], [100, 101, 102]);
  await assert.rejects(loadCsvSeries(file, { ...opts, window: 4 }), refused(/--window 4 is longer than the longest series of the test file csv:.*d-test\.csv \(3 rows\).*--window 3 or less/));
  await csv('d-test.csv', lines('id,c,t,v', [['s9', 'z', 0, 1], ['s9', 'z', 1, 2], ['s9', 'z', 2, 3]]), dir);
  await assert.rejects(loadCsvSeries(file, { ...opts, split: 'test' }), refused(/class 'z'.*the training data does not have \(classes: x, y\)/));
});

test('sequence flags given for data that does not read them are refused before anything loads', async () => {
  await assert.rejects(startRun({ model: 'vanilla', data: 'toy:ring8', columns: 'a,b' }), refused(/--columns describes sequence data .* and --data toy:ring8 is not/));
  await assert.rejects(startRun({ model: 'vanilla', data: 'mnist', window: 12, fill: 'linear' }), refused(/--window, --fill describe sequence data/));
  await assert.rejects(startRun({ model: 'vanilla', data: 'sines', timeColumn: 'date' }), refused(/--time-column does not apply to --data sines, which reads only --window/));
  await assert.rejects(startRun({ model: 'vanilla', data: 'ecg', columns: 'mV' }), refused(/--columns does not apply to --data ecg/));
});
