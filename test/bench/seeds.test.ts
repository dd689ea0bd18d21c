import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSet } from '../../bench/seeds.js';
import { familyConfig } from '../../src/gan/settings.js';
import { MODELS } from '../../src/models/registry.js';

test('--set reads numbers, booleans and strings as config keys', () => {
  assert.deepEqual(parseSet('margin=0.1, ptWeight=0 ,ema=true,loss=hinge'), { margin: 0.1, ptWeight: 0, ema: true, loss: 'hinge' });
  assert.deepEqual(parseSet(''), {});
});

test('--set without key=value names the form it wants', () => {
  assert.throws(() => parseSet('margin'), /--set takes key=value pairs/);
  assert.throws(() => parseSet('=3'), /--set takes key=value pairs/);
});

test("--set values go through the family's validation: an unknown key or a bad value is refused", () => {
  const data = { name: 'fashion-mnist', kind: 'image' as const, shape: [28, 28, 1] as [number, number, number] };
  assert.equal((familyConfig(MODELS.ebgan!, data, parseSet('margin=0.3')) as unknown as { margin: number }).margin, 0.3);
  assert.throws(() => familyConfig(MODELS.ebgan!, data, parseSet('bogus=1')), /unknown setting 'bogus'/);
  assert.throws(() => familyConfig(MODELS.ebgan!, data, parseSet('margin=-1')), /margin/);
});
