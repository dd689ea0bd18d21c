/**
 * npm run bench:ddp — data-parallel speed and quality, in one run, on this machine's cores:
 *
 *   ddp ranks=1 img/s=N        the DCGAN step (bench:backend's network) at global batch 64, 1 rank, 1 thread
 *   ddp ranks=2 img/s=N        the same global batch on 2 ranks, 1 thread each (c10d Gloo on loopback)
 *   torch-ddp ranks=2 img/s=N  torch DDP with the PyTorch twin of the step, 2 ranks, 1 thread each
 *   ddp speedup=N              ranks=2 over ranks=1 (torch DDP reached 1.69–1.74× here: shared/notes/distributed.md)
 *
 * and, to tell the machine from the engine: torch's own 1-rank figure and speedup, and the ceiling — 2 processes
 * of batch 32 training alone side by side, no communication (their img/s summed).
 *
 * then, with --quality-steps S > 0, `ganforge train dcgan --data fashion-mnist` for S steps at global batch 64
 * on 1 rank (2 threads) and on 2 ranks (1 thread each) per seed, and the FID of each with the shipped
 * Fashion-MNIST network: per-rank batch norm changes what is trained, so this says by how much.
 *
 *   node dist/bench/ddp.js [--steps 30] [--warmup 5] [--runs 3] [--quality-steps 300] [--seeds 0,1]   (--runs 0: quality only)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { freePort } from '../src/cli/launch.js';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { twinEnv } from './step_bench.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const RANK = path.join(here, 'ddp_rank.js');
const MAIN = path.resolve(here, '../src/cli/main.js');
const TWIN = path.resolve(here, '../../bench/reference/dcgan_ddp_torch.py');
const arg = (flag: string, fallback: string) => (process.argv.includes(flag) ? process.argv[process.argv.indexOf(flag) + 1] : fallback);
const steps = Number(arg('--steps', '30'));
const warmup = Number(arg('--warmup', '5'));
const runs = Number(arg('--runs', '3'));
const qualitySteps = Number(arg('--quality-steps', '300'));
const seeds = arg('--seeds', '0,1').split(',').map(Number);

/**
 * Start `world` processes of `argv` with the rendezvous in their environment (or, `independent`, without: each
 * trains alone); every process's stdout, rank 0's first.
 */
async function processes(world: number, argv: string[], threads: number, independent = false): Promise<string[]> {
  const port = await freePort();
  return Promise.all(Array.from({ length: world }, (_, rank) => new Promise<string>((resolve, reject) => {
    const together = world > 1 && !independent;
    const env = { ...process.env, GANFORGE_THREADS: String(threads), ...(together ? { RANK: String(rank), WORLD_SIZE: String(world), LOCAL_RANK: String(rank), MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port) } : {}) };
    const child = spawn(process.execPath, [...process.execArgv, ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`rank ${rank} exited ${code}: ${err}`))));
  })));
}

const group = async (world: number, argv: string[], threads: number) => (await processes(world, argv, threads))[0];

const imgPerSecond = (out: string) => Number(/img\/s[ =]([\d.]+)/.exec(out)?.[1] ?? NaN);
const stats = (xs: number[]) => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1));
  return `${mean.toFixed(1)} ± ${sd.toFixed(1)}`;
};

if (runs > 0) {
  console.log(`bench:ddp — DCGAN step, global batch 64, ${steps} timed steps after ${warmup}, ${runs} runs each, ${os.availableParallelism()} cores, load ${os.loadavg()[0].toFixed(2)}`);
  const one: number[] = [];
  const two: number[] = [];
  const alone: number[] = [];
  const torch: number[] = [];
  const torch1: number[] = [];
  const python = '/usr/bin/python3';
  const haveTorch = existsSync(TWIN) && existsSync(python);
  for (let r = 0; r < runs; r++) {
    // Interleaved, so a change in the machine's load touches every configuration alike.
    one.push(imgPerSecond(await group(1, [RANK, '--steps', String(steps), '--warmup', String(warmup)], 1)));
    two.push(imgPerSecond(await group(2, [RANK, '--steps', String(steps), '--warmup', String(warmup)], 1)));
    const sides = await processes(2, [RANK, '--batch', '32', '--steps', String(steps), '--warmup', String(warmup)], 1, true);
    alone.push(sides.map(imgPerSecond).reduce((a, b) => a + b, 0));
    const twin = (ranks: number) => imgPerSecond(execFileSync(python, [TWIN, '--ranks', String(ranks), '--batch', '64', '--threads', '1', '--steps', String(steps), '--warmup', String(warmup)], { encoding: 'utf8', env: twinEnv(1) }));
    if (haveTorch) {
      torch.push(twin(2));
      torch1.push(twin(1));
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(`ddp ranks=1 img/s=${mean(one).toFixed(1)}   (${stats(one)})`);
  console.log(`ddp ranks=2 img/s=${mean(two).toFixed(1)}   (${stats(two)})`);
  console.log(haveTorch ? `torch-ddp ranks=2 img/s=${mean(torch).toFixed(1)}   (${stats(torch)})` : 'torch-ddp unavailable (apt-get install python3-torch)');
  console.log(`ddp speedup=${(mean(two) / mean(one)).toFixed(2)}   (per run: ${two.map((t, i) => (t / one[i]).toFixed(2)).join(', ')})`);
  if (haveTorch) {
    console.log(`ddp vs torch-ddp at 2 ranks: ${(mean(two) / mean(torch)).toFixed(2)}×`);
    console.log(`torch ranks=1 img/s=${mean(torch1).toFixed(1)}   (${stats(torch1)}); torch-ddp speedup=${(mean(torch) / mean(torch1)).toFixed(2)}`);
  }
  console.log(`ceiling: 2 processes of batch 32 alone side by side, no communication: img/s=${mean(alone).toFixed(1)}   (${stats(alone)}), ${(mean(alone) / mean(one)).toFixed(2)}× ranks=1`);
}

if (qualitySteps > 0) {
  console.log(`\nquality: dcgan on fashion-mnist, ${qualitySteps} steps, global batch 64, FID of 2,000 samples vs the test split (shipped Fashion-MNIST network)`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-ddp-'));
  const fid: Record<string, number[]> = { '1 rank': [], '2 ranks': [] };
  const secs: Record<string, number[]> = { '1 rank': [], '2 ranks': [] };
  for (const seed of seeds) {
    for (const [label, world, threads] of [['1 rank', 1, 2], ['2 ranks', 2, 1]] as const) {
      const out = path.join(dir, `${world}-${seed}`);
      const t0 = performance.now();
      await group(world, [MAIN, 'train', 'dcgan', '--data', 'fashion-mnist', '--steps', String(qualitySteps), '--batch-size', '64', '--seed', String(seed), '--sample-every', '0', '--checkpoint-every', '0', '--out', out], threads);
      secs[label].push((performance.now() - t0) / 1000);
      const evalOut = execFileSync(process.execPath, [MAIN, 'eval', out, '--metrics', 'fid', '--ref', 'fashion-mnist:test', '--count', '2000', '--json'], { encoding: 'utf8' });
      fid[label].push(Number(JSON.parse(evalOut.trim().split('\n')[0]).values.fid));
      console.log(`  seed ${seed} ${label}: FID ${fid[label].at(-1)!.toFixed(1)}, ${secs[label].at(-1)!.toFixed(0)} s`);
    }
  }
  for (const label of Object.keys(fid)) console.log(`quality ${label}: FID ${stats(fid[label])}, ${stats(secs[label])} s (seeds ${seeds.join(', ')})`);
  rmSync(dir, { recursive: true, force: true });
}
