import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { encodeIdx, parseIdx, type IdxArray } from '../../src/data/idx.js';
import { loadImageFolder } from '../../src/data/image_folder.js';
import { CONFIG_KEYS, runConfigSchema, validatePartialConfig } from '../../src/gan/config.js';
import { UserError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { tempDir } from './helpers.js';

// Seeded, bounded fuzzing: every failure is replayable from the seed and the case number in its message.
const tmp = await tempDir('fuzz');
test.after(() => fs.rm(tmp, { recursive: true, force: true }));

const int = (rng: Rng, n: number) => Math.floor(rng.uniform() * n);
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[int(rng, xs.length)];

/** Flip, overwrite, insert, delete or truncate a few bytes. Headers are hit more often: they are where parsers branch. */
function mutate(rng: Rng, src: Uint8Array): Uint8Array {
  let b = Buffer.from(src);
  const edits = 1 + int(rng, 4);
  for (let e = 0; e < edits; e++) {
    const at = rng.uniform() < 0.5 ? int(rng, Math.min(b.length, 48)) : int(rng, b.length);
    switch (int(rng, 5)) {
      case 0: b[at] ^= 1 << int(rng, 8); break;
      case 1: b[at] = int(rng, 256); break;
      case 2: b = Buffer.concat([b.subarray(0, at), Buffer.from([int(rng, 256)]), b.subarray(at)]); break;
      case 3: b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + int(rng, 8))]); break;
      case 4: b = b.subarray(0, at); break;
    }
  }
  return b;
}

test('idx parser: mutated and truncated files parse consistently or throw UserError (400 cases)', () => {
  const rng = new Rng(101);
  const seeds: IdxArray[] = [
    { dtype: 'uint8', shape: [3, 4, 5], data: Uint8Array.from({ length: 60 }, (_, i) => i) },
    { dtype: 'uint8', shape: [7], data: Uint8Array.from([0, 1, 2, 3, 4, 5, 6]) },
    { dtype: 'int16', shape: [2, 3], data: Int16Array.from([-1, 2, -3, 4, -5, 6]) },
    { dtype: 'float32', shape: [5], data: Float32Array.from([0.5, -1, 3, NaN, 1e30]) },
    { dtype: 'float64', shape: [1, 2], data: Float64Array.from([Math.PI, -0]) },
  ];
  const sizes: Record<string, number> = { uint8: 1, int8: 1, int16: 2, int32: 4, float32: 4, float64: 8 };
  const started = Date.now();
  let parsed = 0;
  for (let i = 0; i < 400; i++) {
    const seed = seeds[i % seeds.length];
    const bytes = mutate(rng, encodeIdx(seed, { gzip: i % 4 === 3 }));
    try {
      const arr = parseIdx(bytes, `case-${i}`);
      parsed++;
      const count = arr.shape.reduce((a, b) => a * b, 1);
      assert.equal(arr.data.length, count, `case ${i}: ${arr.data.length} values for shape [${arr.shape}]`);
      assert.ok(arr.dtype in sizes, `case ${i}: dtype ${arr.dtype}`);
      assert.ok(arr.shape.every((d) => Number.isInteger(d) && d >= 0), `case ${i}: shape [${arr.shape}]`);
    } catch (e) {
      if (e instanceof assert.AssertionError) throw e;
      assert.ok(e instanceof UserError, `case ${i}: ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
      assert.match(e.message, new RegExp(`^case-${i}: `), `case ${i}: the message names the file`);
    }
  }
  console.log(`idx fuzz: ${parsed}/400 parsed, the rest UserErrors`);
  assert.ok(Date.now() - started < 5000, 'no case is slow');
  assert.ok(parsed > 0 && parsed < 400, `both outcomes occur (${parsed} parsed)`);
});

test('image folder loader: mutated PNG/JPEG bytes → success, or UserError naming the file; skipBad skips and counts (300 cases)', async () => {
  const rng = new Rng(202);
  const raw = Buffer.from(Array.from({ length: 12 * 10 * 3 }, (_, i) => (i * 53) % 256));
  const base = sharp(raw, { raw: { width: 12, height: 10, channels: 3 } });
  const valid = { png: await base.clone().png().toBuffer(), jpg: await base.clone().jpeg().toBuffer() };
  let skippedTotal = 0;
  for (let f = 0; f < 20; f++) {
    const dir = path.join(tmp, `img${f}`);
    await fs.mkdir(dir);
    // One good image first, so the target shape is always 10×12×3, then 15 mutants.
    await fs.writeFile(path.join(dir, '00-good.png'), valid.png);
    const mutants: string[] = [];
    for (let k = 0; k < 15; k++) {
      const ext = pick(rng, ['png', 'jpg'] as const);
      const file = path.join(dir, `m${String(k).padStart(2, '0')}.${ext}`);
      await fs.writeFile(file, mutate(rng, valid[ext]));
      mutants.push(file);
    }
    const where = `folder ${f}`;
    try {
      const src = await loadImageFolder(dir);
      assert.equal(src.count, 16, `${where}: strict load succeeded, so nothing may be missing`);
    } catch (e) {
      assert.ok(e instanceof UserError, `${where}: ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
      assert.ok(mutants.some((m) => e.message.includes(m)), `${where}: error names none of the files: ${e.message}`);
    }
    const src = await loadImageFolder(dir, { skipBad: true }).catch((e: Error) => assert.fail(`${where} with skipBad: ${e.constructor.name}: ${e.message}`));
    assert.equal(src.count + src.skipped, 16, where);
    assert.deepEqual(src.info.shape, [10, 12, 3], where);
    assert.equal(src.values.length, src.count * 10 * 12 * 3, where);
    assert.ok(src.skippedFiles.every((s) => mutants.includes(s)), `${where}: skipped a good file`);
    skippedTotal += src.skipped;
  }
  console.log(`image fuzz: ${skippedTotal}/300 mutants skipped as unreadable, the rest decoded`);
  assert.ok(skippedTotal > 0 && skippedTotal < 300, `both outcomes occur (${skippedTotal} skipped)`);
});

test('config parser: random JSON → a valid partial config or a UserError naming a key; never a raw ZodError/TypeError (400 cases)', () => {
  const rng = new Rng(303);
  const weirdKeys = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '', ' lrG', 'LRG', 'lr-g', 'batch_size', 'stepz', '0', 'dataa'];
  const value = (depth: number): unknown => {
    switch (int(rng, 12)) {
      case 0: return int(rng, 2000) - 1000;
      case 1: return rng.uniform() * 10 - 5;
      case 2: return pick(rng, [0, -0, 1, 0.5, 1e308, -1e-9, 2 ** 53, NaN, Infinity, -Infinity]);
      case 3: return pick(rng, ['', 'dcgan', 'adam', 'hinge', 'toy:ring8', '5', 'NaN', 'true']);
      case 4: return rng.uniform() < 0.5;
      case 5: return null;
      case 6: return depth > 2 ? [] : Array.from({ length: int(rng, 3) }, () => value(depth + 1));
      case 7: return depth > 2 ? {} : randomObject(depth + 1);
      default: { // a plausible value for the key's type
        const k = pick(rng, CONFIG_KEYS);
        return (runConfigSchema.shape as Record<string, unknown>)[k] ? int(rng, 50) : k;
      }
    }
  };
  const randomObject = (depth: number): Record<string, unknown> => {
    const o: Record<string, unknown> = {};
    const n = int(rng, 5);
    for (let i = 0; i < n; i++) {
      const key = rng.uniform() < 0.75 ? pick(rng, CONFIG_KEYS) : pick(rng, weirdKeys);
      Object.defineProperty(o, key, { value: value(depth), enumerable: true, writable: true, configurable: true });
    }
    return o;
  };
  let accepted = 0;
  for (let i = 0; i < 400; i++) {
    // Most cases go through JSON text (as a --config file does); some keep NaN/Infinity (as library callers can).
    const direct = i % 5 === 0 ? (rng.uniform() < 0.5 ? value(0) : randomObject(0)) : randomObject(0);
    const input = i % 5 === 0 ? direct : JSON.parse(JSON.stringify(direct));
    try {
      const out = validatePartialConfig(input, `case-${i}`);
      accepted++;
      assert.ok(runConfigSchema.partial().safeParse(out).success, `case ${i}: accepted an invalid config`);
      for (const k of Object.keys(out)) assert.ok((CONFIG_KEYS as string[]).includes(k), `case ${i}: unknown key ${k} accepted`);
    } catch (e) {
      if (e instanceof assert.AssertionError) throw e;
      assert.ok(e instanceof UserError, `case ${i}: ${(e as Error)?.constructor?.name}: ${(e as Error)?.message} for ${JSON.stringify(input)}`);
      const keys = input !== null && typeof input === 'object' && !Array.isArray(input) ? Object.keys(input) : [];
      const named = /expected a JSON object/.test(e.message) || keys.some((k) => e.message.includes(`'${k}'`) || e.message.includes(`${k} (`));
      assert.ok(named, `case ${i}: message names no key: ${e.message} for ${JSON.stringify(input)}`);
    }
  }
  console.log(`config fuzz: ${accepted}/400 accepted, the rest UserErrors naming a key`);
  assert.ok(accepted > 0, 'some random configs are valid');
});
