import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../../src/backend/index.js';
import { loadImageFolder } from '../../src/data/image_folder.js';
import { classifierDir } from '../../src/metrics/classifier.js';
import { evaluateSets, formatResult, resolveNet, type SampleSet } from '../../src/metrics/evaluate.js';
import { fidFromFeatures } from '../../src/metrics/fid.js';
import { CIFAR10_CAVEAT, loadClassifierNet } from '../../src/metrics/features.js';
import { augmentedBatch } from '../../src/metrics/train_feature_net.js';
import { Rng } from '../../src/util/rng.js';

await initBackend({ quiet: true }); // aten when built: the backend the shipped net is used on

// Set-up: 50 test images per class (500) from the CIFAR-10 tarball of this workplace, or from an unpacked
// folder in $GANFORGE_CIFAR10; without either the tests that need images are skipped, saying why.
const tarball = process.env.GANFORGE_CIFAR10_TAR ?? fileURLToPath(new URL('../../../../shared/datasets/cifar10-jpeg.tar.gz', import.meta.url));
function cifarTestFolder(): string | undefined {
  if (process.env.GANFORGE_CIFAR10) return join(process.env.GANFORGE_CIFAR10, 'test');
  if (!existsSync(tarball)) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'cifar10-'));
  execFileSync('tar', ['-xzf', tarball, '-C', dir, '--wildcards', 'test/*/00[0-4]?.jpg']);
  return join(dir, 'test');
}
const folder = cifarTestFolder();
const skip = folder ? false : `no CIFAR-10 images: set GANFORGE_CIFAR10 (unpacked folder) or GANFORGE_CIFAR10_TAR (${tarball} is missing)`;
const images = folder ? await loadImageFolder(folder, { limit: 500 }) : undefined;
const set = (values: Uint8Array | Float32Array, n: number, source: string, h = 32, w = 32) => ({ kind: 'image' as const, source, values, n, h, w, c: 3 }) satisfies SampleSet;

test('the shipped CIFAR-10 net loads, its weights hash matches training.json, it is named as such', async () => {
  const dir = classifierDir('cifar10');
  const record = JSON.parse(readFileSync(join(dir, 'training.json'), 'utf8')) as { weightsSha256: string; testAccuracy: number; input: string };
  const sha = createHash('sha256').update(readFileSync(join(dir, 'weights.bin'))).digest('hex');
  assert.equal(sha, record.weightsSha256);
  assert.equal(record.input, 'float32 [N, 32, 32, 3] in [-1, 1]');
  const net = await loadClassifierNet('cifar10');
  assert.equal(net.info.name, 'ganforge-cifar10-cnn');
  assert.equal(net.info.weightsSha256, sha.slice(0, 12));
  assert.deepEqual(net.info.inputShape, [32, 32, 3]);
  assert.equal(net.info.featureDim, 128);
  assert.equal(net.info.classes, 10);
  assert.equal(net.info.caveat, CIFAR10_CAVEAT);
  net.dispose();
});

test('it classifies CIFAR-10 test images far above chance (10 %), and every feature unit is in use', { skip }, async () => {
  const net = await loadClassifierNet('cifar10');
  const { logits, features } = net.embed(set(images!.values, images!.count, 'cifar10 test'));
  // A unit that is 0 on every image adds nothing to FID; a dense+ReLU 'features' layer once had 105 such.
  const dead = Array.from({ length: 128 }, (_, j) => j).filter((j) => features.every((v, i) => i % 128 !== j || v === 0));
  assert.ok(dead.length <= 5, `${dead.length} of 128 feature units are 0 on all ${images!.count} images`);
  let correct = 0;
  for (let i = 0; i < images!.count; i++) {
    const row = Array.from(logits!.subarray(i * 10, i * 10 + 10));
    if (row.indexOf(Math.max(...row)) === images!.labels![i]) correct++;
  }
  // The training.json accuracy is on all 10,000; 500 images vary by about ±2 %.
  assert.ok(correct / images!.count > 0.6, `accuracy on ${images!.count} test images: ${correct / images!.count}`);
  net.dispose();
});

test('FID with the CIFAR-10 features: ≈ 0 for a set with itself, growing with added noise', { skip }, async () => {
  const net = await loadClassifierNet('cifar10');
  const n = images!.count;
  const clean = Float32Array.from(images!.values, (v) => v / 127.5 - 1);
  const rng = new Rng(3);
  const noisy = (sigma: number) => Float32Array.from(clean, (v) => Math.max(-1, Math.min(1, v + sigma * rng.normal())));
  const ref = net.embed(set(clean, n, 'clean')).features;
  const fid = (sigma: number) => fidFromFeatures(ref, n, sigma === 0 ? ref : net.embed(set(noisy(sigma), n, `σ ${sigma}`)).features, n, 128).fid;
  const [f0, f1, f2, f3] = [0, 0.05, 0.15, 0.4].map(fid);
  assert.ok(f0 < 1e-3, `FID(x, x) = ${f0}`);
  assert.ok(f0 < f1 && f1 < f2 && f2 < f3, `FID under noise σ 0.05, 0.15, 0.4: ${f1}, ${f2}, ${f3}`);
  net.dispose();
});

test('RGB without Inception weights: the CIFAR-10 net by default, other sizes resized to 32×32, named in the output', { skip }, async () => {
  const saved = process.env.GANFORGE_INCEPTION_WEIGHTS;
  delete process.env.GANFORGE_INCEPTION_WEIGHTS;
  try {
    const n = 100;
    const real = set(images!.values.subarray(0, n * 3072), n, 'folder:test');
    // 64×64 "generated" images: each CIFAR image upsampled by pixel doubling.
    const big = new Uint8Array(n * 64 * 64 * 3);
    for (let i = 0; i < big.length; i++) {
      const c = i % 3, x = Math.floor(i / 3) % 64, y = Math.floor(i / 192) % 64, b = Math.floor(i / (64 * 64 * 3));
      big[i] = images!.values[b * 3072 + ((y >> 1) * 32 + (x >> 1)) * 3 + c];
    }
    const net = await resolveNet({}, { c: 3 }, 'folder:test');
    assert.equal(net.info.name, 'ganforge-cifar10-cnn');
    const [fid] = evaluateSets(set(big, n, 'big.npy', 64, 64), real, net, { name: 'folder:test', selection: 'first 100' }, { metrics: 'fid' });
    assert.equal(fid.protocol.featureNet, 'ganforge-cifar10-cnn');
    assert.equal(fid.protocol.features, 'ganforge CIFAR-10 features, not Inception');
    assert.equal(fid.protocol.referenceResize, 'none');
    assert.equal(fid.protocol.generatedResize, 'bilinear (half-pixel centres) 64×64→32×32');
    assert.match(formatResult(fid), /^FID \(ganforge CIFAR-10 features, not Inception\) fid=/);
    net.dispose();
  } finally {
    if (saved !== undefined) process.env.GANFORGE_INCEPTION_WEIGHTS = saved;
  }
});

test('training augmentation: every image is its shift by ≤ pad pixels (zero-filled), mirrored or not; both occur', () => {
  const h = 5, w = 6, c = 2, pad = 2, n = 40;
  const values = Uint8Array.from({ length: n * h * w * c }, (_, i) => (i * 37) % 256);
  const got = augmentedBatch(values, Array.from({ length: n }, (_, i) => i), [h, w, c], pad, new Rng(1));
  const out = got.dataSync();
  got.dispose();
  const seen = new Set<string>();
  for (let b = 0; b < n; b++) {
    const match = (dy: number, dx: number, flip: boolean) => {
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) {
        const sy = y + dy, sx = (flip ? w - 1 - x : x) + dx;
        const want = sy < 0 || sy >= h || sx < 0 || sx >= w ? 0 : values[((b * h + sy) * w + sx) * c + k] / 127.5 - 1;
        if (Math.abs(out[((b * h + y) * w + x) * c + k] - want) > 1e-6) return false;
      }
      return true;
    };
    const found = [-2, -1, 0, 1, 2].flatMap((dy) => [-2, -1, 0, 1, 2].flatMap((dx) => [false, true].filter((f) => match(dy, dx, f)).map((f) => `${dy},${dx},${f}`)));
    assert.ok(found.length > 0, `image ${b} is no shift/flip of its source`);
    seen.add(found[0].split(',')[2]);
  }
  assert.deepEqual([...seen].sort(), ['false', 'true']);
});
