import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/backend/index.js';
import { ensureFontPackages, FONT_PACKAGES, loadFontDigits, type FontPackage } from '../../src/data/font_digits.js';
import { classifierDir } from '../../src/metrics/classifier.js';
import { loadModel } from '../../src/gan/model_io.js';
import { classifierAccuracy, toUnitRange } from '../../src/metrics/tstr.js';
import { UserError } from '../../src/util/errors.js';
import { translationSource } from '../../src/data/translation.js';

await initBackend({ quiet: true });

// The packages this machine has (setup.sh installs all three); a test never runs apt.
const installed = FONT_PACKAGES.filter((p) => p.faces.every((f) => existsSync(f[3])));
const render = (seed: number, count = 200) => loadFontDigits({ count, seed, packages: installed, cache: null, install: async () => { throw new Error('no apt in tests'); } });

test('font-digits: one seed renders the same bytes; another seed other ones; labels are i mod 10, balanced', async () => {
  const [a, b, c] = [await render(7), await render(7), await render(8)];
  assert.deepEqual(a.info.shape, [28, 28, 1]);
  assert.equal(a.values.length, 200 * 28 * 28);
  assert.ok(Buffer.from(a.values).equals(Buffer.from(b.values)), 'same seed, same pixels');
  assert.ok(!Buffer.from(a.values).equals(Buffer.from(c.values)), 'another seed draws other transforms');
  assert.deepEqual(Array.from(a.labels!.slice(0, 12)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
  assert.equal(a.info.numClasses, 10);
  // White digits on black, as MNIST: the border rows are dark, the centre holds ink.
  let border = 0, centre = 0;
  for (let i = 0; i < a.count; i++) {
    const img = a.values.subarray(i * 784, (i + 1) * 784);
    for (let x = 0; x < 28; x++) border += img[x] + img[27 * 28 + x];
    for (let y = 10; y < 18; y++) for (let x = 10; x < 18; x++) centre += img[y * 28 + x];
  }
  assert.ok(border / (a.count * 56) < 10, `border mean ${border / (a.count * 56)}`);
  assert.ok(centre / (a.count * 64) > 60, `centre mean ${centre / (a.count * 64)}`);
});

test('font-digits are labelled correctly: the shipped MNIST classifier reads most of them as their label', async () => {
  const set = await render(3, 500);
  const model = await loadModel(classifierDir('mnist'));
  const acc = classifierAccuracy(model, { values: toUnitRange(set.values as Uint8Array), labels: set.labels!, count: set.count, shape: [28, 28, 1] });
  model.dispose();
  // Chance is 10 %; a shuffled label or an inverted image would sit near it.
  assert.ok(acc > 0.6, `MNIST classifier accuracy on font digits ${(100 * acc).toFixed(1)}%`);
});

test('missing font packages are installed once, named in one line, their licences printed after; a broken install is an error', async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-fonts-'));
  try {
    const face = path.join(tmp, 'Nowhere.ttf');
    const fake: FontPackage = { name: 'fonts-nowhere', licence: 'Nowhere licence 1.0', faces: [['Nowhere', 'normal', 'normal', face]] };
    const lines: string[] = [];
    const asked: string[][] = [];
    const packages = [...installed.slice(0, 1), fake];
    await assert.rejects(
      ensureFontPackages(packages, { log: (l) => lines.push(l), install: async (p) => void asked.push(p) }),
      (e: unknown) => e instanceof UserError && e.message.includes(`fonts-nowhere is installed but ${face} is missing`),
    );
    assert.deepEqual(asked, [['fonts-nowhere']], 'only the missing package is asked for');
    assert.match(lines[0], /installing fonts-nowhere with apt-get/);
    lines.length = 0;
    await ensureFontPackages(packages, { log: (l) => lines.push(l), install: async () => fs.writeFile(face, '') });
    assert.deepEqual(lines.slice(1), ['Nowhere licence 1.0'], 'the licence follows the install');
    await ensureFontPackages(packages, { install: async () => assert.fail('installed already: nothing to ask') });
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});

test('an unpaired task carries the labels of its synthetic domain A along with its images', () => {
  const a = { name: 'synthetic', values: new Uint8Array(3 * 4), shape: [2, 2, 1], count: 3, labels: Int32Array.from([4, 5, 6]) };
  const b = { name: 'real', values: new Uint8Array(2 * 4), shape: [2, 2, 1], count: 2 };
  const src = translationSource({ name: 'unpaired:synthetic,real', a, b, pairing: 'unpaired' });
  assert.deepEqual(Array.from(src.inputs!.labels!), [4, 5, 6]);
  assert.equal(src.labels, undefined, 'B, the real domain, has none');
});
