import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeNpy, encodeNpy, readNpy, writeNpy } from '../../src/io/npy.js';
import { UserError } from '../../src/util/errors.js';

const hasNumpy = spawnSync('/usr/bin/python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

test('npy round trip for uint8, int32, float32 and the 64-byte header alignment', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'npy-'));
  const cases = [
    { data: Uint8Array.of(0, 1, 255, 7, 8, 9), shape: [2, 3] },
    { data: Int32Array.of(-5, 2 ** 31 - 1, 0), shape: [3] },
    { data: Float32Array.of(1.5, -0.25, NaN, Infinity), shape: [1, 2, 2] },
    { data: Float32Array.of(3), shape: [] },
  ];
  for (const [i, c] of cases.entries()) {
    const p = join(dir, `${i}.npy`);
    await writeNpy(p, c.data, c.shape);
    const raw = await readFile(p);
    const hlen = raw.readUInt16LE(8);
    assert.equal((10 + hlen) % 64, 0);
    assert.equal(raw[10 + hlen - 1], 0x0a);
    const back = await readNpy(p);
    assert.deepEqual(back.shape, c.shape);
    assert.equal(back.data.constructor, c.data.constructor);
    assert.deepEqual([...back.data], [...c.data]);
  }
});

test('npy: bad files give UserErrors', () => {
  const good = encodeNpy(Float32Array.of(1, 2, 3, 4), [2, 2]);
  const bad = (bytes: Uint8Array, re: RegExp) =>
    assert.throws(() => decodeNpy(bytes, 'x.npy'), (e: unknown) => e instanceof UserError && /x\.npy/.test(e.message) && re.test(e.message));
  bad(new Uint8Array(0), /empty/);
  bad(Buffer.from('PK\x03\x04 not npy at all'), /magic/);
  bad(good.subarray(0, good.length - 1), /truncated/);
  bad(good.subarray(0, 30), /truncated header/);
  bad(Buffer.from(good.toString('latin1').replace("'<f4'", "'<f8'"), 'latin1'), /unsupported dtype '<f8'/);
  bad(Buffer.from(good.toString('latin1').replace("False", "True "), 'latin1'), /Fortran/);
});

test('numpy reads what we write and we read what numpy writes', { skip: hasNumpy ? false : 'numpy not installed' }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'npy-'));
  await writeNpy(join(dir, 'f.npy'), Float32Array.of(0.5, -1, 2, 3, 4, 5), [2, 3]);
  await writeNpy(join(dir, 'u.npy'), Uint8Array.of(1, 2, 255), [3]);
  const out = execFileSync('/usr/bin/python3', ['-c', `
import numpy as np, sys
f = np.load(sys.argv[1] + '/f.npy'); u = np.load(sys.argv[1] + '/u.npy')
print(f.dtype, f.shape, f.sum(), f[1, 2], u.dtype, u.shape, u.tolist())
np.save(sys.argv[1] + '/py.npy', np.arange(12, dtype=np.int32).reshape(3, 4))
`, dir]).toString().trim();
  assert.equal(out, 'float32 (2, 3) 13.5 5.0 uint8 (3,) [1, 2, 255]');
  const py = await readNpy(join(dir, 'py.npy'));
  assert.deepEqual(py.shape, [3, 4]);
  assert.deepEqual([...py.data], Array.from({ length: 12 }, (_, i) => i));
});
