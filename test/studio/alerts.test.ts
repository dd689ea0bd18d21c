import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectAlerts } from '../../src/studio/alerts.js';
import { gridDiversity } from '../../src/studio/diversity.js';
import { grid } from './helpers.js';

const steps = (n: number, f: (s: number) => Record<string, number | null>) => Array.from({ length: n }, (_, i) => ({ step: i + 1, time: i, ...f(i + 1) }));
const kinds = (records: object[], diversity: { step: number; value: number }[] = []) => detectAlerts(records as never, diversity).map((a) => a.kind);

test('a healthy log raises no alert', () => {
  assert.deepEqual(kinds(steps(60, () => ({ 'loss/D': 1.2, 'loss/G': 0.9 }))), []);
});

test('NaN/Inf (null in JSON) and rollback events are reported', () => {
  const log = [...steps(5, () => ({ 'loss/D': 1, 'loss/G': 1 })), { step: 6, 'loss/D': null, 'loss/G': 1 }, { step: 4, event: 'rollback', from: 6, reason: 'NaN' }];
  assert.deepEqual(kinds(log), ['non-finite', 'rollback']);
});

test('D loss near 0 while G loss climbs is "discriminator winning"', () => {
  const log = steps(40, (s) => ({ 'loss/D': s > 20 ? 0.01 : 0.8, 'loss/G': s > 20 ? 6 : 2 }));
  assert.deepEqual(kinds(log), ['d-winning']);
  assert.deepEqual(kinds(steps(40, () => ({ 'loss/D': 0.01, 'loss/G': 2 }))), [], 'G flat: not flagged');
});

test('falling grid diversity, falling coverage and rising FID are flagged; absent eval keys are fine', () => {
  const div = [0.05, 0.3, 0.28, 0.08].map((value, i) => ({ step: i * 10, value }));
  assert.deepEqual(kinds([], div), ['collapse']);
  const log = [{ step: 10, 'eval/fid': 50, 'eval/coverage': 0.9 }, { step: 20, 'eval/fid': 40 }, { step: 30, 'eval/fid': 55, 'eval/coverage': 0.4 }];
  assert.deepEqual(kinds(log).sort(), ['collapse', 'fid-worse']);
});

test('gridDiversity: identical samples score 0, varied ones more', async () => {
  assert.ok((await gridDiversity(await grid((_i, p) => p % 256)))! < 1e-9);
  const varied = (await gridDiversity(await grid((i, p) => ((i * 97 + p * 13) % 256))))!;
  assert.ok(varied > 0.2, `varied grid scored ${varied}`);
});
