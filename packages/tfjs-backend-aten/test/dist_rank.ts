// One rank of test/distributed.test.ts, started with fork(): argv[2] is a JSON RankConfig; the results go back
// over IPC. Run without arguments (node --test picks up every file under dist/test) it does nothing.
import * as tf from '@tensorflow/tfjs-core';
import { atenMemory, initProcessGroup, ProcessGroupOptions, registerAtenBackend } from 'tfjs-backend-aten';

export interface RankConfig {
  scenario: 'tensors' | 'buffers' | 'never' | 'kill';
  rank: number;
  worldSize: number;
  ports: number[];
  file?: string;
  timeoutMs: number;
}

/** Rank r's deterministic values for tensor k: float32, different on each rank. */
export function rankValues(rank: number, k: number, n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(1 + i * 0.37 + k) * (rank + 1.5) + rank * 0.001 * i);
}
export const SHAPES = [[3, 4], [5], [2, 3, 2], [1], [17, 9]];

const send = (msg: unknown) => new Promise<void>((resolve) => process.send!(msg, () => resolve()));
const arrays = (ts: tf.Tensor[]) => ts.map((t) => Array.from(t.dataSync()));
const errorText = (e: unknown) => (e instanceof Error ? `${e.constructor.name}: ${e.message}` : `not an Error: ${String(e)}`);

async function main(cfg: RankConfig): Promise<void> {
  if (!registerAtenBackend()) throw new Error('aten backend must load');
  await tf.setBackend('aten');
  const tcp = (port: number): ProcessGroupOptions['store'] => ({ kind: 'tcp', masterAddr: '127.0.0.1', masterPort: port });
  const base = { rank: cfg.rank, worldSize: cfg.worldSize, timeoutMs: cfg.timeoutMs };

  if (cfg.scenario === 'never') {
    // This rank joins a group whose other member never comes: rank 0 hosting the store, and rank 1 with no store.
    const attempt = async (rank: number, port: number) => {
      const start = Date.now();
      try {
        await initProcessGroup({ ...base, rank, store: tcp(port) });
        return { rank, error: null, ms: Date.now() - start };
      } catch (e) {
        return { rank, error: errorText(e), ms: Date.now() - start };
      }
    };
    await send({ attempts: await Promise.all([attempt(0, cfg.ports[0]), attempt(1, cfg.ports[1])]) });
    return;
  }

  if (cfg.scenario === 'tensors') {
    const pg = await initProcessGroup({ ...base, store: tcp(cfg.ports[0]) });
    const inputs = SHAPES.map((s, k) => tf.tensor(rankValues(cfg.rank, k, s.reduce((a, b) => a * b, 1)), s));
    const ints = tf.tensor([1, 2, 3, cfg.rank * 10], [2, 2], 'int32');
    const sum = pg.allReduceSync(inputs, 'sum');
    const avg = pg.allReduceSync(inputs, 'avg');
    const intSum = pg.allReduceSync([ints, inputs[1]], 'sum');
    const bcast = pg.broadcastSync([...inputs, ints], 1);
    const transposed = pg.allReduceSync([tf.transpose(inputs[4])], 'sum');  // a strided (permuted) input
    // native tensor and tfjs tensor counts across 20 more calls (outputs disposed)
    const before = { ...atenMemory(), numTensors: tf.memory().numTensors };
    for (let i = 0; i < 20; i++) tf.dispose(pg.allReduceSync(inputs, i % 2 ? 'avg' : 'sum'));
    const after = { ...atenMemory(), numTensors: tf.memory().numTensors };
    // tensors on another backend take the dataSync path
    await tf.setBackend('cpu');
    const onCpu = tf.tensor(rankValues(cfg.rank, 0, 12), [3, 4]);
    const cpuSum = pg.allReduceSync([onCpu], 'sum');
    const cpuBackend = tf.getBackend();
    await send({
      sum: arrays(sum), avg: arrays(avg), intSum: arrays(intSum), bcast: arrays(bcast), transposed: arrays(transposed),
      shapes: sum.map((t) => t.shape), dtypes: intSum.map((t) => t.dtype),
      inputsAfter: arrays(inputs), before, after, cpuSum: arrays(cpuSum), cpuBackend,
    });
    pg.destroy();
    return;
  }

  if (cfg.scenario === 'buffers') {
    // FileStore, and buckets small enough that the calls below take several collectives each.
    const pg = await initProcessGroup({ ...base, store: { kind: 'file', file: cfg.file! }, bucketBytes: 64, checkSizes: 'always' });
    const r = cfg.rank;
    const f = Float32Array.from({ length: 40 }, (_, i) => (r + 1) * i - 7 * r);
    const n = Int32Array.from({ length: 9 }, (_, i) => (r ? -i : i * i));
    const small = new Float32Array([r + 0.5]);
    await pg.allReduce([f, n, small], 'sum');
    const sum = [Array.from(f), Array.from(n), Array.from(small)];
    const m = Float32Array.from({ length: 20 }, (_, i) => (i % 2 === r ? i : -i));
    const mi = Int32Array.from({ length: 3 }, (_, i) => (r ? 100 - i : i));
    await pg.allReduce([m, mi], 'max');
    const max = [Array.from(m), Array.from(mi)];
    const lo = Float32Array.from({ length: 5 }, (_, i) => (r ? i : -i - 1));
    await pg.allReduce([lo], 'min');
    const av = Float32Array.from({ length: 6 }, (_, i) => r * 4 + i);
    await pg.allReduce([av], 'avg');
    const b = [Float32Array.from({ length: 30 }, (_, i) => r * 1000 + i), Int32Array.from([r, r + 1])];
    await pg.broadcast(b, 0);
    await pg.barrier();
    // a mismatch is reported, not hung on, and the group stays usable
    let mismatch: string | null = null;
    try {
      await pg.allReduce([new Float32Array(r ? 3 : 4)], 'sum');
    } catch (e) {
      mismatch = errorText(e);
    }
    await pg.barrier();
    pg.destroy();
    pg.destroy();  // idempotent
    const afterDestroy: string[] = [];
    for (const call of [() => pg.allReduceSync([tf.scalar(1)], 'sum'), () => pg.broadcastSync([tf.scalar(1)], 0)]) {
      try { call(); } catch (e) { afterDestroy.push(errorText(e)); }
    }
    for (const call of [() => pg.allReduce([new Float32Array(1)], 'sum'), () => pg.broadcast([new Float32Array(1)], 0), () => pg.barrier()]) {
      try { await call(); } catch (e) { afterDestroy.push(errorText(e)); }
    }
    await send({
      sum, max, min: Array.from(lo), avg: Array.from(av), bcast: b.map((x) => Array.from(x)), mismatch, afterDestroy,
    });
    return;
  }

  // 'kill': rank 1 dies (SIGKILL) after a first collective; rank 0's next one must throw.
  const pg = await initProcessGroup({ ...base, store: tcp(cfg.ports[0]) });
  const x = [tf.ones([1000])];
  tf.dispose(pg.allReduceSync(x, 'sum'));
  await pg.barrier();
  if (cfg.rank === 1) process.kill(process.pid, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 300));
  const start = Date.now();
  let error: string | null = null;
  try {
    tf.dispose(pg.allReduceSync(x, 'sum'));
  } catch (e) {
    error = errorText(e);
  }
  const ms = Date.now() - start;
  pg.destroy();
  await send({ error, ms });
}

if (process.argv[2] && process.send) {
  main(JSON.parse(process.argv[2]) as RankConfig).then(
    () => process.exit(0),
    async (e) => {
      await send({ fatal: e instanceof Error ? e.stack : String(e) });
      process.exit(1);
    },
  );
}
