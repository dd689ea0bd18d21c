// The fused kernels that replace tfjs compositions on 'aten': Relu/LeakyRelu gradients (first and second
// order) and the in-place Adam update, each against the CPU backend running tfjs's own formulas.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AtenBackend } from 'tfjs-backend-aten';
import { matchesCpu, rand, setup, tf } from './helpers.js';

await setup();
// The cpu oracle differentiates tfjs's LeakyRelu gradient, which uses greater(x, 0): tfjs has no gradient
// for comparisons (ganforge registers this same zero gradient in src/nn/second_order_grads.ts).
tf.registerGradient({ kernelName: 'Greater', gradFunc: (dy) => ({ a: () => tf.zerosLike(dy as tf.Tensor), b: () => tf.zerosLike(dy as tf.Tensor) }) });

test('Relu and LeakyRelu gradients match cpu, at first and second order, and use the fused kernels', async () => {
  // Values straddle 0 on both sides; none is exactly 0, where the two formulas may legitimately differ.
  const x = rand([4, 6, 5, 3]).map((v) => (Math.abs(v) < 1e-3 ? 0.5 : v));
  const w = rand([3, 2]);
  for (const [name, act] of [['relu', tf.relu], ['leakyRelu', (t: tf.Tensor) => tf.leakyRelu(t, 0.2)]] as const) {
    const f = (t: tf.Tensor) => tf.sum(tf.mul(act(tf.mul(t, 1.5)), tf.sin(t)));
    await matchesCpu(`${name} grad`, () => tf.grad(f)(tf.tensor(x, [4, 6, 5, 3])));
    // Second order, as a gradient penalty does it: d/dW ‖∂/∂x Σ act(x·W)‖², through the fused kernel's own gradient.
    const penalty = (wt: tf.Tensor) => {
      const gx = tf.grad((t: tf.Tensor) => tf.sum(act(tf.matMul(t, wt))))(tf.tensor(x, [120, 3]));
      return tf.sum(tf.square(gx));
    };
    await matchesCpu(`${name} second-order`, () => tf.grad(penalty)(tf.tensor(w, [3, 2])));
  }
  await tf.setBackend('aten');
  const profile = await tf.profile(() => tf.grad((t: tf.Tensor) => tf.sum(tf.leakyRelu(tf.relu(t), 0.1)))(tf.tensor(x, [4, 6, 5, 3])));
  const names = profile.kernels.map((k) => k.name);
  assert.ok(names.includes('AtenReluGrad') && names.includes('AtenLeakyReluGrad'), `fused kernels ran: ${names.join(' ')}`);
  assert.ok(!names.includes('Select') && !names.includes('Step'), 'no Select/Step left in the backward pass');
});

test('FusedBatchNorm gradients (batch statistics, as a training batch-norm layer) match cpu, first and second order', async () => {
  const x = rand([6, 5, 4, 3]), scale = rand([3], 0.5, 1.5), offset = rand([3]);
  const layer = (t: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => {
    const { mean, variance } = tf.moments(t, [0, 1, 2]);
    return tf.batchNorm(t, mean, variance, o, s, 1e-3);
  };
  const f = (t: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => tf.sum(tf.mul(tf.sin(layer(t, s, o)), tf.cos(t)));
  const args = () => [tf.tensor(x, [6, 5, 4, 3]), tf.tensor(scale), tf.tensor(offset)];
  await matchesCpu('batch norm grads', () => tf.grads(f)(args()));
  // Differentiated again (the native kernel steps aside inside an outer gradient's scope).
  const penalty = (s: tf.Tensor) => tf.sum(tf.square(tf.grad((t: tf.Tensor) => tf.sum(tf.square(layer(t, s, tf.tensor(offset)))))(tf.tensor(x, [6, 5, 4, 3]))));
  await matchesCpu('batch norm second order', () => tf.grad(penalty)(tf.tensor(scale)));
  await tf.setBackend('aten');
  const profile = await tf.profile(() => tf.grads(f)(args()));
  assert.ok(profile.kernels.some((k) => k.name === 'AtenBatchNormGrad'), 'the native batch-norm gradient ran');
});

test('adamUpdateInPlace gives tfjs Adam\'s result and refuses buffers other tensors share', async () => {
  await tf.setBackend('aten');
  const backend = tf.backend() as AtenBackend;
  const shape = [37, 29];
  const values = rand(shape), grads = rand(shape);
  // One step by hand on aten: m = v = 0, t = 1.
  const value = tf.tensor(values, shape), m = tf.zeros(shape), v = tf.zeros(shape), g = tf.tensor(grads, shape);
  const hyper = { learningRate: 0.05, beta1: 0.5, beta2: 0.999, epsilon: 1e-7, oneMinusAccBeta1: 0.5, oneMinusAccBeta2: Math.fround(1 - 0.999) };
  assert.equal(backend.adamUpdateInPlace(value, m, v, g, hyper), true);
  const got = value.dataSync();
  for (let i = 0; i < values.length; i++) {
    const mi = (1 - 0.5) * grads[i], vi = (1 - 0.999) * grads[i] * grads[i];
    const want = values[i] - 0.05 * (mi / 0.5) / (Math.sqrt(vi / hyper.oneMinusAccBeta2) + 1e-7);
    assert.ok(Math.abs(got[i] - want) < 1e-5, `[${i}] ${got[i]} vs ${want}`);
  }
  assert.ok(Math.abs(m.dataSync()[0] - 0.5 * grads[0]) < 1e-7, 'first moment written in place');
  // A buffer shared with another tensor (a reshape shares it) must not be touched.
  const alias = tf.reshape(value, [shape[0] * shape[1]]);
  const before = Array.from(alias.dataSync());
  assert.equal(backend.adamUpdateInPlace(value, m, v, g, hyper), false);
  assert.deepEqual(Array.from(alias.dataSync()), before);
  // Identity and a cast to the same dtype share the data id (no native call, no new buffer), and the update then
  // refuses too: tfjs clones every tensor a gradient saves, so a variable is often shared this way.
  alias.dispose();
  const tensorsBefore = backend.memory().nativeTensors;
  // So does a reshape to the tensor's own shape (every elementwise gradient ends with one).
  const clone = tf.clone(value), cast = tf.cast(value, 'float32'), same = tf.reshape(value, shape);
  assert.equal(backend.memory().nativeTensors, tensorsBefore, 'no native tensor made');
  assert.equal(backend.refCount(value.dataId), 4);
  assert.equal(backend.adamUpdateInPlace(value, m, v, g, hyper), false);
  assert.deepEqual(Array.from(clone.dataSync()), before);
  assert.deepEqual(Array.from(same.dataSync()), before);
  tf.dispose([clone, cast, same]);
  assert.equal(backend.refCount(value.dataId), 1, 'the clones released the data');
  assert.equal(backend.adamUpdateInPlace(value, m, v, g, hyper), true);
  tf.dispose([value, m, v, g]);
});

test('adamUpdateInPlace gives the same bits as tfjs\'s Adam composed of ops (β1 0.9 and 0.5, β2 0.999)', async () => {
  // FusedAdam takes tfjs's own update for a variable whose buffer is shared; were the two to differ, a run's
  // weights would depend on which path each step took (it broke exact resume once: 1 − β was rounded apart).
  await tf.setBackend('aten');
  const backend = tf.backend() as AtenBackend;
  const shape = [23, 17];
  const values = rand(shape), grads = rand(shape), ms = rand(shape, -0.1, 0.1), vs = rand(shape, 0, 0.01);
  for (const beta1 of [0.9, 0.5]) {
    const hyper = { learningRate: 2e-4, beta1, beta2: 0.999, epsilon: 1e-8, oneMinusAccBeta1: Math.fround(1 - beta1 ** 3),
      oneMinusAccBeta2: Math.fround(1 - 0.999 ** 3) };
    const want = tf.tidy(() => {
      const [m, v, g] = [ms, vs, grads].map((a) => tf.tensor(a, shape));
      const newM = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1));
      const newV = tf.add(tf.mul(v, 0.999), tf.mul(tf.square(g), 1 - 0.999));
      const step = tf.div(tf.div(newM, hyper.oneMinusAccBeta1), tf.add(tf.sqrt(tf.div(newV, hyper.oneMinusAccBeta2)), hyper.epsilon));
      return [tf.add(tf.mul(step, -hyper.learningRate), tf.tensor(values, shape)), newM, newV].map((t) => Array.from(t.dataSync()));
    });
    const value = tf.tensor(values, shape), m = tf.tensor(ms, shape), v = tf.tensor(vs, shape), g = tf.tensor(grads, shape);
    assert.equal(backend.adamUpdateInPlace(value, m, v, g, hyper), true);
    assert.deepEqual([value, m, v].map((t) => Array.from(t.dataSync())), want, `β1 ${beta1}: value, m, v bit for bit`);
    tf.dispose([value, m, v, g]);
  }
});

test('a conv filter re-stored channels-last by Conv2D is still updated in place', async () => {
  // The re-store must leave the handle the only user of its buffer: as a permuted view it kept its base alive,
  // adamUpdateInPlace refused it, and a resumed run (whose filters are re-stored again) took another path.
  await tf.setBackend('aten');
  const backend = tf.backend() as AtenBackend;
  const fShape = [3, 3, 4, 5];
  const filter = tf.tidy(() => tf.variable(tf.tensor(rand(fShape), fShape)));  // its only reference: the variable
  const before = Array.from(filter.dataSync());
  tf.dispose(tf.conv2d(tf.tensor(rand([1, 16, 16, 4]), [1, 16, 16, 4]) as tf.Tensor4D, filter as tf.Tensor4D, 1, 'same'));
  assert.deepEqual(Array.from(filter.dataSync()), before, 'the re-store keeps the values');
  const m = tf.zeros(fShape), v = tf.zeros(fShape), g = tf.tensor(rand(fShape), fShape);
  const hyper = { learningRate: 0.01, beta1: 0.5, beta2: 0.999, epsilon: 1e-8, oneMinusAccBeta1: 0.5, oneMinusAccBeta2: Math.fround(1 - 0.999) };
  assert.equal(backend.adamUpdateInPlace(filter, m, v, g, hyper), true);
  assert.notDeepEqual(Array.from(filter.dataSync()), before, 'updated');
  tf.dispose([filter, m, v, g]);
});
