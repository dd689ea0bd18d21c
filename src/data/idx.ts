import { readFile, writeFile } from 'node:fs/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { UserError } from '../util/errors.js';

/** Element types an idx file can hold, keyed by the type byte of its magic number. */
const IDX_TYPES = {
  0x08: { dtype: 'uint8', size: 1 },
  0x09: { dtype: 'int8', size: 1 },
  0x0b: { dtype: 'int16', size: 2 },
  0x0c: { dtype: 'int32', size: 4 },
  0x0d: { dtype: 'float32', size: 4 },
  0x0e: { dtype: 'float64', size: 8 },
} as const;

export type IdxDType = (typeof IDX_TYPES)[keyof typeof IDX_TYPES]['dtype'];
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A parsed idx file: element type, dimensions (outermost first) and the values in C order. */
export interface IdxArray {
  dtype: IdxDType;
  shape: number[];
  data: IdxData;
}

const GZIP_MAGIC = [0x1f, 0x8b];

function isGzip(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === GZIP_MAGIC[0] && buf[1] === GZIP_MAGIC[1];
}

/**
 * Parse idx bytes (plain or gzip-compressed; detected by the gzip magic bytes, not the file name).
 * `name` is used in error messages. Throws `UserError` for an empty, truncated, corrupt or inconsistent file.
 */
export function parseIdx(bytes: Uint8Array, name = '<idx buffer>'): IdxArray {
  if (bytes.length === 0) throw new UserError(`${name}: file is empty (expected idx data)`);
  let buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isGzip(buf)) {
    try {
      buf = gunzipSync(buf);
    } catch (e) {
      throw new UserError(`${name}: gzip data is corrupt or truncated (${(e as Error).message})`);
    }
    if (buf.length === 0) throw new UserError(`${name}: gzip stream decompresses to an empty file`);
  }
  if (buf.length < 4) throw new UserError(`${name}: truncated idx header (${buf.length} bytes, need at least 4)`);
  if (buf[0] !== 0 || buf[1] !== 0) {
    throw new UserError(
      `${name}: not an idx file (magic starts 0x${hex(buf[0])}${hex(buf[1])}, expected 0x0000)`,
    );
  }
  const type = IDX_TYPES[buf[2] as keyof typeof IDX_TYPES];
  if (!type) throw new UserError(`${name}: unknown idx element type byte 0x${hex(buf[2])}`);
  const ndim = buf[3];
  if (ndim === 0) throw new UserError(`${name}: idx header declares 0 dimensions`);
  const headerLen = 4 + 4 * ndim;
  if (buf.length < headerLen) {
    throw new UserError(`${name}: truncated idx header (${buf.length} bytes, the ${ndim} dimension sizes need ${headerLen})`);
  }
  const shape: number[] = [];
  for (let i = 0; i < ndim; i++) shape.push(buf.readUInt32BE(4 + 4 * i));
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = headerLen + count * type.size;
  const actual = buf.length;
  if (actual !== expected) {
    const what = actual < expected ? 'truncated' : 'has trailing bytes';
    throw new UserError(
      `${name}: ${what}: header declares shape [${shape.join(', ')}] of ${type.dtype} = ${expected} bytes, but the data is ${actual} bytes`,
    );
  }
  return { dtype: type.dtype, shape, data: decodeValues(buf, headerLen, count, type.dtype) };
}

function hex(b: number | undefined): string {
  return (b ?? 0).toString(16).padStart(2, '0');
}

/** idx stores multi-byte values big-endian; typed arrays are host order, so go through DataView. */
function decodeValues(buf: Buffer, offset: number, count: number, dtype: IdxDType): IdxData {
  if (dtype === 'uint8') return new Uint8Array(buf.subarray(offset, offset + count)); // copy: frees the file buffer
  if (dtype === 'int8') return new Int8Array(buf.subarray(offset, offset + count));
  const view = new DataView(buf.buffer, buf.byteOffset + offset, buf.byteLength - offset);
  switch (dtype) {
    case 'int16': {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(2 * i, false);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(4 * i, false);
      return out;
    }
    case 'float32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, false);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, false);
      return out;
    }
  }
}

/** Read and parse an idx file (plain or gzip). Errors name the file. */
export async function readIdx(path: string): Promise<IdxArray> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new UserError(`${path}: cannot read idx file (${err.code ?? err.message})`);
  }
  return parseIdx(bytes, path);
}

/** Encode an array as idx bytes, optionally gzip-compressed. Used by tests and for exporting data. */
export function encodeIdx(arr: IdxArray, opts: { gzip?: boolean } = {}): Buffer {
  const entry = Object.entries(IDX_TYPES).find(([, t]) => t.dtype === arr.dtype);
  if (!entry) throw new Error(`encodeIdx: unsupported dtype ${arr.dtype}`);
  const [code, type] = entry;
  const count = arr.shape.reduce((a, b) => a * b, 1);
  if (count !== arr.data.length) throw new Error(`encodeIdx: shape [${arr.shape}] needs ${count} values, got ${arr.data.length}`);
  const header = 4 + 4 * arr.shape.length;
  const buf = Buffer.alloc(header + count * type.size);
  buf[2] = Number(code);
  buf[3] = arr.shape.length;
  arr.shape.forEach((d, i) => buf.writeUInt32BE(d, 4 + 4 * i));
  const view = new DataView(buf.buffer, buf.byteOffset + header, count * type.size);
  for (let i = 0; i < count; i++) {
    const v = arr.data[i];
    switch (arr.dtype) {
      case 'uint8': view.setUint8(i, v); break;
      case 'int8': view.setInt8(i, v); break;
      case 'int16': view.setInt16(2 * i, v, false); break;
      case 'int32': view.setInt32(4 * i, v, false); break;
      case 'float32': view.setFloat32(4 * i, v, false); break;
      case 'float64': view.setFloat64(8 * i, v, false); break;
    }
  }
  return opts.gzip ? gzipSync(buf) : buf;
}

/** Write an idx file (gzip when `opts.gzip`). */
export async function writeIdx(path: string, arr: IdxArray, opts: { gzip?: boolean } = {}): Promise<void> {
  await writeFile(path, encodeIdx(arr, opts));
}
