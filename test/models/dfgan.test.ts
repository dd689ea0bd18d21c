import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.js';
import { getModel } from '../../src/models/registry.js';
import { dfganStep } from '../../src/models/dfgan.js';
import { resolveFamilyConfig, type RunConfig } from '../../src/gan/config.js';
import { disposeState, freshState, runStep } from '../../src/gan/training_step.js';
import { sampleFamily, latents } from '../../src/gan/sampling.js';
import { loadSamplingNetworks } from '../../src/gan/checkpoint.js';
import { startRun } from '../../src/run.js';
import { hinge } from '../../src/gan/losses.js';
import { matchingAwareGradientPenalty } from '../../src/gan/regularizers.js';
import { BatchStream } from '../../src/data/batches.js';
import type { DatasetInfo } from '../../src/data/types.js';
import { TEXT_ENCODER, encodeText } from '../../src/text/encoders.js';
import { rollBatch } from '../../src/text/conditioning.js';
import { UserError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { encodeSentences } from '../../src/data/tokenizer.js';
import type { GanNetworks } from '../../src/gan/family.js';
import { captionedSquares, runTextEncoderOnce } from './captioned_squares.js';

const backend = await initBackend({ quiet: true });
const aten = backend.name === 'aten' ? (await import('tfjs-backend-aten' as string)) as { atenFallbackKernels(): string[] } : null;
if (aten) runTextEncoderOnce();
const fallbackBefore = aten?.atenFallbackKernels() ?? []; // after the text encoder's own (see runTextEncoderOnce)

const small = { width: 4, batchSize: 4, latentDim: 8, wordDim: 8, textDim: 8 };
function configFor(info: DatasetInfo, overrides: Record<string, unknown> = {}): RunConfig {
  const family = getModel('dfgan');
  return resolveFamilyConfig(family.settings ?? {}, family.defaults(info), { model: 'dfgan', seed: 3, steps: 10, ...small, ...overrides } as Partial<RunConfig>);
}
const weightsOf = (m: { getWeights(): tf.Tensor[] }) => m.getWeights().map((w) => Array.from(w.dataSync()));
const same = (x: number[][], y: number[][]) => x.every((w, i) => w.every((v, j) => v === y[i][j]));
const close = (a: number, b: number, rel: number) => Math.abs(a - b) <= rel * Math.max(1, Math.abs(b));


/** The family's composed browser model on z and the sentences' token ids, against what `sample` drew from the same seed. */
function assertTextGeneratorMatches(name: string, nets: GanNetworks, run: { config: RunConfig; data: DatasetInfo }, request: { count: number; seed: number; text: string[] }, want: Float32Array): void {
  const model = getModel(name).textGenerator!(nets, run);
  const sentences = Array.from({ length: request.count }, (_, i) => request.text[i % request.text.length]);
  const { tokens } = encodeSentences(run.data.text!.vocab, run.data.text!.maxLen, sentences);
  const got = tf.tidy(() => {
    const z = latents(new Rng(request.seed), request.count, run.config.latentDim);
    return Array.from((model.apply([z, tf.tensor2d(Float32Array.from(tokens), [request.count, run.data.text!.maxLen])]) as tf.Tensor).dataSync());
  });
  const worst = got.reduce((m, v, i) => Math.max(m, Math.abs(v - want[i])), 0);
  assert.ok(got.length === want.length && worst < 1e-4, `${name}: the composed text model differs from sample by ${worst}`);
}

test('dfgan trains on captions: tensor count flat, losses finite, the text encoder frozen, no CPU fallback on aten; sample draws from sentences', () => {
  const source = captionedSquares(16);
  const family = getModel('dfgan');
  const config = configFor(source.info);
  assert.equal(family.check(source.info, config), null);
  const state = freshState(family, source, config);
  try {
    const encoder = state.nets.extra![TEXT_ENCODER];
    const [enc0, g0] = [weightsOf(encoder), weightsOf(state.nets.generator)];
    let settled = -1;
    const stats = [];
    for (let i = 0; i < 5; i++) {
      stats.push(runStep(state));
      if (i === 1) settled = tf.memory().numTensors;
    }
    assert.equal(tf.memory().numTensors, settled, 'no tensors leak');
    for (const { extra, ...s } of stats) for (const [k, v] of Object.entries({ ...s, ...extra })) assert.ok(Number.isFinite(v), `${k} = ${v}`);
    assert.ok(stats.every((s) => s.extra!['reg/magp'] > 0 && s.extra!['loss/D_mismatch'] >= 0));
    assert.ok(same(enc0, weightsOf(encoder)), 'the text encoder is in no player');
    assert.ok(!same(g0, weightsOf(state.nets.generator)), 'G moved');
    if (aten) assert.deepEqual(aten.atenFallbackKernels().filter((k) => !fallbackBefore.includes(k)), [], 'kernels that fell back to the CPU in dfgan steps');

    // Sampling: the request's sentences, z from its seed; the same request gives the same images.
    const run = { config, data: source.info };
    const before = tf.memory().numTensors;
    const a = sampleFamily(family, state.nets, { count: 3, seed: 4, text: ['a red square', 'a blue square'] }, run);
    const again = sampleFamily(family, state.nets, { count: 3, seed: 4, text: ['a red square', 'a blue square'] }, run);
    const swapped = sampleFamily(family, state.nets, { count: 3, seed: 4, text: ['a blue square', 'a red square'] }, run);
    assert.equal(tf.memory().numTensors, before, 'sampling frees what it makes');
    assert.deepEqual([a.count, a.shape], [3, [16, 16, 3]]);
    assert.deepEqual(Array.from(a.values), Array.from(again.values));
    const first = (r: typeof a) => Array.from(r.values.slice(0, 16 * 16 * 3));
    assert.notDeepEqual(first(a), first(swapped), 'the sentence changes the image');
    assert.throws(() => sampleFamily(family, state.nets, { count: 2, seed: 4 }, run), (e: Error) => e instanceof UserError && /--text/.test(e.message));

    // The progress grid: a row per probe caption, its real image then four draws.
    const probe = { z: latents(new Rng(1), 64, config.latentDim), batch: new BatchStream(source, { batchSize: 4, shuffle: false }).next() };
    const grid = family.picture!(state.nets, probe, run);
    assert.deepEqual([grid.count, grid.cols, grid.values.length], [20, 5, 20 * 16 * 16 * 3]);
    tf.dispose([probe.z, probe.batch.x, probe.batch.text!.tokens, probe.batch.text!.lengths]);
  } finally {
    disposeState(state);
  }
});

test("dfgan's D loss is the hinge with mismatched texts (weights 1, ½, ½, captions rolled by one) plus MA-GP, G's −E[D(G(z, e), e)]: against a direct computation", () => {
  const source = captionedSquares(8);
  const config = configFor(source.info);
  const nets = getModel('dfgan').build(source.info, config, new Rng(5));
  const tokens = tf.tensor2d(source.captions!.tokens.slice(0, 4 * 6), [4, 6], 'int32');
  const text = { tokens, lengths: tf.tensor1d(source.captions!.lengths.slice(0, 4), 'int32') };
  const real = tf.randomUniform([4, 16, 16, 3], -1, 1, 'float32', 1);
  const z = tf.randomNormal([4, 8], 0, 1, 'float32', 2) as tf.Tensor2D;
  const D = (x: tf.Tensor, e: tf.Tensor) => nets.discriminator!.apply([x, e], { training: true }) as tf.Tensor;
  const e = tf.tidy(() => encodeText(nets.extra![TEXT_ENCODER], text).sentence);
  const fake = tf.tidy(() => nets.generator.apply([z, e]) as tf.Tensor);
  const directLossD = () => {
    const eHat = tf.gather(e, [1, 2, 3, 0]); // each image with the next example's caption
    const [gx, ge] = tf.grads((x: tf.Tensor, s: tf.Tensor) => tf.sum(D(x, s)))([real, e]);
    const sq = tf.add(tf.sum(tf.square(tf.reshape(gx, [4, -1])), 1), tf.sum(tf.square(ge), 1));
    const gp = tf.mul(2, tf.mean(tf.pow(sq, 3)));
    return tf.addN([tf.mean(tf.relu(tf.sub(1, D(real, e)))), tf.mul(0.5, tf.mean(tf.relu(tf.add(1, D(real, eHat))))), tf.mul(0.5, tf.mean(tf.relu(tf.add(1, D(fake, e))))), gp]) as tf.Scalar;
  };
  const dVars = nets.discriminator!.trainableWeights.map((w) => w.read() as tf.Variable);
  const wantD = tf.tidy(() => directLossD().dataSync()[0]);
  const wantG = tf.tidy(() => -tf.mean(D(fake, e)).dataSync()[0]);
  const { grads } = tf.variableGrads(directLossD, dVars);
  const step = (lrD: number) => dfganStep({
    nets, opt: { g: tf.train.sgd(0), d: tf.train.sgd(lrD) }, loss: hinge, config, data: source.info, condition: 'text', step: 0, real, text, z,
    nextBatch: () => { throw new Error('one batch'); }, latents: () => { throw new Error('one batch'); }, rng: new Rng(1),
  });
  // Learning rate 0: the step's losses are read at the weights above.
  const stats = step(0);
  assert.ok(close(stats.lossD!, wantD, 1e-4), `L_D ${stats.lossD} vs ${wantD}`);
  assert.ok(close(stats.lossG, wantG, 1e-4), `L_G ${stats.lossG} vs ${wantG}`);
  // SGD at rate 1: D's update is −∇L_D of the direct computation (the MA-GP's logits reused for the real term included).
  const before = dVars.map((v) => Array.from(v.dataSync()));
  step(1);
  let worst = 0;
  dVars.forEach((v, i) => {
    const g = grads[v.name].dataSync();
    Array.from(v.dataSync()).forEach((w, j) => (worst = Math.max(worst, Math.abs(before[i][j] - w - g[j]) / (1e-3 + Math.abs(g[j])))));
  });
  assert.ok(worst < 1e-2, `D's update differs from −∇L_D by a relative ${worst}`);
  assert.ok(dVars.some((v) => Array.from(grads[v.name].dataSync()).some((g) => g !== 0)), 'the gradient is not all zero');
  tf.dispose([e, fake, ...Object.values(grads)]);
  tf.dispose([tokens, text.lengths, real, z]);
  for (const m of [nets.generator, nets.discriminator!, ...Object.values(nets.extra!)]) m.dispose();
});

test('MA-GP: k·E[(‖∇ₓD‖² + ‖∇ₑD‖²)^(p/2)] against its closed form, and its gradient in D\'s weights against finite differences', () => {
  // D(x, e) = a·Σx² + e·v per example: ∇ₓD = 2a·x, ∇ₑD = v.
  const x = tf.tensor4d([0.3, -0.2, 0.1, 0.4, -0.1, 0.2, 0.05, -0.3], [2, 2, 2, 1]);
  const e = tf.tensor2d([0.5, -0.1, 0.2, 0.3], [2, 2]);
  const v = tf.tensor1d([0.4, -0.6]);
  const penaltyAt = (a: tf.Scalar) => {
    const critic = (xx: tf.Tensor, ee: tf.Tensor) => tf.add(tf.mul(a, tf.sum(tf.square(tf.reshape(xx, [2, -1])), 1, true)), tf.matMul(ee as tf.Tensor2D, tf.reshape(v, [2, 1])));
    const { penalty, logits } = matchingAwareGradientPenalty(critic, x, e, 2, 6);
    logits.dispose();
    return penalty;
  };
  const a = 0.7;
  const xs = x.arraySync().map((img) => img.flat(2));
  const vv = 0.4 ** 2 + 0.6 ** 2;
  const want = 2 * xs.map((px) => (4 * a * a * px.reduce((s, p) => s + p * p, 0) + vv) ** 3).reduce((s, t) => s + t, 0) / 2;
  const got = tf.tidy(() => penaltyAt(tf.scalar(a)).dataSync()[0]);
  assert.ok(close(got, want, 1e-5), `penalty ${got} vs ${want}`);
  const analytic = tf.tidy(() => tf.grad((aa: tf.Tensor) => penaltyAt(aa as tf.Scalar))(tf.scalar(a)).dataSync()[0]);
  const h = 1e-2;
  const numeric = tf.tidy(() => (penaltyAt(tf.scalar(a + h)).dataSync()[0] - penaltyAt(tf.scalar(a - h)).dataSync()[0]) / (2 * h));
  assert.ok(close(analytic, numeric, 2e-3), `∂penalty/∂a ${analytic} vs finite differences ${numeric}`);
  tf.dispose([x, e, v]);
});

test("MA-GP's gradient through an average pool (DF-GAN D's shortcut; AvgPoolGrad's own gradient) against finite differences", () => {
  const x = tf.randomUniform([2, 4, 4, 1], -1, 1, 'float32', 7);
  const e = tf.tensor2d([0.5, -0.1, 0.2, 0.3], [2, 2]);
  // D(x, e) = Σ avgPool₂ₓ₂(a·x)² + Σe: ∇ₓD = a·AvgPoolGrad(2·avgPool(a·x)), so ∂penalty/∂a differentiates AvgPoolGrad.
  const penaltyAt = (a: tf.Scalar) => {
    const critic = (xx: tf.Tensor, ee: tf.Tensor) => tf.add(tf.sum(tf.square(tf.avgPool(tf.mul(a, xx) as tf.Tensor4D, 2, 2, 'valid')), [1, 2, 3]), tf.sum(ee, 1));
    const { penalty, logits } = matchingAwareGradientPenalty(critic, x, e, 2, 6);
    logits.dispose();
    return penalty;
  };
  const a = 1.3;
  const analytic = tf.tidy(() => tf.grad((aa: tf.Tensor) => penaltyAt(aa as tf.Scalar))(tf.scalar(a)).dataSync()[0]);
  const h = 1e-2;
  const numeric = tf.tidy(() => (penaltyAt(tf.scalar(a + h)).dataSync()[0] - penaltyAt(tf.scalar(a - h)).dataSync()[0]) / (2 * h));
  assert.ok(Math.abs(analytic) > 1e-3 && close(analytic, numeric, 2e-3), `∂penalty/∂a ${analytic} vs finite differences ${numeric}`);
  tf.dispose([x, e]);
});

test('rollBatch gives each example the next one\'s row (the mismatched captions)', () => {
  const x = tf.tensor2d([[1, 1], [2, 2], [3, 3]]);
  const rolled = rollBatch(x);
  assert.deepEqual(rolled.arraySync(), [[2, 2], [3, 3], [1, 1]]);
  tf.dispose([x, rolled]);
});

test('dfgan refuses data without captions, with a sentence saying what to use', () => {
  const family = getModel('dfgan');
  const plain: DatasetInfo = { name: 'squares', kind: 'image', shape: [16, 16, 3], count: 8 };
  const why = family.check(plain, configFor(captionedSquares(2).info));
  assert.match(why ?? '', /no captions.*captions:/);
  const odd = { ...captionedSquares(2).info, shape: [12, 16, 3] };
  assert.match(family.check(odd, configFor(odd)) ?? '', /square images/);
});

test('a dfgan run checkpoints its networks, text encoder included, and its checkpoint samples what the run does', async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-dfgan-'));
  try {
    const source = captionedSquares(8);
    const run = await startRun({ model: 'dfgan', ...small, seed: 2, steps: 2, sampleEvery: 2, checkpointEvery: 2, textEncoderSteps: 0, out: tmp } as Partial<RunConfig>, { source });
    await run.train();
    const request = { count: 2, seed: 1, text: ['a red square', 'a blue box'] };
    const want = sampleFamily(getModel('dfgan'), run.parts.nets, request, { config: run.parts.config, data: source.info });
    run.dispose();
    await fs.access(path.join(tmp, 'final.png'));
    const { state, nets } = await loadSamplingNetworks(tmp);
    assert.ok(nets.extra?.[TEXT_ENCODER], 'the text encoder is saved with the run');
    const got = sampleFamily(getModel('dfgan'), nets, request, { config: state.config, data: state.data });
    assert.deepEqual(Array.from(got.values), Array.from(want.values));
    assertTextGeneratorMatches('dfgan', nets, { config: state.config, data: state.data }, request, got.values);
    for (const m of [nets.generator, nets.discriminator, ...Object.values(nets.extra ?? {})]) m?.dispose();
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});
