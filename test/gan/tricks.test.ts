import { test } from 'node:test';
import assert from 'node:assert/strict';
import '@tensorflow/tfjs-layers'; // registers gradients for tf.grad / optimizer.minimize in Node
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../../src/backend/index.js';
import { nonSaturating, minimax, leastSquares, wasserstein, hinge } from '../../src/gan/losses.js';
import { resolveConfig, validatePartialConfig } from '../../src/gan/config.js';
import {
  addInstanceNoise, copyNetwork, diffAugment, featureMatchingLoss, featureModel, historicalPenalty, instanceNoiseSigma,
  minimizeClipped, smoothLabels, updateEma, updateHistoricalAverage, trickProblem,
} from '../../src/gan/tricks/index.js';
import { MinibatchDiscrimination, MinibatchStddev } from '../../src/nn/minibatch.js';
import { loadModel, saveModel } from '../../src/gan/model_io.js';
import { startRun, resumeRun } from '../../src/run.js';
import { loadGenerator } from '../../src/gan/checkpoint.js';
import { EMA_GENERATOR } from '../../src/gan/family.js';
import { generate, latents } from '../../src/gan/sampling.js';
import { sampleCommand } from '../../src/cli/commands.js';
import { UserError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';

await initBackend({ quiet: true, prefer: 'cpu' });

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-tricks-'));
test.after(() => fs.rm(tmp, { recursive: true, force: true }));

function value(t: tf.Tensor): number {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
}

function close(actual: number, expected: number, what: string, tol = 1e-5) {
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what}: got ${actual}, want ${expected}`);
}

test('label smoothing adds exactly α·mean(real logits) to the BCE D loss, moves the LS target, leaves G alone', () => {
  const real = tf.tensor2d([[2], [-1], [0.5], [30]]);
  const fake = tf.tensor2d([[-3], [1], [0], [-40]]);
  const meanReal = (2 - 1 + 0.5 + 30) / 4;
  for (const loss of [nonSaturating, minimax]) {
    const smoothed = smoothLabels(loss, 0.1);
    close(value(smoothed.d(real, fake)) - value(loss.d(real, fake)), 0.1 * meanReal, `${loss.name}: Δ loss D`, 1e-4);
    close(value(smoothed.g(fake, real)), value(loss.g(fake, real)), `${loss.name}: G loss unchanged`);
  }
  // Least squares: ½ mean((r − 0.9)²) + ½ mean(f²).
  const ls = tf.tidy(() => 0.5 * (tf.mean(tf.square(tf.sub(real, 0.9))).dataSync()[0] + tf.mean(tf.square(fake)).dataSync()[0]));
  close(value(smoothLabels(leastSquares, 0.1).d(real, fake)), ls, 'least-squares with target 0.9');
  assert.equal(smoothLabels(wasserstein, 0), wasserstein, 'α = 0 is the loss itself');
  assert.throws(() => smoothLabels(hinge, 0.1), /--label-smoothing needs a loss with a real target/);
  tf.dispose([real, fake]);
});

test('trick settings are validated at the edge, errors naming the flag; all default to off', () => {
  assert.throws(() => validatePartialConfig({ labelSmoothing: 1 }, 'flags'), /--label-smoothing/);
  assert.throws(() => validatePartialConfig({ diffAugment: 'translation,rotate' }, 'flags'), /--diff-augment.*translation, cutout, color/);
  assert.throws(() => validatePartialConfig({ emaDecay: 1 }, 'flags'), /--ema-decay/);
  assert.throws(() => validatePartialConfig({ minibatchStddev: 1.5 }, 'flags'), /--minibatch-stddev/);
  assert.throws(() => resolveConfig({ loss: 'wasserstein', labelSmoothing: 0.1 }), /--label-smoothing .* --loss wasserstein has none/);
  const d = resolveConfig();
  assert.deepEqual(
    [d.labelSmoothing, d.instanceNoise, d.featureMatching, d.minibatchDiscrimination, d.minibatchStddev, d.historicalAveraging, d.historicalAveragingG, d.emaDecay, d.diffAugment, d.gradClip],
    [0, 0, 0, 0, 0, 0, 0, 0, '', 0],
  );
  assert.match(trickProblem({ name: 'toy:ring8', kind: 'points', shape: [2] }, resolveConfig({ diffAugment: 'color' })) ?? '', /--diff-augment augments images/);
});

test('EMA of weights equals the closed-form average after k steps; batch-norm statistics are copied', () => {
  const g = tfl.sequential();
  g.add(tfl.layers.dense({ inputShape: [2], units: 2, kernelInitializer: 'ones', biasInitializer: 'zeros' }));
  g.add(tfl.layers.batchNormalization());
  const ema = copyNetwork(g, 'ema');
  const decay = 0.9;
  const seq = [3, -1, 5]; // G's kernel is set to c·1 at each step
  for (const c of seq) {
    const w = g.getWeights();
    g.setWeights([tf.fill([2, 2], c), ...w.slice(1, 4), tf.fill([2], c), w[5]]); // kernel and moving mean move
    updateEma(ema, g, decay);
  }
  // θ_ema after k steps = β^k θ₀ + Σᵢ (1 − β) β^(k−i) θᵢ with θ₀ = 1.
  let expected = 1;
  for (const c of seq) expected = decay * expected + (1 - decay) * c;
  const [kernel, , , , movingMean] = ema.getWeights();
  close(kernel.dataSync()[0], expected, 'EMA kernel');
  assert.notEqual(kernel.dataSync()[0], 5, 'the EMA lags the raw weights');
  close(movingMean.dataSync()[0], 5, 'moving mean copied, not averaged');
  assert.equal(ema.trainableWeights.length, 0, 'no optimizer can move the copy');
  g.dispose();
  ema.dispose();
});

test('instance noise σ anneals linearly or exponentially from σ₀ to 0, and noise of that σ is added', () => {
  const lin = [0, 250, 500, 1000, 2000].map((s) => instanceNoiseSigma(s, 0.2, 1000, 'linear'));
  [0.2, 0.15, 0.1, 0, 0].forEach((v, i) => close(lin[i], v, `linear σ[${i}]`, 1e-9));
  assert.equal(lin[3], 0, 'exactly 0 at the end');
  const exp = [0, 100, 500, 900, 1000].map((s) => instanceNoiseSigma(s, 0.2, 1000, 'exponential'));
  close(exp[0], 0.2, 'exponential starts at σ₀');
  assert.equal(exp[4], 0, 'exponential ends at 0');
  assert.ok(exp.every((v, i) => i === 0 || v < exp[i - 1]), `decreasing: ${exp}`);
  assert.ok(exp[2] < 0.1, 'exponential falls faster than linear early on');
  const x = tf.zeros([200, 50]);
  const noisy = addInstanceNoise(x, 0.3, new Rng(1));
  close(value(tf.moments(noisy).variance), 0.09, 'noise variance', 0.05);
  assert.equal(addInstanceNoise(x, 0, new Rng(1)), x, 'σ = 0 adds nothing');
  tf.dispose([x, noisy]);
});

test('feature matching: 0 when real and fake features agree, ‖Δmean‖² otherwise; features = input of D\'s last dense', () => {
  const f = tf.randomNormal([6, 4], 0, 1, 'float32', 3);
  close(value(featureMatchingLoss(f, f)), 0, 'same features');
  const shifted = tf.add(f, tf.tensor1d([1, 0, -2, 0]));
  close(value(featureMatchingLoss(f, shifted)), 5, 'means differ by (1, 0, −2, 0)');
  const d = tfl.sequential();
  d.add(tfl.layers.dense({ inputShape: [3], units: 7 }));
  d.add(tfl.layers.leakyReLU());
  d.add(tfl.layers.dense({ units: 1 }));
  const features = featureModel(d);
  assert.deepEqual(features.outputs[0].shape, [null, 7]);
  assert.equal(featureModel(d), features, 'cached per D');
  tf.dispose([f, shifted]);
  d.dispose();
});

test('minibatch stddev appends the hand-computed group spread; works on [B, H, W, C] too', () => {
  // Groups of 2 pair rows (0, 2) and (1, 3): spreads (1, 2) → 1.5 and (1, 1) → 1.
  const x = tf.tensor2d([[0, 0], [1, 1], [2, 4], [3, 3]]);
  const y = new MinibatchStddev({ groupSize: 2 }).apply(x) as tf.Tensor;
  const got = Array.from(y.dataSync());
  const want = [0, 0, 1.5, 1, 1, 1, 2, 4, 1.5, 3, 3, 1];
  got.forEach((v, i) => close(v, want[i], `out[${i}]`, 1e-4));
  const img = tf.randomNormal([4, 3, 3, 2], 0, 1, 'float32', 4);
  const yi = new MinibatchStddev({ groupSize: 4 }).apply(img) as tf.Tensor;
  assert.deepEqual(yi.shape, [4, 3, 3, 3]);
  tf.dispose([x, y, img, yi]);
});

test('minibatch discrimination: [B, A] → [B, A + K]; identical samples give o = B − 1, distinct ones less; it survives save/load', async () => {
  const layer = new MinibatchDiscrimination({ kernels: 3, kernelDim: 5, seed: 2 });
  const same = tf.ones([4, 6]);
  const out = layer.apply(same) as tf.Tensor;
  assert.deepEqual(out.shape, [4, 9]);
  const o = tf.slice(out, [0, 6], [-1, 3]);
  Array.from(o.dataSync()).forEach((v) => close(v, 3, 'o of identical samples'));
  const spread = tf.mul(tf.randomNormal([4, 6], 0, 1, 'float32', 5), 10);
  const oSpread = tf.slice(layer.apply(spread) as tf.Tensor, [0, 6], [-1, 3]);
  assert.ok(Array.from(oSpread.dataSync()).every((v) => v < 2.9), `distinct samples: ${oSpread.dataSync()}`);

  const d = tfl.sequential();
  d.add(tfl.layers.dense({ inputShape: [6], units: 4 }));
  d.add(new MinibatchDiscrimination({ kernels: 2, kernelDim: 5, seed: 3 }));
  d.add(new MinibatchStddev({ groupSize: 2 }));
  d.add(tfl.layers.dense({ units: 1 }));
  const dir = path.join(tmp, 'mbd');
  await saveModel(d, dir);
  const loaded = await loadModel(dir);
  const a = d.predict(spread) as tf.Tensor;
  const b = loaded.predict(spread) as tf.Tensor;
  assert.deepEqual(Array.from(b.dataSync()), Array.from(a.dataSync()));
  tf.dispose([same, out, o, spread, oSpread, a, b]);
  d.dispose();
  loaded.dispose();
});

test('historical averaging: penalty 0 at the first step, grows as weights move; the average is the running mean', () => {
  const d = tfl.sequential();
  d.add(tfl.layers.dense({ inputShape: [2], units: 1, kernelInitializer: 'zeros', biasInitializer: 'zeros' }));
  const avg = copyNetwork(d, 'avg');
  close(value(historicalPenalty(d, avg, 2)), 0, 'first step');
  const moveTo = (c: number) => d.setWeights([tf.fill([2, 1], c), tf.fill([1], c)]);
  moveTo(1);
  close(value(historicalPenalty(d, avg, 2)), 2 * 3, 'w·‖θ − θ̄‖² over kernel (2) and bias (1)');
  moveTo(3);
  close(value(historicalPenalty(d, avg, 2)), 2 * 27, 'larger move, larger penalty');
  // Running mean of θ₀ = 0, θ₁ = 3, θ₂ = 6.
  updateHistoricalAverage(avg, d, 1);
  moveTo(6);
  updateHistoricalAverage(avg, d, 2);
  close(avg.getWeights()[0].dataSync()[0], 3, 'mean of 0, 3, 6');
  d.dispose();
  avg.dispose();
});

test('DiffAugment: translation and cutout change images, gradients flow through every policy; points are refused', () => {
  const x = tf.randomUniform([3, 16, 16, 1], -1, 1, 'float32', 6);
  for (const policy of ['translation', 'cutout', 'color'] as const) {
    const y = diffAugment(x, [policy], new Rng(11));
    assert.deepEqual(y.shape, x.shape);
    assert.ok(value(tf.max(tf.abs(tf.sub(y, x)))) > 0, `${policy} changes the batch`);
    y.dispose();
    const w = tf.randomNormal([3, 16, 16, 1], 0, 1, 'float32', 7);
    const g = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(diffAugment(xx, [policy], new Rng(11)), w)))(x);
    assert.ok(value(tf.sum(tf.abs(g))) > 0, `${policy}: gradient reaches the input`);
    tf.dispose([w, g]);
  }
  // Translation is a pure shift: every output pixel is an input pixel of the same image or zero fill.
  const t = diffAugment(x, ['translation'], new Rng(12));
  const src = new Set(Array.from(x.dataSync()));
  assert.ok(Array.from(t.dataSync()).every((v) => v === 0 || src.has(v)));
  assert.throws(() => diffAugment(tf.zeros([4, 2]), ['color'], new Rng(1)), /--diff-augment works on images/);
  tf.dispose([x, t]);
});

test('gradient clipping bounds the applied update to the clip norm and leaves small gradients alone', () => {
  const v = tf.variable(tf.tensor1d([0, 0, 0]));
  const sgd = tf.train.sgd(1);
  const target = tf.tensor1d([30, 40, 0]); // ∇ of ½‖v − t‖² at 0 is −t, norm 50
  const f = () => tf.mul(0.5, tf.sum(tf.square(tf.sub(v, target)))) as tf.Scalar;
  const { value: loss, norm } = minimizeClipped(sgd, f, [v], 5);
  close(norm, 50, 'norm before clipping');
  const step = Array.from(v.dataSync());
  close(Math.hypot(...step), 5, 'applied norm');
  close(step[0] / step[1], 0.75, 'direction kept');
  v.assign(tf.tensor1d([29.9, 40, 0]));
  minimizeClipped(sgd, f, [v], 5).value.dispose();
  close(v.dataSync()[0], 30, 'a gradient under the bound is applied as is');
  tf.dispose([v, target, loss]);
  sgd.dispose();
});

async function rejectsUser(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof UserError && pattern.test(e.message));
}

test('the EMA copy of G is created at start, survives checkpoint/resume, and `sample` uses it (--raw: G itself)', async () => {
  const out = path.join(tmp, 'ema-run');
  const cfg = { model: 'vanilla', data: 'toy:ring8', steps: 3, batchSize: 16, hidden: 8, latentDim: 4, sampleEvery: 0, logEvery: 1, checkpointEvery: 0, emaDecay: 0.9, out };
  const trainer = await startRun(cfg);
  assert.ok(trainer.parts.nets.extra?.[EMA_GENERATOR], 'startRun builds the EMA copy');
  await trainer.train();
  const z = latents(new Rng(3), 8, 4);
  const emaOut = generate(trainer.parts.nets.extra![EMA_GENERATOR], z);
  const rawOut = generate(trainer.parts.nets.generator, z);
  assert.notDeepEqual(emaOut, rawOut, 'the EMA lags G');
  trainer.dispose();

  const resumed = await resumeRun(out, { steps: 4 });
  assert.deepEqual(generate(resumed.parts.nets.extra![EMA_GENERATOR], z), emaOut, 'resume restores the EMA weights');
  resumed.dispose();

  const { ema, generator } = await loadGenerator(out);
  assert.equal(ema, true);
  generator.dispose();
  for (const raw of [false, true]) {
    const file = path.join(tmp, `s-${raw}.npy`);
    await sampleCommand(out, { count: 8, seed: 3, out: file, raw });
    const bytes = await fs.readFile(file);
    const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset + bytes.length - 64, bytes.byteOffset + bytes.length));
    const { generator: g } = await loadGenerator(out, { raw });
    assert.deepEqual(values, generate(g, z), raw ? '--raw samples G' : 'sample uses the EMA copy');
    g.dispose();
  }
  // cgan's D has no minibatch layers, so it does not honour the setting: refused before anything is written.
  await rejectsUser(startRun({ ...cfg, out: path.join(tmp, 'cgan-mbs'), model: 'cgan', minibatchStddev: 4 }), /--minibatch-stddev: cgan does not use/);
  z.dispose();
});
