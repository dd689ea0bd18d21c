// Data-parallel collectives for tfjs on PyTorch's c10d (native/distributed.cc): a process group over a
// TCPStore or FileStore rendezvous with Gloo (CPU) or NCCL (GPU, CUDA libtorch only).
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { AtenBackend } from './backend.js';
import { AtenNative, loadNative, nativeLoadError } from './native.js';
import { BACKEND_NAME } from './name.js';

export interface ProcessGroupOptions {
  rank: number;
  worldSize: number;
  /**
   * TCPStore at masterAddr:masterPort (rank 0 hosts it, or nobody when `hosted`: a launcher such as torchrun's
   * agent already serves it there), or a FileStore at `file`.
   */
  store: { kind: 'tcp'; masterAddr: string; masterPort: number; hosted?: boolean } | { kind: 'file'; file: string };
  /** Gloo device: a network interface name (e.g. 'lo', 'eth0') or else a hostname/address to bind; default 127.0.0.1 for single-node. */
  iface?: string;
  hostname?: string;
  timeoutMs: number; // store and collective timeout
  backend?: 'gloo' | 'nccl'; // default gloo; nccl only where compiled (CUDA libtorch)
  /** NCCL: the GPU of this rank, cuda:localRank. Default: $LOCAL_RANK, else 0. */
  localRank?: number;
  /** Largest bucket a collective of many tensors is flattened into; default 25 MiB. */
  bucketBytes?: number;
  /**
   * Compare the call (operation, sizes) across ranks before a collective, with one tiny extra all-reduce:
   * on the group's first collective ('first', default), on every one ('always'), or never. Without the check
   * Gloo reports ranks passing different sizes only as a timeout.
   */
  checkSizes?: 'first' | 'always' | 'never';
}

export interface ProcessGroup {
  readonly rank: number;
  readonly worldSize: number;
  readonly backend: string;
  /** Sum (or average) tfjs tensors across ranks in ONE collective (flattened into buckets of at most bucketBytes, default 25 MiB); returns NEW tensors of the same shapes (inputs untouched). Synchronous: blocks the JS thread until done (used inside a synchronous training step). Works for tensors on the aten backend without copying through JS (by native handle); for other backends via dataSync. */
  allReduceSync(tensors: Tensor[], op: 'sum' | 'avg'): Tensor[];
  /** The same, off the JS thread, in place on Float32Array/Int32Array buffers. */
  allReduce(buffers: (Float32Array | Int32Array)[], op: 'sum' | 'avg' | 'max' | 'min'): Promise<void>;
  /** Overwrite buffers with root's values. */
  broadcast(buffers: (Float32Array | Int32Array)[], root: number): Promise<void>;
  /** Synchronous broadcast of tfjs tensors (returns new tensors holding root's values). */
  broadcastSync(tensors: Tensor[], root: number): Tensor[];
  barrier(): Promise<void>;
  /** Idempotent; after it every call throws 'process group destroyed'. */
  destroy(): void;
}

const KIND_ALL_REDUCE = 0;
const KIND_BROADCAST = 1;
const OPS = { sum: 0, avg: 1, max: 2, min: 3 } as const;
const CHECK_SIZES = { never: 0, first: 1, always: 2 } as const;
const DEFAULT_BUCKET_BYTES = 25 << 20;

export function distributedAvailable(): { ok: boolean; why?: string; backends: string[] } {
  const native = loadNative();
  if (!native) return { ok: false, why: `distributed unavailable: aten addon not loaded (${nativeLoadError()})`, backends: [] };
  if (typeof native.distAvailable !== 'function') {
    return { ok: false, why: 'distributed unavailable: the aten addon predates native/distributed.cc (rebuild it: npm run build)', backends: [] };
  }
  return native.distAvailable();
}

export async function initProcessGroup(opts: ProcessGroupOptions): Promise<ProcessGroup> {
  const avail = distributedAvailable();
  const native = loadNative();
  if (!avail.ok || !native?.distInit) throw new Error(avail.why ?? 'distributed unavailable');
  const { rank, worldSize, timeoutMs } = opts;
  if (!Number.isInteger(worldSize) || worldSize < 1) throw new Error(`worldSize must be a positive integer, got ${worldSize}`);
  if (!Number.isInteger(rank) || rank < 0 || rank >= worldSize) throw new Error(`rank must be an integer in [0, ${worldSize}), got ${rank}`);
  if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) throw new Error(`timeoutMs must be a positive number, got ${timeoutMs}`);
  const backend = opts.backend ?? 'gloo';
  const bucketBytes = opts.bucketBytes ?? DEFAULT_BUCKET_BYTES;
  if (!(bucketBytes > 0)) throw new Error(`bucketBytes must be positive, got ${bucketBytes}`);
  const store = opts.store;
  // No explicit device: GLOO_SOCKET_IFNAME (PyTorch's variable) if set, else 127.0.0.1 (single node).
  const iface = opts.iface ?? (opts.hostname === undefined ? process.env.GLOO_SOCKET_IFNAME : undefined);
  const localRank = opts.localRank ?? (Number.parseInt(process.env.LOCAL_RANK ?? '', 10) || 0);
  const id = await native.distInit({
    rank, worldSize, timeoutMs: Math.round(timeoutMs), backend, localRank,
    storeKind: store.kind,
    ...(store.kind === 'tcp' ? { masterAddr: store.masterAddr, masterPort: store.masterPort, hostStore: store.hosted || rank !== 0 ? 0 : 1 } : { file: store.file }),
    iface, hostname: opts.hostname,
    checkSizes: CHECK_SIZES[opts.checkSizes ?? 'first'],
  });
  return new NativeProcessGroup(native, id, rank, worldSize, backend, bucketBytes);
}

class NativeProcessGroup implements ProcessGroup {
  private destroyed = false;

  constructor(private readonly native: AtenNative, private readonly id: number, readonly rank: number,
    readonly worldSize: number, readonly backend: string, private readonly bucketBytes: number) {}

  allReduceSync(tensors: Tensor[], op: 'sum' | 'avg'): Tensor[] {
    if (op !== 'sum' && op !== 'avg') throw new Error(`allReduceSync: op must be 'sum' or 'avg', got ${op}`);
    return this.tensorCollective(KIND_ALL_REDUCE, OPS[op], tensors);
  }

  broadcastSync(tensors: Tensor[], root: number): Tensor[] {
    return this.tensorCollective(KIND_BROADCAST, root, tensors);
  }

  allReduce(buffers: (Float32Array | Int32Array)[], op: 'sum' | 'avg' | 'max' | 'min'): Promise<void> {
    return this.bufferCollective(KIND_ALL_REDUCE, OPS[op], buffers, op);
  }

  broadcast(buffers: (Float32Array | Int32Array)[], root: number): Promise<void> {
    return this.bufferCollective(KIND_BROADCAST, root, buffers);
  }

  barrier(): Promise<void> {
    try {
      return this.live().distBarrier!(this.id);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.native.distDestroy!(this.id);
  }

  private live(): AtenNative {
    if (this.destroyed) throw new Error('process group destroyed');
    return this.native;
  }

  private tensorCollective(kind: number, arg: number, tensors: Tensor[]): Tensor[] {
    const native = this.live();
    if (tensors.length === 0) return [];
    for (const t of tensors) {
      if (t.isDisposed) throw new Error('collective on a disposed tensor');
      if (t.dtype !== 'float32' && t.dtype !== 'int32') throw new Error(`collectives take float32 and int32 tensors, got ${t.dtype}`);
    }
    const aten = atenBackendOf(native);
    if (aten && tensors.every((t) => aten.holdsNatively(t))) {
      // Fast path: the addon reads the ATen tensors behind the handles and returns views of the reduced buckets.
      const ids = native.distTensors!(this.id, tensors.map((t) => aten.handle(t)), kind, arg, this.bucketBytes);
      return aten.outputs(ids).map((info) => tf.engine().makeTensorFromTensorInfo(info, aten));
    }
    // Other backends: copies (dataSync may hand out the backend's own array), reduced in place, new tensors.
    const buffers = tensors.map((t) => (t.dtype === 'int32' ? Int32Array.from(t.dataSync() as Int32Array) : Float32Array.from(t.dataSync() as Float32Array)));
    native.distBuffers!(this.id, buffers, kind, arg, this.bucketBytes, true);
    return buffers.map((b, i) => tf.tensor(b, tensors[i].shape, tensors[i].dtype));
  }

  private bufferCollective(kind: number, arg: number | undefined, buffers: (Float32Array | Int32Array)[], op?: string): Promise<void> {
    try {
      const native = this.live();
      if (arg === undefined) throw new Error(`allReduce: op must be sum, avg, max or min, got ${op}`);
      if (buffers.length === 0) return Promise.resolve();
      return native.distBuffers!(this.id, buffers, kind, arg, this.bucketBytes, false)!;
    } catch (e) {
      return Promise.reject(e);
    }
  }
}

/** The registered aten backend when it runs on this addon (tensors on it can be passed by handle). */
function atenBackendOf(native: AtenNative): AtenBackend | undefined {
  const b = tf.findBackend(BACKEND_NAME);
  return b instanceof AtenBackend && b.native === native ? b : undefined;
}
