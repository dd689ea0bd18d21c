// The biggan family: its step against the algorithm (order of updates, hinge values from D's own logits), the
// orthogonal regulariser's gradient against its closed form, the EMA's start and decay, the truncation trick,
// standing statistics against batch moments computed directly, class-conditional and unconditional runs, exact
// resume, flat tensor counts, no aten fallback kernels, and a short run through the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/backend/index.js';
import { biggan, BIGGAN_SETTINGS, orthoRegularized, type BigGanSettings } from '../../src/models/biggan.js';
import { resolveFamilyConfig, type RunConfig } from '../../src/gan/config.js';
import { EMA_GENERATOR, discriminatorOf } from '../../src/gan/family.js';
import { dOptimizer } from '../../src/gan/optimizers.js';
import { disposeState, freshState, runStep, type StepState } from '../../src/gan/training_step.js';
import { oneHotLabels, sampleFamily, truncatedLatents } from '../../src/gan/sampling.js';
import { pairedWeights } from '../../src/gan/tricks/copies.js';
import { movingStatistics, withStandingStatistics } from '../../src/nn/standing_stats.js';
import { checkResumesExactly, movedAfterCut } from './resume_check.js';
import type { ArraySource } from '../../src/data/types.js';
import { Rng } from '../../src/util/rng.js';
import { writeImage } from '../data/image_fixtures.js';
import { ok } from '../cli/helpers.js';

const info = await initBackend({ quiet: true });
const aten = info.name === 'aten' ? (await import('tfjs-backend-aten' as string)) as { atenFallbackKernels(): string[] } : null;

const CLASSES = 4;

/** n 32×32 RGB images of k classes: a class's images share a colour, plus noise; labels i mod k (or none). */
function squares(n = 16, k = CLASSES): ArraySource {
  const rng = new Rng(9);
  const values = new Uint8Array(n * 32 * 32 * 3);
  for (let i = 0; i < n; i++) for (let p = 0; p < 32 * 32 * 3; p++) values[i * 32 * 32 * 3 + p] = ((i % Math.max(k, 1)) * 60 + (p % 3) * 40 + rng.int(40)) % 256;
  const labels = k > 0 ? Int32Array.from({ length: n }, (_, i) => i % k) : undefined;
  return {
    kind: 'array', count: n, values, ...(labels ? { labels } : {}),
    info: { name: k > 0 ? 'squares' : 'squares-unlabelled', kind: 'image', shape: [32, 32, 3], count: n, ...(k > 0 ? { numClasses: k } : {}) },
  };
}

/** A tiny BigGAN run's config (ch 2: 8 channels per block; z of 16 = 4 chunks of 4). */
function configFor(source: ArraySource, over: Partial<RunConfig & BigGanSettings> = {}): RunConfig {
  const config = resolveFamilyConfig(BIGGAN_SETTINGS, biggan.defaults(source.info), { model: 'biggan', seed: 1, width: 2, batchSize: 4, latentDim: 16, nCritic: 2, steps: 100, ...over } as Partial<RunConfig>);
  assert.equal(biggan.check(source.info, config), null);
  return config;
}

function stateFor(source: ArraySource, over: Partial<RunConfig & BigGanSettings> = {}): StepState {
  return freshState(biggan, source, configFor(source, over));
}

const values = (t: tf.Tensor) => Float32Array.from(t.dataSync());
const mean = (xs: ArrayLike<number>) => Array.from(xs).reduce((a, b) => a + b, 0) / xs.length;
const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

/** Replace a model's apply with one that also reports each call (the model still computes as before). */
function spyApply(model: tfl.LayersModel, onCall: (out: tf.Tensor, inputs: tf.Tensor | tf.Tensor[]) => void): void {
  const apply = model.apply.bind(model);
  (model as unknown as { apply: (x: tf.Tensor | tf.Tensor[], kwargs?: object) => tf.Tensor }).apply = (x, kwargs) => {
    const out = apply(x, kwargs) as tf.Tensor;
    onCall(out, x);
    return out;
  };
}

/** Record each call of an optimizer's applyGradients (every update of that player goes through it) and its gradients. */
function spyUpdates(o: tf.Optimizer, name: string, calls: string[], grads?: Map<string, Float32Array>): void {
  const apply = o.applyGradients.bind(o);
  o.applyGradients = (g) => {
    calls.push(`update ${name}`);
    // minimize passes a map by variable name; an array of {name, tensor} is the other form applyGradients takes.
    const named = Array.isArray(g) ? g.map(({ name, tensor }) => [name, tensor] as const) : Object.entries(g as tf.NamedTensorMap);
    if (grads) for (const [k, t] of named) grads.set(k, values(t));
    return apply(g);
  };
}

test('biggan defaults: the CIFAR script (hinge, n_D 4, Adam 2e-4/2e-4, β (0, 0.999), batch 50, ch 64, z 128, no attention, EMA 0.9999 from 1000, no ortho); --attention and --latent-dim checked', () => {
  const image = squares().info;
  const d = biggan.defaults(image);
  assert.deepEqual([d.loss, d.nCritic, d.lrG, d.lrD, d.beta1, d.beta2, d.batchSize, d.width, d.latentDim], ['hinge', 4, 2e-4, 2e-4, 0, 0.999, 50, 64, 128]);
  const config = resolveFamilyConfig(BIGGAN_SETTINGS, d);
  assert.deepEqual([settings(config).attention, settings(config).gEmaDecay, settings(config).gEmaStart, settings(config).orthoReg], [0, 0.9999, 1000, 0]);
  assert.equal(biggan.truncation, 'z');
  assert.match(biggan.check(image, { ...config, attention: 32 } as RunConfig)!, /--attention 32: at 32 px self-attention fits at 8, 16/);
  assert.match(biggan.check(image, { ...config, latentDim: 130 } as RunConfig)!, /--latent-dim/);
  assert.match(biggan.check({ ...image, shape: [28, 28, 1] }, config)!, /--image-size 32/);
  assert.equal(biggan.check({ ...image, shape: [128, 128, 3] }, { ...config, latentDim: 120, attention: 64 } as RunConfig), null, "the paper's 128 px model attends at 64×64");
});

function settings(config: RunConfig): BigGanSettings {
  return config as unknown as BigGanSettings;
}

test('biggan step: n_D D updates, then one G update; the reported hinge losses and D(x), D(G(z)) are those of the logits D produced', () => {
  const state = stateFor(squares(), { nCritic: 3 });
  const calls: string[] = [];
  const logits: Float32Array[] = [];
  spyApply(state.nets.generator, () => calls.push('G'));
  spyApply(discriminatorOf(state.nets), (out) => {
    calls.push('D');
    logits.push(values(out));
  });
  spyUpdates(dOptimizer(state.optimizers), 'd', calls);
  spyUpdates(state.optimizers.g, 'g', calls);
  const stats = runStep(state);
  const dUpdate = ['G', 'D', 'D', 'update d']; // generate (a constant), D on the real and on the generated batch, update
  assert.deepEqual(calls, [...dUpdate, ...dUpdate, ...dUpdate, 'G', 'D', 'update g']);
  // The last D update's logits: real, generated; then G's update's D call.
  const [real, fake, gFake] = [logits[4], logits[5], logits[6]];
  const hingeD = mean(real.map((r) => Math.max(0, 1 - r))) + mean(fake.map((f) => Math.max(0, 1 + f)));
  close(stats.lossD ?? NaN, hingeD, 1e-5, 'D loss = mean relu(1 − D(x)) + mean relu(1 + D(G(z)))');
  close(stats.lossG, -mean(gFake), 1e-5, 'G loss = −mean D(G(z))');
  const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
  close(stats.dReal ?? NaN, mean(real.map(sigmoid)), 1e-5, 'D(x)');
  close(stats.dFake ?? NaN, mean(fake.map(sigmoid)), 1e-5, 'D(G(z))');
  disposeState(state);
});

/** The closed form of β Σ_W ‖WᵀW ⊙ (1 − I)‖²_F and its gradient 4β W (WᵀW ⊙ (1 − I)), W [fanIn, out], in float64. */
function orthoClosedForm(w: Float32Array, shape: number[], beta: number): { value: number; grad: Float64Array } {
  const out = shape[shape.length - 1];
  const fanIn = w.length / out;
  const gram = new Float64Array(out * out);
  for (let i = 0; i < out; i++) for (let j = 0; j < out; j++) {
    let s = 0;
    for (let r = 0; r < fanIn; r++) s += w[r * out + i] * w[r * out + j];
    gram[i * out + j] = i === j ? 0 : s;
  }
  let value = 0;
  for (const g of gram) value += g * g;
  const grad = new Float64Array(w.length);
  for (let r = 0; r < fanIn; r++) for (let j = 0; j < out; j++) {
    let s = 0;
    for (let i = 0; i < out; i++) s += w[r * out + i] * gram[i * out + j];
    grad[r * out + j] = 4 * beta * s;
  }
  return { value: beta * value, grad };
}

test("orthogonal regularisation: on, G's gradient gains 4β W(WᵀW ⊙ (1 − I)) on every kernel but the shared embedding; off, nothing", () => {
  const source = squares();
  const beta = 0.5; // large, so that the term stands well above the adversarial gradient's rounding
  // Each run makes its own variables (names differ), so weights and gradients are compared by position.
  const run = (orthoReg: number) => {
    const state = stateFor(source, { orthoReg, nCritic: 1 });
    const regularised = new Set(orthoRegularized(state.nets.generator));
    const weights = state.nets.generator.trainableWeights.map((w) => ({ w, values: values(w.read()), regularised: regularised.has(w.read()) }));
    const grads = new Map<string, Float32Array>();
    spyUpdates(state.optimizers.g, 'g', [], grads);
    const names = state.nets.generator.trainableWeights.map((w) => (w.read() as tf.Variable).name);
    const stats = runStep(state);
    disposeState(state);
    return { stats, weights, grads: names.map((n) => grads.get(n)!) };
  };
  const off = run(0);
  const on = run(beta);
  assert.equal(off.stats.extra?.['reg/ortho'], undefined, 'no regulariser reported when off');
  const left = on.weights.filter((w) => !w.regularised).map((w) => w.w.originalName);
  assert.ok(left.some((n) => n.startsWith('shared_embedding/')) && on.weights.filter((w) => w.regularised).length > 5, `the embedding is left out: ${left.join(', ')}`);
  let total = 0;
  on.weights.forEach(({ w, values: v, regularised }, k) => {
    const diff = on.grads[k].map((g, i) => g - off.grads[k][i]);
    if (!regularised) return assert.ok(diff.every((x) => x === 0), `${w.originalName}: not regularised, same gradient`);
    const { value, grad } = orthoClosedForm(v, w.shape as number[], beta);
    total += value;
    const scale = Math.max(...grad.map(Math.abs));
    assert.ok(scale > 0, `${w.originalName}: a regulariser gradient to compare`);
    diff.forEach((x, i) => assert.ok(Math.abs(x - grad[i]) <= 1e-3 * scale, `${w.originalName}[${i}]: ${x} vs closed form ${grad[i]}`));
  });
  close(on.stats.extra!['reg/ortho'], total, 1e-4, 'reported reg/ortho = β Σ ‖WᵀW ⊙ (1 − I)‖²');
  close(on.stats.extra!['loss/G_GAN'] + on.stats.extra!['reg/ortho'], on.stats.lossG, 1e-5, 'G loss = adversarial + regulariser');
});

test("G's EMA: a copy of G until the start step, then θ_ema ← d·θ_ema + (1 − d)·θ; batch-norm statistics copied", () => {
  const state = stateFor(squares(), { gEmaDecay: 0.9, gEmaStart: 2, nCritic: 1 });
  const ema = state.nets.extra![EMA_GENERATOR];
  const pairs = pairedWeights(state.nets.generator, ema);
  const snapshot = () => pairs.map((p) => ({ g: values(p.source.read()), e: values(p.target.read()), trainable: p.trainable, name: p.source.originalName }));
  const equalToG = (s: ReturnType<typeof snapshot>, what: string) => s.forEach((p) => assert.deepEqual(p.e, p.g, `${what}: ${p.name}`));
  equalToG(snapshot(), 'fresh');
  runStep(state); // 1 step done < start 2: copy
  const first = snapshot();
  equalToG(first, 'after step 1');
  runStep(state); // 2 steps done: averaging
  const second = snapshot();
  let moved = 0;
  second.forEach((p, i) => {
    if (!p.trainable) return assert.deepEqual(p.e, p.g, `statistics copied: ${p.name}`);
    p.e.forEach((v, j) => close(v, 0.9 * first[i].e[j] + 0.1 * p.g[j], 1e-6, `${p.name}[${j}]`));
    if (p.e.some((v, j) => v !== p.g[j])) moved++;
  });
  assert.ok(moved > 0, 'the average lags G once it starts');
  disposeState(state);
});

test("truncation 'z': N(0, I) truncated to [−2, 2] times ψ; sampling feeds G exactly those latents", () => {
  for (const psi of [1, 0.5, 0.1]) {
    const z = values(truncatedLatents(new Rng(3), 500, 16, psi));
    const top = Math.max(...z.map(Math.abs));
    assert.ok(top <= 2 * psi + 1e-6 && top > 1.9 * psi, `ψ ${psi}: max |z| = ${top}, bound 2ψ`);
  }
  const state = stateFor(squares(), { nCritic: 1 });
  runStep(state);
  const seen: number[] = [];
  spyApply(state.nets.extra![EMA_GENERATOR], (_out, x) => seen.push(...values((x as tf.Tensor[])[0])));
  const run = { config: state.config, data: state.data };
  sampleFamily(biggan, state.nets, { count: 40, seed: 5, truncation: 0.5 }, run);
  assert.equal(seen.length, 40 * 16);
  assert.deepEqual(Float32Array.from(seen), values(truncatedLatents(new Rng(5), 40, 16, 0.5)), 'the latents of sample --truncation 0.5');
  assert.throws(() => sampleFamily(biggan, state.nets, { count: 4, seed: 5, truncation: 1.5 }, run), /--truncation must be in \(0, 1\]/);
  disposeState(state);
});

test("standing statistics: each batch norm gets the mean of its batch moments over the passes (computed directly); G's weights are untouched afterwards", () => {
  const state = stateFor(squares(), { nCritic: 1 });
  for (let i = 0; i < 3; i++) runStep(state); // moving statistics away from their start
  const G = state.nets.extra![EMA_GENERATOR];
  const stats = movingStatistics(G);
  assert.equal(stats.length, 2 * 3 + 1, 'two conditional batch norms per block and the output batch norm');
  const before = G.weights.map((w) => values(w.read()));
  const passes = 3;
  const inputs = Array.from({ length: passes }, (_, i) => [tf.randomNormal([6, 16], 0, 1, 'float32', 10 + i), oneHotLabels([0, 1, 2, 3, 1, 2], CLASSES)]);
  // Direct: the input of each batch-norm layer in the same training-mode passes, its per-channel moments averaged.
  const layers = stats.map((s) => G.getLayer(s.layer));
  const probe = tfl.model({ inputs: G.inputs, outputs: layers.map((l) => (Array.isArray(l.input) ? l.input[0] : l.input) as tfl.SymbolicTensor) });
  const expected = layers.map(() => ({ mean: [] as Float32Array[], variance: [] as Float32Array[] }));
  for (const x of inputs) {
    tf.tidy(() => (probe.apply(x, { training: true }) as tf.Tensor[]).forEach((h, i) => {
      const m = tf.moments(h, [0, 1, 2]);
      expected[i].mean.push(values(m.mean));
      expected[i].variance.push(values(m.variance));
    }));
  }
  G.weights.forEach((w, i) => w.write(tf.tensor(before[i], w.shape as number[]))); // the probe's passes moved ũ and the statistics
  const got = withStandingStatistics(G, passes, (i) => inputs[i], () => stats.map((s) => ({ mean: values(s.mean.read()), variance: values(s.variance.read()) })));
  got.forEach((g, i) => {
    const avg = (xs: Float32Array[]) => xs[0].map((_, c) => mean(xs.map((x) => x[c])));
    avg(expected[i].mean).forEach((v, c) => close(g.mean[c], v, 1e-4, `${stats[i].layer} mean[${c}]`));
    avg(expected[i].variance).forEach((v, c) => close(g.variance[c], v, 1e-4, `${stats[i].layer} variance[${c}]`));
  });
  G.weights.forEach((w, i) => assert.deepEqual(values(w.read()), before[i], `${w.originalName} as before`));
  // Through sampling: other images than with the moving averages, and again nothing changed.
  const run = { config: state.config, data: state.data };
  const plain = sampleFamily(biggan, state.nets, { count: 8, seed: 2 }, run).values;
  const standing = sampleFamily(biggan, state.nets, { count: 8, seed: 2, standingStats: 4 }, run).values;
  assert.ok(standing.some((v, i) => Math.abs(v - plain[i]) > 1e-4), 'standing statistics change the samples');
  assert.deepEqual(sampleFamily(biggan, state.nets, { count: 8, seed: 2 }, run).values, plain, 'and leave the networks as they were');
  G.weights.forEach((w, i) => assert.deepEqual(values(w.read()), before[i], `${w.originalName} after sampling`));
  tf.dispose(inputs.flat());
  disposeState(state);
});

test('class-conditional samples differ by class; on unlabelled data G and D take no label and --class is refused', () => {
  const state = stateFor(squares(), { nCritic: 1 });
  for (let i = 0; i < 2; i++) runStep(state);
  const run = { config: state.config, data: state.data };
  const [a, b] = [0, 3].map((k) => sampleFamily(biggan, state.nets, { count: 4, seed: 1, class: k }, run).values);
  assert.ok(a.some((v, i) => Math.abs(v - b[i]) > 1e-4), 'class 0 and class 3 from the same z differ');
  assert.throws(() => sampleFamily(biggan, state.nets, { count: 4, seed: 1, class: CLASSES }, run), /--class must be in 0\.\.3/);
  disposeState(state);

  const plain = squares(16, 0);
  const u = stateFor(plain, { nCritic: 1 });
  assert.deepEqual([u.nets.generator.inputs.length, discriminatorOf(u.nets).inputs.length], [1, 1]);
  assert.ok(!u.nets.generator.layers.some((l) => l.name === 'shared_embedding'));
  for (let i = 0; i < 2; i++) assert.ok(Number.isFinite(runStep(u).lossD));
  assert.throws(() => sampleFamily(biggan, u.nets, { count: 4, seed: 1, class: 0 }, { config: u.config, data: u.data }), /--class needs a class-conditional model/);
  disposeState(u);
});

test('biggan trains with flat tensor counts (attention, orthogonal regularisation, DiffAugment on) and, on aten, no fallback kernels', () => {
  const state = stateFor(squares(), { attention: 16, orthoReg: 1e-4, diffAugment: 'translation,cutout,color', gEmaStart: 1 });
  assert.ok(state.nets.generator.getLayer('g_attention') && discriminatorOf(state.nets).getLayer('d_attention'));
  const fallbackBefore = aten?.atenFallbackKernels() ?? [];
  runStep(state);
  runStep(state);
  const count = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) {
    const stats = runStep(state);
    const { extra, ...main } = stats;
    for (const [k, v] of Object.entries({ ...main, ...extra })) assert.ok(Number.isFinite(v), `${k} = ${v}`);
  }
  assert.equal(tf.memory().numTensors, count, 'tensors after step 2 vs step 5');
  if (aten) assert.deepEqual(aten.atenFallbackKernels().filter((k) => !fallbackBefore.includes(k)), [], 'kernels that fell back to the CPU in the step');
  disposeState(state);
});

test('biggan resumes bit-for-bit: G, D and the EMA (which starts averaging across the cut)', async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-biggan-'));
  try {
    const source = squares();
    const cfg = (out: string) => ({ model: 'biggan', width: 2, batchSize: 4, latentDim: 16, nCritic: 2, steps: 5, gEmaStart: 3, gEmaDecay: 0.9, sampleEvery: 0, checkpointEvery: 0, logEvery: 1, seed: 4, out }) as Partial<RunConfig>;
    // Layer by layer: getWeights orders a fresh (non-trainable) EMA copy unlike the one loaded from a checkpoint.
    const weightsOf = (nets: StepState['nets']) => [nets.generator, discriminatorOf(nets), nets.extra![EMA_GENERATOR]].map((m) => m.layers.flatMap((l) => l.weights.map((w) => values(w.read()))));
    const numbers = (nets: StepState['nets']) => {
      const [generator, discriminator, ema] = weightsOf(nets);
      return { generator, discriminator, 'generator-ema': ema };
    };
    const r = await checkResumesExactly({ config: cfg, source, dir: tmp, cut: 2, numbers });
    assert.ok(movedAfterCut(r), 'the run moved after the cut (the comparison can fail)');
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});

test('ganforge train biggan on a folder of classes (32 px, 30 steps) without NaN; sample --class 3 --truncation 0.5 --standing-stats 4 leaves the checkpoint as it was', async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-biggan-cli-'));
  try {
    const data = path.join(tmp, 'data');
    const rng = new Rng(1);
    for (let k = 0; k < CLASSES; k++) {
      for (let i = 0; i < 4; i++) {
        const pixels = Uint8Array.from({ length: 32 * 32 * 3 }, (_, p) => (k * 60 + (p % 3) * 50 + rng.int(30)) % 256);
        await writeImage(path.join(data, `class${k}`, `${i}.png`), pixels, [32, 32, 3]);
      }
    }
    const run = path.join(tmp, 'run');
    await ok(['train', 'biggan', '--data', `folder:${data}`, '--out', run, '--steps', '30', '--width', '4', '--batch-size', '8', '--latent-dim', '32',
      '--n-critic', '2', '--g-ema-start', '10', '--attention', '16', '--sample-every', '0', '--log-every', '5', '--backend', info.name], tmp);
    const lines = (await fs.readFile(path.join(run, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    assert.ok(lines.length >= 6 && lines.every((l) => Number.isFinite(l['loss/D']) && Number.isFinite(l['loss/G'])), 'finite losses all run');
    const checkpoint = path.join(run, 'checkpoints', 'step-000030');
    const digest = async () => {
      const files = (await fs.readdir(checkpoint, { recursive: true })).sort();
      const hash = createHash('sha256');
      for (const f of files) {
        const p = path.join(checkpoint, f);
        if ((await fs.stat(p)).isFile()) hash.update(f).update(await fs.readFile(p));
      }
      return hash.digest('hex');
    };
    const before = await digest();
    const png = path.join(tmp, 'class3.png');
    const r = await ok(['sample', run, '--out', png, '--count', '16', '--class', '3', '--truncation', '0.5', '--standing-stats', '4', '--backend', info.name], tmp);
    assert.match(r.stderr, /wrote 16 samples from step 30 \(EMA generator\)/);
    assert.ok((await fs.stat(png)).size > 0);
    assert.equal(await digest(), before, 'sampling with standing statistics wrote nothing into the checkpoint');
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});
