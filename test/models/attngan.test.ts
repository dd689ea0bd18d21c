import { test } from 'node:test';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import assert from 'node:assert/strict';
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/backend/index.js';
import { attngan, attentionMaps, stagesOf } from '../../src/models/attngan.js';
import { WordAttention } from '../../src/nn/word_attention.js';
import { ConditioningAugmentation, caKlDivergence } from '../../src/nn/conditioning_augmentation.js';
import { disposeState, freshState, runStep } from '../../src/gan/training_step.js';
import { BatchStream } from '../../src/data/batches.js';
import { squares } from '../text/squares.js';
import { requestCaptions } from '../../src/text/sampling.js';
import { IMAGE_ENCODER, TEXT_ENCODER, encodeText } from '../../src/text/encoders.js';
import { resolveFamilyConfig } from '../../src/gan/config.js';
import { loadModel, saveModel } from '../../src/gan/model_io.js';
import { allNetworks } from '../../src/gan/family.js';
import { UserError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { latents } from '../../src/gan/sampling.js';

const info = await initBackend({ quiet: true });
// Typed locally (the package may be unbuilt, see src/backend/index.ts).
const aten = info.name === 'aten' ? (await import('tfjs-backend-aten' as string)) as { atenFallbackKernels(): string[] } : null;

/** β and the context by the definition (eq. 2), one region and one word at a time. */
function attentionByLoop(h: number[][][][], words: number[][][], mask: number[][], u: number[][]) {
  const context: number[][][][] = [];
  const beta: number[][][][] = [];
  h.forEach((hb, b) => {
    const projected = words[b].map((e) => u[0].map((_, c) => e.reduce((acc, ed, d) => acc + ed * u[d][c], 0))); // e'_t = Uᵀ e_t
    context.push(hb.map((row) => row.map((region) => {
      const s = projected.map((e) => e.reduce((acc, v, c) => acc + v * region[c], 0));
      const real = s.map((_, t) => mask[b][t] === 1);
      const max = Math.max(...s.filter((_, t) => real[t]));
      const w = s.map((v, t) => (real[t] ? Math.exp(v - max) : 0));
      const total = w.reduce((a, v) => a + v, 0);
      return { beta: w.map((v) => v / total), c: region.map((_, c) => projected.reduce((acc, e, t) => acc + (w[t] / total) * e[c], 0)) };
    })).map((row) => row.map((r) => r.c)));
    beta.push(hb.map((row) => row.map((region) => {
      const s = projected.map((e) => e.reduce((acc, v, c) => acc + v * region[c], 0));
      const max = Math.max(...s.filter((_, t) => mask[b][t] === 1));
      const w = s.map((v, t) => (mask[b][t] === 1 ? Math.exp(v - max) : 0));
      const total = w.reduce((a, v) => a + v, 0);
      return w.map((v) => v / total);
    })));
  });
  return { context, beta };
}

test('word attention: context and β as the loop computes them; padding gets zero weight and changes nothing', () => {
  const [B, H, W, C, T, D] = [2, 2, 3, 3, 4, 5];
  const rng = new Rng(3);
  const h = tf.tensor4d(rng.normals(B * H * W * C), [B, H, W, C]);
  const words = tf.tensor3d(rng.normals(B * T * D), [B, T, D]);
  const mask = tf.tensor2d([[1, 1, 0, 0], [1, 1, 1, 1]]);
  const layer = new WordAttention({ seed: 11 });
  const [context, beta] = layer.apply([h, words, mask]) as tf.Tensor[];
  const u = layer.getWeights()[0].arraySync() as number[][];
  assert.deepEqual(layer.getWeights()[0].shape, [D, C]);
  const expected = attentionByLoop(h.arraySync(), words.arraySync(), mask.arraySync(), u);
  const close = (a: number[], b: number[], what: string) => a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-5, `${what}[${i}]: ${v} vs ${b[i]}`));
  close(Array.from(context.dataSync()), expected.context.flat(3), 'context');
  close(Array.from(beta.dataSync()), expected.beta.flat(3), 'β');
  const b0 = beta.arraySync() as number[][][][];
  for (const row of b0[0]) for (const region of row) assert.deepEqual(region.slice(2), [0, 0], 'padding words of caption 0 get weight 0 exactly');
  // Other features at the padding positions: the output of caption 0 is unchanged, caption 1's (no padding) moves.
  const other = tf.tensor3d(words.arraySync().map((w, b) => w.map((e, t) => (t >= 2 ? e.map((v) => v + 3) : e))));
  const [context2] = layer.apply([h, other, mask]) as tf.Tensor[];
  close(Array.from(tf.slice(context2, 0, 1).dataSync()), Array.from(tf.slice(context, 0, 1).dataSync()), 'caption 0 with other padding');
  assert.ok(tf.max(tf.abs(tf.sub(tf.slice(context2, 1, 1), tf.slice(context, 1, 1)))).dataSync()[0] > 1e-3, 'caption 1 reads all its words');
  tf.dispose([h, words, mask, context, beta, other, context2]);
  layer.dispose();
});

test('conditioning augmentation: ĉ = μ + σ·ε, ε = 0 gives μ; KL in closed form', () => {
  const sentence = tf.tensor2d(new Rng(1).normals(2 * 6), [2, 6]);
  const layer = new ConditioningAugmentation({ units: 3, seed: 5 });
  const eps = tf.tensor2d(new Rng(2).normals(6), [2, 3]);
  const [c, mu, logVar] = layer.apply([sentence, eps]) as tf.Tensor[];
  const expected = tf.add(mu, tf.mul(tf.exp(tf.mul(0.5, logVar)), eps));
  assert.ok(tf.max(tf.abs(tf.sub(c, expected))).dataSync()[0] < 1e-6);
  const [c0, mu0] = layer.apply([sentence, tf.zerosLike(eps)]) as tf.Tensor[];
  assert.deepEqual(Array.from(c0.dataSync()), Array.from(mu0.dataSync()));
  // KL(N(μ, σ²) ‖ N(0, 1)) for μ = 1, σ² = e: ½(1 + e − 1 − 1) = (e − 1)/2 per dimension.
  assert.ok(Math.abs(caKlDivergence(tf.ones([2, 3]), tf.ones([2, 3])).dataSync()[0] - (Math.E - 1) / 2) < 1e-6);
  assert.equal(caKlDivergence(tf.zeros([2, 3]), tf.zeros([2, 3])).dataSync()[0], 0);
  layer.dispose();
});

const TINY = { batchSize: 4, width: 4, latentDim: 8, condDim: 4, dWidth: 4, wordDim: 8, textDim: 8, resBlocks: 1 };

test('attngan: builds 2 stages at 16 px, trains 3 steps with flat tensor counts and frozen encoders, no CPU fallback on aten; samples from text', () => {
  const source = squares(16, 1); // 16 coloured squares, two captions each, 8 tokens
  const start = tf.memory().numTensors;
  const config = resolveFamilyConfig(attngan.settings!, attngan.defaults(source.info), { model: 'attngan', seed: 1, ...TINY });
  assert.equal(attngan.check(source.info, config), null);
  const state = freshState(attngan, source, config);
  const nets = state.nets;
  const frozen = [TEXT_ENCODER, IMAGE_ENCODER].map((k) => nets.extra![k].getWeights().map((w) => w.dataSync().slice()));
  // The frozen text encoder (src/text/encoders.ts) is not this family's: what its tfjs-layers LSTM falls back to on
  // aten (ExpandDims of the masked recurrence, until a native LSTM replaces it) is counted before the steps.
  const probe = requestCaptions(source.info, ['a red square'], 2);
  tf.dispose(tf.tidy(() => Object.values(encodeText(nets.extra![TEXT_ENCODER], probe))));
  tf.dispose([probe.tokens, probe.lengths]);
  const fallbackBefore = aten?.atenFallbackKernels() ?? [];
  const stats = [];
  let afterStep2 = 0;
  for (let i = 0; i < 3; i++) {
    stats.push(runStep(state));
    if (i === 1) afterStep2 = tf.memory().numTensors;
  }
  assert.equal(tf.memory().numTensors, afterStep2, 'tensors leaked between steps 2 and 3');
  const fellBack = aten ? aten.atenFallbackKernels().filter((k) => !fallbackBefore.includes(k)) : [];
  assert.deepEqual(fellBack, [], 'kernels that ran on the CPU fallback in the steps');
  [TEXT_ENCODER, IMAGE_ENCODER].forEach((k, i) => assert.deepEqual(nets.extra![k].getWeights().map((w) => w.dataSync()), frozen[i], `${k} did not move`));
  assert.equal(stagesOf(source.info, config), 2);
  assert.deepEqual(nets.generator.outputs.map((o) => o.shape), [[null, 8, 8, 3], [null, 16, 16, 3], [null, 4], [null, 4], [null, 8, 8, 8]]);
  for (const key of ['loss/G_GAN', 'loss/G_DAMSM', 'loss/G_KL', 'loss/D0', 'loss/D1']) assert.ok(stats.every((s) => Number.isFinite(s.extra?.[key])), key);
  assert.ok(stats.every((s) => Number.isFinite(s.lossG) && Number.isFinite(s.lossD!)), 'finite losses');
  assert.ok(stats.every((s) => s.extra!['loss/G_DAMSM'] > 0), 'the DAMSM term is part of G loss');

  const run = { config, data: source.info };
  const request = { count: 3, seed: 9, text: ['a red square at the top left', 'a blue square at the bottom right'] };
  const a = attngan.sample!(nets, request, run);
  assert.deepEqual([a.count, a.shape], [3, [16, 16, 3]]);
  assert.ok(a.values.every((v) => v >= -1 && v <= 1));
  assert.deepEqual(attngan.sample!(nets, request, run).values, a.values, 'the same seed and text, the same images');
  const other = attngan.sample!(nets, { ...request, text: ['a green square at the top left'] }, run).values;
  assert.notDeepEqual(other, a.values, 'another sentence, other images');

  // --text-to: one latent, the text features moving from one caption to the other; the ends are the two captions.
  const path = attngan.sample!(nets, { count: 3, seed: 9, text: [request.text[0]], textTo: request.text[1] }, run);
  const row = (r: { values: Float32Array }, i: number) => Array.from(r.values.slice(i * 768, (i + 1) * 768));
  const one = (text: string) => attngan.sample!(nets, { count: 1, seed: 9, text: [text] }, run);
  const near = (x: number[], y: number[], what: string) => assert.ok(Math.max(...x.map((v, i) => Math.abs(v - y[i]))) < 1e-5, what);
  near(row(path, 0), row(one(request.text[0]), 0), 'the path starts at the first sentence');
  near(row(path, 2), row(one(request.text[1]), 0), 'and ends at the second');
  assert.ok([0, 2].every((end) => row(path, 1).some((v, i) => v !== row(path, end)[i])), 'the middle is neither end');

  // Attention maps: each region's weights over the caption's words sum to 1, padding gets 0.
  const captions = requestCaptions(source.info, ['a red square'], 2);
  const zs = tf.tensor2d(new Rng(1).normals(2 * 8), [2, 8]);
  const [beta] = attentionMaps(nets, captions, zs, run);
  assert.deepEqual(beta.shape, [2, 8, 8, 8]);
  const len = captions.lengths.dataSync()[0];
  tf.tidy(() => {
    assert.ok(tf.sum(beta, -1).dataSync().every((s) => Math.abs(s - 1) < 1e-5));
    assert.equal(tf.max(tf.slice(beta, [0, 0, 0, len], [-1, -1, -1, -1])).dataSync()[0], 0, 'no weight on padding');
  });
  tf.dispose([beta, zs, captions.tokens, captions.lengths]);

  // The browser's composed model [z, token ids] draws what sample draws for the same z.
  const composed = attngan.textGenerator!(nets, run);
  const sentences = requestCaptions(source.info, request.text, 3);
  const composedOut = tf.tidy(() => composed.apply([latents(new Rng(request.seed), 3, config.latentDim), tf.cast(sentences.tokens, 'float32')]) as tf.Tensor);
  assert.deepEqual(composedOut.shape, [3, 16, 16, 3]);
  const gap = Math.max(...Array.from(composedOut.dataSync(), (v, i) => Math.abs(v - a.values[i])));
  assert.ok(gap < 1e-5, `composed model vs sample: max |Δ| = ${gap}`);
  tf.dispose([composedOut, sentences.tokens, sentences.lengths]);

  // The progress picture: the probe's captions, each row stage 0 (enlarged) | stage 1 | the real image.
  const batch = new BatchStream(source, { batchSize: 4, rng: new Rng(2), shuffle: false }).next();
  const probeZ = tf.tensor2d(new Rng(3).normals(64 * 8), [64, 8]);
  const picture = attngan.picture!(nets, { z: probeZ, batch }, run);
  assert.deepEqual([picture.count, picture.cols, picture.shape], [12, 3, [16, 16, 3]]);
  tf.dispose([probeZ, batch.x, batch.text!.tokens, batch.text!.lengths, ...(batch.labels ? [batch.labels] : [])]);
  disposeState(state);
  // The composed model holds a claim on G and the text encoder (tfjs-layers frees weights with the last claim).
  nets.generator.dispose();
  nets.extra![TEXT_ENCODER].dispose();
  assert.equal(tf.memory().numTensors, start, 'everything released');
});

test('attngan refuses data without captions, and sampling without text', () => {
  const images = { name: 'fashion-mnist', kind: 'image' as const, shape: [28, 28, 1], numClasses: 10 };
  const config = resolveFamilyConfig(attngan.settings!, attngan.defaults(images), { model: 'attngan' });
  assert.match(attngan.check(images, config) ?? '', /no captions.*captions:/);
  const source = squares(16, 1);
  assert.equal(attngan.check(source.info, config), null);
  assert.match(attngan.check({ ...source.info, shape: [24, 24, 3] }, config) ?? '', /power-of-two/);
  assert.match(attngan.check(source.info, { ...config, latentDim: 100 }) ?? '', /--latent-dim 100 must exceed --cond-dim 100/);
  assert.throws(() => requestCaptions(images, ['a red square'], 1), (e: unknown) => e instanceof UserError && /no captions/.test((e as Error).message));
  const nets = { generator: tfl.sequential({ layers: [tfl.layers.dense({ units: 1, inputShape: [1] })] }) };
  assert.throws(() => attngan.sample!(nets, { count: 1, seed: 0 }, { config, data: source.info }), (e: unknown) => e instanceof UserError && /--text/.test((e as Error).message));
  nets.generator.dispose();
});

test('attngan: G, the stage discriminators and the composed text model save and load with the same outputs', async (t) => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-attngan-'));
  t.after(() => fs.rm(tmp, { recursive: true, force: true }));
  const source = squares(16, 1);
  const config = resolveFamilyConfig(attngan.settings!, attngan.defaults(source.info), { model: 'attngan', ...TINY });
  const nets = attngan.build(source.info, config, new Rng(4));
  const run = { config, data: source.info };
  const composed = attngan.textGenerator!(nets, run);
  const captions = requestCaptions(source.info, ['a yellow square at the bottom left', 'one red block'], 2);
  const zs = tf.tensor2d(new Rng(5).normals(2 * 8), [2, 8]);
  const text = encodeText(nets.extra![TEXT_ENCODER], captions);
  const images = [tf.zeros([2, 8, 8, 3]), tf.ones([2, 16, 16, 3])];
  const cases: [string, tfl.LayersModel, tf.Tensor[]][] = [
    ['generator', nets.generator, [zs, text.sentence, text.words, text.mask]],
    ['discriminator', nets.discriminator!, [...images, text.sentence]],
    ['text', composed, [zs, tf.cast(captions.tokens, 'float32')]],
  ];
  for (const [name, model, inputs] of cases) {
    await saveModel(model, path.join(tmp, name));
    const loaded = await loadModel(path.join(tmp, name));
    tf.tidy(() => {
      const [a, b] = [model, loaded].map((m) => [m.apply(inputs, { training: false })].flat() as tf.Tensor[]);
      assert.equal(a.length, b.length, name);
      a.forEach((x, i) => assert.ok(tf.max(tf.abs(tf.sub(x, b[i]))).dataSync()[0] < 1e-6, `${name} output ${i}`));
    });
    loaded.dispose();
  }
  tf.dispose([zs, ...images, ...Object.values(text), captions.tokens, captions.lengths]);
  for (const [, m] of allNetworks(nets)) m.dispose();
});

test('attngan with --lambda-damsm 0 trains without the DAMSM term (the image encoder is not run)', () => {
  const source = squares(16, 1);
  const config = resolveFamilyConfig(attngan.settings!, attngan.defaults(source.info), { model: 'attngan', ...TINY, ...{ lambdaDamsm: 0 } });
  const state = freshState(attngan, source, config);
  const stats = [runStep(state), runStep(state)];
  assert.ok(stats.every((s) => !('loss/G_DAMSM' in s.extra!) && Number.isFinite(s.extra!['loss/G_GAN']) && Number.isFinite(s.lossG)));
  disposeState(state);
});
