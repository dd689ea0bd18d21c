// The DCGAN training step (the product's hot path) runs fully native and agrees with cpu.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { atenFallbackKernels } from 'tfjs-backend-aten';
import { buildDcgan, disposeDcgan, seededValues, trainStep } from '../bench/dcgan.js';
import { setup, tf } from './helpers.js';

// The CPU backend's Conv2DBackpropFilter reads through TensorBuffer.get and needs tens of seconds
// per DCGAN step on 2 cores. For this cross-check only, the reference run uses an equivalent
// flat-loop version (conv.test.ts compares aten with the real CPU kernel on small shapes).
const original = tf.getKernel('Conv2DBackpropFilter', 'cpu')!;
function backpropFilterReference({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const cpu = backend as MathBackendCPU;
  const filterShape = attrs!.filterShape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(x.shape as never, filterShape, attrs!.strides as number, 1, attrs!.pad as 'same');
  const xv = cpu.readSync(x.dataId) as Float32Array, dyv = cpu.readSync(dy.dataId) as Float32Array;
  const [n, h, w, ci] = x.shape, [, oh, ow, co] = dy.shape, [kh, kw] = filterShape;
  const out = new Float64Array(kh * kw * ci * co);
  for (let b = 0; b < n; b++) for (let r = 0; r < oh; r++) for (let c = 0; c < ow; c++) {
    const dyOff = ((b * oh + r) * ow + c) * co;
    for (let i = 0; i < kh; i++) {
      const xr = r * info.strideHeight + i - info.padInfo.top;
      if (xr < 0 || xr >= h) continue;
      for (let j = 0; j < kw; j++) {
        const xc = c * info.strideWidth + j - info.padInfo.left;
        if (xc < 0 || xc >= w) continue;
        const xOff = ((b * h + xr) * w + xc) * ci, wOff = (i * kw + j) * ci * co;
        for (let k = 0; k < ci; k++) {
          const xk = xv[xOff + k];
          for (let o = 0; o < co; o++) out[wOff + k * co + o] += xk * dyv[dyOff + o];
        }
      }
    }
  }
  return cpu.makeTensorInfo(filterShape, 'float32', Float32Array.from(out));
}

before(async () => {
  await setup();
  tf.unregisterKernel('Conv2DBackpropFilter', 'cpu');
  tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'cpu', kernelFunc: backpropFilterReference });
});
after(() => {
  tf.unregisterKernel('Conv2DBackpropFilter', 'cpu');
  tf.registerKernel(original);
});

type Snapshot = { values: Float32Array; shape: number[] }[][];

async function twoSteps(backend: string, weights: Snapshot | null, batch: number) {
  await tf.setBackend(backend);
  const gan = buildDcgan();
  const models = [gan.generator, gan.discriminator];
  if (weights) {
    models.forEach((m, i) => {
      const ts = weights[i].map((w) => tf.tensor(w.values, w.shape));
      m.setWeights(ts);
      tf.dispose(ts);
    });
  }
  const snapshot = models.map((m) => m.getWeights().map((w) => ({ values: w.dataSync() as Float32Array, shape: w.shape })));
  const real = tf.tensor4d(seededValues(batch * 28 * 28, 11), [batch, 28, 28, 1]);
  const z = tf.tensor2d(seededValues(batch * 100, 12), [batch, 100]);
  const first = trainStep(gan, real, z);
  const second = trainStep(gan, real, z);
  tf.dispose([real, z]);
  disposeDcgan(gan);
  return { first, second, snapshot };
}

test('DCGAN step: no fallbacks, losses match the cpu backend', async () => {
  const batch = 8;
  const cpu = await twoSteps('cpu', null, batch);
  const fallbacksBefore = atenFallbackKernels();
  const tensorsBefore = tf.memory().numTensors;
  const aten = await twoSteps('aten', cpu.snapshot, batch);
  const newFallbacks = atenFallbackKernels().filter((k) => !fallbacksBefore.includes(k));
  console.log('fallback kernels after the DCGAN step:', JSON.stringify(atenFallbackKernels()));
  assert.deepEqual(newFallbacks, [], 'DCGAN kernels must all be native');
  console.log('losses [D, G]: cpu', cpu.first, cpu.second, 'aten', aten.first, aten.second);
  for (let i = 0; i < 2; i++) {
    assert.ok(Math.abs(aten.first[i] - cpu.first[i]) <= 1e-4 * Math.max(1, Math.abs(cpu.first[i])), `first-step loss ${i}`);
    // After one Adam update float32 summation order matters more: close, not identical.
    assert.ok(Math.abs(aten.second[i] - cpu.second[i]) <= 2e-3 * Math.max(1, Math.abs(cpu.second[i])), `second-step loss ${i}`);
  }
  assert.equal(tf.memory().numTensors, tensorsBefore, 'the steps release every tensor');
});
