// A tiny StyleGAN2-shaped G (mapping → constant 4×4 → two upsampling blocks to 16×16 with toRGB skips) and a
// tiny residual D, built from src/nn's style layers as tf.LayersModels: they save and load with the same
// outputs, a training step's phases (D main, R1, G main, path length) keep the tensor count flat and give the
// same values on every backend, and on aten none of their kernels, forward, backward or double backward, runs
// on the CPU fallback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import '../../src/nn/second_order_grads.js';
import { initBackend } from '../../src/backend/index.js';
import { EqualizedConv2D, EqualizedDense } from '../../src/nn/equalized.js';
import { mappingNetwork } from '../../src/nn/mapping.js';
import { MinibatchStddev } from '../../src/nn/minibatch.js';
import { ToRGB, styledConv } from '../../src/nn/modulated_conv.js';
import { ResidualDBlock } from '../../src/nn/residual_block.js';
import { ConstantInput, NoiseInjection } from '../../src/nn/synthesis_inputs.js';
import { loadModel, saveModel } from '../../src/gan/model_io.js';
import { backends, randn, take } from './style_helpers.js';

await initBackend({ quiet: true });
// Typed locally (the package may be unbuilt, see src/backend/index.ts).
const aten = backends().includes('aten') ? (await import('tfjs-backend-aten' as string)) as { atenFallbackKernels(): string[] } : null;

const Z = 8, W = 8, C = 8;

/** Mapping (z → w), synthesis (w → [B, 16, 16, 3]) and G = synthesis ∘ mapping. */
function tinyGenerator(seed: number) {
  const mapping = mappingNetwork({ zDim: Z, wDim: W, depth: 2, seed });
  const w = tfl.input({ shape: [W] });
  let x = new ConstantInput({ channels: C, seed: seed + 10 }).apply(w) as SymbolicTensor; // [B, 4, 4, C]
  x = styledConv(x, w, { filters: C, seed: seed + 20 });
  let rgb = new ToRGB({ seed: seed + 30 }).apply([x, w]) as SymbolicTensor;
  for (const block of [0, 1]) { // 4 → 8 → 16
    const s = seed + 40 + 10 * block;
    x = styledConv(x, w, { filters: C, upsample: true, seed: s });
    x = styledConv(x, w, { filters: C, seed: s + 3 });
    rgb = new ToRGB({ seed: s + 6 }).apply([x, w, rgb]) as SymbolicTensor; // [B, 2H, 2W, 3]
  }
  const synthesis = tfl.model({ inputs: w, outputs: rgb });
  const z = tfl.input({ shape: [Z] });
  const g = tfl.model({ inputs: z, outputs: synthesis.apply(mapping.apply(z)) as SymbolicTensor });
  return { mapping, synthesis, g };
}

/** fromRGB → two residual blocks (16 → 8 → 4) → minibatch stddev → conv → dense → logit. */
function tinyDiscriminator(seed: number): tfl.LayersModel {
  const img = tfl.input({ shape: [16, 16, 3] });
  let h = new EqualizedConv2D({ filters: C, kernelSize: 1, activation: 'lrelu', seed }).apply(img) as SymbolicTensor;
  h = new ResidualDBlock({ filters: 2 * C, seed: seed + 1 }).apply(h) as SymbolicTensor; // [B, 8, 8, 2C]
  h = new ResidualDBlock({ filters: 2 * C, seed: seed + 4 }).apply(h) as SymbolicTensor; // [B, 4, 4, 2C]
  h = new MinibatchStddev({ groupSize: 2 }).apply(h) as SymbolicTensor;
  h = new EqualizedConv2D({ filters: 2 * C, kernelSize: 3, activation: 'lrelu', seed: seed + 7 }).apply(h) as SymbolicTensor;
  h = tfl.layers.flatten().apply(h) as SymbolicTensor;
  h = new EqualizedDense({ units: 2 * C, activation: 'lrelu', seed: seed + 8 }).apply(h) as SymbolicTensor;
  return tfl.model({ inputs: img, outputs: new EqualizedDense({ units: 1, seed: seed + 9 }).apply(h) as SymbolicTensor });
}

/** Every layer of a model, nested models' layers included. */
function allLayers(m: tfl.LayersModel): tfl.layers.Layer[] {
  return m.layers.flatMap((l) => (l instanceof tfl.LayersModel ? allLayers(l) : [l]));
}

/** Noise strengths start at 0; tests that look at noise give them a value. */
function setNoiseStrength(m: tfl.LayersModel, strength: number): void {
  for (const l of allLayers(m)) if (l instanceof NoiseInjection) tf.tidy(() => l.setWeights([tf.scalar(strength), l.getWeights()[1]]));
}

const variables = (m: tfl.LayersModel) => m.trainableWeights.map((v) => v.read() as tf.Variable);
const run = (m: tfl.LayersModel, x: tf.Tensor) => m.apply(x, { training: true }) as tf.Tensor;
const softplus = (t: tf.Tensor) => tf.mean(tf.softplus(t)) as tf.Scalar;

/**
 * The four phases of a StyleGAN2 step, each differentiated and applied with plain SGD: D main (non-saturating),
 * D reg (R1: the gradient of ‖∇ₓD‖², a double backward through D), G main, G reg (path length: the gradient of
 * ‖J_wᵀy‖², a double backward through the synthesis network). Returns each phase's value.
 */
function trainingStep(nets: ReturnType<typeof tinyGenerator>, d: tfl.LayersModel, z: tf.Tensor, real: tf.Tensor, directions: tf.Tensor): number[] {
  const opt = tf.train.sgd(1e-3);
  const phase = (f: () => tf.Scalar, vars: tf.Variable[]) => {
    const { value, grads } = tf.variableGrads(f, vars);
    for (const g of Object.values(grads)) assert.ok(take(tf.tidy(() => tf.all(tf.isFinite(g))))[0] === 1, 'finite gradients');
    opt.applyGradients(grads);
    tf.dispose(grads);
    return take(value)[0];
  };
  const values = [
    phase(() => tf.add(softplus(run(d, run(nets.g, z))), softplus(tf.neg(run(d, real)))) as tf.Scalar, variables(d)),
    phase(() => tf.mul(5, tf.mean(tf.sum(tf.square(tf.grad((x: tf.Tensor) => tf.sum(run(d, x)))(real)), [1, 2, 3]))) as tf.Scalar, variables(d)),
    phase(() => softplus(tf.neg(run(d, run(nets.g, z)))), variables(nets.g)),
    phase(() => {
      const w = run(nets.mapping, z);
      const jty = tf.grad((ww: tf.Tensor) => tf.sum(tf.mul(run(nets.synthesis, ww), directions)))(w); // J_wᵀy [B, W]
      return tf.mean(tf.sum(tf.square(jty), 1)) as tf.Scalar;
    }, variables(nets.synthesis)),
  ];
  opt.dispose();
  return values;
}

/** The first step's phase values on cpu, which aten must reproduce from the same seeded weights and inputs. */
let cpuFirstStep: number[] | null = null;

for (const backend of backends()) {
  test(`[${backend}] tiny G and D save and load with identical outputs (noise draw count included)`, async () => {
    await tf.setBackend(backend);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-style-'));
    const { g } = tinyGenerator(1);
    const d = tinyDiscriminator(100);
    try {
      const z = randn([4, Z], 2);
      setNoiseStrength(g, 0.5);
      tf.dispose(g.predict(z) as tf.Tensor); // one noise draw per layer before saving
      await saveModel(g, path.join(dir, 'g'));
      await saveModel(d, path.join(dir, 'd'));
      const [g2, d2] = [await loadModel(path.join(dir, 'g')), await loadModel(path.join(dir, 'd'))];
      const classes = (m: tfl.LayersModel) => allLayers(m).map((l) => l.getClassName());
      for (const name of ['PixelNorm', 'EqualizedDense', 'ConstantInput', 'ModulatedConv2D', 'NoiseInjection', 'BiasActivation', 'ToRGB']) {
        assert.ok(classes(g2).includes(name), `loaded G holds ${name}`);
      }
      assert.ok(classes(d2).includes('ResidualDBlock') && classes(d2).includes('EqualizedConv2D'));
      const [a, b] = [g, g2].map((m) => take(m.predict(z) as tf.Tensor));
      assert.equal(a.length, 4 * 16 * 16 * 3);
      assert.deepEqual(b, a, 'G: the same weights and the same next noise draw');
      assert.notDeepEqual(take(g.predict(z) as tf.Tensor), a, 'and the draw after that is new noise');
      const img = randn([4, 16, 16, 3], 3);
      assert.deepEqual(take(d2.predict(img) as tf.Tensor), take(d.predict(img) as tf.Tensor), 'D');
      g2.dispose();
      d2.dispose();
      tf.dispose([z, img]);
    } finally {
      g.dispose();
      d.dispose();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  test(`[${backend}] a training step's phases through tiny G and D: finite, tensor count flat${backend === 'aten' ? ', no fallback kernels' : ''}`, async () => {
    await tf.setBackend(backend);
    const nets = tinyGenerator(3);
    const d = tinyDiscriminator(200);
    const z = randn([4, Z], 4), real = randn([4, 16, 16, 3], 5), directions = randn([4, 16, 16, 3], 6, 1 / 16);
    setNoiseStrength(nets.g, 0.5); // so that the noise strengths' gradients are not trivially those of a zero product
    const fallbackBefore = aten?.atenFallbackKernels() ?? [];
    const first = trainingStep(nets, d, z, real, directions);
    assert.ok(first.every(Number.isFinite), `phase values ${first}`);
    if (backend === 'cpu') cpuFirstStep = first;
    else if (cpuFirstStep) first.forEach((v, i) => assert.ok(Math.abs(v - cpuFirstStep![i]) <= 1e-4 * Math.max(1, Math.abs(v)), `phase ${i}: ${backend} ${v} vs cpu ${cpuFirstStep![i]}`));
    const tensors = tf.memory().numTensors;
    for (let i = 0; i < 2; i++) {
      trainingStep(nets, d, z, real, directions);
      assert.equal(tf.memory().numTensors, tensors, `tensor count after step ${i + 2}`);
    }
    if (backend === 'aten') {
      const fellBack = aten!.atenFallbackKernels().filter((k) => !fallbackBefore.includes(k));
      assert.deepEqual(fellBack, [], 'kernels that ran on the CPU fallback');
    }
    tf.dispose([z, real, directions]);
    nets.g.dispose();
    d.dispose();
  });
}
