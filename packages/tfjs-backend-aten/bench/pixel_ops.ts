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
 * The fastest wall and process-CPU milliseconds of `f` over the repetitions (after two warm-up calls): on a shared
 * machine the minimum is the figure other processes disturb least. Every tensor `f` makes is released.
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
  return [Math.min(...runs.map((r) => r[0])), Math.min(...runs.map((r) => r[1]))];
}

async function main(): Promise<void> {
  if (!registerAtenBackend()) throw new Error('the aten backend did not load');
  await tf.setBackend('aten');
  const x = tf.tensor4d(seededValues(SHAPE.reduce((a, b) => a * b, 1), 1), [...SHAPE]);
  const alpha = tf.fill([1, 1, SHAPE[3]], 0.25);
  const small = tf.tensor4d(seededValues(16 * 48 * 48 * 16, 2), [16, 48, 48, 16]);
  // A kernel without a gradient (DepthToSpace before this package gave it one) shows as NaN.
  const timeOrNaN = (f: () => tf.Tensor | tf.Tensor[]): [number, number] => { try { return time(f); } catch { return [NaN, NaN]; } };
  // Backward passes start from a given dy, so that nothing but the layer's own gradient kernels runs after it.
  const dy = tf.tensor4d(seededValues(x.size, 3), [...SHAPE]);
  const dyShuffled = tf.reshape(dy, [16, 96, 96, 16]) as tf.Tensor4D;
  const rows: [string, [number, number]][] = [
    ['prelu forward', time(() => tf.prelu(x, alpha))],
    ['prelu forward+backward (dx, dalpha)', time(() => tf.grads((v: tf.Tensor, a: tf.Tensor) => tf.prelu(v, a))([x, alpha], dy))],
    ['depthToSpace ×2 forward', time(() => tf.depthToSpace(x, 2))],
    ['depthToSpace ×2 forward+backward', timeOrNaN(() => tf.grad((v: tf.Tensor) => tf.depthToSpace(v as tf.Tensor4D, 2))(x, dyShuffled))],
    ['resizeNearest ×2 [16,48,48,16] forward', time(() => tf.image.resizeNearestNeighbor(small, [96, 96]))],
    ['resizeNearest ×2 [16,48,48,16] forward+backward', time(() =>
      tf.grad((v: tf.Tensor) => tf.image.resizeNearestNeighbor(v as tf.Tensor4D, [96, 96]))(small, dyShuffled))],
  ];

  console.log(`${`fastest of ${REPS}`.padEnd(50)}  wall ms    CPU ms`);
  for (const [name, [wall, cpu]] of rows) console.log(`${name.padEnd(50)} ${wall.toFixed(1).padStart(8)} ${cpu.toFixed(1).padStart(9)}`);
  console.log('fallback kernels:', atenFallbackKernels().join(', ') || 'none');
  tf.dispose([x, alpha, small, dy, dyShuffled]);
}

await main();
