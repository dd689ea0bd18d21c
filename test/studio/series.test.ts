import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chartIdOf, groupOf, seriesGroups } from '../../src/studio/series.js';

test("the live view's further charts: every series the fixed charts do not draw, one chart per prefix, events left out", () => {
  const records = [
    { step: 0, time: 1, 'loss/D': 1, 'loss/G': 2, 'D(x)': 0.5, 'img/s': 10, 'began/k': 0, 'began/M': 0.3, 'energy/real': 0.2 },
    { step: 10, time: 2, 'aug/p': 0.1, 'eval/fid': 30, 'fid': 31, 'began/k': 0.01, 'reg/gp': 0.5, 'began/lr-scale': 1, 'loss/recon': 0.1 },
    { step: 10, time: 3, event: 'rollback', from: 12, reason: 'NaN', lrG: 1e-4 },
  ];
  assert.deepEqual(seriesGroups(records), [
    ['began', ['began/k', 'began/M', 'began/lr-scale']],
    ['energy', ['energy/real']],
    ['reg', ['reg/gp']],
    ['loss', ['loss/recon']],
  ]);
  assert.deepEqual(seriesGroups([{ step: 0, 'loss/D': 1, 'loss/G': 1 }]), [], 'a plain GAN run has no further charts');
  assert.equal(groupOf('timegan/phase'), 'timegan');
  assert.equal(chartIdOf('a b/c'), 'chart-series-a-b-c');
});
