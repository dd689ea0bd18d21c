import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { FLUENT_EMOJI_3D, loadFluentEmoji } from '../../src/data/fluent_emoji.js';
import { isTestKey, codePointKey } from '../../src/data/emoji.js';
import { cacheDir, ensureNpmPackage } from '../../src/data/package_data.js';
import { loadData } from '../../src/data/registry.js';
import type { ArraySource } from '../../src/data/types.js';
import { parseColour } from '../../src/util/colour.js';
import { tmp } from './image_fixtures.js';

let pkgDir = '';
/** A fresh cache folder whose npm/ is the shared one: the package installs once per machine, decodes afresh. */
let cache = '';

before(async () => {
  // Installs on the first run on a machine (15.8 MB from npm), then finds it in place.
  pkgDir = await ensureNpmPackage(FLUENT_EMOJI_3D);
  cache = await tmp('ganforge-fluent-');
  await symlink(join(cacheDir(), 'npm'), join(cache, 'npm'));
});

test('fluent-emoji: 3,391 renders split train/test by code point, [64, 64, 3] on white, MIT credit, cached', async () => {
  const files = (await readdir(join(pkgDir, 'assets'))).filter((f) => f.endsWith('.webp'));
  assert.equal(files.length, 3391);
  const log: string[] = [];
  const train = await loadFluentEmoji({ cache, log: (l) => log.push(l) });
  const held = await loadFluentEmoji({ split: 'test', cache, log: (l) => log.push(l) });
  assert.deepEqual(train.info.shape, [64, 64, 3]);
  assert.equal(train.count + held.count, 3391);
  assert.ok(held.count > 250 && held.count < 420, `test split ${held.count}`);
  assert.ok(held.names!.every((n) => isTestKey(codePointKey(n))) && train.names!.every((n) => !isTestKey(codePointKey(n))));
  assert.equal(train.values.length, train.count * 64 * 64 * 3);
  assert.equal(log.filter((l) => /decoding \d+ fluent-emoji renders at 64 px on #ffffff/.test(l)).length, 2);
  assert.ok(train.notices!.some((n) => /Fluent Emoji 3D.*MIT/.test(n)));
  // Colour pictures on a white surround: the corners are the background, the middle is coloured.
  const v = train.values as Uint8Array;
  let whiteCorners = 0;
  let coloured = 0;
  for (let i = 0; i < train.count; i++) {
    const at = (y: number, x: number) => i * 64 * 64 * 3 + (y * 64 + x) * 3;
    if ([at(0, 0), at(0, 63), at(63, 0), at(63, 63)].every((o) => v[o] === 255 && v[o + 1] === 255 && v[o + 2] === 255)) whiteCorners++;
    const m = at(32, 32);
    if (Math.max(v[m], v[m + 1], v[m + 2]) - Math.min(v[m], v[m + 1], v[m + 2]) > 40) coloured++;
  }
  assert.ok(whiteCorners > 0.9 * train.count, `${whiteCorners} of ${train.count} with white corners`);
  assert.ok(coloured > 0.5 * train.count, `${coloured} of ${train.count} with a coloured centre`);
  const again = await loadFluentEmoji({ cache, log: (l) => log.push(l) });
  assert.equal(log.length, 2, 'a second load decodes nothing');
  assert.deepEqual(again.values, train.values);
});

test('fluent-emoji on another background and size: transparent corners take the colour', async () => {
  const green = parseColour('#00ff00');
  const src = await loadFluentEmoji({ limit: 12, imageSize: 16, background: green, cache, log: () => {} });
  assert.deepEqual([src.count, src.info.shape], [12, [16, 16, 3]]);
  const v = src.values as Uint8Array;
  for (let i = 0; i < 12; i++) assert.deepEqual([...v.subarray(i * 768, i * 768 + 3)], green, `emoji ${src.names![i]} corner`);
});

test("loadData('fluent-emoji') takes --image-size and --background", async () => {
  const src = (await loadData('fluent-emoji', { limit: 3, imageSize: 8, background: parseColour('black'), log: () => {} })) as ArraySource;
  assert.deepEqual([src.info.name, src.count, src.info.shape], ['fluent-emoji', 3, [8, 8, 3]]);
  // The top-left pixel averages a 32×32 corner of the render: nearly all transparent, so nearly black.
  assert.ok(Math.max(...src.values.subarray(0, 3)) <= 8, `corner ${[...src.values.subarray(0, 3)]}`);
});
