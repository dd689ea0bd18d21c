// The layers of the photo families (super-resolution, inpainting, a refiner) train on aten with no CPU-fallback
// kernel, forward and backward, and give the cpu backend's losses and gradients. The probe net is no family: it
// strings together what they are built from — 3×3 'same' and 'valid' convs, PReLU with per-channel alpha, pixel
// shuffle (depthToSpace ×2), nearest ×2 upsampling, batch norm in training mode, LeakyReLU, a dense head, an
// image + 1-channel mask input (4 channels), mirror and zero padding, max and average pooling, where-composition,
// and the losses: softplus and sigmoid-cross-entropy adversarial, relativistic average, patch-wise softmax cross
// entropy, L1, MSE and the perceptual distance in the shipped CIFAR-10 feature network (RGB at 32², grey at 28²,
// which resizes and tiles).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/backend/index.js';
import { nonSaturating, relativisticAverage } from '../../src/gan/losses.js';
import { PerceptualDistance } from '../../src/metrics/perceptual.js';
import { Rng } from '../../src/util/rng.js';

const info = await initBackend({ quiet: true });
const skip = info.name !== 'aten' ? 'the aten backend is not built here' : false;
// Typed locally (the package may be unbuilt, see src/backend/index.ts).
const aten = skip ? null : (await import('tfjs-backend-aten' as string)) as { atenFallbackKernels(): string[] };

// Batch 1: tfjs 4.22's CPU ResizeNearestNeighborGrad reads dy at the wrong batch stride (see the aten package's
// pixel_ops test), and the cpu backend is the oracle here.
const B = 1, LR = 8, HR = 32;

/** Deterministic layers: every initializer seeded, so both backends start from the same weights. */
function probeLayers() {
  let seed = 1;
  const init = () => tfl.initializers.glorotUniform({ seed: seed++ });
  const conv = (filters: number, extra: Partial<Parameters<typeof tfl.layers.conv2d>[0]> = {}) =>
    tfl.layers.conv2d({ filters, kernelSize: 3, padding: 'same', kernelInitializer: init(), ...extra });
  // Generator: [B, 8, 8, 4] (RGB + mask) → [B, 32, 32, 3]
  const g = {
    head: conv(16), prelu1: tfl.layers.prelu({ sharedAxes: [1, 2], alphaInitializer: tfl.initializers.constant({ value: 0.25 }) }),
    body: conv(16, { useBias: false }), bn1: tfl.layers.batchNormalization(),
    prelu2: tfl.layers.prelu({ sharedAxes: [1, 2], alphaInitializer: tfl.initializers.constant({ value: 0.1 }) }),
    dilated: conv(16, { padding: 'valid' }),
    toShuffle: conv(64), prelu3: tfl.layers.prelu({ sharedAxes: [1, 2] }),
    up: tfl.layers.upSampling2d({ size: [2, 2], interpolation: 'nearest' }), afterUp: conv(8),
    lrelu: tfl.layers.leakyReLU({ alpha: 0.2 }), toRgb: conv(3, { kernelSize: 1 }),
  };
  // Discriminator: [B, 32, 32, 3] → logits [B, 1]
  const d = {
    d1: conv(8, { strides: 2 }), d2: conv(16, { strides: 2 }), dbn: tfl.layers.batchNormalization(),
    flatten: tfl.layers.flatten(), dense: tfl.layers.dense({ units: 1, kernelInitializer: init() }),
  };
  return { ...g, ...d, gLayers: Object.values(g), dLayers: Object.values(d) };
}
type Probe = ReturnType<typeof probeLayers>;
const apply = (layer: tfl.layers.Layer, x: tf.Tensor, training = true) => layer.apply(x, { training }) as tf.Tensor;

function generator(p: Probe, lowRes: tf.Tensor4D, mask: tf.Tensor4D): tf.Tensor4D {
  const masked = tf.concat([tf.mul(lowRes, tf.sub(1, mask)), mask], 3); // [B, 8, 8, 4]
  const h = apply(p.prelu1, apply(p.head, masked));
  const r = apply(p.prelu2, apply(p.bn1, apply(p.body, h)));
  // Reflection padding before a 'valid' conv, as inpainting and refiner nets pad.
  const d = apply(p.dilated, tf.mirrorPad(tf.add(h, r), [[0, 0], [1, 1], [1, 1], [0, 0]], 'reflect'));
  const shuffled = tf.depthToSpace(apply(p.toShuffle, d) as tf.Tensor4D, 2); // [B, 16, 16, 16]
  const up = apply(p.up, apply(p.prelu3, shuffled)); // [B, 32, 32, 16]
  const rgb = tf.tanh(apply(p.toRgb, apply(p.lrelu, apply(p.afterUp, up))));
  // Known pixels pasted back where a (resized) mask is clear, as inpainting composes its output.
  const hrMask = tf.image.resizeNearestNeighbor(mask, [HR, HR]);
  return tf.where(tf.greater(tf.tile(hrMask, [1, 1, 1, 3]), 0.5), rgb, tf.clipByValue(rgb, -0.9, 0.9)) as tf.Tensor4D;
}

/** D's features [B, 9, 9, 16] of images [B, 32, 32, 3] (padded to 34², two stride-2 convs). */
const dFeatures = (p: Probe, x: tf.Tensor) => apply(p.dbn, tf.leakyRelu(apply(p.d2, tf.leakyRelu(apply(p.d1, tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])), 0.2)), 0.2));
/** One logit per image, through max pooling and a dense layer. */
const discriminator = (p: Probe, x: tf.Tensor) => apply(p.dense, apply(p.flatten, tf.maxPool(dFeatures(p, x) as tf.Tensor4D, 2, 2, 'same')));
/** Two-class logits per 2×2 patch (a refiner's local adversarial loss reads D this way): [B·4·4·8, 2]. */
const patchLogits = (p: Probe, x: tf.Tensor) => tf.reshape(tf.avgPool(dFeatures(p, x) as tf.Tensor4D, 2, 2, 'valid'), [-1, 2]);

/** Losses and gradients of one G step and one D step on `backend`, from the same weights and data. */
async function probeStep(backend: string) {
  await tf.setBackend(backend);
  const perceptual = await PerceptualDistance.load();
  const p = probeLayers();
  const rng = new Rng(7);
  const data = (shape: number[]) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform() * 2 - 1), shape);
  const lowRes = data([B, LR, LR, 3]) as tf.Tensor4D, real = data([B, HR, HR, 3]) as tf.Tensor4D;
  const mask = tf.cast(tf.greater(data([B, LR, LR, 1]), 0.3), 'float32') as tf.Tensor4D;
  const greyReal = data([B, 28, 28, 1]) as tf.Tensor4D;
  // Layers build their weights on first call: one forward pass, then the variables are known.
  tf.tidy(() => discriminator(p, generator(p, lowRes, mask)));
  const variables = (layers: tfl.layers.Layer[]) => layers.flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable));
  const gVars = variables(p.gLayers), dVars = variables(p.dLayers);
  const gLoss = () => {
    const fake = generator(p, lowRes, mask);
    const l1 = tf.mean(tf.abs(tf.sub(fake, real)));
    const mse = tf.mean(tf.square(tf.sub(fake, real)));
    const grey = tf.mean(fake, 3, true); // a 1-channel image at 28² goes through the resize and the tile
    const perc = tf.add(tf.mean(perceptual.distance(fake, real)),
      tf.mean(perceptual.distance(tf.image.resizeBilinear(grey as tf.Tensor4D, [28, 28]), greyReal)));
    const adv = tf.add(nonSaturating.g(discriminator(p, fake), discriminator(p, real)),
      relativisticAverage.g(discriminator(p, fake), discriminator(p, real)));
    const bce = tf.losses.sigmoidCrossEntropy(tf.onesLike(discriminator(p, fake)), discriminator(p, fake));
    const patches = patchLogits(p, fake);
    const local = tf.losses.softmaxCrossEntropy(tf.oneHot(tf.zeros([patches.shape[0]], 'int32'), 2), patches);
    return tf.addN([l1, mse, perc, tf.mul(adv, 1e-2), tf.mul(bce, 1e-2), tf.mul(local, 1e-2)]) as tf.Scalar;
  };
  const dLoss = () => nonSaturating.d(discriminator(p, real), discriminator(p, generator(p, lowRes, mask)));
  const g = tf.variableGrads(gLoss, gVars);
  const d = tf.variableGrads(dLoss, dVars);
  const out = {
    losses: [g.value.dataSync()[0], d.value.dataSync()[0]],
    grads: [...gVars.map((v) => g.grads[v.name]), ...dVars.map((v) => d.grads[v.name])].map((t) => Array.from(t.dataSync())),
  };
  tf.dispose([g.value, d.value, ...Object.values(g.grads), ...Object.values(d.grads), lowRes, real, mask, greyReal]);
  [...p.gLayers, ...p.dLayers].forEach((l) => l.dispose());
  perceptual.dispose();
  return out;
}

test('photo-family layers: a G and a D step on aten run no CPU-fallback kernel and match cpu', { skip, timeout: 300_000 }, async () => {
  const start = tf.memory().numTensors;
  const cpu = await probeStep('cpu');
  const tensors = tf.memory().numTensors;
  const before = aten!.atenFallbackKernels();
  const run = await probeStep('aten');
  const fellBack = aten!.atenFallbackKernels().filter((k) => !before.includes(k));
  assert.deepEqual(fellBack, [], 'kernels that ran on the CPU fallback');
  // tfjs-layers keeps a few tensors per layer object it ever applied (its caches), the same on both backends.
  assert.equal(tf.memory().numTensors - tensors, tensors - start, 'the aten step leaves no more tensors than the cpu step');
  run.losses.forEach((l, i) => assert.ok(Math.abs(l - cpu.losses[i]) <= 1e-4 * Math.max(1, Math.abs(cpu.losses[i])), `loss ${i}: aten ${l} vs cpu ${cpu.losses[i]}`));
  assert.equal(run.grads.length, cpu.grads.length);
  run.grads.forEach((g, i) => {
    const scale = Math.max(1e-6, ...cpu.grads[i].map(Math.abs));
    const worst = Math.max(...g.map((v, k) => Math.abs(v - cpu.grads[i][k])));
    assert.ok(worst <= 2e-3 * scale, `gradient ${i} (${g.length} values): worst difference ${worst} for a largest value ${scale}`);
  });
});
