import { test } from 'node:test';
import assert from 'node:assert/strict';
import '@tensorflow/tfjs-layers'; // registers the gradients tf.grad needs in Node
import * as tf from '@tensorflow/tfjs-core';
import { LOSSES, LOSS_NAMES, bothSidesLoss, fGan, fKl, fReverseKl, minimax, type AdversarialLoss, type LossName } from '../../src/gan/losses.js';
import { adaCentre } from '../../src/gan/tricks/ada.js';
import { resolveConfig } from '../../src/gan/config.js';
import { checkLossTarget } from '../../src/gan/settings.js';
import { MODELS } from '../../src/models/registry.js';
import type { GanFamily } from '../../src/gan/family.js';
import type { DatasetInfo } from '../../src/data/types.js';
import { initBackend } from '../../src/backend/index.js';
import { Rng } from '../../src/util/rng.js';
import { loadData } from '../../src/data/registry.js';
import { disposeState, freshState, runStep } from '../../src/gan/training_step.js';
import { getModel } from '../../src/models/registry.js';
import { backends } from '../nn/style_helpers.js';

await initBackend({ quiet: true });
const aten = backends().includes('aten') ? ((await import('tfjs-backend-aten' as string)) as { atenFallbackKernels(): string[] }) : null;

/**
 * Each divergence written from its generator f (Nowozin et al. 2016, Table 2) and, independently of
 * src/gan/losses.ts, the optimal critic's raw output v*(u) = g_f⁻¹(f'(u)) at density ratio u = p/q (eq. 5),
 * worked out by hand from the table's g_f.
 */
const DIVERGENCES: Record<string, { f: (u: number) => number; vStar: (u: number) => number }> = {
  'f-kl': { f: (u) => u * Math.log(u), vStar: (u) => 1 + Math.log(u) }, // f' = 1 + log u, g = id
  'f-reverse-kl': { f: (u) => -Math.log(u), vStar: (u) => Math.log(u) }, // f' = −1/u = −e^{−v}
  'f-pearson': { f: (u) => (u - 1) ** 2, vStar: (u) => 2 * (u - 1) }, // f' = 2(u − 1), g = id
  'f-hellinger': { f: (u) => (Math.sqrt(u) - 1) ** 2, vStar: (u) => 0.5 * Math.log(u) }, // f' = 1 − u^{−½} = 1 − e^{−v}
  'f-js': { f: (u) => -(u + 1) * Math.log((1 + u) / 2) + u * Math.log(u), vStar: (u) => Math.log(u) }, // f' = log(2u/(1+u))
  'f-gan': { f: (u) => u * Math.log(u) - (u + 1) * Math.log(u + 1), vStar: (u) => Math.log(u) }, // f' = log(u/(1+u)) = log σ(v)
};
const F_LOSSES = Object.keys(DIVERGENCES) as LossName[];

// Two discrete distributions on four points, as batches whose element counts are the probabilities × 20, so
// a batch mean is the exact expectation.
const P = [0.4, 0.3, 0.2, 0.1];
const Q = [0.1, 0.2, 0.3, 0.4];
const N = 20;
const repeat = (probs: number[], value: (i: number) => number) => probs.flatMap((p, i) => Array<number>(Math.round(p * N)).fill(value(i)));

const scalar = (t: tf.Scalar) => {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
};

/** −(D's loss) at critic outputs v(i) on the support: F = E_P[g_f(v)] − E_Q[f*(g_f(v))]. */
function objective(loss: AdversarialLoss, v: (i: number) => number): number {
  return tf.tidy(() => -scalar(loss.d(tf.tensor1d(repeat(P, v)), tf.tensor1d(repeat(Q, v)))));
}

test('the f-GAN losses are registered under their flag names', () => {
  for (const name of F_LOSSES) {
    assert.ok(LOSS_NAMES.includes(name), name);
    assert.equal(LOSSES[name].name, name);
  }
});

test('at the optimal critic v* = g_f⁻¹(f′(p/q)), D’s objective equals D_f(P‖Q) computed directly, and is a maximum', () => {
  for (const name of F_LOSSES) {
    const { f, vStar } = DIVERGENCES[name];
    const direct = Q.reduce((s, q, i) => s + q * f(P[i] / q), 0); // D_f(P‖Q) = Σ q f(p/q)
    const v = (i: number) => vStar(P[i] / Q[i]);
    const atOptimum = objective(LOSSES[name], v);
    assert.ok(Math.abs(atOptimum - direct) < 2e-5, `${name}: F(v*) = ${atOptimum}, D_f = ${direct}`);
    assert.ok(direct - f(1) > 0.05, `${name}: the two distributions should differ (D_f = ${direct}, f(1) = ${f(1)})`);
    // The bound is tight only at v*: moving the critic anywhere lowers it, and the gradient there is zero.
    for (const shift of [-0.3, 0.3]) {
      for (let j = 0; j < P.length; j++) {
        const moved = objective(LOSSES[name], (i) => v(i) + (i === j ? shift : 0));
        assert.ok(moved < atOptimum - 1e-6, `${name}: moving v at point ${j} by ${shift} gave ${moved} ≥ ${atOptimum}`);
      }
    }
    const grad = tf.tidy(() => {
      const real = tf.tensor1d(repeat(P, v));
      const fake = tf.tensor1d(repeat(Q, v));
      const [gr, gf] = tf.grads((r: tf.Tensor, fk: tf.Tensor) => LOSSES[name].d(r, fk))([real, fake]);
      // Per support point, the real and fake batches hold the same v: sum each point's two gradients.
      const per = Array<number>(P.length).fill(0);
      const rv = gr.dataSync();
      const fv = gf.dataSync();
      let k = 0;
      P.forEach((p, i) => { for (let c = 0; c < Math.round(p * N); c++) per[i] += rv[k++]; });
      k = 0;
      Q.forEach((q, i) => { for (let c = 0; c < Math.round(q * N); c++) per[i] += fv[k++]; });
      return per;
    });
    for (const g of grad) assert.ok(Math.abs(g) < 1e-5, `${name}: ∂F/∂v at v* = ${grad.join(', ')}`);
  }
});

test('at p = q the optimal critic outputs the loss’s level (ADA’s centre), and the objective is f(1)', () => {
  for (const name of F_LOSSES) {
    const level = DIVERGENCES[name].vStar(1);
    assert.equal(adaCentre(name), level, name);
    assert.equal(LOSSES[name].level, level, name);
    // f(1) = 0 for every divergence but the GAN one, whose f(1) = −log 4 (2·JS − log 4 at P = Q).
    const F = tf.tidy(() => -scalar(LOSSES[name].d(tf.fill([8], level), tf.fill([8], level))));
    assert.ok(Math.abs(F - DIVERGENCES[name].f(1)) < 1e-6, `${name}: F at p = q is ${F}, f(1) = ${DIVERGENCES[name].f(1)}`);
  }
});

test('f-gan is the original GAN: D’s loss is the cross-entropy, G’s the saturating minimax loss', () => {
  const rng = new Rng(3);
  const real = tf.tensor1d(Array.from({ length: 16 }, () => 3 * rng.normal()));
  const fake = tf.tensor1d(Array.from({ length: 16 }, () => 3 * rng.normal()));
  assert.ok(Math.abs(scalar(fGan.d(real, fake)) - scalar(minimax.d(real, fake))) < 1e-6);
  assert.ok(Math.abs(scalar(fGan.g(fake, real)) - scalar(minimax.g(fake, real))) < 1e-6);
  tf.dispose([real, fake]);
});

test('f-js and f-gan differ by constants only (log 4 in D, log 2 in G), so they train identically', () => {
  const rng = new Rng(5);
  const real = tf.tensor1d(Array.from({ length: 16 }, () => 3 * rng.normal()));
  const fake = tf.tensor1d(Array.from({ length: 16 }, () => 3 * rng.normal()));
  assert.ok(Math.abs(scalar(LOSSES['f-js'].d(real, fake)) - (scalar(fGan.d(real, fake)) - Math.log(4))) < 1e-5);
  assert.ok(Math.abs(scalar(LOSSES['f-js'].g(fake, real)) - (scalar(fGan.g(fake, real)) + Math.LN2)) < 1e-5);
  tf.dispose([real, fake]);
});

test('a loss is flagged saddle exactly when G’s loss is −(D’s loss) up to a term G cannot move; both-sides players (BiGAN’s G and E) then minimise −d(real, fake), else d(fake, real)', () => {
  const rng = new Rng(9);
  const logits = () => tf.tensor1d(Array.from({ length: 32 }, () => 3 * rng.normal()));
  const saddles: string[] = [];
  for (const name of LOSS_NAMES) {
    const loss = LOSSES[name];
    const [real, fake, other] = [logits(), logits(), logits()];
    const gap = (f: tf.Tensor) => scalar(loss.g(f, real)) + scalar(loss.d(real, f));
    const moves = Math.abs(gap(fake) - gap(other)) > 1e-4;
    assert.equal(!moves, loss.saddle === true, `${name}: g + d ${moves ? 'moves' : 'stays'} with the fake logits`);
    if (loss.saddle) saddles.push(name);
    const expected = loss.saddle ? -scalar(loss.d(real, fake)) : scalar(loss.d(fake, real));
    assert.ok(Math.abs(scalar(bothSidesLoss(loss, real, fake)) - expected) < 1e-5, name);
    tf.dispose([real, fake, other]);
  }
  assert.deepEqual(saddles.sort(), ['f-gan', 'f-hellinger', 'f-js', 'f-kl', 'f-pearson', 'f-reverse-kl', 'minimax', 'wasserstein']);
  // Inverted labels under KL would train the exchanged divergence: not the same objective.
  const [real, fake] = [logits(), logits()];
  assert.ok(Math.abs(scalar(bothSidesLoss(fKl, real, fake)) - scalar(fKl.d(fake, real))) > 1e-3);
  tf.dispose([real, fake]);
});

test('G’s loss never rises with D’s score on its samples: G only gains by looking more real', () => {
  // −f*(g_f(v)) non-increasing in v; the table's Pearson f* on all of ℝ (t²/4 + t) would fail below v = −2.
  const v = Array.from({ length: 81 }, (_, i) => -20 + i * 0.5);
  for (const name of F_LOSSES) {
    const slopes = tf.tidy(() => Array.from(tf.grad((f: tf.Tensor) => LOSSES[name].g(f, f))(tf.tensor1d(v)).dataSync()));
    slopes.forEach((d, i) => assert.ok(d <= 1e-7, `${name}: ∂G/∂v = ${d} > 0 at v = ${v[i]}`));
  }
});

test('every f-GAN loss and its gradients stay finite for logits of ±1000', () => {
  for (const name of F_LOSSES) {
    const loss = LOSSES[name];
    const [d, g, gradD, gradG] = tf.tidy(() => {
      const x = tf.tensor1d([-1000, -50, 0, 50, 1000]);
      return [
        scalar(loss.d(x, x)),
        scalar(loss.g(x, x)),
        tf.grads((r: tf.Tensor, f: tf.Tensor) => loss.d(r, f))([x, x]).flatMap((t) => Array.from(t.dataSync())),
        Array.from(tf.grad((f: tf.Tensor) => loss.g(f, x))(x).dataSync()),
      ] as const;
    });
    for (const v of [d, g, ...gradD, ...gradG]) assert.ok(Number.isFinite(v), `${name}: ${[d, g, ...gradD, ...gradG].join(', ')}`);
  }
});

/**
 * The paper's Figure 2 experiment, small: fit one Gaussian N(μ, σ²) to the mixture ½N(−2, 0.5²) + ½N(2, 0.5²)
 * with a small MLP critic, by Algorithm 1 (alternating D and G steps on the loss's d and g, 3 D steps per G
 * step after 200 to start the critic), from μ = 1, σ = 1. Over Gaussians, KL's minimiser matches moments
 * (μ = 0, σ = √(4 + 0.25) ≈ 2.06); reverse KL's, reached from this start, sits on a mode (μ = 2, σ = 0.5).
 * (From a start nearer the middle, μ ≤ 0.5, reverse KL's descent ends in its wide local minimum at μ = 0,
 * σ ≈ 1.74, by direct numerical minimisation too; the start is part of the experiment.)
 */
function fitGaussian(loss: AdversarialLoss, seed: number, steps: number): { mean: number; std: number } {
  const rng = new Rng(seed);
  const variable = (t: tf.Tensor) => {
    const v = tf.variable(t); // shares t's data; t itself is a tensor of its own, to dispose
    t.dispose();
    return v;
  };
  const init = (rows: number, cols: number) => variable(tf.tensor2d(Array.from({ length: rows * cols }, () => rng.normal() * Math.sqrt(1 / rows)), [rows, cols]));
  const H = 32;
  const w1 = init(1, H), b1 = variable(tf.zeros([H])), w2 = init(H, H), b2 = variable(tf.zeros([H])), w3 = init(H, 1), b3 = variable(tf.zeros([1]));
  const critic = (x: tf.Tensor2D) => tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x, w1), b1)), w2), b2)), w3), b3);
  const mu = variable(tf.scalar(1));
  const logStd = variable(tf.scalar(0));
  const optD = tf.train.adam(5e-3, 0.5, 0.999);
  const optG = tf.train.adam(5e-3, 0.5, 0.999);
  const B = 256;
  const draw = (n: number, f: () => number) => tf.tensor2d(Array.from({ length: n }, f), [n, 1]);
  const mixture = () => (rng.uniform() < 0.5 ? -2 : 2) + 0.5 * rng.normal();
  for (let step = 0; step < steps; step++) {
    for (let k = 0; k < (step === 0 ? 200 : 3); k++) {
      const real = draw(B, mixture);
      const fake = tf.tidy(() => tf.add(mu, tf.mul(tf.exp(logStd), draw(B, () => rng.normal()))) as tf.Tensor2D);
      optD.minimize(() => loss.d(critic(real), critic(fake)), false, [w1, b1, w2, b2, w3, b3]);
      tf.dispose([real, fake]);
    }
    const eps = draw(B, () => rng.normal());
    optG.minimize(() => loss.g(critic(tf.add(mu, tf.mul(tf.exp(logStd), eps)) as tf.Tensor2D), tf.zeros([B, 1])), false, [mu, logStd]);
    eps.dispose();
  }
  const out = { mean: mu.dataSync()[0], std: Math.exp(logStd.dataSync()[0]) };
  tf.dispose([w1, b1, w2, b2, w3, b3, mu, logStd]);
  optD.dispose();
  optG.dispose();
  return out;
}

test('fitting one Gaussian to two modes: reverse KL seeks a mode, KL covers both (the paper’s Figure 2)', () => {
  const before = tf.memory().numTensors;
  const reverse = fitGaussian(fReverseKl, 1, 500);
  const forward = fitGaussian(fKl, 1, 500);
  process.stdout.write(`# reverse KL: μ ${reverse.mean.toFixed(3)} σ ${reverse.std.toFixed(3)}; KL: μ ${forward.mean.toFixed(3)} σ ${forward.std.toFixed(3)}\n`);
  // Reverse KL: on one mode (μ near ±2), narrow (σ near the mode's 0.5).
  assert.ok(Math.abs(reverse.mean) > 1.6, `reverse KL mean ${reverse.mean}`);
  assert.ok(reverse.std < 0.8, `reverse KL std ${reverse.std}`);
  // KL: between the modes, wide enough to reach both (moment matching: μ = 0, σ ≈ 2.06).
  assert.ok(Math.abs(forward.mean) < 1.0, `KL mean ${forward.mean}`);
  assert.ok(forward.std > 1.5, `KL std ${forward.std}`);
  assert.equal(tf.memory().numTensors, before);
});

test('--loss on a family whose D outputs an energy is refused, naming the flag and the families that take it', () => {
  const points: DatasetInfo = { name: 'toy:ring8', kind: 'points', shape: [2] };
  const energy: GanFamily = { ...MODELS.vanilla, name: 'energy-d', discriminatorOutput: 'energy', honours: [] };
  const families = [...Object.values(MODELS), energy];
  assert.throws(() => checkLossTarget(energy, points, { loss: 'f-kl' }, families), (e: Error) =>
    /--loss f-kl reads D's output as a score/.test(e.message) && /energy-d's D outputs an energy/.test(e.message) && /vanilla/.test(e.message) && !/energy-d\)/.test(e.message));
  checkLossTarget(energy, points, {}, families); // no --loss: nothing to refuse
  // Families with auxiliary heads beside a scalar adversarial logit take the f-GAN losses.
  const scoring = Object.values(MODELS).filter((f) => (f.discriminatorOutput ?? 'score') === 'score');
  for (const family of scoring) checkLossTarget(family, points, { loss: 'f-kl' }, families);
  // The registered energy families (ebgan, began) are refused the same way.
  const energies = Object.values(MODELS).filter((f) => f.discriminatorOutput === 'energy');
  assert.deepEqual(energies.map((f) => f.name).sort(), ['began', 'ebgan']);
  for (const family of energies) assert.throws(() => checkLossTarget(family, points, { loss: 'f-kl' }, families), /outputs an energy/);
});

test('cross-flag rules: label smoothing refused (no target), ADA accepted (a level), for every f-GAN loss', () => {
  for (const name of F_LOSSES) {
    assert.throws(() => resolveConfig({ loss: name, labelSmoothing: 0.1 }), /--label-smoothing needs a loss with a real target/);
    assert.equal(resolveConfig({ loss: name, adaTarget: 0.6 }).loss, name);
  }
  assert.throws(() => resolveConfig({ loss: 'wasserstein', adaTarget: 0.6 }), /fixed decision level \(minimax, non-saturating, hinge, least-squares, f-kl/);
});

test('vanilla on ring8 and acgan on images (a source logit beside class logits) train under every f-GAN loss: finite, tensors flat, no aten fallback', async () => {
  await tf.setBackend(backends().at(-1)!); // aten where it is built
  const ring = await loadData('toy:ring8');
  const images = await loadData('fashion-mnist', { limit: 16 });
  for (const [model, source, settings] of [['vanilla', ring, { hidden: 16 }], ['acgan', images, { width: 4, latentDim: 8 }]] as const) {
    const family = getModel(model);
    for (const loss of F_LOSSES) {
      const before = aten?.atenFallbackKernels() ?? [];
      const config = resolveConfig(family.defaults(source.info), { model, loss, batchSize: 8, steps: 3, seed: 0, ...settings });
      const state = freshState(family, source, config);
      runStep(state); // the first step builds optimizer slots
      const tensors = tf.memory().numTensors;
      for (let i = 0; i < 2; i++) {
        const s = runStep(state);
        assert.ok(Number.isFinite(s.lossG) && Number.isFinite(s.lossD ?? NaN), `${model} ${loss}: D ${s.lossD} G ${s.lossG}`);
      }
      assert.equal(tf.memory().numTensors, tensors, `${model} ${loss}: tensors across steps`);
      if (aten && tf.getBackend() === 'aten') {
        assert.deepEqual(aten.atenFallbackKernels().filter((k) => !before.includes(k)), [], `${model} ${loss}: kernels that ran on the CPU fallback`);
      }
      disposeState(state);
    }
  }
});
