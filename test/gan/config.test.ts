import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_CONFIG, flagOf, resolveConfig, validatePartialConfig } from '../../src/gan/config.js';
import { UserError } from '../../src/util/errors.js';

/** Runs fn, asserts it throws a UserError, and returns the message. */
function userError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof UserError, `expected a UserError, got ${e}`);
    return e.message;
  }
  assert.fail('expected a UserError');
}

test('flagOf maps camelCase keys to kebab-case flags', () => {
  assert.equal(flagOf('lrG'), '--lr-g');
  assert.equal(flagOf('batchSize'), '--batch-size');
  assert.equal(flagOf('steps'), '--steps');
});

test('a valid partial config passes through unchanged', () => {
  assert.deepEqual(validatePartialConfig({ steps: 10, lrG: 1e-3, loss: 'minimax' }, 'x'), { steps: 10, lrG: 1e-3, loss: 'minimax' });
});

test('an unknown key is named with the nearest valid key and its flag', () => {
  const msg = userError(() => validatePartialConfig({ stpes: 10 }, 'cfg.json'));
  assert.match(msg, /cfg\.json/);
  assert.match(msg, /'stpes'/);
  assert.match(msg, /'steps'/);
  assert.match(msg, /--steps/);
  const msg2 = userError(() => validatePartialConfig({ batchsize: 8 }, 'cfg'));
  assert.match(msg2, /'batchsize'.*'batchSize'.*--batch-size/);
});

test('wrong types and out-of-range values name the key and its flag', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ steps: 0 }, /steps \(--steps\)/],
    [{ steps: -5 }, /steps \(--steps\)/],
    [{ steps: 2.5 }, /steps \(--steps\)/],
    [{ batchSize: -1 }, /batchSize \(--batch-size\)/],
    [{ batchSize: 'abc' }, /batchSize \(--batch-size\)/],
    [{ lrG: 0 }, /lrG \(--lr-g\)/],
    [{ beta1: 1 }, /beta1 \(--beta1\)/],
    [{ loss: 'hinje' }, /loss \(--loss\)/],
  ];
  for (const [input, pattern] of cases) assert.match(userError(() => validatePartialConfig(input, 'flags')), pattern, JSON.stringify(input));
});

test('non-objects are rejected', () => {
  assert.match(userError(() => validatePartialConfig([1, 2], 'cfg')), /an array/);
  assert.match(userError(() => validatePartialConfig(null, 'cfg')), /JSON object/);
  assert.match(userError(() => validatePartialConfig(3, 'cfg')), /number/);
});

test('resolveConfig layers left to right over the defaults; undefined does not override', () => {
  const c = resolveConfig({ steps: 5, hidden: 3 }, { steps: 7, lrG: undefined }, { seed: 9 });
  assert.equal(c.steps, 7);
  assert.equal(c.hidden, 3);
  assert.equal(c.seed, 9);
  assert.equal(c.lrG, DEFAULT_CONFIG.lrG);
  assert.deepEqual(resolveConfig(), DEFAULT_CONFIG);
  assert.notEqual(resolveConfig(), DEFAULT_CONFIG, 'a copy, so callers cannot mutate the defaults');
});

test('resolveConfig validates the merged result', () => {
  assert.match(userError(() => resolveConfig({ steps: 0 })), /--steps/);
});
