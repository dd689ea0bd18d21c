// The 'aten' KernelBackend: every numeric tensor is an ATen tensor owned by the addon and
// referenced by an integer handle. string and complex64 tensors stay in JS (only fallback
// kernels, which run on the CPU backend, can use them).
import { backend_util, BackendTimingInfo, DataId, DataStorage, DataType, engine, KernelBackend, TensorInfo, util } from '@tensorflow/tfjs-core';
import { AtenNative, DTYPE_CODES, DTYPE_NAMES, dtypeCode, Handle } from './native.js';

interface TensorEntry {
  /** Native handle; 0 for tensors kept in JS. */
  handle: Handle;
  dtype: DataType;
  shape: number[];
  refCount: number;
  /** Values of string (encoded bytes) and complex64 (interleaved) tensors. */
  jsValues?: backend_util.BackendValues;
}

const META_LENGTH = 1 << 16;

/** Adam's hyper-parameters for one step; the two bias corrections are 1 − βᵗ as float32 values. */
export interface AdamHyper {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  oneMinusAccBeta1: number;
  oneMinusAccBeta2: number;
}

export class AtenBackend extends KernelBackend {
  private readonly data: DataStorage<TensorEntry>;
  private readonly meta = new Int32Array(META_LENGTH);

  constructor(readonly native: AtenNative, threads: number, device: string) {
    super();
    native.init(this.meta, threads, device);
    this.data = new DataStorage(this, engine());
  }

  override write(values: backend_util.BackendValues, shape: number[], dtype: DataType): DataId {
    const dataId = {};
    this.data.set(dataId, this.makeEntry(values, shape, dtype, 1));
    return dataId;
  }

  override move(dataId: DataId, values: backend_util.BackendValues, shape: number[], dtype: DataType, refCount: number): void {
    this.data.set(dataId, this.makeEntry(values, shape, dtype, refCount));
  }

  private makeEntry(values: backend_util.BackendValues, shape: number[], dtype: DataType, refCount: number): TensorEntry {
    if (DTYPE_CODES[dtype] === undefined) return { handle: 0, dtype, shape, refCount, jsValues: values };
    const handle = this.native.write(asTypedArray(values, dtype), shape, dtypeCode(dtype));
    return { handle, dtype, shape, refCount };
  }

  override readSync(dataId: DataId): backend_util.BackendValues {
    const entry = this.data.get(dataId);
    if (entry.handle === 0) return entry.jsValues!;
    const buffer = this.native.read(entry.handle);
    switch (entry.dtype) {
      case 'int32': return new Int32Array(buffer);
      case 'bool': return new Uint8Array(buffer);
      default: return new Float32Array(buffer);
    }
  }

  override async read(dataId: DataId): Promise<backend_util.BackendValues> {
    return this.readSync(dataId);
  }

  override disposeData(dataId: DataId, force = false): boolean {
    if (!this.data.has(dataId)) return true;
    const entry = this.data.get(dataId);
    entry.refCount--;
    if (!force && entry.refCount > 0) return false;
    if (entry.handle !== 0) this.native.free(entry.handle);
    this.data.delete(dataId);
    return true;
  }

  override refCount(dataId: DataId): number {
    return this.data.has(dataId) ? this.data.get(dataId).refCount : 0;
  }

  override incRef(dataId: DataId): void {
    this.data.get(dataId).refCount++;
  }

  override numDataIds(): number {
    return this.data.numDataIds();
  }

  override memory(): { unreliable: boolean; nativeBytes: number; nativeTensors: number } {
    return { unreliable: false, nativeBytes: this.native.memory(), nativeTensors: this.native.count() };
  }

  override async time(f: () => void): Promise<BackendTimingInfo> {
    const start = util.now();
    f();
    return { kernelMs: util.now() - start };
  }

  override floatPrecision(): 32 {
    return 32;
  }

  override dispose(): void {
    // Tensors are freed through disposeData; the addon itself lives as long as the process.
  }

  /**
   * tfjs's Adam step for one variable, in place on `value` and its moments `m`, `v`: one native pass instead
   * of a dozen elementwise kernels with fresh buffers. Returns false, doing nothing, when any of the three
   * buffers is shared with another tensor (updating it in place would change that tensor too: checked here
   * for tfjs's data ids and natively for ATen views) or is not a native float32 tensor; the caller then
   * takes the ordinary path.
   */
  adamUpdateInPlace(value: TensorInfo, m: TensorInfo, v: TensorInfo, grad: TensorInfo, hyper: AdamHyper): boolean {
    const owned = [value, m, v].map((t) => this.data.get(t.dataId));
    if (owned.some((e) => e === undefined || e.refCount !== 1 || e.handle === 0 || e.dtype !== 'float32')) return false;
    const g = this.data.get(grad.dataId);
    if (g === undefined || g.handle === 0 || g.dtype !== 'float32') return false;
    return this.native.adamUpdate(owned[0].handle, owned[1].handle, owned[2].handle, g.handle, hyper.learningRate, hyper.beta1,
      hyper.beta2, hyper.epsilon, hyper.oneMinusAccBeta1, hyper.oneMinusAccBeta2);
  }

  // ---- helpers for kernels ----

  /** Native handle of a kernel input; kernels only see float32/int32/bool tensors here. */
  handle(t: TensorInfo): Handle {
    const entry = this.data.get(t.dataId);
    if (entry.handle === 0) throw new Error(`${entry.dtype} tensors are not supported natively`);
    return entry.handle;
  }

  /** Whether this backend holds a tensor's data natively (as an ATen tensor behind a handle). */
  holdsNatively(t: TensorInfo): boolean {
    return this.data.has(t.dataId) && this.data.get(t.dataId).handle !== 0;
  }

  /**
   * The same data under a second tensor (Identity, a cast to the dtype it has): a reference, as the CPU backend
   * makes, instead of a native call and a new handle. tfjs clones every tensor a gradient saves, so a training
   * step makes hundreds of these. In-place updates stay safe: adamUpdateInPlace refuses data with refCount > 1.
   */
  share(t: TensorInfo): TensorInfo {
    this.incRef(t.dataId);
    return { dataId: t.dataId, shape: t.shape, dtype: t.dtype };
  }

  /** Wraps a handle just returned by the addon, reading dtype/shape from the meta buffer. */
  output(handle: Handle, metaOffset = 0): TensorInfo {
    const dtype = DTYPE_NAMES[this.meta[metaOffset]];
    const rank = this.meta[metaOffset + 1];
    const shape = new Array<number>(rank);
    for (let d = 0; d < rank; d++) shape[d] = this.meta[metaOffset + 2 + d];
    const dataId = {};
    this.data.set(dataId, { handle, dtype, shape, refCount: 1 });
    return { dataId, shape, dtype };
  }

  outputs(handles: Handle[]): TensorInfo[] {
    let offset = 0;
    return handles.map((h) => {
      const info = this.output(h, offset);
      offset += 2 + info.shape.length;
      return info;
    });
  }

  /** A new tensor from JS values (fallback results, small constants). */
  makeTensorInfo(shape: number[], dtype: DataType, values: backend_util.BackendValues): TensorInfo {
    return { dataId: this.write(values, shape, dtype), shape, dtype };
  }
}

/** The TypedArray the addon expects for a dtype (tfjs may hand over other array kinds). */
function asTypedArray(values: backend_util.BackendValues, dtype: DataType): ArrayBufferView {
  switch (dtype) {
    case 'float32': return values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
    case 'int32': return values instanceof Int32Array ? values : Int32Array.from(values as ArrayLike<number>);
    default:
      return values instanceof Uint8Array ? values : Uint8Array.from(values as ArrayLike<number>, (v) => (v ? 1 : 0));
  }
}
