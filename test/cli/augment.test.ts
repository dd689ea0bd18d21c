import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import sharp from 'sharp';
import { FASHION_MNIST_CLASSES } from '../../src/data/fashion_mnist.js';
import { loadData } from '../../src/data/registry.js';
import type { ArraySource, DatasetInfo } from '../../src/data/types.js';
import { DEFAULT_CONFIG } from '../../src/gan/config.js';
import type { GanFamily, GanNetworks, SampleRequest } from '../../src/gan/family.js';
import { conditionalClasses, sampleLabelled } from '../../src/gan/labelled.js';
import { classFolders } from '../../src/cli/augment.js';
import { decodeNpy } from '../../src/io/npy.js';
import { MODELS } from '../../src/models/registry.js';
import { UserError } from '../../src/util/errors.js';
import { fails, ok } from './helpers.js';

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-augment-'));
test.after(() => fs.rm(tmp, { recursive: true, force: true }));

/** The class-conditional families, read from their declarations: what the refusal must suggest. */
const CONDITIONAL = Object.values(MODELS).filter((f) => f.condition === 'class' && (f.dataKinds ?? ['image']).includes('image')).map((f) => f.name);
const TINY = ['--batch-size', '16', '--data-limit', '256', '--latent-dim', '8', '--hidden', '16', '--steps', '3'];

/**
 * A stand-in generator whose every image is filled with (class + 1) / 16 − 1 and whose first pixel carries the
 * request's seed: labels and images can then be checked against each other exactly.
 */
function stubFamily(condition: 'class' | 'none'): GanFamily {
  return {
    name: 'stub', summary: '', paper: '', condition, honours: [],
    defaults: () => ({}), check: () => null, build: () => { throw new Error('not built'); },
    sample(_nets: GanNetworks, r: SampleRequest) {
      const values = new Float32Array(r.count * 4).fill(((r.class ?? 0) + 1) / 16 - 1);
      for (let i = 0; i < r.count; i++) values[i * 4] = (r.seed % 1000) / 1000;
      return { values, count: r.count, shape: [2, 2, 1] };
    },
  };
}
const labelled: DatasetInfo = { name: 'stub-data', kind: 'image', shape: [2, 2, 1], numClasses: 3, classNames: ['a', 'b/c', '.d'] };

test('sampleLabelled: each label is the class its image was drawn for, perClass of each, a seed per class', () => {
  const run = { config: DEFAULT_CONFIG, data: labelled };
  const s = sampleLabelled(stubFamily('class'), {} as GanNetworks, run, labelled.classNames!, { perClass: 4, seed: 7 });
  assert.equal(s.count, 12);
  assert.deepEqual(Array.from(s.labels), [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
  for (let i = 0; i < s.count; i++) assert.equal(s.values[i * 4 + 1], Math.fround((s.labels[i] + 1) / 16 - 1), `image ${i}`);
  const seeds = new Set([0, 4, 8].map((i) => s.values[i * 4]));
  assert.equal(seeds.size, 3, 'every class draws from its own seed');
  const again = sampleLabelled(stubFamily('class'), {} as GanNetworks, run, labelled.classNames!, { perClass: 2, seed: 7 });
  assert.equal(again.values[0], s.values[0], 'class 0 keeps its seed whatever --per-class is');
  assert.equal(again.values[2 * 4], s.values[4 * 4], 'and so does class 1');
  assert.throws(() => sampleLabelled(stubFamily('class'), {} as GanNetworks, run, labelled.classNames!, { perClass: 0, seed: 0 }), /--per-class must be a positive integer/);
  assert.throws(() => sampleLabelled(stubFamily('class'), {} as GanNetworks, run, labelled.classNames!, { perClass: 1.5, seed: 0 }), /--per-class/);
});

test('conditionalClasses: an unconditional family or unlabelled data is refused, naming the class-conditional families', () => {
  assert.deepEqual(conditionalClasses(stubFamily('class'), labelled, Object.values(MODELS), 'augment'), ['a', 'b/c', '.d']);
  const refused = (f: GanFamily, d: DatasetInfo, why: RegExp) => assert.throws(() => conditionalClasses(f, d, Object.values(MODELS), 'augment'), (e: unknown) =>
    e instanceof UserError && why.test(e.message) && CONDITIONAL.every((n) => e.message.includes(n)));
  refused(stubFamily('none'), labelled, /augment needs a class-conditional run.*condition is 'none'/);
  refused(stubFamily('class'), { ...labelled, numClasses: undefined, classNames: undefined }, /has no class labels/);
  assert.ok(CONDITIONAL.length >= 2, `class-conditional families: ${CONDITIONAL}`);
});

test('classFolders: path separators and leading dots cannot escape or hide a class folder; names stay unique', () => {
  assert.deepEqual(classFolders(['T-shirt/top', 'Trouser', '.d', 'a\\b', 'a/b', '']), ['T-shirt_top', 'Trouser', 'class-2.d', 'a_b', 'a_b-4', 'class-5']);
});

test('augment CLI on cgan: folder and .npy outputs carry the same labelled pixels; bad input is refused', async () => {
  const run = path.join(tmp, 'cgan');
  await ok(['train', 'cgan', '--data', 'fashion-mnist', ...TINY, '--out', run], tmp);

  // Folder: a sub-folder per class, named by class, that `--data folder:` reads back as labelled data.
  const dir = path.join(tmp, 'aug');
  await ok(['augment', run, '--per-class', '3', '--out', dir, '--seed', '5'], tmp);
  const folders = classFolders(FASHION_MNIST_CLASSES);
  assert.deepEqual((await fs.readdir(dir)).sort(), [...folders].sort());
  for (const f of folders) assert.deepEqual(await fs.readdir(path.join(dir, f)), ['00000.png', '00001.png', '00002.png']);
  const back = (await loadData(`folder:${dir}`)) as ArraySource;
  assert.equal(back.count, 30);
  assert.deepEqual([...back.info.classNames!].sort(), [...folders].sort());

  // .npy: uint8 [30, 28, 28, 1] in class order with int32 labels, the very pixels of the PNGs (same seed).
  const npy = path.join(tmp, 'x.npy');
  const r = await ok(['augment', run, '--per-class', '3', '--out', npy, '--seed', '5'], tmp);
  assert.match(r.stderr, /wrote 30 labelled images \(3 of each of 10 classes\) from cgan/);
  const x = decodeNpy(await fs.readFile(npy));
  const y = decodeNpy(await fs.readFile(path.join(tmp, 'x.labels.npy')));
  assert.equal(x.dtype, 'uint8');
  assert.deepEqual(x.shape, [30, 28, 28, 1]);
  assert.equal(y.dtype, 'int32');
  assert.deepEqual(Array.from(y.data), Array.from({ length: 30 }, (_, i) => Math.floor(i / 3)));
  for (const i of [0, 14, 29]) {
    const file = path.join(dir, folders[Math.floor(i / 3)], `0000${i % 3}.png`);
    assert.equal((await sharp(file).metadata()).channels, 1, 'grey PNGs');
    const png = await sharp(file).extractChannel(0).raw().toBuffer();
    assert.deepEqual(new Uint8Array(png), (x.data as Uint8Array).subarray(i * 784, (i + 1) * 784), `image ${i}`);
  }
  const other = path.join(tmp, 'seed6.npy');
  await ok(['augment', run, '--per-class', '3', '--out', other, '--seed', '6'], tmp);
  assert.notDeepEqual(decodeNpy(await fs.readFile(other)).data, x.data, 'another seed, other images');

  // Existing output is the user's: refused without --force, replaced with it.
  await fails(['augment', run, '--per-class', '2', '--out', npy], tmp, /x\.npy exists; pass --force to replace it/);
  await fails(['augment', run, '--per-class', '2', '--out', dir], tmp, /is not empty \(10 entries.*--force/);
  await fs.rm(npy);
  await fails(['augment', run, '--per-class', '2', '--out', npy], tmp, /x\.labels\.npy exists; pass --force/);
  await ok(['augment', run, '--per-class', '2', '--out', npy, '--force'], tmp);
  assert.deepEqual(decodeNpy(await fs.readFile(npy)).shape, [20, 28, 28, 1]);
  await ok(['augment', run, '--per-class', '2', '--out', dir, '--force'], tmp);
  assert.deepEqual(await fs.readdir(path.join(dir, folders[0])), ['00000.png', '00001.png'], 'the old third image is gone');

  // Bad input, each naming the flag or what to do.
  const fresh = path.join(tmp, 'never');
  await fails(['augment', run, '--per-class', '0', '--out', fresh], tmp, /--per-class must be a positive integer/);
  await fails(['augment', run, '--per-class', '2.5', '--out', fresh], tmp, /--per-class needs an integer, got '2\.5'/);
  await fails(['augment', run, '--per-class', 'ten', '--out', fresh], tmp, /--per-class needs an integer, got 'ten'/);
  await fails(['augment', run, '--out', fresh], tmp, /required option '--per-class <n>'/);
  await fails(['augment', path.join(tmp, 'no-such-run'), '--per-class', '2', '--out', fresh], tmp, /no-such-run' does not exist; pass a run folder/);
  await fails(['augment', run, '--per-class', '2', '--out', path.join(tmp, 'grid.png')], tmp, /writes a folder .* or a FILE\.npy/);
  await fails(['augment', run, '--per-class', '2', '--out', fresh, '--truncation', '0.5'], tmp, /--truncation needs a model with a truncation trick .*cgan has none/);
  await assert.rejects(fs.access(fresh), 'nothing written by a refused command');

  // CAS of the run itself: --count split over the classes, the run's own test split as the default reference.
  const cas = await ok(['eval', run, '--metrics', 'cas', '--count', '20', '--cas-steps', '2', '--json'], tmp);
  const result = JSON.parse(cas.stdout) as { values: Record<string, number>; protocol: Record<string, unknown> };
  assert.equal(result.protocol.reference, 'fashion-mnist:test');
  assert.equal(result.protocol.generatedCount, 20);
  assert.match(String(result.protocol.generated), /cgan, step 3, 2 of each class, latent seed 0/);
  assert.match(String(result.protocol.baseline), /first 2 of each class/);
  for (const k of ['cas', 'realBaseline']) assert.ok(result.values[k] >= 0 && result.values[k] <= 1, `${k} ${result.values[k]}`);
  await fails(['eval', run, '--metrics', 'cas', '--count', '5'], tmp, /--count 5 is fewer than one image for each of 10 classes/);
});

test('augment CLI on an unconditional run: refused, suggesting the class-conditional families', async () => {
  const run = path.join(tmp, 'dcgan');
  await ok(['train', 'dcgan', '--data', 'fashion-mnist', '--width', '8', '--batch-size', '16', '--data-limit', '256', '--latent-dim', '8', '--steps', '2', '--out', run], tmp);
  const r = await fails(['augment', run, '--per-class', '2', '--out', path.join(tmp, 'u')], tmp, /augment needs a class-conditional run, and this dcgan run is not one .*ganforge train cgan or acgan/);
  for (const name of CONDITIONAL) assert.ok(r.stderr.includes(name), `suggests ${name}`);
  await fails(['eval', run, '--metrics', 'cas', '--ref', 'fashion-mnist:test'], tmp, /cas needs a class-conditional run/);
});

test('tensors: sampleLabelled through a real cgan leaves no tensors behind', async () => {
  await tf.setBackend('cpu');
  const data: DatasetInfo = { name: 'fashion-mnist', kind: 'image', shape: [28, 28, 1], numClasses: 10, classNames: [...FASHION_MNIST_CLASSES] };
  const family = MODELS.cgan;
  const { Rng } = await import('../../src/util/rng.js');
  const config = { ...DEFAULT_CONFIG, ...family.defaults(data), latentDim: 8, hidden: 16 };
  const nets = family.build(data, config, new Rng(0));
  const before = tf.memory().numTensors;
  const s = sampleLabelled(family, nets, { config, data }, data.classNames!, { perClass: 2, seed: 0 });
  assert.equal(tf.memory().numTensors, before);
  assert.equal(s.count, 20);
  nets.generator.dispose();
  nets.discriminator?.dispose();
});
