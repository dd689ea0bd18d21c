// All-reduce throughput between 2 ranks on 127.0.0.1 (Gloo): allReduceSync on one aten tensor of 1, 10 and
// 40 MB, and the async allReduce on a Float32Array of the same size. Usage: npm run bench:allreduce
// [-- --iters 20]. The parent forks the two ranks; rank 0 prints the table.
import { fork } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { initProcessGroup, registerAtenBackend } from 'tfjs-backend-aten';

const SIZES_MB = [1, 10, 40];
const args = process.argv.slice(2);
const iters = args.includes('--iters') ? Number(args[args.indexOf('--iters') + 1]) : 20;

async function rank(rankId: number, port: number): Promise<void> {
  if (!registerAtenBackend()) throw new Error('aten backend unavailable');
  await tf.setBackend('aten');
  const pg = await initProcessGroup({ rank: rankId, worldSize: 2, store: { kind: 'tcp', masterAddr: '127.0.0.1', masterPort: port }, timeoutMs: 30000 });
  const rows: string[] = [];
  for (const mb of SIZES_MB) {
    const n = (mb * 1e6) / 4;
    const x = tf.fill([n], rankId + 1);
    const buf = new Float32Array(n).fill(rankId + 1);
    const time = (f: () => void | Promise<void>) => async () => {
      const t = performance.now();
      await f();
      return performance.now() - t;
    };
    const sync = time(() => tf.dispose(pg.allReduceSync([x], 'sum')));
    const async_ = time(() => pg.allReduce([buf], 'sum'));
    for (const [label, f] of [['allReduceSync (aten tensor)', sync], ['allReduce (Float32Array)', async_]] as const) {
      for (let i = 0; i < 3; i++) await f();
      const ms: number[] = [];
      for (let i = 0; i < iters; i++) ms.push(await f());
      ms.sort((a, b) => a - b);
      const med = ms[Math.floor(ms.length / 2)];
      const cell = (t: number) => `${t.toFixed(1).padStart(6)} ms ${(mb / t).toFixed(2).padStart(5)} GB/s`;
      rows.push(`| ${String(mb).padStart(2)} MB | ${label.padEnd(28)} | ${cell(med)} | ${cell(ms[0])} |`);
    }
    x.dispose();
  }
  await pg.barrier();
  if (rankId === 0) {
    console.log(`all-reduce, 2 ranks, Gloo on 127.0.0.1, ${iters} iterations each\n| size | call | median | best |\n|---|---|---|---|\n${rows.join('\n')}`);
  }
  pg.destroy();
}

if (args[0] === '--rank') {
  rank(Number(args[1]), Number(args[2])).then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
} else {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  const self = fileURLToPath(import.meta.url);
  const codes = await Promise.all([0, 1].map((r) => new Promise<number | null>((resolve) => {
    fork(self, ['--rank', String(r), String(port), ...args], { env: { ...process.env, GANFORGE_THREADS: '1' } }).on('exit', resolve);
  })));
  if (codes.some((c) => c !== 0)) process.exit(1);
}
