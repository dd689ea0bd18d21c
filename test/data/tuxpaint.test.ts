import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { isTestKey } from '../../src/data/emoji.js';
import { cacheDir, type DebFetcher } from '../../src/data/package_data.js';
import { STAMPS_DIR, TUXPAINT_STAMPS, listStamps, loadTuxpaint } from '../../src/data/tuxpaint.js';
import { tmp } from './image_fixtures.js';

const run = promisify(execFile);

/** Stamp names (below the stamps folder) in the train and test splits, found by hashing candidates. */
function names(): { train: string[]; test: string } {
  const cands = Array.from({ length: 200 }, (_, i) => `animals/stamp${i}`);
  return { train: cands.filter((c) => !isTestKey(c)).slice(0, 4), test: cands.find(isTestKey)! };
}

/**
 * A small tuxpaint-stamps-default: a PNG stamp half transparent (with its pre-drawn mirror and a translation
 * line), an SVG stamp, a stamp without a caption, a stamp in both formats, a test stamp, and a sound.
 */
async function fakeStampsDeb(dir: string): Promise<string> {
  const { train: [a, b, c, d], test: t } = names();
  const root = join(dir, 'pkg');
  const stamps = join(root, STAMPS_DIR);
  await mkdir(join(root, 'DEBIAN'), { recursive: true });
  await mkdir(join(stamps, 'animals'), { recursive: true });
  await writeFile(join(root, 'DEBIAN', 'control'), `Package: ${TUXPAINT_STAMPS.name}\nVersion: 1.0-1\nArchitecture: all\nMaintainer: t <t@t>\nDescription: test\n`);
  // 8 wide, 4 high: left half opaque black, right half transparent.
  const px = Buffer.alloc(4 * 8 * 4);
  for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) px[(y * 8 + x) * 4 + 3] = 255;
  const png = () => sharp(px, { raw: { width: 8, height: 4, channels: 4 } }).png();
  await png().toFile(join(stamps, `${a}.png`));
  await png().toFile(join(stamps, `${a}_mirror.png`));
  await writeFile(join(stamps, `${a}.txt`), 'A black cat.\nfr.utf8=Un chat noir.\n');
  await writeFile(join(stamps, `${a}.ogg`), 'sound');
  await writeFile(join(stamps, `${b}.svg`), '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#ff0000"/></svg>');
  await writeFile(join(stamps, `${b}.txt`), '\uFEFFA red square.\n');
  await png().toFile(join(stamps, `${c}.png`));
  await png().toFile(join(stamps, `${d}.png`));
  await writeFile(join(stamps, `${d}.svg`), '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"/>');
  await writeFile(join(stamps, `${d}.txt`), 'A cat in two formats.');
  await png().toFile(join(stamps, `${t}.png`));
  await writeFile(join(stamps, `${t}.txt`), 'A white owl.');
  const deb = join(dir, 'tuxpaint.deb');
  await run('dpkg-deb', ['--build', '--root-owner-group', root, deb]);
  return deb;
}

test('tuxpaint (a faked package): first caption line, PNG over SVG, mirrors and uncaptioned stamps left out, licence printed, test split by name with the training vocabulary', async () => {
  const dir = await tmp('ganforge-tuxpaint-');
  const deb = await fakeStampsDeb(dir);
  const fetch: DebFetcher = async (into) => {
    await copyFile(deb, join(into, 'tuxpaint.deb'));
    return join(into, 'tuxpaint.deb');
  };
  const log: string[] = [];
  const opts = { cache: join(dir, 'cache'), log: (l: string) => log.push(l), fetch, imageSize: 8 };
  const src = await loadTuxpaint(opts);
  const { train: [a, b, , d], test: t } = names();
  assert.match(log[0], /downloading tuxpaint-stamps-default .* from Debian/);
  assert.ok(log.includes(TUXPAINT_STAMPS.attribution));
  assert.deepEqual(src.names, [a, b, d]);
  assert.deepEqual(src.captions!.texts, ['A black cat.', 'A red square.', 'A cat in two formats.']);
  assert.ok(src.notices!.includes(TUXPAINT_STAMPS.attribution));
  assert.ok(src.notices!.some((n) => /1 stamp\(s\) of the train split have no English caption/.test(n)));
  assert.deepEqual(src.info.shape, [8, 8, 3]);
  // Stamp a, 8×4 fitted whole: rows 0–1 and 6–7 are white padding; in rows 2–5 the left half is black, the right half (transparent) white.
  const px = (i: number, y: number, x: number) => [...src.values.subarray(((i * 8 + y) * 8 + x) * 3, ((i * 8 + y) * 8 + x) * 3 + 3)];
  assert.deepEqual(px(0, 0, 1), [255, 255, 255]);
  assert.deepEqual(px(0, 3, 1), [0, 0, 0]);
  assert.deepEqual(px(0, 3, 6), [255, 255, 255]);
  assert.deepEqual(px(1, 4, 4), [255, 0, 0]);
  // Stamp d is its PNG (half black), not its empty SVG.
  assert.deepEqual(px(2, 3, 1), [0, 0, 0]);
  const test = await loadTuxpaint({ ...opts, split: 'test' });
  assert.deepEqual(test.names, [t]);
  assert.deepEqual(test.info.text!.vocab, src.info.text!.vocab);
  assert.ok(test.notices!.some((n) => /became <unk>: owl, white/.test(n)));
  assert.equal(log.filter((l) => /downloading/.test(l)).length, 1);
});

test('tuxpaint, the real package (installed on first use: one 161 MB download, then cached)', { timeout: 600_000 }, async () => {
  const src = await loadTuxpaint({ limit: 12, imageSize: 16, log: () => {} }); // installs the package when it is not cached
  const root = join(cacheDir(), 'deb', TUXPAINT_STAMPS.name);
  assert.ok(existsSync(join(root, '.complete')), 'the package is unpacked and marked complete');
  const [train, test] = await Promise.all([listStamps(join(root, STAMPS_DIR), 'train'), listStamps(join(root, STAMPS_DIR), 'test')]);
  const total = train.stamps.length + test.stamps.length;
  assert.ok(total > 800 && total < 1200, `${total} stamps`);
  assert.ok(test.stamps.length / total > 0.07 && test.stamps.length / total < 0.13);
  assert.equal(src.count, 12);
  assert.ok(src.captions!.texts.every((c) => /^[A-Z]/.test(c) && !c.includes('.utf8=')), src.captions!.texts.join(' | '));
});
