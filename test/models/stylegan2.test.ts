// The stylegan2 family against oracles: the lazy-regularisation correction as Adam's own arithmetic, the
// phases' schedule and weights (R1 recomputed from D and the batch), the path-length mean's recurrence, the w+
// routing and style mixing through the synthesis network, the EMA's half-life, the truncation trick's limits,
// bit-for-bit resume, gradients through the players' optimizers only, and no aten fallback kernels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.js';
import { stylegan2, drawCrossover, emaBeta, mixWs, styleSpace, type PathLengthMean } from '../../src/models/stylegan2.js';
import { numWs, styleParts, withFixedNoise } from '../../src/models/nets/stylegan2_nets.js';
import { resolveFamilyConfig, type RunConfig } from '../../src/gan/config.js';
import { EMA_GENERATOR, allNetworks, playersOf, discriminatorOf } from '../../src/gan/family.js';
import { applySchedule, lazyRatio, makeOptimizers, dOptimizer } from '../../src/gan/optimizers.js';
import { disposeState, freshState, runStep, type StepState } from '../../src/gan/training_step.js';
import { broadcastW, sampleFamily } from '../../src/gan/sampling.js';
import type { Collectives } from '../../src/gan/replicas.js';
import type { StepStats } from '../../src/gan/step.js';
import { pairedWeights } from '../../src/gan/tricks/copies.js';
import { NoiseInjection } from '../../src/nn/synthesis_inputs.js';
import { MeanTracker, PickW } from '../../src/nn/w_plus.js';
import { startRun, resumeRun } from '../../src/run.js';
import type { ArraySource } from '../../src/data/types.js';
import { Rng } from '../../src/util/rng.js';

await initBackend({ quiet: true });
// Typed locally (the package may be unbuilt, see src/backend/index.ts).
const aten = tf.getBackend() === 'aten' ? (await import('tfjs-backend-aten' as string)) as { atenFallbackKernels(): string[] } : null;

/** Small networks: 16 px, 8–16 channels, w and z of 16, two mapping layers, batch 4. */
const SMALL = { width: 8, maxWidth: 16, wDim: 16, latentDim: 16, mappingLayers: 2, batchSize: 4 } as Partial<RunConfig>;

/** n random colour images of side `size`. */
function images(n: number, size = 16, seed = 1): ArraySource {
  const rng = new Rng(seed);
  return { kind: 'array', count: n, values: Uint8Array.from({ length: n * size * size * 3 }, () => rng.int(256)), info: { name: 'noise-images', kind: 'image', shape: [size, size, 3], count: n } };
}

function configFor(source: ArraySource, overrides: Partial<RunConfig> = {}): RunConfig {
  return resolveFamilyConfig(stylegan2.settings!, stylegan2.defaults(source.info), { model: 'stylegan2', seed: 2, ...SMALL, ...overrides });
}

const values = (m: tfl.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));

/** Noise strengths start at 0; tests that look at the noise give them a value. */
function setNoiseStrength(g: tfl.LayersModel, strength: number): void {
  for (const l of styleParts(g).synthesis.layers) if (l instanceof NoiseInjection) tf.tidy(() => l.setWeights([tf.scalar(strength), l.getWeights()[1]]));
}

test('lazy correction: G\'s Adam runs with lr·4/5 and β^(4/5), D\'s with lr·16/17 and β^(16/17), and three updates move a weight as that Adam does', () => {
  const source = images(8);
  const config = configFor(source);
  assert.deepEqual([config.lrG, config.beta1, config.beta2, config.regInterval], [0.0025, 0, 0.99, 16], "the paper's Adam and R1 interval are the defaults");
  const [g, d] = playersOf(stylegan2);
  assert.equal(lazyRatio(g, config), 4 / 5);
  assert.equal(lazyRatio(d, config), 16 / 17);
  assert.equal(lazyRatio(d, { ...config, r1Gamma: 0 }), 1, 'no R1, no correction');
  assert.equal(lazyRatio(g, { ...config, plWeight: 0 } as RunConfig), 1, 'no path length, no correction');
  const opt = makeOptimizers(config, playersOf(stylegan2));
  // Adam (Kingma & Ba 2015, Algorithm 1) in float64 on loss = Σ gₜ·x, whose gradient is gₜ.
  const adamOracle = (x0: number[], grads: number[][], lr: number, b1: number, b2: number, eps: number) => {
    const x = [...x0], m = x.map(() => 0), v = x.map(() => 0);
    grads.forEach((gt, t) => gt.forEach((gi, i) => {
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      x[i] -= (lr * (m[i] / (1 - b1 ** (t + 1)))) / (Math.sqrt(v[i] / (1 - b2 ** (t + 1))) + eps);
    }));
    return x;
  };
  const x0 = [0, 0, 0], grads = [[10, -2, 0.1], [0.01, 3, 0.2], [0.01, -0.5, 1]]; // at 0, float32 holds an update to its last bits
  for (const [o, c] of [[opt.g, 4 / 5], [dOptimizer(opt), 16 / 17]] as const) {
    const eps = (o as unknown as { epsilon: number }).epsilon;
    const x = tf.variable(tf.tensor1d(x0));
    for (const gt of grads) o.minimize(() => tf.sum(tf.mul(tf.tensor1d(gt), x)), false, [x]);
    const got = Array.from(x.dataSync());
    const moved = (y: number[]) => y.map((v, i) => v - x0[i]);
    const want = moved(adamOracle(x0, grads, 0.0025 * c, 0, 0.99 ** c, eps));
    const lrOnly = moved(adamOracle(x0, grads, 0.0025 * c, 0, 0.99, eps));
    moved(got).forEach((u, i) => assert.ok(Math.abs(u - want[i]) <= 1e-5 * Math.abs(want[i]), `c = ${c}: update ${i} is ${u}, Adam with lr·c and β^c moves it ${want[i]}`));
    const offBy = Math.max(...moved(got).map((u, i) => Math.abs(u - lrOnly[i]) / Math.abs(lrOnly[i])));
    assert.ok(offBy > 1e-4, `c = ${c}: Adam with lr·c but β2 uncorrected moves it otherwise (relative difference ${offBy})`);
    x.dispose();
  }
  // A learning-rate schedule keeps the correction.
  applySchedule(opt, playersOf(stylegan2), { ...config, lrSchedule: 'linear', lrDecayStart: 0, steps: 10 }, 5);
  assert.ok(Math.abs((dOptimizer(opt) as unknown as { learningRate: number }).learningRate - 0.0025 * 0.5 * (16 / 17)) < 1e-15);
  for (const o of [opt.g, dOptimizer(opt)]) o.dispose();
});

test('phases: path length every 4 steps (×4, weight 2), R1 every 16 (×16, value recomputed from D and the batch), a by its recurrence; flat tensors' + (aten ? ', no aten fallbacks' : ''), () => {
  const source = images(32);
  const config = configFor(source);
  const state = freshState(stylegan2, source, config);
  // Every update of a step, by player, with the value it minimised.
  const calls: { player: string; step: number; value: number; expected?: number }[] = [];
  const d = discriminatorOf(state.nets);
  const applyD = d.apply.bind(d);
  let real: tf.Tensor | null = null; // D main's first input is the real batch
  let capturing = false;
  d.apply = ((x: tf.Tensor, kwargs?: { training?: boolean }) => {
    if (capturing && !real) real = x;
    return applyD(x, kwargs);
  }) as unknown as typeof d.apply;
  for (const [player, o] of [['g', state.optimizers.g], ['d', dOptimizer(state.optimizers)]] as const) {
    const compute = o.computeGradients.bind(o);
    o.computeGradients = (f, vars) => {
      let expected: number | undefined;
      const r1Call = player === 'd' && calls.some((c) => c.player === 'd' && c.step === state.step);
      if (r1Call) {
        // R1 as its definition: γ/2 · mean_i ‖∇ₓD(xᵢ)‖², times the interval 16.
        expected = tf.tidy(() => {
          const grad = tf.grad((x: tf.Tensor) => tf.sum(applyD(x, { training: true }) as tf.Tensor))(real!);
          return (config.r1Gamma / 2) * 16 * tf.mean(tf.sum(tf.square(grad), [1, 2, 3])).dataSync()[0];
        });
      }
      [capturing, real] = player === 'd' && !r1Call ? [true, null] : [false, real];
      const out = compute(f, vars);
      capturing = false;
      calls.push({ player, step: state.step, value: out.value.dataSync()[0], expected });
      return out;
    };
  }
  const fallbackBefore = aten?.atenFallbackKernels() ?? [];
  const stats: StepStats[] = [];
  let tensors = -1;
  for (let i = 0; i < 17; i++) {
    stats.push(runStep(state));
    if (i === 1) tensors = tf.memory().numTensors;
    if (i === 0 && aten) assert.deepEqual(aten.atenFallbackKernels().filter((k) => !fallbackBefore.includes(k)), [], 'kernels of a step with R1 and path length that ran on the CPU fallback');
  }
  assert.equal(tf.memory().numTensors, tensors, 'tensor count flat from step 2 to 17');
  const updates = (player: string, step: number) => calls.filter((c) => c.player === player && c.step === step).length;
  for (let i = 0; i < 17; i++) {
    assert.equal(updates('g', i), i % 4 === 0 ? 2 : 1, `step ${i}: G updates`);
    assert.equal(updates('d', i), i % 16 === 0 ? 2 : 1, `step ${i}: D updates`);
    assert.equal('reg/pl' in stats[i].extra!, i % 4 === 0);
    assert.equal('reg/r1' in stats[i].extra!, i % 16 === 0);
    for (const v of [stats[i].lossD, stats[i].lossG, ...Object.values(stats[i].extra!)]) assert.ok(Number.isFinite(v), `step ${i}: ${JSON.stringify(stats[i])}`);
  }
  for (const c of calls.filter((c) => c.expected !== undefined)) {
    assert.ok(Math.abs(c.value - c.expected!) <= 1e-4 * Math.abs(c.expected!), `step ${c.step}: R1 update minimised ${c.value}, 8γ·E‖∇D‖² is ${c.expected}`);
  }
  assert.equal(calls.filter((c) => c.expected !== undefined).length, 2, 'R1 at steps 0 and 16');
  // Path length: the update minimised 2·4·(reported penalty); a ← a + 0.01·(mean length − a), from a = 0.
  let a = 0;
  for (let i = 0; i < 17; i += 4) {
    const e = stats[i].extra!;
    const value = calls.filter((c) => c.player === 'g' && c.step === i)[1].value;
    assert.ok(Math.abs(value - 8 * e['reg/pl']) <= 1e-6 * value, `step ${i}: PL update minimised ${value}, 8 × ${e['reg/pl']}`);
    a = a + 0.01 * (e['pl/length'] - a);
    assert.equal(e['pl/mean'], a, `step ${i}: a`);
    assert.ok(e['reg/pl'] >= (e['pl/length'] - a) ** 2 * (1 - 1e-5), 'E(l − a)² ≥ (E l − a)²');
  }
  assert.equal((state.familyState as PathLengthMean).a, a, 'the state holds a');
  disposeState(state);
});

test('w+ routing: style input i of each layer is ws[:, i] in the authors\' layout; mixing through synthesis equals a w+ written out by hand', () => {
  const source = images(8);
  const state = freshState(stylegan2, source, configFor(source));
  const G = styleParts(state.nets.generator);
  assert.equal(G.numWs, numWs(16));
  assert.equal(G.numWs, 6);
  // Which PickW feeds each modulated layer: 4×4 conv ← 0, then per resolution r = 4·2^k: conv0 ← 2k − 1,
  // conv1 ← 2k, toRGB ← 2k + 1 (a toRGB shares the w of the next block's first conv).
  const expected: Record<string, number> = { b4_conv1_conv: 0, b4_torgb: 1, b8_conv0_conv: 1, b8_conv1_conv: 2, b8_torgb: 3, b16_conv0_conv: 3, b16_conv1_conv: 4, b16_torgb: 5 };
  const routed = Object.fromEntries(G.synthesis.layers
    .filter((l) => ['ModulatedConv2D', 'ToRGB'].includes(l.getClassName()))
    .map((l) => [l.name, (l.inboundNodes[0].inboundLayers[1] as PickW).index]));
  assert.deepEqual(routed, expected);

  const rng = new Rng(4);
  const w = (seed: number) => tf.tensor2d(new Rng(seed).normals(3 * 16), [3, 16]);
  const [w1, w2] = [w(1), w(2)];
  const synth = (ws: tf.Tensor) => withFixedNoise(G.synthesis, 'zero', 0, 3, () => G.synthesis.apply(ws) as tf.Tensor);
  const [a1, a2] = [w1, w2].map((x) => Array.from(x.dataSync()));
  for (const cutoff of [1, 3, 5]) {
    // w+ by hand: sample b's input l is w1[b] below the crossover, w2[b] from it on.
    const byHand = tf.tensor3d(Array.from({ length: 3 * 6 * 16 }, (_, k) => {
      const [b, l, j] = [Math.floor(k / 96), Math.floor(k / 16) % 6, k % 16];
      return (l < cutoff ? a1 : a2)[b * 16 + j];
    }), [3, 6, 16]);
    const mixed = tf.tidy(() => mixWs(w1, w2, cutoff, 6));
    const [x, y] = [synth(mixed), synth(byHand)];
    assert.deepEqual(Array.from(x.dataSync()), Array.from(y.dataSync()), `cutoff ${cutoff}`);
    const pure = [synth(broadcastW(w1, 6)), synth(broadcastW(w2, 6))];
    for (const p of pure) assert.ok(tf.tidy(() => tf.max(tf.abs(tf.sub(p, x))).dataSync()[0]) > 1e-4, 'a mixed image is neither pure one');
    tf.dispose([byHand, mixed, x, y, ...pure]);
  }
  // Every style input is read: the image's gradient reaches every row of w+.
  const rows = tf.tidy(() => {
    const ws = broadcastW(w1, 6);
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.square(synth(x))))(ws); // [3, 6, 16]
    return Array.from(tf.sum(tf.abs(g), [0, 2]).dataSync());
  });
  assert.ok(rows.every((r) => r > 0), `gradient per style input ${rows}`);
  // The crossover: mixing with probability p, uniform over 1..numWs − 1.
  const draws = Array.from({ length: 4000 }, () => drawCrossover(rng, 6, 0.9));
  const mixing = draws.filter((c) => c < 6);
  assert.ok(Math.abs(mixing.length / 4000 - 0.9) < 0.02, `mixing rate ${mixing.length / 4000}`);
  for (let c = 1; c < 6; c++) assert.ok(Math.abs(mixing.filter((m) => m === c).length / mixing.length - 0.2) < 0.03, `crossover ${c}`);
  assert.ok(Array.from({ length: 100 }, () => drawCrossover(rng, 6, 0)).every((c) => c === 6), 'p = 0: never');
  tf.dispose([w1, w2]);
  disposeState(state);
});

test('EMA: β = 0.5^(B/(kimg·1000)), a half-life of kimg thousand images, ramped up; the EMA network moves by it and copies w̄', () => {
  assert.equal(emaBeta(32, 10, 0, 1e9), 0.5 ** (32 / 10_000));
  assert.ok(Math.abs(emaBeta(32, 10, 0, 0) ** (10_000 / 32) - 0.5) < 1e-12, 'after 10k images the old weights count half');
  assert.equal(emaBeta(32, 10, 0.05, 0), 0, 'ramp-up: at the start the EMA is G');
  assert.equal(emaBeta(32, 10, 0.05, 3200), 0.5 ** (32 / 160), 'half-life 5% of the 3200 images seen');
  assert.equal(emaBeta(32, 10, 0.05, 1e9), 0.5 ** (32 / 10_000), 'capped at emaKimg');
  assert.equal(emaBeta(32, 0, 0, 100), 0);

  const source = images(16);
  const state = freshState(stylegan2, source, configFor(source, { emaKimg: 0.1, emaRampup: 0 } as Partial<RunConfig>));
  const G = state.nets.generator, ema = state.nets.extra![EMA_GENERATOR];
  for (let i = 0; i < 2; i++) runStep(state);
  const before = pairedWeights(G, ema).map((p) => Array.from(p.target.read().dataSync()));
  const beta = runStep(state).extra!['ema/beta'];
  assert.equal(beta, 0.5 ** (4 / 100));
  const pairs = pairedWeights(G, ema);
  let checked = 0;
  pairs.forEach((p, i) => {
    const [g, e] = [p.source.read().dataSync(), p.target.read().dataSync()];
    g.forEach((gv, j) => {
      const want = p.trainable ? beta * before[i][j] + (1 - beta) * gv : gv; // non-trainable (w̄, noise draw counts): copied
      assert.ok(Math.abs(e[j] - want) <= 1e-6 * Math.max(1, Math.abs(want)), `${p.target.name}[${j}]: ${e[j]} vs ${want}`);
      checked++;
    });
  });
  assert.ok(pairs.some((p) => p.source.name.includes('w_avg') && !p.trainable), 'w̄ is among the copied weights');
  assert.ok(checked > 1000);
  disposeState(state);
});

test('mean w and truncation: w̄ ← w̄ + (1 − β)(mean w − w̄); ψ = 1 is no truncation, ψ → 0 gives the image of w̄', () => {
  const tracker = new MeanTracker({});
  tracker.apply(tfl.input({ shape: [3] }));
  const w = tf.tensor2d([[1, 2, 3], [3, 4, 5]]);
  tracker.track(w, 0.995);
  tracker.track(w, 0.995);
  const m = tracker.mean();
  const once = [2, 3, 4].map((x) => 0.005 * x);
  Array.from(m.dataSync()).forEach((v, i) => assert.ok(Math.abs(v - (once[i] + 0.005 * ([2, 3, 4][i] - once[i]))) < 1e-7));
  tf.dispose([w, m]);

  const source = images(16);
  const config = configFor(source);
  const state = freshState(stylegan2, source, config);
  for (let i = 0; i < 3; i++) runStep(state); // w̄ moves away from 0
  setNoiseStrength(state.nets.extra![EMA_GENERATOR], 0.5); // so that the noise matters
  const run = { config, data: source.info };
  const sample = (truncation?: number) => sampleFamily(stylegan2, state.nets, { count: 4, seed: 9, truncation }, run).values;
  assert.deepEqual(sample(1), sample(), 'ψ = 1');
  assert.notDeepEqual(sample(0.5), sample(), 'ψ = 0.5 moves the samples');
  const space = styleSpace(state.nets.extra![EMA_GENERATOR], config);
  const meanImage = tf.tidy(() => {
    const wBar = space.meanW(); // [1, wDim]
    assert.ok(tf.norm(wBar).dataSync()[0] > 1e-3, 'w̄ has moved');
    return space.synthesis(broadcastW(tf.tile(wBar, [4, 1]) as tf.Tensor2D, space.numWs), { noise: 'random', seed: 9 }).dataSync();
  });
  const near = sample(1e-6);
  let worst = 0;
  near.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - meanImage[i]))));
  assert.ok(worst < 1e-4, `ψ → 0: the samples are the image of w̄ (largest difference ${worst})`);
  disposeState(state);
});

test('stylegan2 resumes bit-for-bit: G, D, the EMA (with w̄), the path-length mean', async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-stylegan2-'));
  try {
    const source = images(16);
    const cfg = (out: string) => ({ model: 'stylegan2', ...SMALL, regInterval: 2, plInterval: 2, emaKimg: 0.05, steps: 6, sampleEvery: 3, checkpointEvery: 3, logEvery: 1, out }) as Partial<RunConfig>;
    const full = await startRun(cfg(path.join(tmp, 'full')), { source });
    await full.train();
    const want = allNetworks(full.parts.nets).map(([name, m]) => [name, values(m)] as const);
    const wantA = (full.parts.familyState as PathLengthMean).a;
    full.dispose();
    const first = await startRun(cfg(path.join(tmp, 'cut')), { source });
    first.stats.subscribe((step) => {
      if (step === 3) first.requestStop();
    });
    await first.train();
    first.dispose();
    const second = await resumeRun(path.join(tmp, 'cut'), { steps: 6, source });
    await second.train();
    const got = new Map(allNetworks(second.parts.nets).map(([name, m]) => [name, values(m)]));
    assert.equal((second.parts.familyState as PathLengthMean).a, wantA, 'a');
    assert.ok(wantA > 0);
    second.dispose();
    assert.deepEqual([...got.keys()].sort(), want.map(([n]) => n).sort());
    for (const [name, w] of want) {
      const differing = got.get(name)!.reduce((n, x, i) => n + x.filter((v, j) => v !== w[i][j]).length, 0);
      assert.equal(differing, 0, `${name}: ${differing} weights differ between the resumed and the uninterrupted run`);
    }
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});

test('data-parallel: every update of every phase goes through computeGradients, where the ranks average', () => {
  const source = images(16);
  let averaged = 0;
  const group: Collectives = {
    rank: 0, worldSize: 1,
    average: (ts) => { averaged++; return ts.map((t) => tf.clone(t)); },
    fromRoot: (ts) => ts.map((t) => tf.clone(t)),
    max: async (v) => v,
    barrier: async () => {},
  };
  const state: StepState = freshState(stylegan2, source, configFor(source, { regInterval: 2 }), group);
  const perStep = [0, 1, 2, 3, 4].map(() => {
    const before = averaged;
    runStep(state);
    return averaged - before;
  });
  assert.deepEqual(perStep, [4, 2, 3, 2, 4], 'G main + D main, path length at 0 and 4, R1 at 0, 2 and 4');
  disposeState(state);
});

test('class-conditional on labelled data (StyleGAN2-ADA): c into the mapping and a projection D, R1 and path length with classes; the class moves samples; per-class w̄ is linear in c; unlabelled data stays unconditional', () => {
  const K = 3;
  const source = images(16);
  const labelled: ArraySource = { ...source, labels: Int32Array.from({ length: 16 }, (_, i) => i % K), info: { ...source.info, numClasses: K } };
  const config = configFor(labelled, { r1Gamma: 0.1, regInterval: 2, plInterval: 2 } as Partial<RunConfig>);
  const state = freshState(stylegan2, labelled, config);
  const G = styleParts(state.nets.generator);
  assert.equal(G.classes, K, 'the mapping takes c [B, 3]');
  assert.equal(discriminatorOf(state.nets).inputs.length, 2, 'D takes [x, c]');
  // D's logit reads c: the same image scores differently under two classes.
  const logits = tf.tidy(() => {
    const x = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 3);
    const c = tf.cast(tf.oneHot(tf.tensor1d([0, 1], 'int32'), K), 'float32');
    const c2 = tf.cast(tf.oneHot(tf.tensor1d([2, 2], 'int32'), K), 'float32');
    return [discriminatorOf(state.nets).apply([x, c]) as tf.Tensor, discriminatorOf(state.nets).apply([x, c2]) as tf.Tensor].map((t) => Array.from(t.dataSync()));
  });
  assert.notDeepEqual(logits[0], logits[1]);
  const fallbackBefore = aten?.atenFallbackKernels() ?? [];
  let tensors = -1;
  for (let i = 0; i < 5; i++) {
    const st = runStep(state);
    for (const v of [st.lossD ?? NaN, st.lossG, ...Object.values(st.extra!)]) assert.ok(Number.isFinite(v), `step ${i}: ${JSON.stringify(st)}`);
    assert.equal('reg/r1' in st.extra!, i % 2 === 0, `step ${i}: R1 on its interval`);
    if (i === 1) tensors = tf.memory().numTensors;
  }
  assert.equal(tf.memory().numTensors, tensors, 'tensor count flat from step 2 to 5');
  if (aten) assert.deepEqual(aten.atenFallbackKernels().filter((k) => !fallbackBefore.includes(k)), [], 'no CPU fallback kernels');
  // Sampling: one seed, two classes → two different images; the same class twice → the same images.
  const run = { config, data: labelled.info };
  const draw = (cls: number, truncation?: number) => Array.from(sampleFamily(stylegan2, state.nets, { count: 2, seed: 9, class: cls, truncation }, run).values);
  assert.notDeepEqual(draw(0), draw(1), 'the class moves the sample');
  assert.deepEqual(draw(2, 0.5), draw(2, 0.5), 'seeded');
  // Per-class w̄: rows differ by class, and a half/half row is the mean of the two rows (w̄ is linear in c).
  const space = styleSpace(state.nets.generator, config);
  const rows = tf.tidy(() => space.meanW(tf.tensor2d([[1, 0, 0], [0, 1, 0], [0.5, 0.5, 0]])).arraySync());
  assert.notDeepEqual(rows[0], rows[1]);
  rows[2].forEach((v, j) => assert.ok(Math.abs(v - (rows[0][j] + rows[1][j]) / 2) < 1e-5, `w̄ of a half/half row, entry ${j}`));
  assert.throws(() => space.mapping(tf.zeros([1, config.latentDim]) as tf.Tensor2D), /class-conditional: its mapping needs one-hot classes/);
  disposeState(state);
  // The same family on a plain folder: unconditional networks.
  const plain = freshState(stylegan2, images(8), configFor(images(8)));
  assert.equal(styleParts(plain.nets.generator).classes, 0);
  assert.equal(discriminatorOf(plain.nets).inputs.length, 1);
  disposeState(plain);
});

test('check: square power-of-two images of 16–128 px; points, other sizes and a width over the cap are refused by flag', () => {
  const ok = images(4, 32);
  assert.equal(stylegan2.check(ok.info, configFor(ok)), null);
  const odd = images(4, 24);
  assert.match(stylegan2.check(odd.info, configFor(odd))!, /16, 32, 64, 128 px, got 24×24; pass --image-size/);
  const points = { ...odd.info, kind: 'points' as const, shape: [2] };
  assert.match(stylegan2.check(points, configFor(odd))!, /2-D points/);
  assert.match(stylegan2.check(ok.info, configFor(ok, { width: 32 }))!, /--max-width 16 is below --width 32/);
  assert.equal(configFor(images(4, 64)).r1Gamma, 0.0002 * 64 * 64 / 32, "γ: StyleGAN2-ADA's 0.0002·R²/batch at batch 32");
});
