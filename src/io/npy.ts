import { endianness } from 'node:os';
import { readFile, writeFile } from 'node:fs/promises';
import { UserError } from '../util/errors.js';

export type NpyDType = 'uint8' | 'int32' | 'float32';
export type NpyData = Uint8Array | Int32Array | Float32Array;

/** An array as stored in a .npy file. */
export interface NpyArray {
  dtype: NpyDType;
  shape: number[];
  data: NpyData;
}

const DESCR: Record<NpyDType, string> = { uint8: '|u1', int32: '<i4', float32: '<f4' };
const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

// Typed arrays use host byte order and the format here is little-endian.
function assertLittleEndianHost(): void {
  if (endianness() !== 'LE') throw new Error('npy: big-endian hosts are not supported');
}

function dtypeOf(data: NpyData): NpyDType {
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Float32Array) return 'float32';
  throw new Error('npy: data must be a Uint8Array, Int32Array or Float32Array');
}

/**
 * Encode a C-order array as .npy version 1.0 bytes. The header is space-padded so the data starts at a
 * multiple of 64 bytes, as the format specification asks.
 */
export function encodeNpy(data: NpyData, shape: readonly number[]): Buffer {
  assertLittleEndianHost();
  const count = shape.reduce((a, b) => a * b, 1);
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) throw new Error(`npy: bad shape [${shape.join(', ')}]`);
  if (count !== data.length) throw new Error(`npy: shape [${shape.join(', ')}] needs ${count} values, got ${data.length}`);
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${DESCR[dtypeOf(data)]}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  const pre = MAGIC.length + 2 + 2; // magic, version, uint16 header length
  const total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  if (total - pre > 0xffff) throw new Error('npy: header too long for format 1.0');
  const header = Buffer.alloc(total, 0x20);
  MAGIC.copy(header, 0);
  header[6] = 1;
  header[7] = 0;
  header.writeUInt16LE(total - pre, 8);
  header.write(dict, pre, 'latin1');
  header[total - 1] = 0x0a;
  return Buffer.concat([header, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

/** A .npy file's header: its dtype descriptor as written ('<u2', '<f8', …), shape, and where the data start. */
export interface NpyHeader {
  descr: string;
  shape: number[];
  /** Byte offset of the first value. */
  start: number;
}

/**
 * Parse the header of .npy bytes (versions 1.0–3.0, C order), whatever the dtype: for readers of arrays that
 * decodeNpy's three dtypes do not cover (SciPy's ECG is '<u2').
 */
export function npyHeader(bytes: Uint8Array, name = '<npy buffer>'): NpyHeader {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail: (what: string) => never = (what) => {
    throw new UserError(`${name}: ${what}`);
  };
  if (buf.length === 0) fail('file is empty (expected .npy data)');
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) fail('not a .npy file (missing \\x93NUMPY magic)');
  const major = buf[6];
  if (major < 1 || major > 3) fail(`unsupported .npy format version ${major}.${buf[7]}`);
  const lenBytes = major === 1 ? 2 : 4;
  if (buf.length < 8 + lenBytes) fail('truncated header');
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = 8 + lenBytes + hlen;
  if (buf.length < start) fail(`truncated header (declares ${hlen} bytes, file has ${buf.length - 8 - lenBytes})`);
  const header = buf.subarray(8 + lenBytes, start).toString(major === 3 ? 'utf8' : 'latin1');
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) fail(`malformed header ${JSON.stringify(header.trim())}`);
  if (fortran === 'True') fail('Fortran-order arrays are not supported; save with numpy.ascontiguousarray');
  const parts = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (!parts.every((p) => /^\d+$/.test(p))) fail(`bad shape (${shapeText})`);
  return { descr, shape: parts.map(Number), start };
}

/** Parse .npy bytes (versions 1.0–3.0; dtypes uint8, int32, float32; little-endian; C order). */
export function decodeNpy(bytes: Uint8Array, name = '<npy buffer>'): NpyArray {
  assertLittleEndianHost();
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { descr, shape, start } = npyHeader(bytes, name);
  const dtype = (Object.keys(DESCR) as NpyDType[]).find((k) => DESCR[k] === descr || (k === 'uint8' && descr === '<u1'));
  if (!dtype) throw new UserError(`${name}: unsupported dtype '${descr}' (supported: uint8 '|u1', int32 '<i4', float32 '<f4')`);
  const count = shape.reduce((a, b) => a * b, 1);
  const itemSize = dtype === 'uint8' ? 1 : 4;
  const expected = count * itemSize;
  const actual = buf.length - start;
  if (actual !== expected) {
    throw new UserError(`${name}: shape [${shape.join(', ')}] of ${dtype} needs ${expected} data bytes, file has ${actual}${actual < expected ? ' (truncated)' : ''}`);
  }
  // Copy into a fresh, aligned buffer: the file buffer's offset need not be a multiple of 4.
  const raw = new Uint8Array(buf.subarray(start, start + expected));
  const data = dtype === 'uint8' ? raw : dtype === 'int32' ? new Int32Array(raw.buffer) : new Float32Array(raw.buffer);
  return { dtype, shape, data };
}

/** Write `data` with `shape` to a .npy file. */
export async function writeNpy(path: string, data: NpyData, shape: readonly number[]): Promise<void> {
  await writeFile(path, encodeNpy(data, shape));
}

/** Read a .npy file; errors name the file. */
export async function readNpy(path: string): Promise<NpyArray> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new UserError(`${path}: cannot read .npy file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return decodeNpy(bytes, path);
}
