// Shared by the StyleGAN2 layer tests: seeded inputs, a tolerance check, the backends to run on.
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../src/util/rng.js';

/** cpu always; aten where it is built (initBackend must have run). */
export function backends(): string[] {
  return ['cpu', ...(tf.engine().registryFactory['aten'] ? ['aten'] : [])];
}

/** N(0, scale²) values from a seed (the same on every backend). */
export function normals(n: number, seed: number, scale = 1): Float32Array {
  return new Rng(seed).normals(n).map((v) => v * scale);
}

export function randn(shape: number[], seed: number, scale = 1): tf.Tensor {
  return tf.tensor(normals(shape.reduce((a, b) => a * b, 1), seed, scale), shape);
}

/** |a − e| ≤ tol·max(1, |e|) elementwise. */
export function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  let worst = 0, at = -1;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i]));
    if (!(err <= worst)) { worst = err; at = i; }
  }
  assert.ok(worst <= tol, `${label}[${at}]: ${actual[at]} vs ${expected[at]} (relative error ${worst} > ${tol})`);
}

/** Values of a tensor the caller no longer needs (disposes it). */
export function take(t: tf.Tensor | tf.Tensor[]): Float32Array {
  const x = Array.isArray(t) ? t[0] : t;
  const v = x.dataSync() as Float32Array;
  tf.dispose(t);
  return v;
}

/** Central differences of f at the coordinates `coords` of a variable, restoring it after. h is large because
 *  the arithmetic is float32. */
export function finiteDifferences(f: () => number, v: tf.Variable, coords: number[], h = 1e-2): number[] {
  const base = v.dataSync().slice() as Float32Array;
  const at = (i: number, delta: number) => {
    const x = base.slice();
    x[i] += delta;
    tf.tidy(() => v.assign(tf.tensor(x, v.shape)));
    return f();
  };
  const out = coords.map((i) => (at(i, h) - at(i, -h)) / (2 * h));
  tf.tidy(() => v.assign(tf.tensor(base, v.shape)));
  return out;
}
