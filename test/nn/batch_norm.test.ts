// ganforge's BatchNormalization (the fused training pass where the backend has BatchNormTraining) against
// tfjs-layers' own layer with the same weights: training outputs, moving statistics and gradients on every backend
// this machine has, and a save/load round trip that rebuilds the layer as this class.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.js';
import { BatchNormalization, batchNormalization, BATCH_NORM_MOVING_STATS_KERNEL, BATCH_NORM_TRAINING_KERNEL } from '../../src/nn/batch_norm.js';
import { loadModel, saveModel } from '../../src/gan/model_io.js';

await initBackend({ quiet: true });
const BACKENDS = ['cpu', ...(tf.engine().registryFactory['aten'] ? ['aten'] : [])];

/** Largest |a − b| relative to max(1, max |b|). */
function relErr(a: tf.Tensor, b: tf.Tensor): number {
  const [av, bv] = [a.dataSync(), b.dataSync()];
  let err = 0, scale = 1;
  for (let i = 0; i < bv.length; i++) { err = Math.max(err, Math.abs(av[i] - bv[i])); scale = Math.max(scale, Math.abs(bv[i])); }
  return err / scale;
}

test('training pass, moving statistics and gradients equal tfjs-layers\' BatchNormalization', async () => {
  for (const backend of BACKENDS) {
    await tf.setBackend(backend);
    for (const shape of [[8, 4, 4, 16], [16, 24], [3, 5, 7, 6]]) {
      const c = shape[shape.length - 1], args = { momentum: 0.9, epsilon: 1e-5 };
      const ours = batchNormalization(args), theirs = tfl.layers.batchNormalization(args);
      for (const l of [ours, theirs]) l.build(shape);
      const weights = [tf.randomUniform([c], 0.5, 1.5, 'float32', 1), tf.randomNormal([c], 0, 1, 'float32', 2),
        tf.randomNormal([c], 0, 1, 'float32', 3), tf.randomUniform([c], 0.5, 2, 'float32', 4)]; // γ, β, moving mean, moving var
      ours.setWeights(weights);
      theirs.setWeights(weights);
      const x = tf.randomNormal(shape, 0.5, 2, 'float32', 5), w = tf.randomNormal(shape, 0, 1, 'float32', 6);
      const run = (layer: tfl.layers.Layer) => tf.variableGrads(() =>
        tf.sum(tf.mul(tf.square(layer.apply(x, { training: true }) as tf.Tensor), w)) as tf.Scalar, layer.trainableWeights.map((v) => (v as unknown as { val: tf.Variable }).val));
      const label = `${backend} ${shape}`;
      const y = [ours, theirs].map((l) => l.apply(x, { training: true }) as tf.Tensor);
      assert.ok(relErr(y[0], y[1]) < 2e-5, `${label}: y`);
      // Two training passes each (above and in run): the moving statistics moved twice on both.
      const [a, b] = [run(ours), run(theirs)];
      for (const [i, name] of ['moving_mean', 'moving_variance'].entries())
        assert.ok(relErr(ours.getWeights()[2 + i], theirs.getWeights()[2 + i]) < 2e-5, `${label}: ${name}`);
      assert.ok(relErr(ours.getWeights()[2], weights[2]) > 1e-3, `${label}: the moving mean moved`);
      const [ga, gb] = [Object.values(a.grads), Object.values(b.grads)]; // γ then β on both
      assert.equal(ga.length, 2);
      for (let i = 0; i < 2; i++) assert.ok(relErr(ga[i], gb[i]) < 2e-4, `${label}: d${['gamma', 'beta'][i]}`);
      const dx = [ours, theirs].map((l) => tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.square(l.apply(v, { training: true }) as tf.Tensor), w)))(x));
      assert.ok(relErr(dx[0], dx[1]) < 2e-4, `${label}: dx`);
      // Inference reads the moving statistics, as tfjs-layers' layer.
      const inf = [ours, theirs].map((l) => l.apply(x) as tf.Tensor);
      assert.ok(relErr(inf[0], inf[1]) < 1e-6, `${label}: inference`);
      tf.dispose([...weights, x, w, ...y, a.value, b.value, ...Object.values(a.grads), ...Object.values(b.grads), ...dx, ...inf]);
      for (const v of [...ours.weights, ...theirs.weights]) v.dispose();
    }
  }
});

test('on aten the training pass runs the fused kernel and no moments', async () => {
  if (!BACKENDS.includes('aten')) return;
  await tf.setBackend('aten');
  const layer = batchNormalization();
  const x = tf.randomNormal([4, 3, 3, 8], 0, 1, 'float32', 7);
  const p = await tf.profile(() => tf.grad((v: tf.Tensor) => tf.sum(layer.apply(v, { training: true }) as tf.Tensor))(x));
  const names = p.kernels.map((k) => k.name);
  assert.ok(names.includes(BATCH_NORM_TRAINING_KERNEL) && names.includes(`${BATCH_NORM_TRAINING_KERNEL}Grad`), names.join(' '));
  assert.ok(!names.includes('FusedBatchNorm') && !names.includes('Mean'), names.join(' '));
  // The moving statistics in one kernel, not two Sub and a Multiply each.
  assert.ok(names.includes(BATCH_NORM_MOVING_STATS_KERNEL) && !names.includes('Sub'), names.join(' '));
  tf.dispose(x);
  for (const v of layer.weights) v.dispose();
});

test('a saved model keeps tfjs-layers\' class name and loads as this class', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-bn-'));
  try {
    const model = tfl.sequential();
    model.add(tfl.layers.dense({ inputShape: [5], units: 6, kernelInitializer: tfl.initializers.randomNormal({ seed: 1 }) }));
    model.add(batchNormalization({ momentum: 0.8, epsilon: 1e-4 }));
    await saveModel(model, path.join(dir, 'm'));
    const json = JSON.parse(await fs.readFile(path.join(dir, 'm', 'model.json'), 'utf8')) as { modelTopology: unknown };
    assert.match(JSON.stringify(json.modelTopology), /"class_name":"BatchNormalization"/);
    const loaded = await loadModel(path.join(dir, 'm'));
    assert.ok(loaded.layers[1] instanceof BatchNormalization);
    assert.equal(loaded.layers[1].getConfig()['momentum'], 0.8);
    const x = tf.randomNormal([3, 5], 0, 1, 'float32', 2);
    const [a, b] = [model, loaded].map((m) => m.predict(x) as tf.Tensor);
    assert.deepEqual(b.dataSync(), a.dataSync());
    tf.dispose([x, a, b]);
    model.dispose();
    loaded.dispose();
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
