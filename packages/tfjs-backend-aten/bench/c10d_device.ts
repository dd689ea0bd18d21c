// The GPU check's c10d smoke test (scripts/gpu-check.sh runs it): a one-rank group over a FileStore on the
// backend's device — NCCL when GANFORGE_DEVICE is cuda and the addon was built with it, else Gloo — then an
// all-reduce and a broadcast of aten tensors, checked against their closed forms. Prints one line; exits 1
// on a wrong value or a missing NCCL on a CUDA device.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { atenInfo, distributedAvailable, initProcessGroup, registerAtenBackend } from 'tfjs-backend-aten';

if (!registerAtenBackend()) throw new Error('aten backend unavailable');
await tf.setBackend('aten');
const device = atenInfo().device;
const available = distributedAvailable();
const cuda = device.startsWith('cuda');
if (!available.ok || (cuda && !available.backends.includes('nccl'))) {
  console.log(`c10d device=${device} backends=${available.backends.join(',') || 'none'}: ${available.why ?? 'no NCCL in a CUDA build'}`);
  process.exit(1);
}
const backend = cuda ? 'nccl' : 'gloo';
const dir = mkdtempSync(path.join(tmpdir(), 'c10d-'));
const t0 = performance.now();
const pg = await initProcessGroup({ rank: 0, worldSize: 1, store: { kind: 'file', file: path.join(dir, 'store') }, timeoutMs: 60_000, backend });
const x = tf.range(0, 1 << 20, 1, 'float32');
const [sum] = pg.allReduceSync([x], 'sum');
const [root] = pg.broadcastSync([x], 0);
const ok = tf.tidy(() => tf.all(tf.equal(sum, x)).dataSync()[0] === 1 && tf.all(tf.equal(root, x)).dataSync()[0] === 1);
const ms = performance.now() - t0;
tf.dispose([x, sum, root]);
pg.destroy();
rmSync(dir, { recursive: true, force: true });
console.log(`c10d device=${device} backend=${backend} world=1 all-reduce+broadcast of 4 MB ${ok ? 'ok' : 'WRONG'} in ${ms.toFixed(0)} ms (with start-up)`);
process.exit(ok ? 0 : 1);
