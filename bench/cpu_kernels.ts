/**
 * Before/after timings of the fast pure-JS cpu kernels (src/backend/js_kernels.ts) on DCGAN
 * (28×28, batch 64) shapes, a per-kernel profile of one training step, and the step time.
 *
 *   node dist/bench/cpu_kernels.js                 per-kernel before/after + fast step
 *   node dist/bench/cpu_kernels.js --original-step also time a step on the original kernels (~minutes)
 *   node dist/bench/cpu_kernels.js --no-original   skip the (slow) original kernels entirely
 *   node dist/bench/cpu_kernels.js --step-only     only the step profile and step time
 * Wall times on a shared machine are noisy, so the step also reports this process's CPU time.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { installFastCpuKernels, uninstallFastCpuKernels } from '../src/backend/js_kernels.js';

const args = new Set(process.argv.slice(2));
const BATCH = 64;

interface KernelCase { label: string; kernel: string; inputs: Record<string, number[]>; attrs: Record<string, unknown> }

const same = { strides: [2, 2], pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined };
const cases: KernelCase[] = [
  { label: 'D conv1 fwd', kernel: tf.Conv2D, inputs: { x: [BATCH, 28, 28, 1], filter: [4, 4, 1, 64] }, attrs: { ...same, dilations: [1, 1] } },
  { label: 'D conv2 fwd', kernel: tf.Conv2D, inputs: { x: [BATCH, 14, 14, 64], filter: [4, 4, 64, 128] }, attrs: { ...same, dilations: [1, 1] } },
  { label: 'D conv2 dW', kernel: tf.Conv2DBackpropFilter, inputs: { x: [BATCH, 14, 14, 64], dy: [BATCH, 7, 7, 128] }, attrs: { ...same, filterShape: [4, 4, 64, 128] } },
  { label: 'D conv2 dx / G convT1 fwd', kernel: tf.Conv2DBackpropInput, inputs: { dy: [BATCH, 7, 7, 128], filter: [4, 4, 64, 128] }, attrs: { ...same, inputShape: [BATCH, 14, 14, 64] } },
  { label: 'D conv1 dW', kernel: tf.Conv2DBackpropFilter, inputs: { x: [BATCH, 28, 28, 1], dy: [BATCH, 14, 14, 64] }, attrs: { ...same, filterShape: [4, 4, 1, 64] } },
  { label: 'G convT2 fwd', kernel: tf.Conv2DBackpropInput, inputs: { dy: [BATCH, 14, 14, 64], filter: [4, 4, 1, 64] }, attrs: { ...same, inputShape: [BATCH, 28, 28, 1] } },
];

/** Median wall time of `reps` runs of fn (after one warm-up), in ms. */
function timeMs(fn: () => void, reps: number): number {
  fn();
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const s = performance.now();
    fn();
    t.push(performance.now() - s);
  }
  return t.sort((a, b) => a - b)[Math.floor(t.length / 2)];
}

function runKernel(c: KernelCase, inputs: Record<string, tf.Tensor>): void {
  tf.tidy(() => { (tf.engine().runKernel(c.kernel, inputs, c.attrs as tf.NamedAttrMap) as tf.Tensor).dataSync(); });
}

function kernelTable(): void {
  console.log('per-kernel (median ms; original run once without warm-up):');
  for (const c of cases) {
    const inputs = Object.fromEntries(Object.entries(c.inputs).map(([k, s]) => [k, tf.randomNormal(s)]));
    installFastCpuKernels();
    const fast = timeMs(() => runKernel(c, inputs), 5);
    let orig = NaN;
    if (!args.has('--no-original')) {
      uninstallFastCpuKernels();
      const s = performance.now();
      runKernel(c, inputs);
      orig = performance.now() - s;
      installFastCpuKernels();
    }
    const speedup = Number.isNaN(orig) ? '' : `  ×${(orig / fast).toFixed(0)}`;
    console.log(`  ${c.label.padEnd(28)} ${c.kernel.padEnd(22)} original ${orig.toFixed(0).padStart(7)} ms   fast ${fast.toFixed(1).padStart(7)} ms${speedup}`);
    Object.values(inputs).forEach((t) => t.dispose());
  }
}

/** The reference DCGAN of the brief: G z(100)→7×7×128→14×14×64→28×28×1, D mirror with a logit out. */
function buildDcgan(): { step: () => void } {
  const G = tfl.sequential({ layers: [
    tfl.layers.dense({ inputShape: [100], units: 7 * 7 * 128, useBias: false }),
    tfl.layers.batchNormalization(), tfl.layers.reLU(), tfl.layers.reshape({ targetShape: [7, 7, 128] }),
    tfl.layers.conv2dTranspose({ filters: 64, kernelSize: 4, strides: 2, padding: 'same', useBias: false }),
    tfl.layers.batchNormalization(), tfl.layers.reLU(),
    tfl.layers.conv2dTranspose({ filters: 1, kernelSize: 4, strides: 2, padding: 'same', activation: 'tanh' }),
  ] });
  const D = tfl.sequential({ layers: [
    tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 64, kernelSize: 4, strides: 2, padding: 'same' }),
    tfl.layers.leakyReLU({ alpha: 0.2 }),
    tfl.layers.conv2d({ filters: 128, kernelSize: 4, strides: 2, padding: 'same', useBias: false }),
    tfl.layers.batchNormalization(), tfl.layers.leakyReLU({ alpha: 0.2 }),
    tfl.layers.flatten(), tfl.layers.dense({ units: 1 }),
  ] });
  const gVars = G.trainableWeights.map((w) => w.read() as tf.Variable);
  const dVars = D.trainableWeights.map((w) => w.read() as tf.Variable);
  const gOpt = tf.train.adam(2e-4, 0.5);
  const dOpt = tf.train.adam(2e-4, 0.5);
  const real = tf.randomUniform([BATCH, 28, 28, 1], -1, 1);
  const fwd = (m: tfl.Sequential, x: tf.Tensor): tf.Tensor => m.apply(x, { training: true }) as tf.Tensor;
  const step = (): void => {
    const z = tf.randomNormal([BATCH, 100]);
    const dLoss = dOpt.minimize(() => {
      const fake = fwd(G, z);
      return tf.add(tf.mean(tf.softplus(tf.neg(fwd(D, real)))), tf.mean(tf.softplus(fwd(D, fake)))) as tf.Scalar;
    }, true, dVars);
    const gLoss = gOpt.minimize(() => tf.mean(tf.softplus(tf.neg(fwd(D, fwd(G, z))))) as tf.Scalar, true, gVars);
    dLoss?.dataSync(); gLoss?.dataSync();
    tf.dispose([z, dLoss ?? [], gLoss ?? []]);
  };
  return { step };
}

/**
 * Wraps every registered cpu kernel with a wall-clock timer for one call of fn. (tf.profile also
 * lists op scopes such as fusedConv2d__op around their kernels, which double counts.)
 */
function stepProfile(step: () => void): void {
  const configs = tf.getKernelsForBackend('cpu');
  const totals = new Map<string, { ms: number; calls: number }>();
  const swap = (make: (c: tf.KernelConfig) => tf.KernelFunc): void => configs.forEach((c) => {
    tf.unregisterKernel(c.kernelName, 'cpu');
    tf.registerKernel({ ...c, kernelFunc: make(c) });
  });
  swap((c) => (a) => {
    const s = performance.now();
    const out = c.kernelFunc(a);
    const key = `${c.kernelName} ${Object.values(a.inputs).map((t) => `[${t?.shape}]`).join(' ')}`;
    const e = totals.get(key) ?? { ms: 0, calls: 0 };
    totals.set(key, { ms: e.ms + performance.now() - s, calls: e.calls + 1 });
    return out;
  });
  const s = performance.now();
  try { step(); } finally { swap((c) => c.kernelFunc); }
  const wall = performance.now() - s;
  const total = [...totals.values()].reduce((a, b) => a + b.ms, 0);
  console.log(`top kernels (name, input shapes) in one DCGAN step; kernels ${total.toFixed(0)} ms of ${wall.toFixed(0)} ms wall:`);
  for (const [key, e] of [...totals].sort((a, b) => b[1].ms - a[1].ms).slice(0, 15)) {
    console.log(`  ${e.ms.toFixed(1).padStart(8)} ms ${String(e.calls).padStart(3)}×  ${key}`);
  }
}

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  if (!args.has('--step-only')) kernelTable();
  const { step } = buildDcgan();
  installFastCpuKernels();
  step();
  stepProfile(step);
  const cpu0 = process.cpuUsage();
  const ms = timeMs(step, 3);
  const used = process.cpuUsage(cpu0);
  const cpuMs = (used.user + used.system) / 1000 / 4;
  console.log(`DCGAN step (batch ${BATCH}, D+G update) on cpu with fast kernels: ${ms.toFixed(0)} ms wall (median of 3), ` +
    `${cpuMs.toFixed(0)} ms CPU (mean of 4)`);
  if (args.has('--original-step')) {
    uninstallFastCpuKernels();
    const s = performance.now();
    const c0 = process.cpuUsage();
    step();
    const c = process.cpuUsage(c0);
    console.log(`DCGAN step on the original cpu kernels: ${(performance.now() - s).toFixed(0)} ms wall, ` +
      `${((c.user + c.system) / 1000).toFixed(0)} ms CPU (1 run)`);
    installFastCpuKernels();
  }
}

await main();
