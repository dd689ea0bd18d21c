// Milliseconds per call of the super-resolution layers' kernels at an SRResNet-sized activation [16, 48, 48, 64]:
// PReLU (alpha per channel) and pixel shuffle (depthToSpace ×2), forward and forward + backward, and nearest ×2
// resizing. Prints which kernels ran on the CPU fallback. Usage: node dist/bench/pixel_ops.js [--reps 20]
import * as tf from '@tensorflow/tfjs-core';
import { atenFallbackKernels, registerAtenBackend } from 'tfjs-backend-aten';
import { seededValues } from './dcgan.js';

const args = process.argv.slice(2);
const repsAt = args.indexOf('--reps');
const REPS = repsAt >= 0 ? Number(args[repsAt + 1]) : 20;
const SHAPE = [16, 48, 48, 64] as const;

/**
 * Median wall and process-CPU milliseconds of `f` (after two warm-up calls); every tensor it makes is released.
 * CPU time is the steadier figure on a shared machine (run with GANFORGE_THREADS=1 to compare like with like).
 */
function time(f: () => tf.Tensor | tf.Tensor[]): [number, number] {
  const once = (): [number, number] => {
    const start = performance.now(), cpu = process.cpuUsage();
    const out = tf.tidy(f);
    for (const t of Array.isArray(out) ? out : [out]) t.dataSync();
    const used = process.cpuUsage(cpu);
    const ms = performance.now() - start;
    tf.dispose(out);
    return [ms, (used.user + used.system) / 1000];
  };
  once();
  once();
  const runs = Array.from({ length: REPS }, once);
  const median = (v: number[]) => v.sort((a, b) => a - b)[Math.floor(v.length / 2)];
  return [median(runs.map((r) => r[0])), median(runs.map((r) => r[1]))];
}

async function main(): Promise<void> {
  if (!registerAtenBackend()) throw new Error('the aten backend did not load');
  await tf.setBackend('aten');
  const x = tf.tensor4d(seededValues(SHAPE.reduce((a, b) => a * b, 1), 1), [...SHAPE]);
  const alpha = tf.fill([1, 1, SHAPE[3]], 0.25);
  const small = tf.tensor4d(seededValues(16 * 48 * 48 * 16, 2), [16, 48, 48, 16]);
  // A kernel without a gradient (DepthToSpace before this package gave it one) shows as NaN.
  const timeOrNaN = (f: () => tf.Tensor | tf.Tensor[]): [number, number] => { try { return time(f); } catch { return [NaN, NaN]; } };
  const rows: [string, [number, number]][] = [
    ['prelu forward', time(() => tf.prelu(x, alpha))],
    ['prelu forward+backward (dx, dalpha)', time(() => tf.grads((v: tf.Tensor, a: tf.Tensor) => tf.sum(tf.mul(tf.prelu(v, a), x)))([x, alpha]))],
    ['depthToSpace ×2 forward', time(() => tf.depthToSpace(x, 2))],
    ['depthToSpace ×2 forward+backward', timeOrNaN(() => tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.depthToSpace(v as tf.Tensor4D, 2), 2)))(x))],
    ['resizeNearest ×2 [16,48,48,16] forward+backward', time(() =>
      tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.image.resizeNearestNeighbor(v as tf.Tensor4D, [96, 96]), 2)))(small))],
  ];
  console.log(`${''.padEnd(50)}  wall ms    CPU ms`);
  for (const [name, [wall, cpu]] of rows) console.log(`${name.padEnd(50)} ${wall.toFixed(1).padStart(8)} ${cpu.toFixed(1).padStart(9)}`);
  console.log('fallback kernels:', atenFallbackKernels().join(', ') || 'none');
  tf.dispose([x, alpha, small]);
}

await main();
