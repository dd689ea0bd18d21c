// BigGAN's building blocks against direct computations (plain loops in float64, or plain tf ops written out), on
// every backend this machine has: class-conditional batch norm with hierarchical z and the shared embedding,
// self-attention, the projection output, orthogonal regularisation and nearest upsampling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tfl from '@tensorflow/tfjs-layers'; // also registers gradients for tf.grad in Node
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.js';
import { ClassConditionalBatchNorm } from '../../src/nn/conditional_batch_norm.js';
import { hierarchicalLatent, LatentChunk, latentChunkSize, sharedClassEmbedding } from '../../src/nn/hierarchical_latent.js';
import { SelfAttention } from '../../src/nn/self_attention.js';
import { GlobalSumPooling2D, ProjectionOutput } from '../../src/nn/projection_discriminator.js';
import { orthogonalRegularization } from '../../src/nn/orthogonal_regularization.js';
import { NearestUpsample2D, upsampleNearest2x } from '../../src/nn/upsample.js';
import { Rng } from '../../src/util/rng.js';

await initBackend({ quiet: true });
const BACKENDS = ['cpu', ...(tf.engine().registryFactory['aten'] ? ['aten'] : [])];

function randomValues(n: number, seed: number, scale = 1, offset = 0): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => offset + scale * (2 * rng.uniform() - 1));
}

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol * Math.max(1, Math.abs(expected[i])), `${label}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

/** Row-major [m, k] · [k, n] in float64. */
function matmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let t = 0; t < k; t++) c[i * n + j] += a[i * k + t] * b[t * n + j];
  return c;
}

/** Oracle: σ_max of a row-major [m, n] matrix, power iteration on AᵀA to convergence in float64. */
function sigmaMax(a: ArrayLike<number>, m: number, n: number): number {
  let v = Array.from({ length: n }, (_, i) => Math.cos(i + 0.5));
  let sigma = 0;
  for (let it = 0; it < 5000; it++) {
    const av = matmul(a, v, m, n, 1);
    const atav = Array.from({ length: n }, (_, j) => av.reduce((s, ai, i) => s + a[i * n + j] * ai, 0));
    const norm = Math.hypot(...atav);
    v = atav.map((x) => x / norm);
    if (Math.abs(Math.sqrt(norm) - sigma) < 1e-12) break;
    sigma = Math.sqrt(norm);
  }
  return sigma;
}

const weightsOf = (layer: tfl.layers.Layer) => Object.fromEntries(layer.weights.map((w, i) => [w.originalName.split('/').pop()!, layer.getWeights()[i]]));

for (const backend of BACKENDS) {
  test(`[${backend}] hierarchical z + shared embedding + conditional BN equal (x − μ)/√(σ² + ε)·(1 + c·W_γ) + c·W_β; inference uses the moving averages`, async () => {
    await tf.setBackend(backend);
    const tensors = tf.memory().numTensors;
    const [B, H, W, C, Z, K, E] = [4, 3, 2, 3, 9, 3, 2]; // z of 9 = 3 chunks of 3 (2 blocks + the first layer)
    const zIn = tfl.input({ shape: [Z] }), yIn = tfl.input({ shape: [K] }), xIn = tfl.input({ shape: [H, W, C] });
    const { first, conditions } = hierarchicalLatent(zIn, sharedClassEmbedding(yIn, E, 1), 2);
    const cbn = new ClassConditionalBatchNorm({ spectralNorm: false, seed: 2, epsilon: 1e-3 });
    const model = tfl.model({ inputs: [zIn, yIn, xIn], outputs: [first, cbn.apply([xIn, conditions[1]]) as tfl.SymbolicTensor] });
    const w = weightsOf(cbn);
    // Gain and bias projections of a size the (1 + ·) visibly matters with.
    tf.tidy(() => cbn.setWeights([tf.tensor2d(randomValues(5 * C, 3, 0.8), [5, C]), tf.tensor2d(randomValues(5 * C, 4, 0.8), [5, C]), w.moving_mean, w.moving_variance]));
    const embedding = model.getLayer('shared_embedding').getWeights()[0].dataSync(); // [K, E]

    const z = randomValues(B * Z, 5), x = randomValues(B * H * W * C, 6, 2, 0.3);
    const labels = [0, 1, 1, 0]; // two different classes, each twice
    const y = Float32Array.from({ length: B * K }, (_, i) => (labels[Math.floor(i / K)] === i % K ? 1 : 0));
    const run = (training: boolean) => tf.tidy(() => (model.apply([tf.tensor2d(z, [B, Z]), tf.tensor2d(y, [B, K]), tf.tensor4d(x, [B, H, W, C])], { training }) as tf.Tensor[]).map((t) => t.dataSync()));

    // Condition of block 2: z's third chunk ⊕ E(y); the first chunk goes to the first layer alone.
    const cond = Array.from({ length: B }, (_, b) => [...z.slice(b * Z + 6, b * Z + 9), ...Array.from({ length: E }, (_, e) => embedding[labels[b] * E + e])]);
    const [gainW, biasW] = [cbn.getWeights()[0].dataSync(), cbn.getWeights()[1].dataSync()];
    const project = (c: number[], kernel: ArrayLike<number>, ch: number) => c.reduce((s, v, d) => s + v * kernel[d * C + ch], 0);
    const expected = (mean: number[], variance: number[]) => Float64Array.from(x, (v, i) => {
      const b = Math.floor(i / (H * W * C)), ch = i % C;
      return ((v - mean[ch]) / Math.sqrt(variance[ch] + 1e-3)) * (1 + project(cond[b], gainW, ch)) + project(cond[b], biasW, ch);
    });
    const mean = Array.from({ length: C }, (_, ch) => x.filter((_, i) => i % C === ch).reduce((s, v) => s + v, 0) / (B * H * W));
    const variance = Array.from({ length: C }, (_, ch) => x.filter((_, i) => i % C === ch).reduce((s, v) => s + (v - mean[ch]) ** 2, 0) / (B * H * W));

    const [firstChunk, trained] = run(true);
    close(firstChunk, Array.from({ length: B * 3 }, (_, i) => z[Math.floor(i / 3) * Z + (i % 3)]), 0, 'first chunk');
    close(trained, expected(mean, variance), 1e-5, 'training call (batch statistics)');
    // Same input pixels, different classes: samples 0 and 1 differ only through their class and z chunk.
    assert.notDeepEqual(trained.slice(0, 6), trained.slice(H * W * C, H * W * C + 6));

    const [movingMean, movingVariance] = [cbn.getWeights()[2].dataSync(), cbn.getWeights()[3].dataSync()];
    close(movingMean, mean.map((m) => 0.1 * m), 1e-6, 'moving mean after one step (momentum 0.9)');
    close(movingVariance, variance.map((v) => 0.9 + 0.1 * v), 1e-6, 'moving variance after one step');
    close(run(false)[1], expected(Array.from(movingMean), Array.from(movingVariance)), 1e-5, 'inference call (moving averages)');
    assert.deepEqual(cbn.getWeights()[2].dataSync(), movingMean, 'an inference call leaves the averages alone');
    model.dispose();
    assert.equal(tf.memory().numTensors, tensors);
  });

  test(`[${backend}] self-attention equals a direct computation with the same weights; γ = 0 is the identity`, async () => {
    await tf.setBackend(backend);
    const [B, H, W, C] = [2, 4, 6, 16];
    const x = tf.tensor4d(randomValues(B * H * W * C, 7, 1.5), [B, H, W, C]);
    const fresh = new SelfAttention({ seed: 8 }); // spectral norm on, γ = 0
    tf.tidy(() => assert.deepEqual((fresh.apply(x, { training: true }) as tf.Tensor).dataSync(), x.dataSync()));

    const layer = new SelfAttention({ spectralNorm: false, seed: 9 });
    tf.dispose(layer.apply(x) as tf.Tensor);
    tf.tidy(() => layer.setWeights([...layer.getWeights().slice(0, 4), tf.scalar(0.7)]));
    const [wTheta, wPhi, wG, wO, gamma] = layer.getWeights();
    const expected = tf.tidy(() => {
      const conv1x1 = (input: tf.Tensor4D, k: tf.Tensor) => tf.conv2d(input, tf.reshape(k, [1, 1, k.shape[0]!, k.shape[1]!]) as tf.Tensor4D, 1, 'valid');
      const theta = tf.reshape(conv1x1(x, wTheta), [B, H * W, C / 8]);
      const phi = tf.reshape(tf.maxPool(conv1x1(x, wPhi), [2, 2], [2, 2], 'valid'), [B, (H * W) / 4, C / 8]);
      const g = tf.reshape(tf.maxPool(conv1x1(x, wG), [2, 2], [2, 2], 'valid'), [B, (H * W) / 4, C / 2]);
      const logits = tf.einsum('bnc,bmc->bnm', theta, phi);
      const e = tf.exp(tf.sub(logits, tf.max(logits, 2, true)));
      const beta = tf.div(e, tf.sum(e, 2, true)); // softmax over the pooled positions
      const o = conv1x1(tf.reshape(tf.einsum('bnm,bmc->bnc', beta, g), [B, H, W, C / 2]) as tf.Tensor4D, wO);
      return tf.add(x, tf.mul(gamma, o)).dataSync();
    });
    const actual = tf.tidy(() => (layer.apply(x) as tf.Tensor).dataSync());
    close(actual, expected, 1e-5, 'attention');
    assert.ok(Math.max(...actual.map((v, i) => Math.abs(v - x.dataSync()[i]))) > 1e-2, 'γ = 0.7 changes the input');
    assert.throws(() => new SelfAttention().apply(tfl.input({ shape: [4, 4, 12] })), /C a multiple of 8/);
    x.dispose();
    fresh.dispose();
    layer.dispose();
  });

  test(`[${backend}] projection output equals ψ(h) + Σ_c embed(y)_c·h_c; with spectral norm it applies K/σ_max(K)`, async () => {
    await tf.setBackend(backend);
    const [B, C, K] = [5, 6, 4];
    const feats = randomValues(B * 4 * C, 10, 1); // sum-pooled below from [B, 2, 2, C] maps
    const maps = tf.tensor4d(feats, [B, 2, 2, C]);
    const labels = [3, 0, 1, 3, 2];
    const y = tf.cast(tf.oneHot(labels, K), 'float32');
    const h = tf.tidy(() => new GlobalSumPooling2D().apply(maps) as tf.Tensor);
    const hv = h.dataSync();
    close(hv, Array.from({ length: B * C }, (_, i) => [0, 1, 2, 3].reduce((s, p) => s + feats[(Math.floor(i / C) * 4 + p) * C + (i % C)], 0)), 1e-6, 'sum pooling');

    const byHand = (psi: ArrayLike<number>, bias: number, embed: ArrayLike<number>) => Array.from({ length: B }, (_, b) => {
      let logit = bias;
      for (let c = 0; c < C; c++) logit += hv[b * C + c] * (psi[c] + embed[labels[b] * C + c]);
      return logit;
    });
    const plain = new ProjectionOutput({ classes: K, spectralNorm: false, seed: 11 });
    tf.dispose(plain.apply([h, y]) as tf.Tensor);
    tf.tidy(() => plain.setWeights([plain.getWeights()[0], tf.tensor1d([0.25]), plain.getWeights()[2]]));
    const [psi, , embed] = plain.getWeights().map((t) => t.dataSync());
    close(tf.tidy(() => (plain.apply([h, y]) as tf.Tensor).dataSync()), byHand(psi, 0.25, embed), 1e-5, 'projection');

    const sn = new ProjectionOutput({ classes: K, seed: 12, init: 'normal', stddev: 1 });
    for (let i = 0; i < 60; i++) tf.dispose(sn.apply([h, y], { training: true }) as tf.Tensor); // ũ converges
    const w = weightsOf(sn);
    const [p, e] = [w.psi.dataSync(), w.embedding.dataSync()];
    const [sp, se] = [sigmaMax(p, C, 1), sigmaMax(e, K, C)];
    close(tf.tidy(() => (sn.apply([h, y]) as tf.Tensor).dataSync()), byHand(p.map((v) => v / sp), 0, e.map((v) => v / se)), 1e-4, 'spectrally normalised projection');
    assert.deepEqual(sn.nonTrainableWeights.map((v) => v.originalName.split('/').pop()), ['psi_sn_u', 'embedding_sn_u']);
    tf.dispose([maps, y, h]);
    plain.dispose();
    sn.dispose();
  });

  test(`[${backend}] orthogonal regulariser: 0 for orthogonal filters at any scale, the 2×2 closed form, finite-difference gradient`, async () => {
    await tf.setBackend(backend);
    tf.tidy(() => {
      const [q] = tf.linalg.qr(tf.tensor2d(randomValues(36, 13), [6, 6])); // orthonormal columns
      const scaled = tf.mul(q, tf.tensor1d([0.1, 3, 1, 7, 0.5, 2])); // column j scaled by s_j: WᵀW = diag(s²)
      const [convQ] = tf.linalg.qr(tf.tensor2d(randomValues(36 * 4, 14), [36, 4])); // [kh·kw·cIn, out] = [3·3·4, 4]
      const kernel = tf.reshape(tf.mul(convQ, tf.tensor1d([5, 0.2, 1, 3])), [3, 3, 4, 4]);
      const r = orthogonalRegularization([scaled, kernel, tf.ones([6])], 1).dataSync()[0];
      assert.ok(Math.abs(r) < 1e-9, `R(orthogonal) = ${r}`);
      assert.ok(orthogonalRegularization([tf.tensor2d([1, 1, 0, 1], [2, 2])], 1).dataSync()[0] > 0.1, 'a non-orthogonal W is penalised');
    });
    // W = [[a, b], [c, d]]: the filters are its columns (a, c), (b, d); WᵀW's off-diagonal entries are both ab + cd.
    const [a, b, c, d] = [0.5, -1.2, 2, 0.3];
    const r = tf.tidy(() => orthogonalRegularization([tf.tensor2d([a, b, c, d], [2, 2])], 1e-4).dataSync()[0]);
    close([r], [1e-4 * 2 * (a * b + c * d) ** 2], 1e-5, '2×2 closed form');

    const values = randomValues(3 * 3 * 2 * 5, 15);
    const shape: [number, number, number, number] = [3, 3, 2, 5];
    const f = (w: tf.Tensor) => orthogonalRegularization([w], 0.5);
    const grad = tf.tidy(() => tf.grad(f)(tf.tensor4d(values, shape)).dataSync());
    for (const i of [0, 7, 33, 61, 89]) {
      const step = 1e-2;
      const at = (delta: number) => tf.tidy(() => { const v = values.slice(); v[i] += delta; return f(tf.tensor4d(v, shape)).dataSync()[0]; });
      const fd = (at(step) - at(-step)) / (2 * step);
      assert.ok(Math.abs(grad[i] - fd) < 1e-2 * Math.max(1, Math.abs(fd)), `∂R/∂w[${i}]: ${grad[i]} vs ${fd}`);
    }
  });

  test(`[${backend}] conditional BN (batch statistics) and self-attention: input gradients agree with finite differences`, async () => {
    await tf.setBackend(backend);
    const cbn = new ClassConditionalBatchNorm({ spectralNorm: false, seed: 18 }); // with SN, each training call would move ũ (and f)
    const attention = new SelfAttention({ spectralNorm: false, seed: 19 });
    const cond = tf.tensor2d(randomValues(3 * 4, 20), [3, 4]);
    tf.dispose([cbn.apply([tf.zeros([3, 4, 4, 8]), cond]), attention.apply(tf.zeros([3, 4, 4, 8]))] as tf.Tensor[]); // build
    tf.tidy(() => attention.setWeights([...attention.getWeights().slice(0, 4), tf.scalar(0.9)]));
    const probe = tf.tensor4d(randomValues(3 * 4 * 4 * 8, 21), [3, 4, 4, 8]);
    // 4×4 maps: 4 pooled keys, so the softmax is not trivial. Non-linear in the output, and x feeds μ and σ² too: the part of BN's gradient a per-sample formula misses.
    const f = (x: tf.Tensor) => tf.sum(tf.mul(tf.square(attention.apply(cbn.apply([x, cond], { training: true }) as tf.Tensor) as tf.Tensor), probe)) as tf.Scalar;
    const values = randomValues(3 * 4 * 4 * 8, 22, 1.5, 0.2);
    const grad = tf.tidy(() => tf.grad(f)(tf.tensor4d(values, [3, 4, 4, 8])).dataSync());
    for (const i of [0, 9, 77, 200, 383]) {
      const at = (delta: number) => tf.tidy(() => { const v = values.slice(); v[i] += delta; return f(tf.tensor4d(v, [3, 4, 4, 8])).dataSync()[0]; });
      const fd = (at(1e-2) - at(-1e-2)) / 2e-2;
      assert.ok(Math.abs(grad[i] - fd) < 2e-2 * Math.max(1, Math.abs(fd)), `∂f/∂x[${i}]: ${grad[i]} vs ${fd}`);
    }
    tf.dispose([cond, probe]);
    cbn.dispose();
    attention.dispose();
  });

  test(`[${backend}] nearest 2× upsampling copies each pixel into a 2×2 square; its gradient sums them back`, async () => {
    await tf.setBackend(backend);
    const x = randomValues(2 * 3 * 2 * 3, 16);
    const up = tf.tidy(() => upsampleNearest2x(tf.tensor4d(x, [2, 3, 2, 3])).dataSync());
    const expected: number[] = [];
    for (let b = 0; b < 2; b++) for (let i = 0; i < 6; i++) for (let j = 0; j < 4; j++) for (let k = 0; k < 3; k++) expected.push(x[((b * 3 + (i >> 1)) * 2 + (j >> 1)) * 3 + k]);
    close(up, expected, 0, 'upsample');
    const weights = randomValues(2 * 6 * 4 * 3, 17);
    const grad = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(upsampleNearest2x(t as tf.Tensor4D), tf.tensor4d(weights, [2, 6, 4, 3]))))(tf.tensor4d(x, [2, 3, 2, 3])).dataSync());
    const adjoint = new Float64Array(x.length);
    let p = 0;
    for (let b = 0; b < 2; b++) for (let i = 0; i < 6; i++) for (let j = 0; j < 4; j++) for (let k = 0; k < 3; k++) adjoint[((b * 3 + (i >> 1)) * 2 + (j >> 1)) * 3 + k] += weights[p++];
    close(grad, adjoint, 1e-6, 'upsample gradient');
  });
}

test('hierarchical z: equal chunks, one per block plus the first layer; an indivisible size names the ones that work', () => {
  assert.equal(latentChunkSize(120, 5), 20); // BigGAN's 128 px G: 6 chunks of 20
  assert.throws(() => latentChunkSize(100, 2), /100 dimensions cannot be split into 3 equal chunks.*e\.g\. 99 or 102/);
  assert.throws(() => hierarchicalLatent(tfl.input({ shape: [10] }), tfl.input({ shape: [4] }), 3), /multiple of 4/);
});

test("every layer's config survives getConfig → fromConfig with non-default settings (what model.json reloads from)", () => {
  const layers: tfl.layers.Layer[] = [
    new ClassConditionalBatchNorm({ spectralNorm: false, momentum: 0.8, epsilon: 1e-4, init: 'normal', stddev: 0.1, seed: 3 }),
    new SelfAttention({ spectralNorm: false, seed: 4 }),
    new ProjectionOutput({ classes: 7, init: 'normal', seed: 5 }),
    new LatentChunk({ index: 2, parts: 4 }),
    new GlobalSumPooling2D(),
    new NearestUpsample2D(),
  ];
  for (const layer of layers) {
    const cls = tf.serialization.SerializationMap.getMap().classNameMap[layer.getClassName()];
    assert.ok(cls, `${layer.getClassName()} is registered`);
    const copy = cls[1](cls[0], layer.getConfig()) as tfl.layers.Layer;
    assert.deepEqual(copy.getConfig(), layer.getConfig(), layer.getClassName());
  }
});
