import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { SeededDropout } from '../../src/nn/seeded_dropout.js';
import { initBackend } from '../../src/backend/index.js';

await initBackend({ quiet: true });

function model(seed: number) {
  const x = tfl.input({ shape: [64] });
  return tfl.model({ inputs: x, outputs: new SeededDropout({ rate: 0.5, seed }).apply(x) as tfl.SymbolicTensor });
}

test('SeededDropout: identity outside training; in training a fresh mask per call, the same masks for the same seed and call count', () => {
  const x = tf.ones([4, 64]);
  const a = model(7);
  const b = model(7);
  assert.deepEqual(Array.from((a.apply(x, { training: false }) as tf.Tensor).dataSync()), Array.from(x.dataSync()), 'identity at inference');
  const a1 = Array.from((a.apply(x, { training: true }) as tf.Tensor).dataSync());
  const a2 = Array.from((a.apply(x, { training: true }) as tf.Tensor).dataSync());
  const b1 = Array.from((b.apply(x, { training: true }) as tf.Tensor).dataSync());
  assert.deepEqual(a1, b1, 'same seed, same call: same mask');
  assert.notDeepEqual(a1, a2, 'the next call draws another mask');
  for (const v of a1) assert.ok(v === 0 || v === 2, 'inverted dropout: kept values scaled by 1/(1 − rate)');
  const kept = a1.filter((v) => v > 0).length / a1.length;
  assert.ok(kept > 0.4 && kept < 0.6, `about half kept: ${kept}`);
  // The call count is a weight: a copy that takes a's weights continues a's sequence of masks.
  const c = model(7);
  c.setWeights(a.getWeights());
  assert.deepEqual(Array.from((c.apply(x, { training: true }) as tf.Tensor).dataSync()), Array.from((a.apply(x, { training: true }) as tf.Tensor).dataSync()));
  tf.dispose(x);
});
