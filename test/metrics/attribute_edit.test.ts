import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/backend/index.js';
import { wrapModel } from '../../src/metrics/features.js';
import { identityScores, targetAccuracy, verificationThresholds } from '../../src/metrics/attribute_edit.js';

await initBackend({ quiet: true });

/** A "network" whose features are the two pixel values of a 1×2 grey image and whose logits are the same two numbers. */
function pixelNet() {
  const x = tfl.input({ shape: [1, 2, 1] });
  const features = tfl.layers.flatten({ name: 'features' }).apply(x) as tfl.SymbolicTensor;
  const logits = tfl.layers.dense({ units: 2, name: 'logits', kernelInitializer: 'identity', biasInitializer: 'zeros' }).apply(features) as tfl.SymbolicTensor;
  return wrapModel(tfl.model({ inputs: x, outputs: logits }), 'features', 'logits', { name: 'pixels', weightsFile: '-', weightsSha256: '-' });
}

test('verificationThresholds: a quantile of the distances to the other members of the class; Infinity when alone', () => {
  // Class 0 at x = 0, 1, 3 (1-d features); class 1 alone.
  const features = Float32Array.from([0, 1, 3, 10]);
  const median = verificationThresholds(features, [0, 0, 0, 1], 4, 1, 0.5);
  assert.deepEqual(Array.from(median), [3, 2, 3, Infinity]); // {1, 3} → upper median 3; {1, 2} → 2; {3, 2} → 3
  const nearest = verificationThresholds(features, [0, 0, 0, 1], 4, 1, 0.1);
  assert.deepEqual(Array.from(nearest), [1, 1, 2, Infinity]);
});

test('identityScores: class agreement by argmax logit, verification against each threshold, mean distance', () => {
  const net = pixelNet();
  const set = (rows: number[][]) => ({ values: Float32Array.from(rows.flat()), n: rows.length, h: 1, w: 2, c: 1 });
  const originals = set([[0.5, 0], [0.4, 0], [0, 0.6], [0, 0.9]]); // classes 0, 0, 1, 1
  const classes = [0, 0, 1, 1];
  // Candidates: the first two keep their class, the third flips, the fourth is the original itself.
  const candidates = set([[0.5, 0.3], [0.9, 0], [0.7, 0], [0, 0.9]]);
  const s = identityScores(net, originals, candidates, classes);
  assert.equal(s.classAgreement, 3 / 4);
  // τ = 0.1 (class 0 pair) and 0.3 (class 1 pair: one other member, whatever the quantile); distances 0.3, 0.5, √(0.49 + 0.36), 0: only the last is under τ.
  assert.equal(s.verified, 1 / 4);
  assert.ok(Math.abs(s.meanDistance - (0.3 + 0.5 + Math.sqrt(0.85) + 0) / 4) < 1e-6);
  const loose = identityScores(net, originals, candidates, classes, Float64Array.from([0.6, 0.6, 0.6, 0.6]));
  assert.equal(loose.verified, 3 / 4);
  net.dispose();
});

test('targetAccuracy: the share of edits measured in the bin they were asked for', () => {
  assert.equal(targetAccuracy([0, 1, 2, 2], [0, 1, 1, 2]), 3 / 4);
  assert.ok(Number.isNaN(targetAccuracy([], [])));
});
