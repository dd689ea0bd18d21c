// pix2pix's and CycleGAN's training steps run on aten with no CPU-fallback kernel, forward, backward and Adam,
// and give the cpu backend's losses (two steps from the same weights, dropout masks and images).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, installFastCpuKernels, silenceTfjsNodeAdvert, uninstallFastCpuKernels } from '../../src/backend/index.js';
import {
  buildCyclegan, buildPix2pix, cycleganStep, disposeNets, imagePair, pix2pixStep, type StepLosses, type TranslateNets,
} from '../../bench/translate_step.js';
import { Rng } from '../../src/util/rng.js';

const info = await initBackend({ quiet: true });
const skip = info.name !== 'aten' ? 'the aten backend is not built here' : false;
// Typed locally (the package may be unbuilt, see src/backend/index.ts).
const aten = skip ? null : (await import('tfjs-backend-aten' as string)) as { atenFallbackKernels(): string[] };

// The reference run on cpu uses ganforge's fast convolution kernels (tfjs's own take minutes per step).
before(() => {
  installFastCpuKernels();
  silenceTfjsNodeAdvert(); // its tfjs-node advert is noise here
});
after(() => uninstallFastCpuKernels());

type Family = { build: (size: number) => TranslateNets; step: typeof pix2pixStep };
const FAMILIES: Record<string, Family> = {
  // 32 px: U-Net depth 5, PatchGAN n = 1; batch norm, dropout, concat skips, BCE + L1.
  pix2pix: { build: (size) => buildPix2pix({ size, ngf: 8, ndf: 8, seed: 1 }), step: pix2pixStep },
  // 32 px: two ResNet generators with 2 blocks, two PatchGANs; instance norm, reflection padding, LSGAN + cycle L1.
  cyclegan: { build: (size) => buildCyclegan({ size, ngf: 8, ndf: 8, nBlocks: 2, seed: 2 }), step: cycleganStep },
};

/** Math.random drives tfjs's unseeded dropout masks; replacing it makes them the same on both backends. */
function withSeededRandom<T>(seed: number, f: () => T): T {
  const original = Math.random;
  const rng = new Rng(seed);
  Math.random = () => rng.uniform();
  try {
    return f();
  } finally {
    Math.random = original;
  }
}

/** Two steps from `weights` (or fresh ones); returns the losses and the starting weights (caller disposes). */
async function twoSteps(backend: string, family: Family, weights: tf.Tensor[][] | null) {
  await tf.setBackend(backend);
  const nets = family.build(32);
  const models = [...nets.generators, ...nets.discriminators];
  if (weights) models.forEach((m, i) => m.setWeights(weights[i]));
  const snapshot = models.map((m) => m.getWeights().map((w) => tf.tensor(w.dataSync(), w.shape)));
  const [a, b] = imagePair(2, 32, 3);
  const losses: StepLosses[] = withSeededRandom(4, () => [family.step(nets, a, b), family.step(nets, a, b)]);
  tf.dispose([a, b]);
  disposeNets(nets);
  return { losses, snapshot };
}

for (const [name, family] of Object.entries(FAMILIES)) {
  test(`${name} step at 32 px: no fallback kernels on aten, losses as on cpu`, { skip }, async () => {
    const tensors = tf.memory().numTensors;
    const cpu = await twoSteps('cpu', family, null);
    const before = aten!.atenFallbackKernels();
    const run = await twoSteps('aten', family, cpu.snapshot);
    const fellBack = aten!.atenFallbackKernels().filter((k) => !before.includes(k));
    assert.deepEqual(fellBack, [], `${name}: kernels that ran on the CPU fallback`);
    console.log(`${name} losses [G, D]: cpu`, cpu.losses, 'aten', run.losses);
    run.losses.forEach((l, step) => {
      const tol = step === 0 ? 1e-4 : 2e-3; // after one Adam update float32 summation order shows
      for (const k of ['lossG', 'lossD'] as const) {
        assert.ok(Math.abs(l[k] - cpu.losses[step][k]) <= tol * Math.max(1, Math.abs(cpu.losses[step][k])), `${k} at step ${step + 1}: aten ${l[k]} vs cpu ${cpu.losses[step][k]}`);
      }
    });
    tf.dispose([...cpu.snapshot.flat(), ...run.snapshot.flat()]);
    assert.equal(tf.memory().numTensors, tensors, 'the steps release every tensor');
  });
}
