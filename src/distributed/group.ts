/**
 * Joining the ranks of a data-parallel run on PyTorch's c10d (through tfjs-backend-aten's distributed
 * module: Gloo on CPU, NCCL on a CUDA libtorch). A rank learns where it stands from the environment, the way
 * torchrun and Slurm-style launchers describe it (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT),
 * so `ganforge train --nproc-per-node N`, `torchrun --no-python ganforge train …` and a job script all work.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../util/errors.js';
import type { Collectives } from '../gan/replicas.js';

/** Where a rank stands, read from its environment. */
export interface RankEnv {
  rank: number;
  worldSize: number;
  localRank: number;
  masterAddr: string;
  masterPort: number;
  /** Network interface (or address) Gloo binds to: GANFORGE_IFACE, else GLOO_SOCKET_IFNAME. */
  iface?: string;
  /** How long a collective or the rendezvous may wait for the others (GANFORGE_DIST_TIMEOUT, seconds). */
  timeoutMs: number;
  /** The launcher serves the rendezvous store at MASTER_ADDR:MASTER_PORT (torchrun's agent does), so no rank hosts it. */
  storeHosted: boolean;
}

/** 30 minutes, c10d's own default: a rank may wait that long while rank 0 evaluates or writes samples. */
export const DEFAULT_DIST_TIMEOUT_S = 1800;

function intVar(env: NodeJS.ProcessEnv, name: string, min: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new UserError(`${name}=${raw} must be an integer ≥ ${min}`);
  return n;
}

/** The rank's place in a group from the launcher's variables, or undefined outside a launched group. */
export function rankEnv(env: NodeJS.ProcessEnv = process.env): RankEnv | undefined {
  const worldSize = intVar(env, 'WORLD_SIZE', 1);
  const rank = intVar(env, 'RANK', 0);
  if (worldSize === undefined && rank === undefined) return undefined;
  if (worldSize === undefined || rank === undefined) throw new UserError('RANK and WORLD_SIZE must be set together (a launcher sets both)');
  if (rank >= worldSize) throw new UserError(`RANK=${rank} is not below WORLD_SIZE=${worldSize}`);
  const timeoutS = env.GANFORGE_DIST_TIMEOUT ? Number(env.GANFORGE_DIST_TIMEOUT) : DEFAULT_DIST_TIMEOUT_S;
  if (!Number.isFinite(timeoutS) || timeoutS <= 0) throw new UserError(`GANFORGE_DIST_TIMEOUT=${env.GANFORGE_DIST_TIMEOUT} must be a number of seconds > 0`);
  return {
    rank,
    worldSize,
    localRank: intVar(env, 'LOCAL_RANK', 0) ?? 0,
    masterAddr: env.MASTER_ADDR || '127.0.0.1',
    masterPort: intVar(env, 'MASTER_PORT', 1) ?? 29500,
    iface: env.GANFORGE_IFACE || env.GLOO_SOCKET_IFNAME || undefined,
    timeoutMs: timeoutS * 1000,
    storeHosted: env.TORCHELASTIC_USE_AGENT_STORE === 'True',
  };
}

/** The part of tfjs-backend-aten's distributed API used here; typed locally (the package may be unbuilt). */
interface ProcessGroup {
  readonly rank: number;
  readonly worldSize: number;
  readonly backend: string;
  allReduceSync(tensors: tf.Tensor[], op: 'sum' | 'avg'): tf.Tensor[];
  allReduce(buffers: (Float32Array | Int32Array)[], op: 'sum' | 'avg' | 'max' | 'min'): Promise<void>;
  broadcastSync(tensors: tf.Tensor[], root: number): tf.Tensor[];
  barrier(): Promise<void>;
  destroy(): void;
}
interface AtenDistributed {
  distributedAvailable(): { ok: boolean; why?: string; backends: string[] };
  initProcessGroup(opts: {
    rank: number; worldSize: number; store: { kind: 'tcp'; masterAddr: string; masterPort: number; hosted?: boolean };
    iface?: string; hostname?: string; timeoutMs: number; backend?: 'gloo' | 'nccl';
  }): Promise<ProcessGroup>;
}

const ATEN_PACKAGE: string = 'tfjs-backend-aten';

/** A joined group: the training loop's Collectives, plus leaving it. */
export interface JoinedGroup extends Collectives {
  readonly backend: string;
  leave(): void;
}

/**
 * Join the group `env` describes: rank 0 hosts the rendezvous store at MASTER_ADDR:MASTER_PORT; every rank
 * waits at most the timeout for the others. Gloo unless the native backend runs on CUDA (then NCCL, one GPU
 * per LOCAL_RANK).
 */
export async function joinGroup(env: RankEnv, device = 'cpu'): Promise<JoinedGroup> {
  let aten: AtenDistributed;
  try {
    aten = (await import(ATEN_PACKAGE)) as AtenDistributed;
  } catch (e) {
    throw new UserError(`data-parallel training needs the native aten backend, which did not load (${(e as Error).message.split('\n')[0]}); run 'bash scripts/setup.sh' and 'ganforge doctor'`);
  }
  const available = aten.distributedAvailable();
  if (!available.ok) throw new UserError(`data-parallel training is unavailable: ${available.why ?? 'the native backend was built without c10d'}`);
  const backend = device === 'cuda' && available.backends.includes('nccl') ? 'nccl' : 'gloo';
  let pg: ProcessGroup;
  try {
    pg = await aten.initProcessGroup({
      rank: env.rank, worldSize: env.worldSize, store: { kind: 'tcp', masterAddr: env.masterAddr, masterPort: env.masterPort, hosted: env.storeHosted },
      ...(env.iface ? { iface: env.iface } : {}), timeoutMs: env.timeoutMs, backend,
    });
  } catch (e) {
    throw new UserError(
      `rank ${env.rank} of ${env.worldSize} could not join the group at ${env.masterAddr}:${env.masterPort} within ${env.timeoutMs / 1000} s: ${(e as Error).message.split('\n')[0]}`,
    );
  }
  return {
    rank: pg.rank,
    worldSize: pg.worldSize,
    backend: pg.backend,
    average: (tensors) => (tensors.length === 0 ? [] : pg.allReduceSync(tensors, 'avg')),
    fromRoot: (tensors) => (tensors.length === 0 ? [] : pg.broadcastSync(tensors, 0)),
    async max(values) {
      const buffer = Float32Array.from(values);
      await pg.allReduce([buffer], 'max');
      return Array.from(buffer);
    },
    barrier: () => pg.barrier(),
    leave: () => pg.destroy(),
  };
}
