// The commands that read a generator's latent space, end to end on a tiny stylegan2 run from the CLI:
// `project` writes a latent of the right shape, a reconstruction, a progress strip and its report; `eval
// --metrics ppl` prints a finite PPL with its ε and distance; `eval --truncation-curve` writes the plot and the
// numbers, one point per ψ; and the bad inputs are refused by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { decodeNpy } from '../../src/io/npy.js';
import { fails, ok } from './helpers.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

test('stylegan2 run → project (w, w+), eval --metrics ppl, eval --truncation-curve', async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-style-tools-'));
  try {
    await ok(['train', 'stylegan2', '--data', 'mnist', '--image-size', '16', '--data-limit', '128', '--steps', '12', '--batch-size', '8',
      '--width', '8', '--max-width', '16', '--w-dim', '16', '--latent-dim', '16', '--mapping-layers', '2', '--out', 'run'], tmp);
    // A colour photo of another size: centre-cropped, resized and made grey for this 16×16×1 generator.
    await sharp({ create: { width: 40, height: 30, channels: 3, background: '#c04020' } }).png().toFile(path.join(tmp, 'photo.png'));

    const proj = await ok(['project', 'run', 'photo.png', '--out', 'proj', '--steps', '20'], tmp);
    assert.match(proj.stderr, /projected photo\.png into w \(20 steps\): perceptual distance [\d.]+, PSNR [\d.]+ dB/);
    const latent = decodeNpy(await fs.readFile(path.join(tmp, 'proj', 'latent.npy')));
    assert.deepEqual(latent.shape, [1, 16]);
    assert.ok(Array.from(latent.data).every(Number.isFinite));
    const report = JSON.parse(await fs.readFile(path.join(tmp, 'proj', 'projection.json'), 'utf8'));
    assert.equal(report.latent, 'w');
    assert.ok(Number.isFinite(report.perceptualDistance) && Number.isFinite(report.psnr));
    const strip = await sharp(path.join(tmp, 'proj', 'progress.png')).metadata();
    assert.ok(strip.width! > 6 * strip.height!, `progress strip ${strip.width}×${strip.height}: target + snapshots + final in one row`);
    await ok(['project', 'run', 'photo.png', '--out', 'projplus', '--steps', '5', '--w-plus'], tmp);
    assert.deepEqual(decodeNpy(await fs.readFile(path.join(tmp, 'projplus', 'latent.npy'))).shape, [1, 6, 16], 'w+: one w per style input (6 at 16 px)');

    const ppl = await ok(['eval', 'run', '--metrics', 'ppl', '--count', '64', '--json'], tmp);
    const r = JSON.parse(ppl.stdout.trim());
    assert.equal(r.metric, 'ppl');
    assert.ok(Number.isFinite(r.values.ppl) && r.values.ppl >= 0, `ppl ${r.values.ppl}`);
    assert.equal(r.protocol.epsilon, 1e-4);
    assert.match(String(r.protocol.distance), /cifar10/);

    const curve = await ok(['eval', 'run', '--truncation-curve', '0.5,1', '--ref', 'mnist:test', '--count', '100', '--plot', 'curve.png'], tmp);
    assert.match(curve.stdout, /ψ 0\.5: precision [\d.]+ recall [\d.]+/);
    assert.deepEqual((await fs.readFile(path.join(tmp, 'curve.png'))).subarray(0, 8), PNG_SIGNATURE);
    const points = JSON.parse(await fs.readFile(path.join(tmp, 'curve.json'), 'utf8')).points as { psi: number; precision: number }[];
    assert.deepEqual(points.map((p) => p.psi), [0.5, 1]);

    await fails(['eval', 'run', '--truncation-curve', '0.5,2', '--ref', 'mnist:test', '--plot', 'c.png'], tmp, /--truncation must be in \(0, 1\]/);
    await fails(['eval', 'run', '--truncation-curve', '0.5,1', '--ref', 'mnist:test'], tmp, /needs --plot FILE\.png/);
    await fails(['project', 'run', 'missing.png', '--out', 'p2'], tmp, /image not found: missing\.png/);
    await fs.writeFile(path.join(tmp, 'broken.png'), 'not an image');
    await fails(['project', 'run', 'broken.png', '--out', 'p3'], tmp, /cannot read image 'broken\.png'/);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});
