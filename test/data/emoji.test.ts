import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OPENMOJI, TWEMOJI, codePointKey, isTestKey, loadEmoji, loadOpenmoji, renderSvg } from '../../src/data/emoji.js';
import { cacheDir, cachedImages, ensureNpmPackage } from '../../src/data/package_data.js';
import { loadData } from '../../src/data/registry.js';
import type { ArraySource } from '../../src/data/types.js';
import { UserError } from '../../src/util/errors.js';
import { tmp } from './image_fixtures.js';

let openmojiDir = '';
/** A fresh cache folder whose npm/ is the shared one: packages install once per machine, renders afresh. */
let cache = '';

before(async () => {
  // Installs on the first run on a machine (about 15 s with the download), then finds them in place.
  openmojiDir = await ensureNpmPackage(OPENMOJI);
  await ensureNpmPackage(TWEMOJI);
  cache = await tmp('ganforge-emoji-');
  await symlink(join(cacheDir(), 'npm'), join(cache, 'npm'));
});

test('code point keys drop FE0F and case, so OpenMoji and Twemoji names meet; ~1 in 10 is test', async () => {
  assert.equal(codePointKey('263A-FE0F'), '263a');
  assert.equal(codePointKey('1F468-200D-1F469-200D-1F467'), '1f468-200d-1f469-200d-1f467');
  const keys = (await readdir(join(openmojiDir, 'color', 'svg'))).map((f) => codePointKey(f.replace(/\.svg$/, '')));
  const share = keys.filter(isTestKey).length / keys.length;
  assert.ok(share > 0.08 && share < 0.12, `test share ${share}`);
});

test('ensureNpmPackage: one progress line and the attribution on install, nothing after', async () => {
  const dir = await tmp();
  const log: string[] = [];
  const installs: string[] = [];
  const fake = async (prefix: string, spec: string): Promise<void> => {
    installs.push(spec);
    await mkdir(join(prefix, 'node_modules', 'openmoji'), { recursive: true });
    await writeFile(join(prefix, 'node_modules', 'openmoji', 'package.json'), JSON.stringify({ version: OPENMOJI.version }));
  };
  const got = await ensureNpmPackage(OPENMOJI, { cache: dir, log: (l) => log.push(l), install: fake });
  assert.equal(got, join(dir, 'npm', 'node_modules', 'openmoji'));
  assert.deepEqual(installs, [`openmoji@${OPENMOJI.version}`]);
  assert.equal(log.length, 2);
  assert.match(log[0], /installing openmoji@17\.0\.0 .*\(first use only\)/);
  assert.match(log[1], /OpenMoji.*CC BY-SA 4\.0/);
  await ensureNpmPackage(OPENMOJI, { cache: dir, log: (l) => log.push(l), install: fake });
  assert.deepEqual([installs.length, log.length], [1, 2]);
  const broken = async (): Promise<void> => {};
  await assert.rejects(ensureNpmPackage(TWEMOJI, { cache: dir, log: () => {}, install: broken }), (e: unknown) => e instanceof UserError && /did not install @discordapp\/twemoji/.test(e.message));
});

test('cachedImages makes once, then reads the same bytes back', async () => {
  const dir = await tmp();
  let made = 0;
  const make = async () => {
    made++;
    return { shape: [2, 1, 2, 1], values: Uint8Array.of(1, 2, 3, 4), names: ['a', 'b'] };
  };
  await cachedImages('k', make, dir);
  const again = await cachedImages('k', make, dir);
  assert.deepEqual([made, [...again.values], again.names, again.shape], [1, [1, 2, 3, 4], ['a', 'b'], [2, 1, 2, 1]]);
});

test('openmoji: line art (1 channel, dark on white) → colour, rendered once and cached', async () => {
  const log: string[] = [];
  const src = await loadOpenmoji({ limit: 6, imageSize: 32, cache, log: (l) => log.push(l) });
  assert.deepEqual([src.count, src.info.shape, src.info.input!.shape], [6, [32, 32, 3], [32, 32, 1]]);
  assert.deepEqual(src.info.input!.domains, ['openmoji-black', 'openmoji-color']);
  assert.equal(src.names!.length, 6);
  assert.ok(src.names!.every((k) => !isTestKey(k) && /^[0-9a-f-]+$/.test(k)));
  assert.equal(log.filter((l) => /rendering 6 openmoji-(black|color) SVGs at 32 px/.test(l)).length, 2);
  const per = 32 * 32;
  for (let i = 0; i < 6; i++) {
    const line = src.inputs!.values.subarray(i * per, (i + 1) * per);
    const white = line.filter((v) => v > 240).length / per;
    const ink = line.filter((v) => v < 80).length;
    assert.ok(white > 0.5 && ink > 10, `line art ${src.names![i]}: ${white} white, ${ink} ink pixels`);
  }
  const rgb = src.values as Uint8Array;
  let coloured = 0;
  for (let p = 0; p < rgb.length; p += 3) if (Math.max(rgb[p], rgb[p + 1], rgb[p + 2]) - Math.min(rgb[p], rgb[p + 1], rgb[p + 2]) > 60) coloured++;
  assert.ok(coloured > 6 * 20, `only ${coloured} coloured pixels`);
  const again = await loadOpenmoji({ limit: 6, imageSize: 32, cache, log: (l) => log.push(l) });
  assert.equal(log.length, 2, 'second load renders nothing');
  assert.deepEqual([...again.values], [...rgb]);
  const test = await loadOpenmoji({ split: 'test', limit: 3, imageSize: 16, cache, log: () => {} });
  assert.ok(test.names!.every(isTestKey));
  assert.ok(src.notices!.some((n) => /CC BY-SA 4\.0/.test(n)));
});

test('unpaired:openmoji-color,twemoji exposes code point names on both sides', async () => {
  const src = (await loadData('unpaired:openmoji-color,twemoji', { limit: 4, imageSize: 16, log: () => {} })) as ArraySource;
  assert.deepEqual([src.info.shape, src.info.input!.pairing, src.info.input!.domains], [[16, 16, 3], 'unpaired', ['openmoji-color', 'twemoji']]);
  assert.equal(src.names!.length, 4);
  assert.equal(src.inputs!.names!.length, 4);
  assert.ok([...src.names!, ...src.inputs!.names!].every((k) => !k.includes('fe0f') && k === k.toLowerCase()));
  assert.ok(src.notices!.some((n) => /Twemoji.*CC BY 4\.0/.test(n)));
});

test('a broken SVG is an error naming the file', async () => {
  const dir = await tmp();
  const bad = join(dir, 'bad.svg');
  await writeFile(bad, '<svg viewBox="0 0 10 10"><path d=');
  await assert.rejects(renderSvg(bad, 8, 3));
  const good = join(dir, 'good.svg');
  await writeFile(good, '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect x="0" y="0" width="5" height="10" fill="#000"/></svg>');
  const px = await renderSvg(good, 8, 1);
  assert.deepEqual([px[0], px[7]], [0, 255]); // left half black, right half the white background
  const green = await renderSvg(good, 8, 3, [0, 200, 0]);
  assert.deepEqual([...green.subarray(0, 3), ...green.subarray(7 * 3, 8 * 3)], [0, 0, 0, 0, 200, 0]); // the uncovered half takes the background
});

test('--background: an emoji set drawn on another colour, cached apart from the white render', async () => {
  const log: string[] = [];
  const opts = { limit: 4, imageSize: 16, cache, log: (l: string) => log.push(l) };
  const white = await loadEmoji('twemoji', opts);
  const green = await loadEmoji('twemoji', { ...opts, background: [0, 200, 0] });
  assert.ok(log.some((l) => /rendering 4 twemoji SVGs at 16 px on #00c800/.test(l)), log.join('\n'));
  // Pixels the emoji leaves transparent: the background's colour exactly (white in one render, green in the other).
  const count = (src: ArraySource, i: number, [r, g, b]: number[]) => {
    const v = (src.values as Uint8Array).subarray(i * 16 * 16 * 3, (i + 1) * 16 * 16 * 3);
    let n = 0;
    for (let p = 0; p < v.length; p += 3) if (v[p] === r && v[p + 1] === g && v[p + 2] === b) n++;
    return n;
  };
  let bare = 0;
  for (let i = 0; i < 4; i++) {
    const n = count(green, i, [0, 200, 0]);
    bare += n;
    assert.ok(count(white, i, [255, 255, 255]) >= n && count(white, i, [0, 200, 0]) === 0, `${white.names![i]} on white`);
  }
  assert.ok(bare >= 20, `${bare} pixels of the green background in 4 emoji`); // most fill their square but their corners
  const viaRegistry = await loadData('twemoji', { ...opts, background: [0, 200, 0] }) as ArraySource;
  assert.deepEqual([...(viaRegistry.values as Uint8Array)], [...(green.values as Uint8Array)]);
});
