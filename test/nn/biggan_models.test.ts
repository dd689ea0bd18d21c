// A tiny class-conditional BigGAN-style G and projection D built from src/nn's blocks: they build as
// tf.LayersModels, train-mode forward and backward passes leave the tensor count flat and run with no aten
// fallback kernel, and both round-trip through the repo's save/load with identical outputs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, installFastCpuKernels, uninstallFastCpuKernels } from '../../src/backend/index.js';
import { discriminatorBlock, generatorBlock } from '../../src/nn/biggan_blocks.js';
import { hierarchicalLatent, sharedClassEmbedding } from '../../src/nn/hierarchical_latent.js';
import { orthogonalRegularization } from '../../src/nn/orthogonal_regularization.js';
import { GlobalSumPooling2D, ProjectionOutput } from '../../src/nn/projection_discriminator.js';
import { SelfAttention } from '../../src/nn/self_attention.js';
import { spectralConv2d, spectralDense } from '../../src/nn/spectral_norm.js';
import { loadModel, saveModel } from '../../src/gan/model_io.js';
import { Rng } from '../../src/util/rng.js';

const info = await initBackend({ quiet: true });
const BACKENDS = ['cpu', ...(tf.engine().registryFactory['aten'] ? ['aten'] : [])];
// Typed locally (the package may be unbuilt, see src/backend/index.ts).
const aten = info.name === 'aten' ? (await import('tfjs-backend-aten' as string)) as { atenFallbackKernels(): string[] } : null;

// The cpu runs use ganforge's fast convolution kernels, as a machine without aten does (tfjs's own are ~10× slower).
before(() => installFastCpuKernels());
after(() => uninstallFastCpuKernels());

const [Z, CLASSES, EMBED, B] = [24, 5, 8, 4]; // z: 3 chunks of 8 (first linear layer + 2 blocks)

function seeds(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.nextUint32() % 2147483647;
}

/** z → linear → 4×4×16 → ResBlock up (8×8) → attention → ResBlock up (16×16) → BN, ReLU, conv 3×3, tanh. */
function tinyGenerator(nextSeed: () => number): tfl.LayersModel {
  const z = tfl.input({ shape: [Z], name: 'z' });
  const label = tfl.input({ shape: [CLASSES], name: 'label' });
  const { first, conditions } = hierarchicalLatent(z, sharedClassEmbedding(label, EMBED, nextSeed()), 2);
  let h = spectralDense({ units: 4 * 4 * 16, seed: nextSeed(), name: 'g_linear' }).apply(first) as SymbolicTensor;
  h = tfl.layers.reshape({ targetShape: [4, 4, 16] }).apply(h) as SymbolicTensor; // [B, 4, 4, 16]
  h = generatorBlock(h, conditions[0], { filters: 16, name: 'g_block1', nextSeed }); // [B, 8, 8, 16]
  h = new SelfAttention({ seed: nextSeed(), name: 'g_attention' }).apply(h) as SymbolicTensor;
  h = generatorBlock(h, conditions[1], { filters: 8, name: 'g_block2', nextSeed }); // [B, 16, 16, 8]
  h = tfl.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }).apply(h) as SymbolicTensor;
  h = tfl.layers.reLU().apply(h) as SymbolicTensor;
  h = spectralConv2d({ filters: 3, kernelSize: 3, seed: nextSeed(), name: 'g_rgb' }).apply(h) as SymbolicTensor;
  return tfl.model({ inputs: [z, label], outputs: tfl.layers.activation({ activation: 'tanh' }).apply(h) as SymbolicTensor, name: 'generator' });
}

/** ResBlock down (8×8) → attention → ResBlock down (4×4) → ResBlock → ReLU, Σ-pool → projection output. */
function tinyDiscriminator(nextSeed: () => number): tfl.LayersModel {
  const x = tfl.input({ shape: [16, 16, 3], name: 'x' });
  const label = tfl.input({ shape: [CLASSES], name: 'label' });
  let h = discriminatorBlock(x, { filters: 8, name: 'd_block1', nextSeed, preactivation: false }); // [B, 8, 8, 8]
  h = new SelfAttention({ seed: nextSeed(), name: 'd_attention' }).apply(h) as SymbolicTensor;
  h = discriminatorBlock(h, { filters: 16, name: 'd_block2', nextSeed }); // [B, 4, 4, 16]
  h = discriminatorBlock(h, { filters: 16, name: 'd_block3', nextSeed, downsample: false }); // identity skip
  h = new GlobalSumPooling2D().apply(tfl.layers.reLU().apply(h)) as SymbolicTensor; // [B, 16]
  const logit = new ProjectionOutput({ classes: CLASSES, seed: nextSeed(), name: 'd_projection' }).apply([h, label]) as SymbolicTensor;
  return tfl.model({ inputs: [x, label], outputs: logit, name: 'discriminator' });
}

function batch(seed: number) {
  return tf.tidy(() => ({
    z: tf.randomNormal([B, Z], 0, 1, 'float32', seed),
    y: tf.cast(tf.oneHot(tf.tensor1d([0, 3, 3, 1], 'int32'), CLASSES), 'float32'),
    real: tf.randomUniform([B, 16, 16, 3], -1, 1, 'float32', seed + 1),
  }));
}

const read = (m: tfl.LayersModel) => m.trainableWeights.map((w) => w.read() as tf.Variable);

/** One D and one G gradient computation with the hinge loss (G's with orthogonal regularisation); grads disposed. */
function forwardBackward(G: tfl.LayersModel, D: tfl.LayersModel, { z, y, real }: ReturnType<typeof batch>): void {
  tf.tidy(() => {
    const d = tf.variableGrads(() => {
      const fake = G.apply([z, y], { training: true }) as tf.Tensor;
      const [onReal, onFake] = [real, fake].map((x) => D.apply([x, y], { training: true }) as tf.Tensor);
      return tf.add(tf.mean(tf.relu(tf.sub(1, onReal))), tf.mean(tf.relu(tf.add(1, onFake)))) as tf.Scalar;
    }, read(D));
    const g = tf.variableGrads(() => {
      const onFake = D.apply([G.apply([z, y], { training: true }) as tf.Tensor, y], { training: true }) as tf.Tensor;
      const kernels = G.trainableWeights.filter((w) => !w.name.startsWith('shared_embedding')).map((w) => w.read());
      return tf.add(tf.neg(tf.mean(onFake)), orthogonalRegularization(kernels, 1e-4)) as tf.Scalar;
    }, read(G));
    for (const grads of [d.grads, g.grads]) {
      for (const [name, t] of Object.entries(grads)) assert.ok(Array.from(t.dataSync()).every(Number.isFinite), `gradient of ${name}`);
    }
    assert.equal(Object.keys(g.grads).length, G.trainableWeights.length, 'every G weight gets a gradient');
    assert.equal(Object.keys(d.grads).length, D.trainableWeights.length, 'every D weight gets a gradient');
  });
}

for (const backend of BACKENDS) {
  test(`[${backend}] tiny BigGAN G and D: shapes, forward/backward with flat tensor counts${backend === 'aten' ? ', no fallback kernels' : ''}`, async () => {
    await tf.setBackend(backend);
    const start = tf.memory().numTensors;
    const nextSeed = seeds(1);
    const [G, D] = [tinyGenerator(nextSeed), tinyDiscriminator(nextSeed)];
    const data = batch(2);
    const fallbackBefore = aten?.atenFallbackKernels() ?? [];
    tf.tidy(() => {
      const image = G.apply([data.z, data.y]) as tf.Tensor;
      assert.deepEqual(image.shape, [B, 16, 16, 3]);
      assert.deepEqual((D.apply([image, data.y]) as tf.Tensor).shape, [B, 1]);
    });
    forwardBackward(G, D, data);
    const after1 = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) forwardBackward(G, D, data);
    assert.equal(tf.memory().numTensors, after1, 'tensor count after 1 vs 4 forward/backward passes');
    if (backend === 'aten') {
      const fellBack = aten!.atenFallbackKernels().filter((k) => !fallbackBefore.includes(k));
      assert.deepEqual(fellBack, [], 'kernels that ran on the CPU fallback in the forward and backward passes');
    }
    tf.dispose(Object.values(data));
    G.dispose();
    D.dispose();
    assert.equal(tf.memory().numTensors, start, 'every tensor released with the models');
  });
}

test('tiny BigGAN G and D round-trip through save/load: same weights, same outputs in inference and in a training call', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-biggan-'));
  try {
    const nextSeed = seeds(3);
    const [G, D] = [tinyGenerator(nextSeed), tinyDiscriminator(nextSeed)];
    const data = batch(4);
    forwardBackward(G, D, data); // training calls: ũ and the moving averages leave their initial values
    await saveModel(G, path.join(dir, 'G'));
    await saveModel(D, path.join(dir, 'D'));
    const [G2, D2] = [await loadModel(path.join(dir, 'G')), await loadModel(path.join(dir, 'D'))];
    const classes = (m: tfl.LayersModel) => new Set(m.layers.map((l) => l.getClassName()));
    for (const name of ['LatentChunk', 'ClassConditionalBatchNorm', 'NearestUpsample2D', 'SelfAttention', 'SpectralConv2D']) assert.ok(classes(G2).has(name), `G holds a ${name}`);
    for (const name of ['SelfAttention', 'GlobalSumPooling2D', 'ProjectionOutput']) assert.ok(classes(D2).has(name), `D holds a ${name}`);
    for (const [a, b] of [[G, G2], [D, D2]]) {
      assert.deepEqual(b.weights.map((w) => w.originalName), a.weights.map((w) => w.originalName));
      a.getWeights().forEach((w, i) => assert.deepEqual(b.getWeights()[i].dataSync(), w.dataSync(), `${a.name} weight ${a.weights[i].originalName}`));
    }
    for (const training of [false, true, false]) {
      tf.tidy(() => {
        const [x, x2] = [G, G2].map((g) => g.apply([data.z, data.y], { training }) as tf.Tensor);
        assert.deepEqual(x2.dataSync(), x.dataSync(), `G output, training ${training}`);
        const [d, d2] = [D, D2].map((m) => m.apply([x, data.y], { training }) as tf.Tensor);
        assert.deepEqual(d2.dataSync(), d.dataSync(), `D output, training ${training}`);
      });
    }
    tf.dispose(Object.values(data));
    for (const m of [G, D, G2, D2]) m.dispose();
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
