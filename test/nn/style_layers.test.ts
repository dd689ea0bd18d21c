// StyleGAN2's building blocks (src/nn: equalized.ts, resample.ts, mapping.ts, modulated_conv.ts,
// synthesis_inputs.ts, residual_block.ts) against direct computations, finite differences and the paper's
// unit-variance argument, on every backend this machine has.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import '../../src/nn/second_order_grads.js';
import { initBackend } from '../../src/backend/index.js';
import { BiasActivation, EqualizedConv2D, EqualizedDense, biasActivate } from '../../src/nn/equalized.js';
import { downsample2x, upsample2x } from '../../src/nn/resample.js';
import { mappingNetwork } from '../../src/nn/mapping.js';
import { ModulatedConv2D, ToRGB, scaleChannels } from '../../src/nn/modulated_conv.js';
import { ConstantInput, NoiseInjection } from '../../src/nn/synthesis_inputs.js';
import { ResidualDBlock } from '../../src/nn/residual_block.js';
import { backends, close, finiteDifferences, randn, take } from './style_helpers.js';

await initBackend({ quiet: true });

const lrelu = (t: tf.Tensor) => tf.mul(tf.leakyRelu(t, 0.2), Math.SQRT2);
const pixelNorm = (t: tf.Tensor) => tf.mul(t, tf.rsqrt(tf.add(tf.mean(tf.square(t), -1, true), 1e-8)));

/** Gives a built layer random weights (seeded), so that tests do not lean on the initial values. */
function randomizeWeights(layer: tfl.layers.Layer, seed: number, scale = 1): void {
  tf.tidy(() => layer.setWeights(layer.getWeights().map((w, i) => randn(w.shape, seed + i, scale))));
}

/** Applies f to every line of `x` along `axis` (row-major `shape`); f may change the line's length. */
function alongAxis(x: ArrayLike<number>, shape: number[], axis: number, f: (v: number[]) => number[]): { data: Float64Array; shape: number[] } {
  const n = shape[axis];
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const m = f(new Array(n).fill(0)).length;
  const out = new Float64Array(outer * m * inner);
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
    const r = f(Array.from({ length: n }, (_, k) => x[(o * n + k) * inner + i]));
    r.forEach((v, k) => { out[(o * m + k) * inner + i] = v; });
  }
  return { data: out, shape: shape.map((d, a) => (a === axis ? m : d)) };
}

// The [1, 3, 3, 1] filter written out per output sample, zeros outside the line.
const up1d = (v: number[]) => v.flatMap((c, i) => [(3 * c + (v[i - 1] ?? 0)) / 4, (3 * c + (v[i + 1] ?? 0)) / 4]);
const down1d = (v: number[]) => Array.from({ length: v.length / 2 }, (_, i) => ((v[2 * i - 1] ?? 0) + 3 * v[2 * i] + 3 * v[2 * i + 1] + (v[2 * i + 2] ?? 0)) / 8);

/** Oracle for ModulatedConv2D/ToRGB: each sample convolved separately with its own weight w''_ijk (tf.conv2d). */
function modulatedConvPerSample(layer: ModulatedConv2D, x: tf.Tensor4D, w: tf.Tensor2D): tf.Tensor {
  return tf.tidy(() => {
    const [affine, affineBias, kernel] = layer.getWeights(); // [w_dim, C_in], [C_in], [k, k, C_in, C_out]
    const [k, , cIn] = kernel.shape;
    const outputs = [];
    for (let b = 0; b < x.shape[0]; b++) {
      const s = tf.add(tf.matMul(tf.slice(w, [b, 0], [1, -1]), tf.div(affine, Math.sqrt(affine.shape[0]))), affineBias); // [1, C_in]
      let wb = tf.mul(tf.div(kernel, Math.sqrt(k * k * cIn)), tf.reshape(s, [1, 1, cIn, 1])); // w'_ijk = s_i·w_ijk (eq. 1)
      if (layer.demodulate) wb = tf.mul(wb, tf.rsqrt(tf.add(tf.sum(tf.square(wb), [0, 1, 2], true), 1e-8))); // eq. 3
      let xb = tf.slice(x, [b, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D;
      if (layer.upsample) xb = upsample2x(xb);
      outputs.push(tf.conv2d(xb, wb as tf.Tensor4D, 1, 'same'));
    }
    return tf.concat(outputs, 0);
  });
}

for (const backend of backends()) {
  test(`[${backend}] equalized dense and conv equal plain layers whose weights are pre-scaled by λ/√fan_in`, async () => {
    await tf.setBackend(backend);
    const x = randn([4, 7], 1);
    const dense = new EqualizedDense({ units: 5, lrMul: 0.01, activation: 'lrelu', biasInit: 0.3, seed: 1 });
    const y = take(dense.apply(x) as tf.Tensor);
    const [kernel, bias] = dense.getWeights();
    close(take(tf.mul(bias, 0.01)), [0.3, 0.3, 0.3, 0.3, 0.3], 1e-6, 'effective bias starts at biasInit');
    const plain = tfl.layers.dense({ units: 5 });
    tf.dispose(plain.apply(x) as tf.Tensor);
    tf.tidy(() => plain.setWeights([tf.mul(kernel, 0.01 / Math.sqrt(7)), tf.mul(bias, 0.01)]));
    close(y, take(tf.tidy(() => lrelu(plain.apply(x) as tf.Tensor))), 1e-5, 'dense');

    // Stored weights are N(0, 1/λ²); the effective ones N(0, 1/fan_in) whatever λ is.
    const wide = new EqualizedDense({ units: 256, lrMul: 0.01, seed: 2 });
    tf.dispose(wide.apply(tf.zeros([1, 256])) as tf.Tensor);
    const std = take(tf.tidy(() => tf.sqrt(tf.moments(wide.getWeights()[0]).variance)))[0];
    assert.ok(Math.abs(std - 100) < 3, `stored std ${std}, expected 1/λ = 100`);

    const img = randn([2, 5, 6, 3], 3) as tf.Tensor4D;
    const conv = new EqualizedConv2D({ filters: 4, kernelSize: 3, seed: 4 });
    const yc = take(conv.apply(img) as tf.Tensor);
    randomizeWeights(conv, 5); // a non-zero bias too
    const yc2 = take(conv.apply(img) as tf.Tensor);
    const plainConv = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same' });
    tf.dispose(plainConv.apply(img) as tf.Tensor);
    const [k2, b2] = conv.getWeights();
    tf.tidy(() => plainConv.setWeights([tf.div(k2, Math.sqrt(27)), b2]));
    close(yc2, take(plainConv.apply(img) as tf.Tensor), 1e-5, 'conv');
    assert.notDeepEqual(yc, yc2);
    tf.dispose([x, img]);
  });

  test(`[${backend}] 2× resampling equals the [1, 3, 3, 1] filter written out per pixel`, async () => {
    await tf.setBackend(backend);
    const x = randn([2, 3, 5, 2], 6);
    const xs = x.dataSync();
    const up = alongAxis(alongAxis(xs, [2, 3, 5, 2], 1, up1d).data, [2, 6, 5, 2], 2, up1d);
    const upT = upsample2x(x as tf.Tensor4D);
    assert.deepEqual(upT.shape, [2, 6, 10, 2]);
    close(take(upT), up.data, 1e-6, 'upsample2x');
    const x2 = randn([2, 4, 6, 3], 7);
    const down = alongAxis(alongAxis(x2.dataSync(), [2, 4, 6, 3], 1, down1d).data, [2, 2, 6, 3], 2, down1d);
    close(take(downsample2x(x2 as tf.Tensor4D)), down.data, 1e-6, 'downsample2x');
    assert.throws(() => downsample2x(tf.zeros([1, 3, 4, 1])), /even height and width, got 3×4/);
    tf.dispose([x, x2]);
  });

  test(`[${backend}] mapping network: normalised z (and class embedding) through equalized lrelu layers`, async () => {
    await tf.setBackend(backend);
    const mapping = mappingNetwork({ zDim: 6, wDim: 5, depth: 3, classes: 4, seed: 1 });
    mapping.layers.forEach((l, i) => randomizeWeights(l, 10 * i, 0.5));
    const z = randn([3, 6], 2, 3);
    const c = tf.cast(tf.oneHot([0, 3, 1], 4), 'float32');
    const w = take(mapping.predict([z, c]) as tf.Tensor);
    const expected = take(tf.tidy(() => {
      const dense = (name: string, lrMul: number, h: tf.Tensor) => {
        const [k, b] = mapping.getLayer(name).getWeights();
        return tf.add(tf.matMul(h, tf.mul(k, lrMul / Math.sqrt(k.shape[0]))), tf.mul(b, lrMul));
      };
      let h = tf.concat([pixelNorm(z), pixelNorm(dense('class_embed', 1, c))], 1);
      for (let i = 0; i < 3; i++) h = lrelu(dense(`map${i}`, 0.01, h));
      return h;
    }));
    close(w, expected, 1e-5, 'mapping');
    assert.deepEqual(mapping.outputs[0].shape, [null, 5]);
    mapping.dispose();
    tf.dispose([z, c]);
  });

  test(`[${backend}] modulated conv equals convolving each sample with its own demodulated weight`, async () => {
    await tf.setBackend(backend);
    const x = randn([3, 5, 6, 4], 1) as tf.Tensor4D;
    const w = randn([3, 7], 2) as tf.Tensor2D;
    for (const [demodulate, upsample] of [[true, false], [true, true], [false, false], [false, true]]) {
      const layer = new ModulatedConv2D({ filters: 5, kernelSize: 3, demodulate, upsample, seed: 3 });
      tf.dispose(layer.apply([x, w]) as tf.Tensor);
      randomizeWeights(layer, 4);
      const y = layer.apply([x, w]) as tf.Tensor;
      assert.deepEqual(y.shape, upsample ? [3, 10, 12, 5] : [3, 5, 6, 5]);
      close(take(y), take(modulatedConvPerSample(layer, x, w)), 1e-5, `demodulate ${demodulate}, upsample ${upsample}`);
      layer.dispose();
    }
    tf.dispose([x, w]);
  });

  test(`[${backend}] demodulation restores unit std for unit-std inputs, whatever the styles' scale (§2.2)`, async () => {
    await tf.setBackend(backend);
    const x = randn([4, 12, 12, 64], 5) as tf.Tensor4D;
    const w = randn([4, 8], 6) as tf.Tensor2D;
    const stdAt = (demodulate: boolean, styleScale: number) => {
      const layer = new ModulatedConv2D({ filters: 16, kernelSize: 3, demodulate, seed: 7 });
      tf.dispose(layer.apply([x, w]) as tf.Tensor);
      const [a, , k] = layer.getWeights();
      tf.tidy(() => layer.setWeights([tf.mul(a, styleScale), randn([64], 8, styleScale), k])); // styles ∝ styleScale, of either sign
      const std = take(tf.tidy(() => {
        const interior = tf.slice(layer.apply([x, w]) as tf.Tensor, [0, 1, 1, 0], [-1, 10, 10, -1]); // no zero padding in view
        return tf.sqrt(tf.moments(interior).variance);
      }))[0];
      layer.dispose();
      return std;
    };
    for (const scale of [1, 10]) {
      const std = stdAt(true, scale);
      assert.ok(Math.abs(std - 1) < 0.1, `demodulated output std ${std} for style scale ${scale}`);
    }
    const ratio = stdAt(false, 10) / stdAt(false, 1);
    assert.ok(Math.abs(ratio - 10) < 1e-3, `without demodulation the output scales with the styles: ×${ratio}`);
    tf.dispose([x, w]);
  });

  test(`[${backend}] noise injection: identity at strength 0, given noise reproduces, seeded draws repeat`, async () => {
    await tf.setBackend(backend);
    const x = randn([2, 4, 4, 3], 1);
    const noise = randn([2, 4, 4, 1], 2);
    const layer = new NoiseInjection({ seed: 7 });
    assert.deepEqual(take(layer.apply(x) as tf.Tensor), x.dataSync(), 'strength 0 (initial): identity');
    const strength = (l: NoiseInjection, s: number) => tf.tidy(() => l.setWeights([tf.scalar(s), l.getWeights()[1]]));
    strength(layer, 0.7);
    const expected = take(tf.tidy(() => tf.add(x, tf.mul(noise, 0.7))));
    const draws = () => take(tf.clone(layer.getWeights()[1]))[0];
    const before = draws();
    close(take(layer.apply([x, noise]) as tf.Tensor), expected, 1e-6, 'noise as an input');
    layer.fixedNoise = noise;
    close(take(layer.apply(x) as tf.Tensor), expected, 1e-6, 'fixedNoise');
    assert.equal(draws(), before, 'given noise does not use up a draw');
    layer.fixedNoise = null;

    const [a, b, other] = [7, 7, 8].map((seed) => new NoiseInjection({ seed }));
    for (const l of [a, b, other]) { tf.dispose(l.apply(x) as tf.Tensor); strength(l, 1); }
    const a2 = take(a.apply(x) as tf.Tensor), b2 = take(b.apply(x) as tf.Tensor), o2 = take(other.apply(x) as tf.Tensor);
    const a3 = take(a.apply(x) as tf.Tensor);
    assert.deepEqual(a2, b2, 'same seed, same draw');
    assert.notDeepEqual(a2, o2, 'another seed, other noise');
    assert.notDeepEqual(a2, a3, 'the next call draws new noise');
    const xs = x.dataSync();
    for (let p = 0; p < a2.length; p += 3) assert.ok(Math.abs((a2[p] - xs[p]) - (a2[p + 2] - xs[p + 2])) < 1e-6, 'one noise value per pixel, all channels');
    const copy = new NoiseInjection({ seed: 7 });
    tf.dispose(copy.apply(x) as tf.Tensor);
    copy.setWeights(a.getWeights()); // the draw count travels with the weights (checkpoints)
    assert.deepEqual(take(copy.apply(x) as tf.Tensor), take(a.apply(x) as tf.Tensor), 'a copy continues the sequence');
    assert.throws(() => layer.apply([x, tf.zeros([2, 2, 2, 1])]), /noise must be \[B, 4, 4, 1\]/);
    tf.dispose([x, noise]);
  });

  test(`[${backend}] constant input: one learned 4×4×C tensor for every sample; its gradient sums over the batch`, async () => {
    await tf.setBackend(backend);
    const layer = new ConstantInput({ channels: 3, seed: 1 });
    const w = randn([5, 2], 2);
    const y = layer.apply(w) as tf.Tensor;
    assert.deepEqual(y.shape, [5, 4, 4, 3]);
    const value = layer.getWeights()[0].dataSync();
    const ys = take(y);
    for (let b = 0; b < 5; b++) assert.deepEqual(ys.slice(b * 48, (b + 1) * 48), value);
    const r = randn([5, 4, 4, 3], 3);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(w) as tf.Tensor, r)) as tf.Scalar, [layer.trainableWeights[0].read() as tf.Variable]);
    close(take(Object.values(grads)), take(tf.sum(r, 0)), 1e-5, 'd/dconst');
    tf.dispose([w, r]);
  });

  test(`[${backend}] toRGB: modulated 1×1 conv without demodulation, plus bias, plus the upsampled previous image`, async () => {
    await tf.setBackend(backend);
    const x = randn([2, 4, 4, 6], 1) as tf.Tensor4D;
    const w = randn([2, 5], 2) as tf.Tensor2D;
    const previous = randn([2, 2, 2, 3], 3) as tf.Tensor4D;
    const layer = new ToRGB({ seed: 4 });
    tf.dispose(layer.apply([x, w, previous]) as tf.Tensor);
    randomizeWeights(layer, 5);
    assert.equal(layer.demodulate, false);
    const bias = layer.getWeights()[3];
    const expected = take(tf.tidy(() => tf.add(tf.add(modulatedConvPerSample(layer, x, w), bias), upsample2x(previous))));
    close(take(layer.apply([x, w, previous]) as tf.Tensor), expected, 1e-5, 'toRGB with skip');
    const first = take(tf.tidy(() => tf.add(modulatedConvPerSample(layer, x, w), bias)));
    close(take(layer.apply([x, w]) as tf.Tensor), first, 1e-5, 'toRGB at the first resolution');
    tf.dispose([x, w, previous]);
  });

  test(`[${backend}] residual D block: (down(lrelu(conv(lrelu(conv x)))) + conv1×1(down x))/√2`, async () => {
    await tf.setBackend(backend);
    const x = randn([2, 6, 4, 3], 1) as tf.Tensor4D;
    const block = new ResidualDBlock({ filters: 5, seed: 2 });
    const y = block.apply(x) as tf.Tensor;
    assert.deepEqual(y.shape, [2, 3, 2, 5]);
    tf.dispose(y);
    randomizeWeights(block, 3);
    const expected = take(tf.tidy(() => {
      const [k0, b0, k1, b1, skip] = block.getWeights();
      const conv = (h: tf.Tensor, k: tf.Tensor) => tf.conv2d(h as tf.Tensor4D, tf.div(k, Math.sqrt(k.size / k.shape[3]!)) as tf.Tensor4D, 1, 'same');
      const main = downsample2x(lrelu(tf.add(conv(lrelu(tf.add(conv(x, k0), b0)), k1), b1)) as tf.Tensor4D);
      return tf.mul(tf.add(main, conv(downsample2x(x), skip)), Math.SQRT1_2);
    }));
    close(take(block.apply(x) as tf.Tensor), expected, 1e-5, 'residual block');
    tf.dispose(x);
  });

  test(`[${backend}] each layer's forward leaves behind only its output`, async () => {
    await tf.setBackend(backend);
    const x = randn([2, 4, 4, 3], 1), w = randn([2, 5], 2), rgb = randn([2, 2, 2, 3], 3);
    const cases: [tfl.layers.Layer, tf.Tensor | tf.Tensor[]][] = [
      [new EqualizedDense({ units: 3, activation: 'lrelu' }), w], [new EqualizedConv2D({ filters: 2, kernelSize: 3 }), x],
      [new ModulatedConv2D({ filters: 2, kernelSize: 3, upsample: true }), [x, w]], [new ToRGB({}), [x, w, rgb]],
      [new NoiseInjection({ seed: 1 }), x], [new ConstantInput({ channels: 2 }), w], [new ResidualDBlock({ filters: 2 }), x],
    ];
    for (const [layer, input] of cases) {
      tf.dispose(layer.apply(input) as tf.Tensor); // builds
      const tensors = tf.memory().numTensors;
      tf.dispose(layer.apply(input) as tf.Tensor);
      assert.equal(tf.memory().numTensors, tensors, layer.getClassName());
      layer.dispose();
    }
    tf.dispose([x, w, rgb]);
  });

  test(`[${backend}] modulated conv gradients w.r.t. weight and w, and second order (R1 and path-length shapes), match finite differences`, async () => {
    await tf.setBackend(backend);
    const layer = new ModulatedConv2D({ filters: 3, kernelSize: 3, upsample: true, seed: 1 });
    const x = randn([2, 3, 3, 2], 2);
    const wv = tf.variable(randn([2, 4], 3), true, `style_w_${backend}`);
    tf.dispose(layer.apply([x, wv]) as tf.Tensor);
    randomizeWeights(layer, 4, 0.7);
    const r = randn([2, 6, 6, 3], 5);
    const [affine, , kernel] = layer.trainableWeights.map((v) => v.read() as tf.Variable);
    const loss = (xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.mul(layer.apply([xx, ww]) as tf.Tensor, r)) as tf.Scalar;
    // f: the loss; r1: ‖∇ₓ f‖² as R1 penalises D; pl: ‖∇_w f‖² as path-length regularisation penalises G.
    const objectives: Record<string, () => tf.Scalar> = {
      loss: () => loss(x, wv),
      r1: () => tf.sum(tf.square(tf.grad((xx: tf.Tensor) => loss(xx, wv))(x))) as tf.Scalar,
      pl: () => tf.sum(tf.square(tf.grad((ww: tf.Tensor) => loss(x, ww))(wv))) as tf.Scalar,
    };
    for (const [name, f] of Object.entries(objectives)) {
      const tensors = tf.memory().numTensors;
      for (const v of [kernel, affine, wv]) {
        const { value, grads } = tf.variableGrads(f, [v]);
        const g = take(Object.values(grads));
        value.dispose();
        assert.ok(g.every(Number.isFinite), `${name}: finite gradient`);
        const coords = [0, Math.floor(g.length / 3), g.length - 1];
        const fd = finiteDifferences(() => take(tf.tidy(f))[0], v, coords);
        const scale = Math.max(...g.map(Math.abs));
        coords.forEach((c, i) => assert.ok(Math.abs(g[c] - fd[i]) <= 2e-3 * Math.max(1, scale), `${name} ∂/∂${v.name}[${c}]: ${g[c]} vs finite difference ${fd[i]} (largest entry ${scale})`));
      }
      assert.equal(tf.memory().numTensors, tensors, `${name}: no tensors left behind`);
    }
    tf.dispose([x, wv, r]);
    layer.dispose();
  });
}

for (const backend of backends()) {
  test(`[${backend}] residual D block and bias+lrelu layers: first and second order (R1 shape) match finite differences`, async () => {
    await tf.setBackend(backend);
    const block = new ResidualDBlock({ filters: 4, seed: 6 });
    const act = new BiasActivation({ activation: 'lrelu' });
    const x = tf.variable(randn([2, 4, 6, 3], 7), true, `block_x_${backend}`);
    tf.dispose(block.apply(act.apply(x) as tf.Tensor) as tf.Tensor);
    randomizeWeights(block, 8, 0.7);
    randomizeWeights(act, 9, 0.5);
    const r = randn([2, 2, 3, 4], 10);
    const loss = (xx: tf.Tensor) => tf.sum(tf.mul(block.apply(act.apply(xx) as tf.Tensor) as tf.Tensor, r)) as tf.Scalar;
    const objectives: Record<string, () => tf.Scalar> = {
      loss: () => loss(x),
      r1: () => tf.sum(tf.square(tf.grad(loss)(x))) as tf.Scalar,
    };
    const [k0, b0, , b1] = block.trainableWeights.map((v) => v.read() as tf.Variable);
    const [bias] = act.trainableWeights.map((v) => v.read() as tf.Variable);
    for (const [name, f] of Object.entries(objectives)) {
      const tensors = tf.memory().numTensors;
      for (const v of [k0, b0, b1, bias, x]) {
        let g: Float32Array;
        try {
          const { value, grads } = tf.variableGrads(f, [v]);
          g = take(Object.values(grads));
          value.dispose();
        } catch (e) { throw new Error(`${name} ${v.name}: ${String(e)}`); }
        const coords = [0, Math.floor(g.length / 2), g.length - 1];
        const fd = finiteDifferences(() => take(tf.tidy(f))[0], v, coords, 1e-3);
        const scale = Math.max(...g.map(Math.abs));
        coords.forEach((c, i) => assert.ok(Math.abs(g[c] - fd[i]) <= 5e-3 * Math.max(1, scale), `${name} ∂/∂${v.name}[${c}]: ${g[c]} vs finite difference ${fd[i]} (largest entry ${scale})`));
      }
      assert.equal(tf.memory().numTensors, tensors, `${name}: no tensors left behind`);
    }
    tf.dispose([x, r]);
    block.dispose();
    act.dispose();
  });

  test(`[${backend}] resampling and bias+lrelu: values and gradients equal the composed tfjs ops, wide channels`, async () => {
    await tf.setBackend(backend);
    const x = randn([2, 5, 6, 37], 11) as tf.Tensor4D;
    const bias = randn([37], 12);
    const dyUp = randn([2, 10, 12, 37], 13);
    const dyDown = randn([2, 2, 3, 37], 14);
    const kernels: string[] = [];
    const profile = await tf.profile(() => {
      tf.dispose([upsample2x(x), downsample2x(tf.slice(x, [0, 0, 0, 0], [2, 4, 6, 37]))]);
      tf.dispose(tf.tidy(() => biasActivate(x, bias, 'lrelu')));
    });
    kernels.push(...profile.kernelNames);
    if (backend === 'aten') {
      for (const k of ['Resample2x', 'BiasAct']) assert.ok(kernels.includes(k), `aten runs ${k} (ran ${kernels.join(', ')})`);
    }
    const expectedAct = take(tf.tidy(() => lrelu(tf.add(x, bias))));
    close(take(biasActivate(x, bias, 'lrelu')), expectedAct, 0, 'bias + lrelu (the same float32 roundings)');
    // Gradients: adjoints of the linear resampling, ⟨up(x), dy⟩ = ⟨x, up*(dy)⟩, and the masked gain of the activation.
    const x4 = tf.slice(x, [0, 0, 0, 0], [2, 4, 6, 37]) as tf.Tensor4D;
    const gUp = take(tf.grad((t: tf.Tensor) => tf.sum(tf.mul(upsample2x(t as tf.Tensor4D), dyUp)))(x));
    const gDown = take(tf.grad((t: tf.Tensor) => tf.sum(tf.mul(downsample2x(t as tf.Tensor4D), dyDown)))(x4));
    const dyUpV = dyUp.dataSync(), dyDownV = dyDown.dataSync();
    const inner = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i], 0);
    const probe = randn([2, 5, 6, 37], 15) as tf.Tensor4D;
    const probe4 = tf.slice(probe, [0, 0, 0, 0], [2, 4, 6, 37]) as tf.Tensor4D;
    close([inner(gUp, probe.dataSync())], [inner(take(upsample2x(probe)), dyUpV)], 1e-4, '⟨∇up, p⟩ = ⟨up(p), dy⟩');
    close([inner(gDown, probe4.dataSync())], [inner(take(downsample2x(probe4)), dyDownV)], 1e-4, '⟨∇down, p⟩ = ⟨down(p), dy⟩');
    const [gx, gb] = tf.grads((t: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(biasActivate(t, b, 'lrelu'), tf.slice(dyUp, [0, 0, 0, 0], [2, 5, 6, 37]))))([x, bias]);
    const pre = tf.add(x, bias).dataSync(), dyv = tf.slice(dyUp, [0, 0, 0, 0], [2, 5, 6, 37]).dataSync();
    const expectedGx = Float32Array.from(pre, (v, i) => (v > 0 ? 1 : 0.2) * Math.SQRT2 * dyv[i]);
    close(take(gx), expectedGx, 1e-6, 'bias + lrelu: ∂/∂x');
    const expectedGb = new Float64Array(37);
    expectedGx.forEach((v, i) => { expectedGb[i % 37] += v; });
    close(take(gb), expectedGb, 1e-4, 'bias + lrelu: ∂/∂bias');
    tf.dispose([x, x4, bias, dyUp, dyDown, probe, probe4]);
  });
}

for (const backend of backends()) {
  test(`[${backend}] per-sample channel scaling (modulation, demodulation): values and gradients equal a broadcast multiply`, async () => {
    await tf.setBackend(backend);
    const x = randn([3, 4, 5, 19], 21) as tf.Tensor4D;
    const s = randn([3, 19], 22) as tf.Tensor2D;
    const dy = randn([3, 4, 5, 19], 23);
    const direct = (t: tf.Tensor, u: tf.Tensor) => tf.mul(t, tf.reshape(u, [3, 1, 1, 19]));
    const profile = await tf.profile(() => tf.dispose(scaleChannels(x, s)));
    if (backend === 'aten') assert.ok(profile.kernelNames.includes('ChannelScale'), `aten runs ChannelScale (ran ${profile.kernelNames.join(', ')})`);
    close(take(scaleChannels(x, s)), take(direct(x, s)), 0, 'x·s (the same float32 product)');
    const f = (t: tf.Tensor, u: tf.Tensor) => tf.sum(tf.mul(scaleChannels(t as tf.Tensor4D, u as tf.Tensor2D), dy));
    const g = (t: tf.Tensor, u: tf.Tensor) => tf.sum(tf.mul(direct(t, u), dy));
    const [gx, gs] = tf.grads(f)([x, s]);
    const [ex, es] = tf.grads(g)([x, s]);
    close(take(gx), take(ex), 0, '∂/∂x');
    close(take(gs), take(es), 1e-5, '∂/∂s');
    // Second order, as R1 and path-length regularisation need it: ‖∂f/∂s‖² differentiated for x, ‖∂f/∂x‖² for s.
    const h = (fn: typeof f) => [
      tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.grad((v: tf.Tensor) => fn(t, v))(s))))(x),
      tf.grad((u: tf.Tensor) => tf.sum(tf.square(tf.grad((v: tf.Tensor) => fn(v, u))(x))))(s),
    ];
    const [hx, hs] = h(f);
    const [kx, ks] = h(g);
    close(take(hx), take(kx), 1e-5, 'second order ∂/∂x');
    close(take(hs), take(ks), 1e-5, 'second order ∂/∂s');
    tf.dispose([x, s, dy]);
  });
}
