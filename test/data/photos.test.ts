import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isCropSampler, readStoredImage } from '../../src/data/crops.js';
import { ensureDebPackage, type DebFetcher } from '../../src/data/package_data.js';
import { loadPhotos, loadPhotosTest, photoStore, PHOTOS, PHOTOS_TEST_NAMES } from '../../src/data/photos.js';
import { loadData } from '../../src/data/registry.js';
import { loadReference } from '../../src/metrics/evaluate.js';
import type { ArraySource } from '../../src/data/types.js';
import { UserError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { tmp } from './image_fixtures.js';

const run = promisify(execFile);

/** A real .deb holding one file, built with dpkg-deb, so the unpacking path runs offline. */
async function fakeDeb(dir: string): Promise<string> {
  const root = join(dir, 'pkg');
  await mkdir(join(root, 'DEBIAN'), { recursive: true });
  await mkdir(join(root, 'usr', 'share', 'data'), { recursive: true });
  await writeFile(join(root, 'DEBIAN', 'control'), 'Package: fake-data\nVersion: 1.0-1\nArchitecture: all\nMaintainer: t <t@t>\nDescription: test\n');
  await writeFile(join(root, 'usr', 'share', 'data', 'x.txt'), 'hello');
  await run('dpkg-deb', ['--build', '--root-owner-group', root, join(dir, 'fake-data_1.0-1_all.deb')]);
  return join(dir, 'fake-data_1.0-1_all.deb');
}

test('ensureDebPackage unpacks once with a progress line and the licence; falls back to the candidate version', async () => {
  const dir = await tmp('ganforge-deb-');
  const deb = await fakeDeb(dir);
  const pkg = { name: 'fake-data', version: '1.0-1', size: '1 kB', attribution: 'Fake data. License: CC0' };
  const asked: string[] = [];
  const fetch: DebFetcher = async (into, spec) => {
    asked.push(spec);
    if (spec.includes('=') && asked.length === 1) throw new Error('E: Version not found');
    await copyFile(deb, join(into, 'fake-data_1.0-1_all.deb'));
    return join(into, 'fake-data_1.0-1_all.deb');
  };
  const log: string[] = [];
  const root = await ensureDebPackage(pkg, { cache: join(dir, 'cache'), log: (l) => log.push(l), fetch });
  assert.ok(existsSync(join(root, 'usr', 'share', 'data', 'x.txt')));
  assert.deepEqual(asked, ['fake-data=1.0-1', 'fake-data']);
  assert.match(log[0], /downloading fake-data 1\.0-1 \(1 kB\) from Debian/);
  assert.equal(log.at(-1), 'Fake data. License: CC0');
  const again: string[] = [];
  assert.equal(await ensureDebPackage(pkg, { cache: join(dir, 'cache'), log: (l) => again.push(l), fetch }), root);
  assert.deepEqual(again, []);
  const broken: DebFetcher = async () => { throw new Error('E: Unable to locate package'); };
  await assert.rejects(ensureDebPackage({ ...pkg, name: 'other' }, { cache: join(dir, 'cache'), log: () => {}, fetch: broken }), (e: unknown) => e instanceof UserError && /apt-get download other/.test((e as Error).message));
});

test('the held-out photos are fixed by name and never in photos', () => {
  const names = PHOTOS.map((p) => p.name);
  assert.equal(new Set(names).size, names.length);
  for (const n of PHOTOS_TEST_NAMES) assert.ok(names.includes(n), `${n} is a photo`);
  assert.deepEqual([PHOTOS.length - PHOTOS_TEST_NAMES.length, PHOTOS_TEST_NAMES.length], [24, 10]);
});

// Downloads the three Debian packages on first use (about 160 MB, as CI does), then reads the cache.
test('photos: 24 photos of their own sizes (≤ 2048 px), random crops; photos-test: 10 centre crops; licences in the notices', async () => {
  const quiet = { log: () => {} };
  const train = await loadPhotos(quiet);
  assert.ok(isCropSampler(train));
  const { store } = await photoStore(quiet);
  assert.deepEqual(store.images.map((im) => im.name), PHOTOS.filter((p) => !PHOTOS_TEST_NAMES.includes(p.name)).map((p) => p.name));
  for (const im of store.images) assert.ok(Math.max(im.h, im.w) <= 2048 && Math.min(im.h, im.w) >= 300, `${im.name} ${im.w}×${im.h}`);
  assert.deepEqual(store.images.find((im) => im.name === 'skimage/rocket'), { ...store.images.find((im) => im.name === 'skimage/rocket')!, h: 427, w: 640 });
  // A grey photo is stored as R = G = B.
  const camera = readStoredImage(store, store.images.findIndex((im) => im.name === 'skimage/camera'));
  for (let p = 0; p < camera.values.length; p += 3 * 997) assert.ok(camera.values[p] === camera.values[p + 1] && camera.values[p] === camera.values[p + 2]);
  assert.ok(train.notices!.some((n) => /GPL-2\+/.test(n)) && train.notices!.some((n) => /CC0/.test(n)));
  const x = train.sample(8, new Rng(0)).values;
  assert.equal(x.length, 8 * 96 * 96 * 3);
  const test = (await loadPhotosTest(quiet)) as ArraySource;
  assert.deepEqual([test.names, test.info.shape], [[...PHOTOS.filter((p) => PHOTOS_TEST_NAMES.includes(p.name)).map((p) => p.name)], [96, 96, 3]]);
  assert.ok(test.notices!.some((n) => /in-house.*not Set5\/Set14/.test(n)));
  const sr = await loadData('lowres:photos', { imageSize: 64, degrade: { scale: 4 }, ...quiet });
  assert.deepEqual([sr.kind, sr.info.shape, sr.info.input!.shape], ['sampler', [64, 64, 3], [16, 16, 3]]);
  const srTest = (await loadData('lowres:photos', { split: 'test', imageSize: 64, ...quiet })) as ArraySource;
  assert.deepEqual([srTest.kind, srTest.count, srTest.info.input!.shape], ['array', 10, [16, 16, 3]]);
  // As an FID reference: fresh crops from a seed of their own, the same for the same seed.
  const ref = await loadReference('photos', 5, 1);
  assert.deepEqual([ref.set.n, ref.set.kind === 'image' && [ref.set.h, ref.set.w, ref.set.c]], [5, [96, 96, 3]]);
  assert.deepEqual((await loadReference('photos', 5, 1)).set.values, ref.set.values);
});
