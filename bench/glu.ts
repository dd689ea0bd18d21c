/**
 * The gated linear unit on the aten backend, forward + backward, fused (the GatedLinearUnit kernel and its gradient,
 * what ganforge's GatedLinearUnit layer runs there) against the same unit composed of tfjs ops (two slices, a
 * sigmoid and a product, as it runs on other backends), at the shapes of stackgan's and attngan's generators
 * (batch 16). The two alternate within each round; medians over rounds, in ms.
 *
 *   node --single-threaded dist/bench/glu.js [--rounds 5] [--reps 20]
 */
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/backend/index.js';
import { glu } from '../src/nn/glu.js';
import { median } from './step_bench.js';

const SHAPES = [[16, 4096], [16, 8, 8, 256], [16, 16, 16, 128], [16, 16, 16, 256], [16, 32, 32, 128]];

function composed(x: tf.Tensor): tf.Tensor {
  const [a, b] = tf.split(x, 2, -1);
  return tf.mul(a, tf.sigmoid(b));
}

/** Mean ms of one forward + backward of `unit` on x, weighted so the gradient is not all ones. */
function timeUnit(unit: (x: tf.Tensor) => tf.Tensor, x: tf.Variable, w: tf.Tensor, reps: number): number {
  const step = () => tf.tidy(() => { tf.grad((v: tf.Tensor) => tf.sum(tf.mul(unit(v), w)))(x).dataSync(); });
  for (let i = 0; i < 3; i++) step();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) step();
  return (performance.now() - t0) / reps;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, reps: { type: 'string', default: '20' } } });
  const rounds = Number(values.rounds), reps = Number(values.reps);
  await initBackend({ prefer: 'aten' });
  if (tf.getBackend() !== 'aten') throw new Error('bench/glu needs the aten backend (npm run setup builds it)');
  console.log(`gated linear unit, forward + backward, ms (median of ${rounds} rounds of ${reps}): fused | composed`);
  for (const shape of SHAPES) {
    const x = tf.variable(tf.randomNormal(shape));
    const w = tf.randomNormal([...shape.slice(0, -1), shape[shape.length - 1]! / 2]);
    const fused: number[] = [], plain: number[] = [];
    for (let r = 0; r < rounds; r++) {
      fused.push(timeUnit(glu, x, w, reps));
      plain.push(timeUnit(composed, x, w, reps));
    }
    console.log(`${JSON.stringify(shape).padEnd(18)} ${median(fused).toFixed(2).padStart(7)} | ${median(plain).toFixed(2).padStart(7)}`);
    tf.dispose([x, w]);
  }
}

await main();
