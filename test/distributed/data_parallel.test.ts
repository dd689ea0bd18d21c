import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { freePort } from '../../src/cli/launch.js';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cli, start } from '../cli/helpers.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'rank_child.js');

interface RankOutput {
  rank: number; world: number; weights: Record<string, number[]>; before?: Record<string, number[]>; grads?: number[][]; tensors?: number[];
  /** [aug/p, aug/rt] per step (null when not reported). */
  augStats?: (number | null)[][];
  /** vaegan: [bce_real, bce_fake, d_moved, decoder_moved] per step. */
  balance?: (number | null)[][];
}

/** Run rank_child.js as `world` ranks on loopback (world 1: alone, no group) and read what each wrote. */
async function ranks(world: number, args: string[], dir: string): Promise<RankOutput[]> {
  const port = await freePort();
  const runs = Array.from({ length: world }, (_, rank) => {
    const out = path.join(dir, `${args[0]}-${world}-${rank}.json`);
    const env = world === 1 ? { ...process.env } : { ...process.env, RANK: String(rank), WORLD_SIZE: String(world), MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), GANFORGE_DIST_TIMEOUT: '60', GANFORGE_THREADS: '1' };
    const child = spawn(process.execPath, [CHILD, ...args, out], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    return new Promise<RankOutput>((resolve, reject) =>
      child.on('close', async (code) => (code === 0 ? resolve(JSON.parse(await fs.readFile(out, 'utf8'))) : reject(new Error(`rank ${rank} exited ${code}: ${stderr}`)))),
    );
  });
  return Promise.all(runs);
}

function maxDiff(a: number[], b: number[]): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** How many numbers differ at all (a count, not a diff: the spec reporter would print whole arrays). */
function differing(a: Record<string, number[]>, b: Record<string, number[]>): number {
  let n = 0;
  for (const k of Object.keys(a)) a[k].forEach((v, i) => (n += Object.is(v, b[k][i]) ? 0 : 1));
  return n;
}

const tmp = () => fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-ddp-'));

for (const [family, clip] of [['vanilla', '0'], ['wgan-gp', '0'], ['vanilla', '0.05']]) {
  test(`${family}${clip === '0' ? '' : ` --grad-clip ${clip}`}: 2 ranks with global batch 8 reproduce 1 process with batch 8 (same examples, latents and ε split across them)`, async () => {
    const dir = await tmp();
    const [alone] = await ranks(1, ['equivalence', family, clip, '3'], dir);
    const [r0, r1] = await ranks(2, ['equivalence', family, clip, '3'], dir);
    assert.equal(differing(r0.weights, r1.weights), 0, 'the replicas hold different weights');
    // The averaged gradient of D's first update equals the full-batch gradient (float32 sums in another order).
    assert.equal(r0.grads!.length, alone.grads!.length);
    alone.grads!.forEach((g, i) => {
      const scale = Math.max(1e-3, ...g.map(Math.abs));
      assert.ok(maxDiff(r0.grads![i], g) <= 1e-5 * scale, `gradient ${i}: averaged differs from the full batch's by ${maxDiff(r0.grads![i], g)} (scale ${scale})`);
    });
    for (const k of Object.keys(alone.weights)) {
      const d = maxDiff(r0.weights[k], alone.weights[k]);
      assert.ok(d < 1e-4, `${k}: 2 ranks and 1 process differ by ${d} after 3 steps`);
    }
    assert.ok(differing(alone.weights, r0.weights) < Object.values(alone.weights).flat().length, 'weights should mostly agree');
    await fs.rm(dir, { recursive: true, force: true });
  });
}

test('dcgan through runStep on 2 ranks: replicas stay identical despite per-rank batch norm, tensors flat', async () => {
  const dir = await tmp();
  const [r0, r1] = await ranks(2, ['replicas', '4'], dir);
  assert.equal(differing(r0.weights, r1.weights), 0, 'trainable weights differ between ranks');
  assert.ok(differing(r0.before!, r0.weights) > 0, 'training moved no weight');
  assert.equal(r0.tensors![1], r0.tensors![3], 'tensors leaked between steps');
  await fs.rm(dir, { recursive: true, force: true });
});

test('dcgan with ADA on 2 ranks: r_t is the group\'s, so p moves the same on every rank; replicas identical', async () => {
  const dir = await tmp();
  const [r0, r1] = await ranks(2, ['replicas', '6', 'ada'], dir);
  // Each rank sees other examples, so their own r_t would differ; they sum their signs before moving p.
  assert.deepEqual(r0.augStats, r1.augStats, 'p and r_t per step on rank 0 and rank 1');
  // 2 steps × 8 images over 32: each adjustment moves p by ½.
  const [p, rt] = [r0.augStats!.map((s) => s[0]!), r0.augStats!.map((s) => s[1])];
  assert.deepEqual(p.slice(0, 3), [0.5, 0.5, Math.min(1, Math.max(0, 0.5 + 0.5 * Math.sign(rt[1]! - 0.6)))]);
  assert.equal(differing(r0.weights, r1.weights), 0, 'trainable weights differ between ranks');
  assert.equal(r0.tensors![1], r0.tensors![5], 'tensors leaked between steps');
  await fs.rm(dir, { recursive: true, force: true });
});

test('vaegan on 2 ranks: the balance rule decides on the group\'s cross-entropies, so all three players stay identical', async () => {
  const dir = await tmp();
  const [r0, r1] = await ranks(2, ['replicas', '4', 'vaegan'], dir);
  assert.deepEqual(r0.balance, r1.balance, 'cross-entropies and decisions per step on rank 0 and rank 1');
  assert.ok(r0.balance!.every((b) => b.every((v) => Number.isFinite(v))), 'every step reports the rule');
  assert.equal(differing(r0.weights, r1.weights), 0, 'trainable weights (encoder, decoder, D) differ between ranks');
  assert.ok(differing(r0.before!, r0.weights) > 0, 'training moved no weight');
  assert.equal(r0.tensors![1], r0.tensors![3], 'tensors leaked between steps');
  await fs.rm(dir, { recursive: true, force: true });
});

const TOY = ['--data', 'toy:ring8', '--batch-size', '16', '--hidden', '16', '--sample-every', '0', '--log-every', '1'];

test('ganforge train --nproc-per-node 2, then resume 2 → 1 and 1 → 2 ranks', async () => {
  const dir = await tmp();
  const two = await cli(['train', 'vanilla', ...TOY, '--steps', '6', '--checkpoint-every', '3', '--out', 'two', '--nproc-per-node', '2', '--dist-timeout', '60'], dir);
  assert.equal(two.code, 0, two.stderr);
  assert.match(two.stderr, /on 2 ranks \(global batch 16\)/);
  assert.ok((await fs.readdir(path.join(dir, 'two', 'checkpoints'))).includes('step-000006'));
  const lines = (await fs.readFile(path.join(dir, 'two', 'metrics.jsonl'), 'utf8')).trim().split('\n');
  assert.equal(lines.length, 6, 'rank 0 alone writes the log, once per step');
  const down = await cli(['resume', 'two', '--steps', '8'], dir);
  assert.equal(down.code, 0, down.stderr);
  const one = await cli(['train', 'vanilla', ...TOY, '--steps', '4', '--out', 'one'], dir);
  assert.equal(one.code, 0, one.stderr);
  const up = await cli(['resume', 'one', '--steps', '6', '--nproc-per-node', '2'], dir);
  assert.equal(up.code, 0, up.stderr);
  assert.ok((await fs.readdir(path.join(dir, 'one', 'checkpoints'))).includes('step-000006'));
  await fs.rm(dir, { recursive: true, force: true });
});

test('killing one rank stops the job with a message naming it, and the last checkpoint still loads', async () => {
  const dir = await tmp();
  const { child, done } = start(['train', 'vanilla', ...TOY, '--steps', '100000', '--checkpoint-every', '20', '--out', 'run', '--nproc-per-node', '2', '--dist-timeout', '30'], dir, 120_000);
  const latest = async () => (await fs.readFile(path.join(dir, 'run', 'checkpoints', 'latest'), 'utf8').catch(() => 'step-000000')).trim();
  for (let i = 0; i < 600 && (await latest()) === 'step-000000'; i++) await new Promise((r) => setTimeout(r, 100));
  const rank1 = execFileSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).trim().split('\n').map(Number)
    .find((pid) => (execFileSync('cat', [`/proc/${pid}/environ`], { encoding: 'latin1' }).split('\0').includes('RANK=1')));
  assert.ok(rank1, 'rank 1 not found among the launcher’s children');
  const t0 = Date.now();
  process.kill(rank1, 'SIGKILL');
  const r = await done;
  assert.notEqual(r.code, 0);
  assert.ok(Date.now() - t0 < 30_000, 'the job took too long to stop');
  assert.match(r.stderr, /rank 1 was killed by SIGKILL/);
  assert.ok(!r.stderr.includes('    at '), `stack trace on stderr:\n${r.stderr}`);
  const at = Number((await latest()).slice('step-'.length));
  assert.ok(at >= 20, `no checkpoint after step 0 (latest: ${await latest()})`);
  const resumed = await cli(['resume', 'run', '--steps', String(at + 5)], dir);
  assert.equal(resumed.code, 0, `the last checkpoint did not resume: ${resumed.stderr}`);
  await fs.rm(dir, { recursive: true, force: true });
});

test('a rank that never arrives: a timeout error naming the rendezvous, not a hang', async () => {
  const dir = await tmp();
  const port = await freePort();
  const t0 = Date.now();
  const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [path.resolve(path.dirname(CHILD), '../../src/cli/main.js'), 'train', 'vanilla', ...TOY, '--steps', '5', '--out', 'lonely'], {
      cwd: dir, env: { ...process.env, RANK: '0', WORLD_SIZE: '2', MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), GANFORGE_DIST_TIMEOUT: '3' }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stderr }));
  });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /rank 0 of 2 could not join the group at 127\.0\.0\.1:\d+ within 3 s/);
  assert.ok(Date.now() - t0 < 30_000, `took ${Date.now() - t0} ms`);
  await fs.rm(dir, { recursive: true, force: true });
});

test('bad data-parallel settings are errors naming the flag', async () => {
  const dir = await tmp();
  const bad = await cli(['train', 'vanilla', ...TOY, '--batch-size', '15', '--steps', '2', '--out', 'odd', '--nproc-per-node', '2'], dir);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--batch-size 15 \(the global batch\) must be a multiple of the 2 ranks/);
  const nodes = await cli(['train', 'vanilla', ...TOY, '--steps', '2', '--nnodes', '2'], dir);
  assert.equal(nodes.code, 2);
  assert.match(nodes.stderr, /--nnodes > 1 needs --master-addr/);
  await fs.rm(dir, { recursive: true, force: true });
});
