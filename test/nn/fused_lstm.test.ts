// FusedLSTM, the text encoder's LSTM: inside tfjs-layers' Bidirectional over a masked embedding (padding at the end
// of each caption) it must give what Bidirectional(LSTM) gives with the same weights — outputs and every weight's
// gradient, with aten's one-kernel path against tfjs-layers' step chain on the cpu backend — keep LSTM's weight
// names, save and load, and run a forward+backward on aten without CPU fallbacks or leaked tensors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/backend/index.js';
import { FusedLSTM } from '../../src/nn/fused_lstm.js';
import { buildTextEncoder, encodeText } from '../../src/text/encoders.js';
import { Rng } from '../../src/util/rng.js';

await initBackend({ quiet: true });
const ATEN = tf.engine().registryFactory['aten'] !== undefined;
const { atenFallbackKernels } = ATEN
  ? (await import('tfjs-backend-aten' as string)) as { atenFallbackKernels(): string[] }
  : { atenFallbackKernels: () => [] as string[] };

const T = 6, VOCAB = 11, EMBED = 5, UNITS = 4;
// Caption lengths 6, 3, 1 and 0 (all padding): PAD = 0 fills each row's end.
const TOKENS = [[3, 1, 4, 1, 5, 9], [2, 6, 5, 0, 0, 0], [7, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]];

function encoder(fused: boolean, recurrentActivation: 'sigmoid' | 'hardSigmoid'): tfl.LayersModel {
  const tokens = tfl.input({ shape: [T] });
  const embedded = tfl.layers.embedding({ inputDim: VOCAB, outputDim: EMBED, maskZero: true, name: 'embed' }).apply(tokens);
  const args = { units: UNITS, returnSequences: true, recurrentActivation, recurrentInitializer: 'glorotUniform' as const, name: 'lstm' };
  const lstm = fused ? new FusedLSTM(args) : tfl.layers.lstm(args);
  const words = tfl.layers.bidirectional({ layer: lstm as tfl.RNN, mergeMode: 'concat', name: 'words' }).apply(embedded);
  return tfl.model({ inputs: tokens, outputs: words as tfl.SymbolicTensor });
}

function randomWeights(model: tfl.LayersModel, seed: number): Float32Array[] {
  const rng = new Rng(seed);
  return model.weights.map((w) => Float32Array.from({ length: (w.shape as number[]).reduce((a, b) => a * b, 1) }, () => 1.2 * (2 * rng.uniform() - 1)));
}

interface Run { y: number[]; grads: Record<string, number[]> }

/** Words [B, T, 2·UNITS] and the gradients of Σ words·r by weight name (names without tfjs's uniquifying suffix). */
function run(model: tfl.LayersModel, weights: Float32Array[]): Run {
  model.setWeights(weights.map((w, k) => tf.tensor(w, model.weights[k].shape as number[])));
  return tf.tidy(() => {
    const tokens = tf.tensor2d(TOKENS, [TOKENS.length, T]);
    const r = tf.tensor3d(Float32Array.from({ length: TOKENS.length * T * 2 * UNITS }, (_, i) => Math.sin(i)), [TOKENS.length, T, 2 * UNITS]);
    const y = Array.from((model.apply(tokens) as tf.Tensor).dataSync());
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(model.apply(tokens) as tf.Tensor, r)));
    const named = Object.fromEntries(Object.entries(grads).map(([name, g]) => [name.replace(/_\d+$/, ''), Array.from(g.dataSync())]));
    return { y, grads: named };
  });
}

function close(actual: number[], expected: number[], tol: number, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]) <= tol * Math.max(1, Math.abs(expected[i])), `${label}[${i}]: ${a} vs ${expected[i]}`));
}

for (const gates of ['sigmoid', 'hardSigmoid'] as const) {
  test(`FusedLSTM (${gates} gates) in Bidirectional = tfjs-layers' Bidirectional(LSTM) with the same weights, outputs and gradients`, async () => {
    await tf.setBackend('cpu');
    const reference = encoder(false, gates);
    const weights = randomWeights(reference, gates === 'sigmoid' ? 1 : 2);
    const expected = run(reference, weights);
    // Padding holds the state: the forward half repeats the last real word's output, the backward half is 0 there.
    const at = (b: number, t: number, k: number) => expected.y[(b * T + t) * 2 * UNITS + k];
    assert.equal(at(1, 5, 0), at(1, 2, 0));
    assert.equal(at(1, 5, UNITS), 0);
    assert.equal(at(3, 0, 0), 0);

    const backends = ['cpu', ...(ATEN ? ['aten'] : [])]; // cpu: FusedLSTM is LSTM's own chain there
    for (const backend of backends) {
      await tf.setBackend(backend);
      const fused = encoder(true, gates);
      assert.deepEqual(fused.weights.map((w) => w.originalName), reference.weights.map((w) => w.originalName));
      const got = run(fused, weights);
      close(got.y, expected.y, 1e-5, `${backend} words`);
      assert.deepEqual(Object.keys(got.grads).sort(), Object.keys(expected.grads).sort());
      for (const name of Object.keys(expected.grads)) close(got.grads[name], expected.grads[name], 1e-4, `${backend} d${name}`);
      fused.dispose();
    }
    reference.dispose();
  });
}

test('FusedLSTM saves as itself and loads back to the same outputs (Bidirectional rebuilds it by class name)', async () => {
  await tf.setBackend(ATEN ? 'aten' : 'cpu');
  const model = encoder(true, 'sigmoid');
  model.setWeights(randomWeights(model, 3).map((w, k) => tf.tensor(w, model.weights[k].shape as number[])));
  const artifacts: tf.io.ModelArtifacts[] = [];
  await model.save(tf.io.withSaveHandler(async (a) => { artifacts.push(a); return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }; }));
  assert.match(JSON.stringify(artifacts[0].modelTopology), /"class_name":"FusedLSTM"/);
  const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts[0]));
  const tokens = tf.tensor2d(TOKENS, [TOKENS.length, T]);
  close(Array.from((loaded.predict(tokens) as tf.Tensor).dataSync()), Array.from((model.predict(tokens) as tf.Tensor).dataSync()), 1e-6, 'loaded');
  tf.dispose(tokens);
  model.dispose();
  loaded.dispose();
});

test('[aten] a forward+backward through the fused encoder runs no CPU fallback kernel and keeps tensor counts flat', { skip: !ATEN }, async () => {
  await tf.setBackend('aten');
  const model = encoder(true, 'sigmoid');
  const tokens = tf.tensor2d(TOKENS, [TOKENS.length, T]);
  const before = new Set(atenFallbackKernels());
  const step = () => tf.tidy(() => tf.dispose(tf.variableGrads(() => tf.sum(model.apply(tokens) as tf.Tensor)).grads));
  step();
  const tensors = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) step();
  assert.equal(tf.memory().numTensors, tensors);
  assert.deepEqual(atenFallbackKernels().filter((k) => !before.has(k)), []);
  const profile = await tf.profile(() => tf.tidy(() => model.predict(tokens)));
  assert.ok(profile.kernels.filter((k) => k.name === 'LstmSequence').length === 2, 'one LstmSequence kernel per direction');
  assert.ok(profile.kernels.length < 20, `a forward is a handful of kernels, got ${profile.kernels.length}`);
  tf.dispose(tokens);
  model.dispose();
});

test('the text encoder (buildTextEncoder) runs FusedLSTM with sigmoid gates; its words agree on aten and cpu', async () => {
  const info = { vocab: ['<pad>', '<unk>', ...'abcdefghi'.split('')], maxLen: T, captions: 4, maxPerExample: 1 };
  const build = () => buildTextEncoder(info, { embedDim: EMBED, featureDim: 2 * UNITS }, new Rng(5));
  const text = { tokens: tf.tensor2d(TOKENS, [TOKENS.length, T], 'int32'), lengths: tf.tensor1d([6, 3, 1, 0], 'int32') };
  const words: number[][] = [];
  for (const backend of ['cpu', ...(ATEN ? ['aten'] : [])]) {
    await tf.setBackend(backend);
    const encoder = build(); // same seed, same weights
    const config = JSON.stringify(encoder.getLayer('words').getConfig());
    assert.match(config, /"className":"FusedLSTM"/);
    assert.match(config, /"recurrentActivation":"sigmoid"/);
    words.push(tf.tidy(() => Array.from(encodeText(encoder, text).words.dataSync())));
    encoder.dispose();
  }
  if (words.length === 2) close(words[1], words[0], 1e-5, 'aten words');
  tf.dispose(Object.values(text));
});
