// Shared test plumbing: run the same computation on 'aten' and 'cpu' and compare.
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { registerAtenBackend } from 'tfjs-backend-aten';
import { seededValues } from '../bench/dcgan.js';

export { tf };

let ready: Promise<void> | undefined;
export function setup(): Promise<void> {
  ready ??= (async () => {
    assert.ok(registerAtenBackend(), 'aten backend must load');
    await tf.ready();
    // The CPU backend's one-time advert for tfjs-node is noise in test output.
    (tf.findBackend('cpu') as unknown as { firstUse: boolean }).firstUse = false;
  })();
  return ready;
}

let seed = 1;
/** Fresh pseudo-random values in [lo, hi). */
export function rand(shape: number[], lo = -1, hi = 1): Float32Array {
  const v = seededValues(shape.reduce((a, b) => a * b, 1), seed++);
  for (let i = 0; i < v.length; i++) v[i] = lo + ((v[i] + 1) / 2) * (hi - lo);
  return v;
}
export function randInt(shape: number[], lo: number, hi: number): Int32Array {
  return Int32Array.from(rand(shape, lo, hi), (x) => Math.floor(x));
}

export interface Result { shape: number[]; dtype: string; values: number[] }

/** Runs `f` on a backend and returns plain results; all tensors are disposed. */
export async function runOn(backend: string, f: () => tf.Tensor | tf.Tensor[]): Promise<Result[]> {
  await tf.setBackend(backend);
  const outs = tf.tidy(() => {
    const r = f();
    return Array.isArray(r) ? r : [r];
  });
  const results = outs.map((t) => ({ shape: t.shape, dtype: t.dtype, values: Array.from(t.dataSync() as ArrayLike<number>) }));
  tf.dispose(outs);
  return results;
}

/** Asserts aten and cpu agree on shape, dtype and values (relative tolerance `rtol`). */
export async function matchesCpu(label: string, f: () => tf.Tensor | tf.Tensor[], rtol = 1e-4): Promise<void> {
  const cpu = await runOn('cpu', f);
  const aten = await runOn('aten', f);
  assert.equal(aten.length, cpu.length, `${label}: output count`);
  for (let i = 0; i < cpu.length; i++) {
    assert.deepEqual(aten[i].shape, cpu[i].shape, `${label}[${i}]: shape`);
    assert.equal(aten[i].dtype, cpu[i].dtype, `${label}[${i}]: dtype`);
    const scale = Math.max(1, ...cpu[i].values.map((v) => (Number.isFinite(v) ? Math.abs(v) : 0)));
    for (let k = 0; k < cpu[i].values.length; k++) {
      const a = aten[i].values[k], c = cpu[i].values[k];
      if (Number.isNaN(c)) { assert.ok(Number.isNaN(a), `${label}[${i}][${k}]: expected NaN, got ${a}`); continue; }
      if (!Number.isFinite(c)) { assert.equal(a, c, `${label}[${i}][${k}]`); continue; }
      assert.ok(Math.abs(a - c) <= rtol * scale, `${label}[${i}][${k}]: aten ${a} vs cpu ${c}`);
    }
  }
}
