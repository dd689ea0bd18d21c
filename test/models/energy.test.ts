import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.js';
import { getModel } from '../../src/models/registry.js';
import { resolveFamilyConfig, validatePartialConfig, type RunConfig } from '../../src/gan/config.js';
import { allNetworks, discriminatorOf, type GanFamily, type GanNetworks } from '../../src/gan/family.js';
import { checkHonoured, familyConfig } from '../../src/gan/settings.js';
import { trainChecked } from './train_checked.js';
import { disposeState, freshState, runStep, type StepState } from '../../src/gan/training_step.js';
import { startRun, resumeRun } from '../../src/run.js';
import { loadData } from '../../src/data/registry.js';
import type { DataSource } from '../../src/data/types.js';
import { ebgan, ebganLosses, autoencode, type EbganSettings } from '../../src/models/ebgan.js';
import { began, beganLosses, BeganControl, LR_DECAY, type BeganSettings } from '../../src/models/began.js';
import { Rng } from '../../src/util/rng.js';
import { latents } from '../../src/gan/sampling.js';

const backend = await initBackend({ quiet: true });
const aten = backend.name === 'aten' ? ((await import('tfjs-backend-aten' as string)) as { atenFallbackKernels(): string[] }) : null;
const fallbackBefore = aten?.atenFallbackKernels() ?? [];

const ring8 = await loadData('toy:ring8');
const images = await loadData('fashion-mnist', { limit: 64 });
/** Small networks for unit tests: --width 4 (images), --hidden 16 (points). */
const small = { seed: 1, batchSize: 8, width: 4, hidden: 16, latentDim: 8 } as Partial<RunConfig>;

type Overrides = Partial<RunConfig & EbganSettings & BeganSettings>;

function configOf(family: GanFamily, source: DataSource, overrides: Overrides = {}): RunConfig {
  const config = familyConfig(family, source.info, { model: family.name, ...small, ...overrides });
  assert.equal(family.check(source.info, config), null);
  return config;
}

const randoms = (n: number, seed: number, lo = -1, hi = 1) => {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.uniform());
};
const scalar = (t: tf.Tensor) => {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
};
const close = (got: number, want: number, what: string, tol = 1e-5) => assert.ok(Math.abs(got - want) <= tol * Math.max(1, Math.abs(want)), `${what}: ${got} vs ${want}`);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Per-example mean of f(x̂ − x) over each example's `size` elements, computed element by element. */
function perExample(x: Float32Array, xHat: Float32Array, size: number, f: (d: number) => number): number[] {
  return Array.from({ length: x.length / size }, (_, i) => {
    let s = 0;
    for (let j = 0; j < size; j++) s += f(xHat[i * size + j] - x[i * size + j]);
    return s / size;
  });
}

test('ebgan energies and losses equal a direct computation: per-example MSE, hinge per example, G loss with PT', () => {
  const b = 5, shape = [3, 2, 2], size = 12;
  const x = randoms(b * size, 1), xHat = randoms(b * size, 2);
  const xt = tf.tensor(x, [b, ...shape]), xh = tf.tensor(xHat, [b, ...shape]);
  const want = perExample(x, xHat, size, (d) => d * d);
  const energy = ebganLosses.energy(xt, xh);
  assert.deepEqual(energy.shape, [b]);
  Array.from(energy.dataSync()).forEach((e, i) => close(e, want[i], `energy ${i}`));
  // The hinge acts per example: with m between the energies, some fakes are past the margin and some are not.
  const fakeE = tf.tensor1d([0.1, 0.5, 2, 0.05, 3]);
  const m = 1;
  const wantD = mean(want) + mean([0.1, 0.5, 2, 0.05, 3].map((e) => Math.max(0, m - e)));
  close(scalar(ebganLosses.d(energy, fakeE, m)), wantD, 'D loss');
  // A hinge on the batch mean (mean 1.13 > m) would give no fake term at all: the oracle tells the two apart.
  assert.ok(wantD - mean(want) > 0.1);
  const pt = tf.scalar(0.3);
  close(scalar(ebganLosses.g(fakeE, pt, 0.1)), mean([0.1, 0.5, 2, 0.05, 3]) + 0.03, 'G loss');
  tf.dispose([xt, xh, energy, fakeE, pt]);
});

test('the pull-away term equals its closed form: mean squared cosine over distinct pairs, scale-free, 0 for orthogonal codes', () => {
  // S = (1, 0), (0, 1), (1, 1): cos² = 0, 1/2, 1/2 for the pairs; Σ_{i≠j} = 2; N(N − 1) = 6 → 1/3.
  const s = tf.tensor2d([[1, 0], [0, 1], [1, 1]]);
  close(scalar(ebganLosses.pullAway(s)), 1 / 3, 'PT of three codes');
  close(scalar(tf.tidy(() => ebganLosses.pullAway(tf.mul(s, tf.tensor2d([[3], [0.5], [7]]))))), 1 / 3, 'PT ignores each code\'s length');
  close(scalar(tf.tidy(() => ebganLosses.pullAway(tf.eye(4)))), 0, 'orthogonal codes');
  close(scalar(tf.tidy(() => ebganLosses.pullAway(tf.tensor2d([[1, 2], [2, 4], [-3, -6]])))), 1, 'collinear codes');
  // Codes of any rank are flattened per example: [N, 2, 2] against a direct double loop.
  const n = 4, d = 4, v = randoms(n * d, 3);
  let sum = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    if (i === j) continue;
    let dot = 0, ni = 0, nj = 0;
    for (let k = 0; k < d; k++) { dot += v[i * d + k] * v[j * d + k]; ni += v[i * d + k] ** 2; nj += v[j * d + k] ** 2; }
    sum += dot ** 2 / (ni * nj);
  }
  close(scalar(tf.tidy(() => ebganLosses.pullAway(tf.tensor3d(v, [n, 2, 2])))), sum / (n * (n - 1)), 'PT of random codes');
  s.dispose();
});

test("ebgan's step: D's loss is D(x) + hinge on D(G(z)) under the D before its update, G's is the energy plus 0.1·PT", () => {
  const config = configOf(ebgan, images, { margin: 0.3 });
  const state = freshState(ebgan, images, config);
  const D = discriminatorOf(state.nets);
  // Reproduce the step's batch and latents from copies of the stream and RNG.
  const { x, z } = peekBatch(state);
  const [eReal, eFake] = tf.tidy(() => {
    const fake = state.nets.generator.apply(z, { training: true }) as tf.Tensor;
    return [ebganLosses.energy(x, autoencode(D, x)[0]), ebganLosses.energy(fake, autoencode(D, fake)[0])];
  });
  const [er, ef] = [Array.from(eReal.dataSync()), Array.from(eFake.dataSync())];
  const s = runStep(state);
  close(s.lossD!, mean(er) + mean(ef.map((e) => Math.max(0, 0.3 - e))), 'D loss', 1e-4);
  close(s.extra!['energy/real'], mean(er), 'energy/real', 1e-4);
  close(s.extra!['energy/fake'], mean(ef), 'energy/fake', 1e-4);
  assert.ok(s.extra!['energy/pull-away'] > 0 && s.extra!['energy/pull-away'] < 1);
  tf.dispose([eReal, eFake, x, z]);
  disposeState(state);
});

/** The next step's real batch and latents, without moving the state's stream or RNG. */
function peekBatch(state: StepState): { x: tf.Tensor; z: tf.Tensor2D } {
  const streamState = state.stream.state();
  const rngState = state.latentRng.state();
  const batch = state.stream.next();
  const z = latents(state.latentRng, state.config.batchSize, state.config.latentDim);
  state.stream.restore(streamState);
  state.latentRng.setState(rngState);
  batch.labels?.dispose();
  return { x: batch.x, z };
}

test('began: the L1 energy, k\'s update with its clip, and M equal direct computations', () => {
  const b = 4, size = 6;
  const x = randoms(b * size, 4), xHat = randoms(b * size, 5);
  const energy = tf.tidy(() => beganLosses.energy(tf.tensor3d(x, [b, 3, 2]), tf.tensor3d(xHat, [b, 3, 2])));
  const want = perExample(x, xHat, size, Math.abs);
  Array.from(energy.dataSync()).forEach((e, i) => close(e, want[i], `L1 energy ${i}`));
  energy.dispose();
  close(scalar(tf.tidy(() => beganLosses.d(tf.scalar(0.2), tf.scalar(0.5), 0.3))), 0.2 - 0.3 * 0.5, 'L_D');
  // k ← clip(k + λ(γ L(x) − L(G(z))), 0, 1)
  close(beganLosses.nextK(0.5, 0.2, 0.1, 0.75, 0.001), 0.5 + 0.001 * (0.15 - 0.1), 'k inside [0, 1]', 1e-12);
  assert.equal(beganLosses.nextK(0, 0.2, 0.5, 0.75, 0.001), 0, 'k clipped at 0');
  assert.equal(beganLosses.nextK(0.9999, 1, 0, 0.75, 1), 1, 'k clipped at 1');
  close(beganLosses.convergence(0.2, 0.1, 0.75), 0.2 + 0.05, 'M when G is below γ L(x)', 1e-12);
  close(beganLosses.convergence(0.2, 0.3, 0.75), 0.2 + 0.15, 'M when G is above', 1e-12);
});

test('began: the decay halves the rates when a window\'s mean M does not beat the best; state round-trips through JSON', () => {
  const c = new BeganControl(0.25, 2);
  for (const m of [1, 1, 0.5, 0.5]) c.observe(m); // windows 1, 0.5: improving
  assert.deepEqual([c.lrScale, c.decays, c.bestWindowM], [1, 0, 0.5]);
  for (const m of [0.4, 0.7]) c.observe(m); // mean 0.55 ≥ 0.5: stalled
  assert.deepEqual([c.lrScale, c.decays, c.bestWindowM], [LR_DECAY, 1, 0.5]);
  c.observe(0.3); // half a window
  const restored = new BeganControl(0, 2);
  restored.restore(JSON.parse(JSON.stringify(c.save())));
  assert.deepEqual(restored.save(), c.save());
  const fresh = new BeganControl(0, 2);
  const copy = new BeganControl(0.9, 2);
  copy.restore(JSON.parse(JSON.stringify(fresh.save())));
  assert.equal(copy.bestWindowM, Infinity, 'no window yet survives JSON');
  assert.throws(() => copy.restore({ json: { k: 'x' } }), /began: .*'k'/);
  const off = new BeganControl(0, 0);
  for (let i = 0; i < 10; i++) off.observe(5);
  assert.equal(off.lrScale, 1, '--m-patience 0: no decay');
});

test("began's step: L_D = L(x) − k·L(G(z)), k and M from the step's energies, and the rates follow the decay", () => {
  const config = configOf(began, images, { kInit: 0.4, lambdaK: 0.01, mPatience: 1, lrG: 1e-3, lrD: 2e-3 });
  const state = freshState(began, images, config);
  const control = state.familyState as BeganControl;
  const s1 = runStep(state);
  const [lx, lg] = [s1.extra!['energy/real'], s1.extra!['energy/fake']];
  close(s1.lossD!, lx - 0.4 * lg, 'L_D with k_0', 1e-5);
  close(s1.lossG, lg, 'L_G = L(G(z)) under the same D', 1e-6);
  close(s1.extra!['began/k'], beganLosses.nextK(0.4, lx, lg, 0.75, 0.01), 'k after step 1', 1e-12);
  close(s1.extra!['began/M'], lx + Math.abs(0.75 * lx - lg), 'M', 1e-12);
  // With windows of one step, a step whose M is not below the best halves both rates for the next step.
  control.bestWindowM = -1;
  runStep(state);
  assert.equal(control.lrScale, LR_DECAY);
  runStep(state);
  const rate = (o: unknown) => (o as { learningRate: number }).learningRate;
  assert.equal(rate(state.optimizers.g), 1e-3 * LR_DECAY);
  assert.equal(rate(state.optimizers.d), 2e-3 * LR_DECAY);
  disposeState(state);
});

test('ebgan and began steps: tensor count flat, both players move, no CPU fallback on aten (images and points)', () => {
  for (const family of [ebgan, began]) {
    for (const source of [images, ring8]) {
      const { state } = trainChecked(family, source, small, 4);
      const before = allNetworks(state.nets).map(([n, m]) => [n, m.getWeights()[0].dataSync().slice()] as const);
      runStep(state);
      for (const [name, w] of before) {
        const now = allNetworks(state.nets).find(([n]) => n === name)![1].getWeights()[0].dataSync();
        assert.ok(w.some((v, i) => v !== now[i]), `${family.name} on ${source.info.name}: ${name} did not move`);
      }
      disposeState(state);
    }
  }
  if (aten) {
    const added = aten.atenFallbackKernels().filter((k) => !fallbackBefore.includes(k));
    assert.deepEqual(added, [], `kernels that fell back to the CPU backend: ${added.join(', ')}`);
  }
});

test('settings are validated at the edge, and shared settings the families do not use are refused by flag', () => {
  for (const family of [ebgan, began]) {
    for (const [given, flag] of [[{ loss: 'hinge' }, '--loss'], [{ nCritic: 5 }, '--n-critic'], [{ gpWeight: 10 }, '--gp-weight'], [{ diffAugment: 'color' }, '--diff-augment']] as const) {
      assert.throws(() => checkHonoured(family, images.info, given as Partial<RunConfig>), new RegExp(`${flag}: ${family.name} does not use`));
    }
    checkHonoured(family, images.info, { width: 8, latentDim: 32, emaDecay: 0.999 });
    assert.throws(() => checkHonoured(family, ring8.info, { width: 8 }), /--width/);
  }
  assert.throws(() => validatePartialConfig({ margin: 0 }, 'command line', ebgan.settings), /--margin/);
  assert.throws(() => validatePartialConfig({ ptWeight: -1 }, 'command line', ebgan.settings), /--pt-weight/);
  assert.throws(() => validatePartialConfig({ diversityRatio: 1.5 }, 'command line', began.settings), /--diversity-ratio/);
  assert.throws(() => validatePartialConfig({ kInit: 2 }, 'command line', began.settings), /--k-init/);
  assert.throws(() => validatePartialConfig({ mPatience: 2.5 }, 'command line', began.settings), /--m-patience/);
  const one = resolveFamilyConfig(ebgan.settings!, ebgan.defaults(images.info), { model: 'ebgan', batchSize: 1 });
  assert.match(ebgan.check(images.info, one)!, /--batch-size 1: the pull-away term/);
  const odd = { ...images.info, shape: [36, 36, 1] };
  assert.match(began.check(odd, resolveFamilyConfig(began.settings!, {}))!, /base·2\^n/);
  assert.equal(getModel('ebgan'), ebgan);
  assert.equal(getModel('began'), began);
});

test('began resumes bit for bit: weights, k, M and the decay bookkeeping, with decays before and after the cut', async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-began-'));
  try {
    const cfg = (out: string) => ({ seed: 1, batchSize: 8, width: 4, latentDim: 8, model: 'began', data: 'fashion-mnist', dataLimit: 64, steps: 10, mPatience: 2, sampleEvery: 0, checkpointEvery: 100, logEvery: 1, out }) as Partial<RunConfig>;
    const full = await startRun(cfg(path.join(tmp, 'full')), { source: images });
    const fullStats: Record<string, number>[] = [];
    full.stats.subscribe((_, s) => fullStats.push({ ...s }));
    await full.train();
    const want = weights(full.parts.nets);
    const wantState = full.parts.familyState!.save().json;
    full.dispose();
    const dir = path.join(tmp, 'cut');
    const first = await startRun(cfg(dir), { source: images });
    first.stats.subscribe((step) => {
      if (step === 9) first.requestStop(); // inside the window of steps 9–10
    });
    await first.train();
    first.dispose();
    const second = await resumeRun(dir, { source: images });
    const resumedStats: Record<string, number>[] = [];
    second.stats.subscribe((_, s) => resumedStats.push({ ...s }));
    await second.train();
    const got = weights(second.parts.nets);
    assert.deepEqual(second.parts.familyState!.save().json, wantState);
    second.dispose();
    for (const name of Object.keys(want)) {
      const differing = got[name].reduce((n, w, i) => n + w.filter((v, j) => v !== want[name][i][j]).length, 0);
      assert.equal(differing, 0, `${differing} weights of ${name} differ from the uninterrupted run`);
    }
    // The resumed steps report what the uninterrupted run reported at the same steps, k and M included.
    const tail = fullStats.slice(-resumedStats.length);
    // This seed's M stalls at the windows ending at steps 8 and 10: one decay before the cut, one after it.
    assert.deepEqual(fullStats.map((r) => r['began/lr-scale']), [1, 1, 1, 1, 1, 1, 1, 0.5, 0.5, 0.25]);
    for (const key of ['began/k', 'began/M', 'began/lr-scale', 'loss/D']) assert.deepEqual(resumedStats.map((s) => s[key]), tail.map((s) => s[key]), key);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});

test("Elu's gradient: the first-order EluGrad path and the differentiable one both equal elu′, and the second order is eˣ below 0", () => {
  const xs = [-2, -0.5, -1e-3, 0.3, 1.5];
  const want = xs.map((v) => (v > 0 ? 1 : Math.exp(v)));
  const x = tf.tensor1d(xs);
  const first = tf.grad((t: tf.Tensor) => tf.sum(tf.elu(t)))(x);
  Array.from(first.dataSync()).forEach((g, i) => close(g, want[i], `elu′(${xs[i]})`, 1e-6));
  // d/dx of Σ elu′(x) (a gradient differentiated again: the tape is on during the inner backward pass).
  const second = tf.grad((t: tf.Tensor) => tf.sum(tf.grad((u: tf.Tensor) => tf.sum(tf.elu(u)))(t)))(x);
  Array.from(second.dataSync()).forEach((g, i) => close(g, xs[i] > 0 ? 0 : Math.exp(xs[i]), `elu″(${xs[i]})`, 1e-6));
  tf.dispose([x, first, second]);
});

function weights(nets: GanNetworks): Record<string, Float32Array[]> {
  return Object.fromEntries(allNetworks(nets).map(([name, m]) => [name, m.getWeights().map((w) => w.dataSync().slice() as Float32Array)]));
}

test('short Fashion-MNIST runs move the right way: D learns to reconstruct data (energy of x falls) and M falls', () => {
  // Rates of 1e-3 (ten times began's default) so that 30 steps of width 8 show the trend within seconds.
  for (const family of [ebgan, began]) {
    const { state, stats } = trainChecked(family, images, { ...small, width: 8, lrG: 1e-3, lrD: 1e-3 }, 30);
    const real = stats.map((s) => s.extra!['energy/real']);
    const [first, last] = [mean(real.slice(0, 5)), mean(real.slice(-5))];
    assert.ok(last < 0.7 * first, `${family.name}: energy of x from ${first.toFixed(4)} to ${last.toFixed(4)}`);
    if (family === began) {
      const m = stats.map((s) => s.extra!['began/M']);
      assert.ok(mean(m.slice(-5)) < mean(m.slice(0, 5)), `began: M from ${mean(m.slice(0, 5)).toFixed(4)} to ${mean(m.slice(-5)).toFixed(4)}`);
    }
    disposeState(state);
  }
});
