/**
 * `--nproc-per-node N`: start N ranks of this same command on this node and supervise them, as torchrun does.
 * Each rank is this CLI again with the rendezvous in its environment (RANK, WORLD_SIZE, LOCAL_RANK,
 * MASTER_ADDR, MASTER_PORT); seeing RANK set, it trains as that rank instead of launching (src/cli/commands.ts).
 * If a rank fails, the others are stopped and one message names the rank and its error.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { UserError } from '../util/errors.js';
import { DEFAULT_DIST_TIMEOUT_S } from '../distributed/group.js';

export interface LaunchOptions {
  nprocPerNode: number;
  nnodes: number;
  nodeRank: number;
  masterAddr: string;
  masterPort?: number;
  iface?: string;
  distTimeout: number;
}

/** The launcher's flags, for `train` and `resume`. */
export function addLaunchOptions(cmd: Command, int: (flag: string) => (v: string) => number): Command {
  const seconds = (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`--dist-timeout needs a number of seconds > 0, got '${v}'`);
    return n;
  };
  return cmd
    .addOption(new Option('--nproc-per-node <n>', 'data-parallel: ranks (processes) to start on this node; --batch-size is then the global batch').argParser(int('--nproc-per-node')).default(1))
    .addOption(new Option('--nnodes <n>', 'data-parallel: number of nodes (machines) in the job').argParser(int('--nnodes')).default(1))
    .addOption(new Option('--node-rank <k>', 'data-parallel: this node’s index, 0 … nnodes−1 (node 0 hosts the rendezvous)').argParser(int('--node-rank')).default(0))
    .addOption(new Option('--master-addr <host>', 'data-parallel: address of node 0, where the rendezvous store listens').default('127.0.0.1'))
    .addOption(new Option('--master-port <port>', 'data-parallel: port of the rendezvous store (default: a free port on one node, 29500 across nodes)').argParser(int('--master-port')))
    .addOption(new Option('--iface <name>', 'data-parallel: network interface (or address) the ranks talk over, e.g. eth0; default: the loopback on one node'))
    .addOption(new Option('--dist-timeout <s>', 'data-parallel: seconds a rank waits for the others (rendezvous and each collective)').argParser(seconds).default(DEFAULT_DIST_TIMEOUT_S));
}

/** Does this invocation start ranks (rather than being one, or training alone)? */
export function launching(opts: LaunchOptions, env: NodeJS.ProcessEnv = process.env): boolean {
  return env.RANK === undefined && (opts.nprocPerNode > 1 || opts.nnodes > 1);
}

/** A port the OS says is free now (the rendezvous binds it a moment later; a clash is reported by rank 0). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function checkLaunch(opts: LaunchOptions): void {
  if (opts.nprocPerNode < 1) throw new UserError(`--nproc-per-node must be at least 1, got ${opts.nprocPerNode}`);
  if (opts.nnodes < 1) throw new UserError(`--nnodes must be at least 1, got ${opts.nnodes}`);
  if (opts.nodeRank < 0 || opts.nodeRank >= opts.nnodes) throw new UserError(`--node-rank ${opts.nodeRank} must be between 0 and --nnodes − 1 = ${opts.nnodes - 1}`);
  if (opts.nnodes > 1 && opts.masterAddr === '127.0.0.1') throw new UserError('--nnodes > 1 needs --master-addr: the address of node 0 that every node can reach');
}

/** The last lines a rank wrote to stderr, kept to explain its failure. */
class Tail {
  private lines: string[] = [];
  private partial = '';
  push(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    this.lines.push(...parts.filter((l) => l.trim() !== ''));
    if (this.lines.length > 40) this.lines = this.lines.slice(-40);
  }
  text(): string {
    return [...this.lines, this.partial].filter((l) => l.trim() !== '').slice(-12).join('\n');
  }
}

/**
 * Start this node's ranks with the same command line and wait for them. Rank 0 of the job prints as usual;
 * other ranks' output is kept and shown only if they fail. Ctrl-C reaches every rank (the terminal sends it
 * to the whole process group); the ranks agree to stop at the same step and rank 0 writes the checkpoint.
 * Returns the exit code for this process.
 */
export async function launch(opts: LaunchOptions, argv: string[] = process.argv.slice(1)): Promise<number> {
  checkLaunch(opts);
  const port = opts.masterPort ?? (opts.nnodes === 1 ? await freePort() : 29500);
  const worldSize = opts.nprocPerNode * opts.nnodes;
  // One rank per core share: N ranks each with all the cores would fight over them.
  const threads = process.env.GANFORGE_THREADS ?? String(Math.max(1, Math.floor(availableParallelism() / opts.nprocPerNode)));
  const ranks: { rank: number; child: ChildProcess; tail: Tail }[] = [];
  for (let local = 0; local < opts.nprocPerNode; local++) {
    const rank = opts.nodeRank * opts.nprocPerNode + local;
    const env = {
      ...process.env,
      RANK: String(rank), WORLD_SIZE: String(worldSize), LOCAL_RANK: String(local), LOCAL_WORLD_SIZE: String(opts.nprocPerNode),
      GROUP_RANK: String(opts.nodeRank), MASTER_ADDR: opts.masterAddr, MASTER_PORT: String(port),
      GANFORGE_DIST_TIMEOUT: String(opts.distTimeout), GANFORGE_THREADS: threads,
      ...(opts.iface ? { GANFORGE_IFACE: opts.iface } : {}),
    };
    const loud = rank === 0;
    const child = spawn(process.execPath, [...process.execArgv, ...argv], { env, stdio: ['ignore', loud ? 'inherit' : 'ignore', loud ? 'inherit' : 'pipe'] });
    const tail = new Tail();
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => tail.push(chunk));
    ranks.push({ rank, child, tail });
  }
  if (opts.nprocPerNode > 1) process.stderr.write(`ganforge: started ranks ${ranks.map((r) => r.rank).join(', ')} of ${worldSize} (rendezvous ${opts.masterAddr}:${port}, ${threads} thread(s) each)\n`);

  // SIGTERM to the launcher (a scheduler, kill) is passed on; SIGINT from a terminal already reached every rank.
  const forward = () => ranks.forEach((r) => r.child.kill('SIGTERM'));
  const ignoreInt = () => {};
  process.on('SIGTERM', forward);
  process.on('SIGINT', ignoreInt);
  try {
    return await new Promise<number>((resolve) => {
      let failed: { rank: number; code: number } | undefined;
      let running = ranks.length;
      for (const r of ranks) {
        r.child.on('exit', (code, signal) => {
          running--;
          const status = code ?? (signal ? 128 + (signal === 'SIGKILL' ? 9 : 15) : 1);
          if (status !== 0 && !failed) {
            failed = { rank: r.rank, code: status };
            const why = signal ? `was killed by ${signal}` : `exited with code ${code}`;
            const said = r.rank === 0 ? '' : r.tail.text() ? `:\n${r.tail.text().replace(/^/gm, `  [rank ${r.rank}] `)}` : '';
            process.stderr.write(`ganforge: rank ${r.rank} ${why}${said}\nganforge: stopping the other ranks; the run's last checkpoint is intact (continue with 'ganforge resume')\n`);
            for (const other of ranks) if (other !== r) stop(other.child);
          }
          if (running === 0) resolve(failed ? failed.code : 0);
        });
      }
    });
  } finally {
    process.off('SIGTERM', forward);
    process.off('SIGINT', ignoreInt);
  }
}

/** SIGTERM (a rank then checkpoints and leaves), SIGKILL if it is still there after a grace period. */
function stop(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }, 10_000).unref();
}
