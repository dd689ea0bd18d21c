/**
 * What tfjs's engine costs per op, apart from the arithmetic: chains of 2,000 elementwise ops on [4]-element
 * tensors (nothing to compute), untaped and inside a gradient (forward recorded on the tape, then backward), on the
 * aten and cpu backends. Median of 5 rounds, in µs per forward op (taped: the forward op and its share of the
 * backward pass). A training step of ~2,000 kernels pays this on each (README, text-to-image speed).
 *
 *   node --single-threaded dist/bench/op_overhead.js [--ops 2000] [--rounds 5]
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/backend/index.js';
import { median } from './step_bench.js';

const { values } = parseArgs({ options: { ops: { type: 'string', default: '2000' }, rounds: { type: 'string', default: '5' } } });
const N = Number(values.ops), rounds = Number(values.rounds);

function chain(x: tf.Tensor, b: tf.Tensor, op: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor): tf.Tensor {
  let y = x;
  for (let i = 0; i < N; i++) y = op(y, b);
  return y;
}

/** Median µs per op of `run` over the rounds (after two untimed ones). */
function perOp(run: () => void): number {
  for (let i = 0; i < 2; i++) run();
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    run();
    times.push(((performance.now() - t0) * 1000) / N);
  }
  return median(times);
}

for (const backend of ['aten', 'cpu'] as const) {
  const info = await initBackend({ prefer: backend, quiet: true });
  if (info.name !== backend) { console.log(`${backend}: not available`); continue; }
  const x = tf.variable(tf.ones([4])), b = tf.ones([4]);
  const rows: [string, number][] = [];
  for (const [name, op] of [['add', tf.add], ['mul', tf.mul]] as const) {
    rows.push([`${name}, untaped`, perOp(() => tf.tidy(() => { chain(x, b, op).dataSync(); }))]);
    rows.push([`${name}, taped forward + backward`, perOp(() => tf.tidy(() => { tf.grad((v: tf.Tensor) => tf.sum(chain(v, b, op)))(x).dataSync(); }))]);
  }
  console.log(`${backend}: ` + rows.map(([k, v]) => `${k} ${v.toFixed(1)} µs`).join('; '));
  tf.dispose([x, b]);
}
