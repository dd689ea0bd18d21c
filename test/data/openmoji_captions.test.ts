import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { OPENMOJI } from '../../src/data/emoji.js';
import { loadOpenmojiCaptions, openmojiCaptions, openmojiSentences } from '../../src/data/openmoji_captions.js';
import { cacheDir, ensureNpmPackage } from '../../src/data/package_data.js';
import { tmp } from './image_fixtures.js';

let pkgDir = '';
/** A fresh cache whose npm/ is the shared one: the package installs once per machine, renders afresh. */
let cache = '';

before(async () => {
  pkgDir = await ensureNpmPackage(OPENMOJI);
  cache = await tmp('ganforge-omcap-');
  await symlink(join(cacheDir(), 'npm'), join(cache, 'npm'));
});

test('openmojiSentences: the annotation, "an emoji of …", and with its OpenMoji tags (else three Unicode tags, else its base emoji\'s)', () => {
  const grin = { hexcode: '1F600', annotation: 'grinning face', tags: 'cheerful, cheery, face, grin', openmoji_tags: 'smile, happy' };
  assert.deepEqual(openmojiSentences(grin), ['grinning face', 'an emoji of a grinning face', 'an emoji of a grinning face, smile, happy']);
  assert.deepEqual(openmojiSentences({ hexcode: 'X', annotation: 'owl', tags: 'bird, night, wise, prey' })[2], 'an emoji of an owl, bird, night, wise');
  const toned = { hexcode: '1F44B-1F3FF', annotation: 'waving hand: dark skin tone', tags: '', skintone_base_hexcode: '1F44B' };
  assert.deepEqual(openmojiSentences(toned, { hexcode: '1F44B', annotation: 'waving hand', tags: 'hand, wave' })[2], 'an emoji of a waving hand: dark skin tone, hand, wave');
  assert.equal(openmojiSentences({ hexcode: 'Y', annotation: 'zzz' }).length, 2);
});

test('openmoji-captions: colour emoji with their sentences; the test split uses the training vocabulary', async () => {
  const all = await openmojiCaptions(pkgDir);
  assert.ok(all.size > 4000, `${all.size} annotated emoji`);
  assert.equal(all.get('1f600')![0], 'grinning face');
  const src = await loadOpenmojiCaptions({ limit: 6, imageSize: 16, cache, log: () => {} });
  assert.equal(src.count, 6);
  assert.deepEqual(src.info.shape, [16, 16, 3]);
  for (let i = 0; i < src.count; i++) {
    const own = src.captions!.texts.filter((_, j) => src.captions!.owner[j] === i);
    assert.deepEqual(own, all.get(src.names![i]));
  }
  assert.ok(src.notices!.includes(OPENMOJI.attribution));
  const test = await loadOpenmojiCaptions({ split: 'test', limit: 4, imageSize: 16, cache, log: () => {} });
  assert.deepEqual(test.info.text!.vocab, src.info.text!.vocab);
  assert.ok(src.info.text!.vocab.length > 2000);
});
