import { test } from 'node:test';
import assert from 'node:assert/strict';
import '@tensorflow/tfjs-layers'; // registers gradients for tf.grad / optimizer.minimize in Node
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.js';
import { dcgan } from '../../src/models/dcgan.js';
import { getModel, MODEL_NAMES } from '../../src/models/registry.js';
import { resolveConfig } from '../../src/gan/config.js';
import { adversarialStep } from '../../src/gan/step.js';
import { nonSaturating } from '../../src/gan/losses.js';
import { latents } from '../../src/gan/sampling.js';
import { loadData } from '../../src/data/registry.js';
import { BatchStream } from '../../src/data/batches.js';
import type { DatasetInfo } from '../../src/data/types.js';
import { Rng } from '../../src/util/rng.js';
import { dOptimizer } from '../../src/gan/optimizers.js';
import { discriminatorOf } from '../../src/gan/family.js';

await initBackend({ quiet: true });

test('registry lists dcgan and vanilla and rejects unknown names with the valid ones', () => {
  for (const name of ['dcgan', 'vanilla']) assert.ok(MODEL_NAMES.includes(name), name);
  assert.equal(getModel('dcgan'), dcgan);
  assert.throws(() => getModel('dcgna'), new RegExp(`unknown model 'dcgna' \\(did you mean 'dcgan'\\?\\); valid: ${MODEL_NAMES.join(', ')}$`));
});

test('dcgan trains on a Fashion-MNIST slice without NaN and without leaking tensors', async () => {
  const source = await loadData('fashion-mnist', { limit: 64 });
  assert.deepEqual(source.info.shape, [28, 28, 1]);
  const config = resolveConfig(dcgan.defaults(source.info), { width: 8, batchSize: 16, latentDim: 16, steps: 12 });
  assert.equal(dcgan.check(source.info, config), null);
  const root = new Rng(1);
  const nets = dcgan.build(source.info, config, root.fork());
  const stream = new BatchStream(source, { batchSize: 16, rng: root.fork() });
  const latentRng = root.fork();
  const opt = { g: tf.train.adam(config.lrG, config.beta1, config.beta2), d: tf.train.adam(config.lrD, config.beta1, config.beta2) };

  // Adam creates its moment variables on the first update of each player; from step 2 on the count is flat.
  let afterStep2 = -1;
  for (let step = 1; step <= config.steps; step++) {
    const batch = stream.next();
    const z = latents(latentRng, config.batchSize, config.latentDim);
    const s = adversarialStep(nets, opt, nonSaturating, batch.x, z);
    tf.dispose([batch.x, batch.labels, z].filter((t) => t !== undefined));
    for (const [k, v] of Object.entries(s)) assert.ok(Number.isFinite(v), `step ${step}: ${k} = ${v}`);
    const [dReal, dFake] = [s.dReal ?? NaN, s.dFake ?? NaN];
    assert.ok(dReal > 0 && dReal < 1 && dFake > 0 && dFake < 1);
    if (step === 2) afterStep2 = tf.memory().numTensors;
  }
  assert.equal(tf.memory().numTensors, afterStep2, 'tensors leaked between step 2 and the last step');

  const z = latents(new Rng(2), 4, config.latentDim);
  const x = nets.generator.apply(z, { training: false }) as tf.Tensor;
  assert.deepEqual(x.shape, [4, 28, 28, 1]);
  const values = x.dataSync();
  assert.ok(values.every((v) => Number.isFinite(v) && v >= -1 && v <= 1), 'tanh output in [-1, 1]');
  tf.dispose([z, x]);
  nets.generator.dispose();
  discriminatorOf(nets).dispose();
  opt.g.dispose();
  dOptimizer(opt).dispose();
});

test('dcgan builds 32×32 and 64×64 RGB networks with the right output and logit shapes', () => {
  for (const side of [32, 64]) {
    const info: DatasetInfo = { name: `fake${side}`, kind: 'image', shape: [side, side, 3] };
    const config = resolveConfig(dcgan.defaults(info), { width: 8, latentDim: 16 });
    assert.equal(dcgan.check(info, config), null);
    const nets = dcgan.build(info, config, new Rng(0));
    const z = latents(new Rng(1), 2, 16);
    const x = nets.generator.apply(z, { training: false }) as tf.Tensor;
    const logits = discriminatorOf(nets).apply(x, { training: false }) as tf.Tensor;
    assert.deepEqual(x.shape, [2, side, side, 3]);
    assert.deepEqual(logits.shape, [2, 1]);
    tf.dispose([z, x, logits]);
    nets.generator.dispose();
    discriminatorOf(nets).dispose();
  }
});

test('dcgan refuses data it cannot model, saying what to do', () => {
  const config = resolveConfig({ width: 8 });
  assert.match(dcgan.check({ name: 'toy:ring8', kind: 'points', shape: [2] }, config) ?? '', /vanilla/);
  assert.match(dcgan.check({ name: 'r', kind: 'image', shape: [28, 32, 1] }, config) ?? '', /--image-size/);
  assert.match(dcgan.check({ name: 'p', kind: 'image', shape: [30, 30, 1] }, config) ?? '', /--image-size/);
});
