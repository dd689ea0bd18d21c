import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.js';
import { getModel } from '../../src/models/registry.js';
import { resolveFamilyConfig, type RunConfig } from '../../src/gan/config.js';
import { allNetworks, type GanNetworks } from '../../src/gan/family.js';
import { disposeState, freshState, runStep, type StepState } from '../../src/gan/training_step.js';
import { sampleFamily } from '../../src/gan/sampling.js';
import { startRun, resumeRun } from '../../src/run.js';
import { sinesSource } from '../../src/data/sequences.js';
import { PHASES, TimeganSchedule, phaseSteps, timegan, timeganLosses, type TimeganSettings } from '../../src/models/timegan.js';
import { Rng } from '../../src/util/rng.js';
import { backends } from '../nn/style_helpers.js';

await initBackend({ quiet: true });
const aten = backends().includes('aten') ? ((await import('tfjs-backend-aten' as string)) as { atenFallbackKernels(): string[] }) : null;

const T = 6, F = 2;
const data = sinesSource({ count: 64, window: T, features: F });
/** Small networks: 2 GRU layers of 4 units, batch 8; 2 + 2 + 3 steps. */
const small: Partial<RunConfig & TimeganSettings> = { model: 'timegan', data: 'sines', seed: 1, hidden: 4, gruLayers: 2, batchSize: 8, steps: 7, embeddingSteps: 2, supervisedSteps: 2 };

type Overrides = Partial<RunConfig & TimeganSettings>;

function configOf(overrides: Overrides = {}): RunConfig {
  return resolveFamilyConfig(timegan.settings!, timegan.defaults(data.info), { ...small, ...overrides });
}

function stateOf(overrides: Overrides = {}): StepState {
  const config = configOf(overrides);
  assert.equal(timegan.check(data.info, config), null);
  return freshState(timegan, data, config);
}

/** Every weight of every network, by network name. */
function weights(nets: GanNetworks): Record<string, Float32Array[]> {
  return Object.fromEntries(allNetworks(nets).map(([name, m]) => [name, m.getWeights().map((w) => w.dataSync().slice() as Float32Array)]));
}

const changed = (a: Float32Array[], b: Float32Array[]) => a.some((w, i) => w.some((v, j) => v !== b[i][j]));

/** Random values in [lo, hi), reproducible. */
function randoms(n: number, seed: number, lo = 0, hi = 1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.uniform());
}

test('each TimeGAN loss equals a direct computation on fixed tensors', () => {
  const b = 3, t = 4, d = 2;
  const at = (v: Float32Array, i: number, j: number, k: number) => v[(i * t + j) * d + k];
  const x = randoms(b * t * d, 1), y = randoms(b * t * d, 2);
  const xt = tf.tensor3d(x, [b, t, d]), yt = tf.tensor3d(y, [b, t, d]);
  const scalar = (s: tf.Scalar) => { const v = s.dataSync()[0]; s.dispose(); return v; };
  const close = (got: number, want: number, what: string) => assert.ok(Math.abs(got - want) < 1e-5 * Math.max(1, Math.abs(want)), `${what}: ${got} vs ${want}`);

  close(scalar(timeganLosses.reconstruction(xt, yt)), x.reduce((s, v, i) => s + (v - y[i]) ** 2, 0) / x.length, 'reconstruction');

  let sup = 0;
  for (let i = 0; i < b; i++) for (let j = 0; j < t - 1; j++) for (let k = 0; k < d; k++) sup += (at(x, i, j + 1, k) - at(y, i, j, k)) ** 2;
  close(scalar(timeganLosses.supervised(xt, yt)), sup / (b * (t - 1) * d), 'supervised: S(H) at t against H at t + 1');

  let stdDiff = 0, meanDiff = 0;
  for (let j = 0; j < t; j++) {
    for (let k = 0; k < d; k++) {
      const stats = (v: Float32Array) => {
        const col = Array.from({ length: b }, (_, i) => at(v, i, j, k));
        const m = col.reduce((s, c) => s + c, 0) / b;
        return { m, sd: Math.sqrt(col.reduce((s, c) => s + (c - m) ** 2, 0) / b + 1e-6) };
      };
      const p = stats(y), q = stats(x);
      stdDiff += Math.abs(p.sd - q.sd);
      meanDiff += Math.abs(p.m - q.m);
    }
  }
  close(scalar(timeganLosses.moments(yt, xt)), (stdDiff + meanDiff) / (t * d), 'moments');

  const logits = (seed: number) => randoms(b * t, seed, -3, 3);
  const lr = logits(3), lf = logits(4), le = logits(5);
  const [yr, yf, ye] = [lr, lf, le].map((v) => tf.tensor3d(v, [b, t, 1]));
  const bce = (v: Float32Array, target: number) => v.reduce((s, l) => s - (target === 1 ? Math.log(1 / (1 + Math.exp(-l))) : Math.log(1 - 1 / (1 + Math.exp(-l)))), 0) / v.length;
  const gamma = 0.7;
  close(scalar(timeganLosses.discriminator(yr, yf, ye, gamma)), bce(lr, 1) + bce(lf, 0) + gamma * bce(le, 0), 'discriminator');
  close(scalar(timeganLosses.adversarial(yf, ye, gamma)), bce(lf, 1) + gamma * bce(le, 1), 'adversarial');

  const [a, s, m, r] = [0.3, 0.04, 0.2, 0.09].map((v) => tf.scalar(v));
  close(scalar(timeganLosses.generator(a, s, m)), 0.3 + 100 * 0.2 + 100 * 0.2, 'G: adversarial + 100 √supervised + 100 moments');
  close(scalar(timeganLosses.embedder(r, s)), 10 * 0.3 + 0.1 * 0.04, 'E: 10 √reconstruction + 0.1 supervised');
  tf.dispose([xt, yt, yr, yf, ye, a, s, m, r]);
});

test('the phases: a third of --steps each by default, the joint phase gets the rest; no joint steps is refused', () => {
  assert.deepEqual(phaseSteps(configOf({ steps: 3000, embeddingSteps: 0, supervisedSteps: 0 })), { embedding: 1000, supervised: 1000, joint: 1000 });
  assert.deepEqual(phaseSteps(configOf({ steps: 10, embeddingSteps: 5, supervisedSteps: 0 })), { embedding: 5, supervised: 3, joint: 2 });
  assert.match(timegan.check(data.info, configOf({ steps: 6, embeddingSteps: 3, supervisedSteps: 3 })) ?? '', /--embedding-steps 3 and --supervised-steps 3 leave no joint steps of --steps 6/);
  const schedule = new TimeganSchedule({ embedding: 1, supervised: 0, joint: 1 });
  const seen: string[] = [];
  for (let i = 0; i < 4; i++) {
    seen.push(schedule.current());
    schedule.step++;
  }
  assert.deepEqual(seen, ['embedding', 'joint', 'joint', 'joint'], 'an empty phase is skipped; the joint phase runs on past its budget');
  assert.deepEqual(schedule.save().json, { phase: 'joint', step: 3 });
  assert.throws(() => schedule.restore({ json: { phase: 'warmup', step: 0 } }), /not a phase/);
});

test('timegan trains each phase on its own players, tensor count flat within each phase, no CPU fallback on aten', () => {
  const before = aten?.atenFallbackKernels() ?? [];
  const state = stateOf({ dThreshold: 0 });
  const moves: Record<string, string[]> = {};
  const counts: number[][] = [[], [], []];
  for (let i = 0; i < 7; i++) {
    const w0 = weights(state.nets);
    const stats = runStep(state);
    const w1 = weights(state.nets);
    const phase = stats.extra!['timegan/phase'];
    counts[phase - 1].push(tf.memory().numTensors);
    moves[PHASES[phase - 1]] = Object.keys(w0).filter((k) => changed(w0[k], w1[k])).sort();
    for (const [k, v] of Object.entries({ ...stats, ...stats.extra })) if (typeof v === 'number') assert.ok(Number.isFinite(v), `step ${i + 1}: ${k} = ${v}`);
  }
  assert.deepEqual(counts.map((c) => c.length), [2, 2, 3], 'phase steps 2, 2, 3');
  assert.deepEqual(moves, {
    embedding: ['embedder', 'recovery'],
    supervised: ['supervisor'],
    joint: ['discriminator', 'embedder', 'generator', 'recovery', 'supervisor'],
  });
  // Each phase's first step creates its optimizers' slots; after that, nothing accumulates.
  for (const c of counts) assert.ok(c.every((n) => n === c[0]), `tensors per phase ${JSON.stringify(counts)}`);
  if (aten && tf.getBackend() === 'aten') assert.deepEqual(aten.atenFallbackKernels().filter((k) => !before.includes(k)), [], 'kernels on the CPU fallback');
  disposeState(state);
});

test('D is updated only when its loss is above --d-threshold', () => {
  for (const threshold of [1e9, 0]) {
    const state = stateOf({ dThreshold: threshold });
    for (let i = 0; i < 4; i++) runStep(state); // through phases 1 and 2
    const d0 = weights(state.nets).discriminator;
    const updated: number[] = [];
    for (let i = 0; i < 3; i++) {
      const stats = runStep(state);
      assert.equal(stats.extra!['timegan/d-updated'], stats.lossD! > threshold ? 1 : 0, 'the update follows the loss it was decided on');
      updated.push(stats.extra!['timegan/d-updated']);
    }
    const d1 = weights(state.nets).discriminator;
    if (threshold > 0) {
      assert.deepEqual(updated, [0, 0, 0]);
      assert.equal(changed(d0, d1), false, "D's weights stay as they were when its loss is not above the threshold");
    } else {
      assert.deepEqual(updated, [1, 1, 1]);
      assert.equal(changed(d0, d1), true);
    }
    disposeState(state);
  }
});

test('timegan samples R(S(G(Z))) as [count, T, F] in [0, 1], reproducible by seed', () => {
  const state = stateOf();
  const run = { config: state.config, data: data.info };
  const a = sampleFamily(timegan, state.nets, { count: 5, seed: 3 }, run);
  const b = sampleFamily(timegan, state.nets, { count: 5, seed: 3 }, run);
  const c = sampleFamily(timegan, state.nets, { count: 5, seed: 4 }, run);
  assert.deepEqual(a.shape, [T, F]);
  assert.equal(a.values.length, 5 * T * F);
  assert.ok(a.values.every((v) => v > 0 && v < 1), 'sigmoid outputs on [0, 1]-scaled data');
  assert.deepEqual(a.values, b.values);
  assert.notDeepEqual(a.values, c.values);
  assert.throws(() => sampleFamily(timegan, state.nets, { count: 2, seed: 0, class: 1 }, run), /unconditional/);
  assert.equal(getModel('timegan'), timegan);
  disposeState(state);
});

test('timegan resumes bit-for-bit from inside phase 1 and inside the joint phase', async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-timegan-'));
  try {
    const cfg = (out: string) => ({ ...small, steps: 8, embeddingSteps: 3, supervisedSteps: 2, sampleEvery: 4, checkpointEvery: 100, logEvery: 1, out }) as Partial<RunConfig>;
    const full = await startRun(cfg(path.join(tmp, 'full')), { source: data });
    await full.train();
    const want = weights(full.parts.nets);
    full.dispose();
    for (const cut of [2, 6]) {
      const dir = path.join(tmp, `cut-${cut}`);
      const first = await startRun(cfg(dir), { source: data });
      first.stats.subscribe((step) => {
        if (step === cut) first.requestStop();
      });
      await first.train();
      first.dispose();
      const second = await resumeRun(dir, { steps: 8, source: data });
      await second.train();
      const got = weights(second.parts.nets);
      second.dispose();
      for (const name of Object.keys(want)) {
        const differing = got[name].reduce((n, w, i) => n + w.filter((v, j) => v !== want[name][i][j]).length, 0);
        assert.equal(differing, 0, `cut after step ${cut}: ${differing} weights of ${name} differ from the uninterrupted run`);
      }
    }
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});

test('phase 1 on sines brings the reconstruction error down', () => {
  const state = stateOf({ hidden: 8, batchSize: 16, steps: 200, embeddingSteps: 60, supervisedSteps: 1 });
  const losses = Array.from({ length: 60 }, () => runStep(state).extra!['loss/embedding']);
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const first = mean(losses.slice(0, 5)), last = mean(losses.slice(-5));
  assert.ok(last < 0.7 * first, `√MSE of reconstruction from ${first.toFixed(4)} to ${last.toFixed(4)} in 60 steps`);
  disposeState(state);
});
