import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeIdx, parseIdx, readIdx, writeIdx, type IdxArray } from '../../src/data/idx.js';
import { UserError } from '../../src/util/errors.js';

const sample: IdxArray = { dtype: 'uint8', shape: [3, 2, 2], data: Uint8Array.from({ length: 12 }, (_, i) => i * 20) };

/** Assert `fn` throws a UserError whose message matches every pattern. */
function throwsUser(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected UserError, got ${String(e)}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

test('idx round trip, plain and gzip, several dtypes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'idx-'));
  for (const gzip of [false, true]) {
    const p = join(dir, `a${gzip ? '.gz' : ''}`);
    await writeIdx(p, sample, { gzip });
    const back = await readIdx(p);
    assert.equal(back.dtype, 'uint8');
    assert.deepEqual(back.shape, [3, 2, 2]);
    assert.deepEqual([...back.data], [...sample.data]);
  }
  const f: IdxArray = { dtype: 'float32', shape: [3], data: Float32Array.of(1.5, -2, 3e-3) };
  assert.deepEqual([...parseIdx(encodeIdx(f)).data], [...f.data]);
  const i32: IdxArray = { dtype: 'int32', shape: [2], data: Int32Array.of(-7, 1 << 30) };
  assert.deepEqual([...parseIdx(encodeIdx(i32)).data], [-7, 1 << 30]);
  // gzip is detected from the bytes, not the name.
  const gz = join(dir, 'no-extension');
  await writeFile(gz, gzipSync(encodeIdx(sample)));
  assert.deepEqual((await readIdx(gz)).shape, [3, 2, 2]);
});

test('idx corruptions give UserErrors naming the file and the problem', () => {
  const good = encodeIdx(sample);
  throwsUser(() => parseIdx(new Uint8Array(0), 'empty.idx'), /empty\.idx/, /empty/);
  throwsUser(() => parseIdx(good.subarray(0, good.length - 3), 'trunc.idx'), /trunc\.idx/, /truncated/, /\[3, 2, 2\]/);
  throwsUser(() => parseIdx(good.subarray(0, 6), 'hdr.idx'), /hdr\.idx/, /truncated idx header/);
  throwsUser(() => parseIdx(Buffer.concat([good, Buffer.from([1, 2])]), 'long.idx'), /long\.idx/, /trailing bytes/);
  const badMagic = Buffer.from(good);
  badMagic[0] = 0x50;
  throwsUser(() => parseIdx(badMagic, 'magic.idx'), /magic\.idx/, /not an idx file/);
  const badType = Buffer.from(good);
  badType[2] = 0x42;
  throwsUser(() => parseIdx(badType, 'type.idx'), /type\.idx/, /element type/);
  // declared size larger than the data
  const bigger = Buffer.from(good);
  bigger.writeUInt32BE(4, 4);
  throwsUser(() => parseIdx(bigger, 'size.idx'), /size\.idx/, /\[4, 2, 2\]/, /truncated/);
  const gz = gzipSync(good);
  throwsUser(() => parseIdx(gz.subarray(0, gz.length - 10), 'cut.gz'), /cut\.gz/, /gzip/);
});

test('readIdx on a missing file names it', async () => {
  await assert.rejects(readIdx('/nonexistent/x-idx3-ubyte'), (e: unknown) => e instanceof UserError && /nonexistent\/x-idx3-ubyte/.test(e.message) && /ENOENT/.test(e.message));
});
