// The c10d module: 2 ranks as child processes on 127.0.0.1 (test/dist_rank.ts), Gloo over a TCPStore or FileStore.
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { distributedAvailable } from 'tfjs-backend-aten';
import { RankConfig, rankValues, SHAPES } from './dist_rank.js';

const RANK_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'dist_rank.js');
const avail = distributedAvailable();
// The ranks here run Gloo: a build with NCCL alone (a CUDA wheel without Gloo's headers) skips, saying so.
const skip = !avail.ok ? `distributed unavailable here: ${avail.why}`
  : !avail.backends.includes('gloo') ? `this build has no Gloo (backends: ${avail.backends.join(', ')}); these 2-rank tests run Gloo` : false;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface RankRun { code: number | null; signal: string | null; result: Record<string, any> | undefined; stderr: string }

/** Runs one rank to completion (or kills it after limitMs); its last IPC message is the result. */
function runRank(cfg: RankConfig, limitMs = 20000): Promise<RankRun> {
  return new Promise((resolve) => {
    // One intra-op thread per rank: two ranks share the 2 cores of CI.
    const child = fork(RANK_SCRIPT, [JSON.stringify(cfg)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: { ...process.env, GANFORGE_THREADS: '1' } });
    let result: Record<string, any> | undefined;
    let stderr = '';
    child.stderr!.on('data', (d) => { stderr += d; });
    child.on('message', (m) => { result = m as Record<string, any>; });
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, result, stderr });
    });
  });
}

async function runRanks(scenario: RankConfig['scenario'], extra: Partial<RankConfig> = {}): Promise<RankRun[]> {
  const cfg = { scenario, worldSize: 2, ports: [await freePort()], timeoutMs: 5000, ...extra };
  const runs = await Promise.all([0, 1].map((rank) => runRank({ ...cfg, rank })));
  for (const [rank, r] of runs.entries()) {
    assert.ok(!r.result?.fatal, `rank ${rank} failed: ${r.result?.fatal}\n${r.stderr}`);
  }
  return runs;
}

const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);

test('allReduceSync / broadcastSync on aten tensors: closed form, same bits on both ranks, inputs untouched, no leaks', { skip }, async () => {
  const [r0, r1] = await runRanks('tensors');
  for (const r of [r0, r1]) assert.equal(r.code, 0, r.stderr);
  const a = r0.result!, b = r1.result!;
  // float32 sums of two float32 values are the correctly rounded double sums: bit-exact closed forms
  const expectSum = SHAPES.map((s, k) => {
    const x0 = rankValues(0, k, numel(s)), x1 = rankValues(1, k, numel(s));
    return Array.from(x0, (v, i) => Math.fround(v + x1[i]));
  });
  const expectAvg = expectSum.map((v) => v.map((x) => Math.fround(x / 2)));
  for (const r of [a, b]) {
    assert.deepEqual(r.sum, expectSum);
    assert.deepEqual(r.avg, expectAvg);
    assert.deepEqual(r.shapes, SHAPES);
    assert.deepEqual(r.intSum, [[2, 4, 6, 10], expectSum[1]]);
    assert.deepEqual(r.dtypes, ['int32', 'float32']);
    // root 1's values everywhere
    assert.deepEqual(r.bcast, [...SHAPES.map((s, k) => Array.from(rankValues(1, k, numel(s)))), [1, 2, 3, 10]]);
    const [rows, cols] = SHAPES[4];
    assert.deepEqual(r.transposed, [Array.from({ length: rows * cols }, (_, k) => expectSum[4][(k % rows) * cols + Math.floor(k / rows)])]);
    assert.deepEqual(r.cpuSum, [expectSum[0]]);
    assert.equal(r.cpuBackend, 'cpu');
    assert.deepEqual(r.after, r.before, 'native tensors, bytes and tfjs tensors flat over 20 calls');
  }
  assert.deepEqual(a.inputsAfter, SHAPES.map((s, k) => Array.from(rankValues(0, k, numel(s)))));
  assert.deepEqual(b.inputsAfter, SHAPES.map((s, k) => Array.from(rankValues(1, k, numel(s)))));
  // bit-for-bit: Float32 values are exact in a JS number, so equal numbers mean equal bits
  assert.deepEqual(a.sum, b.sum);
  assert.deepEqual(a.avg, b.avg);
});

test('async allReduce (sum/max/min/avg), broadcast, barrier on buffers over a FileStore; size mismatch and destroy', { skip }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ganforge-dist-'));
  try {
    const [r0, r1] = await runRanks('buffers', { file: path.join(dir, 'store') });
    for (const r of [r0, r1]) assert.equal(r.code, 0, r.stderr);
    for (const r of [r0.result!, r1.result!]) {
      assert.deepEqual(r.sum, [
        Array.from({ length: 40 }, (_, i) => i + (2 * i - 7)),
        Array.from({ length: 9 }, (_, i) => i * i - i),
        [2],
      ]);
      assert.deepEqual(r.max, [Array.from({ length: 20 }, (_, i) => i), [100, 99, 98]]);
      assert.deepEqual(r.min, [-1, -2, -3, -4, -5]);
      assert.deepEqual(r.avg, [2, 3, 4, 5, 6, 7]);
      assert.deepEqual(r.bcast, [Array.from({ length: 30 }, (_, i) => i), [0, 1]]);
      assert.match(r.mismatch, /^Error: .*ranks disagree on the element count/);
      assert.equal(r.afterDestroy.length, 5);
      for (const e of r.afterDestroy) assert.equal(e, 'Error: process group destroyed');
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a rank that never arrives: init rejects with a timeout Error, no hang, no abort', { skip }, async () => {
  const r = await runRank({ scenario: 'never', rank: 0, worldSize: 2, ports: [await freePort(), await freePort()], timeoutMs: 2000 });
  assert.equal(r.code, 0, r.stderr);
  for (const a of r.result!.attempts) {
    assert.match(a.error, /^Error: .*timeout/i, `rank ${a.rank}`);
    assert.ok(a.ms < 6000, `rank ${a.rank} gave up after ${a.ms} ms`);
  }
});

test('a peer killed mid-run: the survivor\'s next allReduceSync throws a JS Error within seconds', { skip }, async () => {
  const [r0, r1] = await runRanks('kill');
  assert.equal(r1.signal, 'SIGKILL');
  assert.equal(r0.code, 0, r0.stderr);
  assert.match(r0.result!.error, /^Error: /);
  assert.ok(r0.result!.ms < 5000, `took ${r0.result!.ms} ms`);
  console.log('survivor saw:', r0.result!.error, `after ${r0.result!.ms} ms`);
});
