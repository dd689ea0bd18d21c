// The browser's style core (src/studio/style_core.ts) against the server's definitions on the same tiny style
// space: its seeds draw the CLI's latents, and after a round trip through the exported files its truncation,
// style mixing and interpolation give the pixels src/gan/sampling.ts and style_mixing.ts give (tfjs cpu, Node).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { broadcastW as serverBroadcastW, latents, oneHotLabels, truncatedLatents, truncateW as serverTruncateW } from '../../src/gan/sampling.js';
import { styleMixGrid } from '../../src/gan/style_mixing.js';
import type { StyleSpace } from '../../src/gan/family.js';
import type { ModelFiles } from '../../src/gan/model_io.js';
import { seedLatents, truncatedSeedLatents, type GeneratorManifest, type TF } from '../../src/studio/generator_core.js';
import { broadcastW, interpolateW, layerPresets, loadStyleGenerator, mixGrid, mixW, noiseMaps, type StyleGenerator } from '../../src/studio/style_core.js';
import { styleExport, type StyleExport } from '../../src/studio/style_export.js';
import { Rng } from '../../src/util/rng.js';
import { resolveFamilyConfig } from '../../src/gan/config.js';
import type { DatasetInfo } from '../../src/data/types.js';
import { allNetworks } from '../../src/gan/family.js';
import { MODELS } from '../../src/models/registry.js';
import { NoiseInjection } from '../../src/nn/synthesis_inputs.js';
import { SIDE, Z, tinyStyleSpace } from './style_helpers.js';

await tf.setBackend('cpu');
const SHAPE: [number, number, number] = [SIDE, SIDE, 3];

/** TF.js whose loadLayersModel reads the exported files from memory, as a page fetches them by URL. */
function browserTf(files: StyleExport['files'], requested: string[]): TF {
  const loadLayersModel = (url: string) => {
    requested.push(url);
    const part = /^mem:\/\/run\/(mapping|synthesis)\/model\.json$/.exec(url)?.[1] as 'mapping' | 'synthesis' | undefined;
    if (!part) throw new Error(`no such file ${url}`);
    const f: ModelFiles = files[part];
    const json = JSON.parse(f['model.json'].toString('utf8')) as tf.io.ModelJSON;
    const bin = f['weights.bin'];
    return tfl.loadLayersModel(tf.io.fromMemory({
      modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
    }));
  };
  return { ...tf, loadLayersModel } as unknown as TF;
}

function manifestFor(exp: StyleExport, numClasses: number): GeneratorManifest {
  return {
    format: 'ganforge-generator', version: 1, model: 'tiny', data: 'tiny', checkpoint: 'step-000001', step: 1, condition: numClasses ? 'class' : 'none',
    latentDim: Z, shapes: { output: SHAPE }, numClasses, trainingMode: false, truncation: 'w', style: exp.style,
  };
}

async function load(space: StyleSpace, numClasses = 0): Promise<{ g: StyleGenerator; exp: StyleExport; requested: string[] }> {
  const exp = (await styleExport(space, numClasses, { mapping: 'mapping', synthesis: 'synthesis' }))!;
  const requested: string[] = [];
  const g = await loadStyleGenerator(browserTf(exp.files, requested), 'mem://run', manifestFor(exp, numClasses));
  return { g, exp, requested };
}

/** Server images [-1, 1] → the page's 0..1. */
const to01 = (v: Float32Array | number[]) => Float32Array.from(v, (x) => Math.min(1, Math.max(0, (x + 1) / 2)));

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'lengths');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const image = (pixels: Float32Array, i: number) => pixels.subarray(i * SIDE * SIDE * 3, (i + 1) * SIDE * SIDE * 3);

/** The server's synthesis of w [n, wDim] (truncated when ψ ≠ 1) with explicit noise maps from `noiseSeed`. */
function serverImages(space: StyleSpace, z: Float32Array, opts: { psi?: number; noiseSeed: number; classes?: number[]; numClasses?: number }): Float32Array {
  return to01(tf.tidy(() => {
    const n = z.length / space.zDim;
    const c = opts.classes ? oneHotLabels(opts.classes, opts.numClasses!) : undefined;
    let w = space.mapping(tf.tensor2d(z, [n, space.zDim]), c);
    if (opts.psi !== undefined && opts.psi !== 1) w = serverTruncateW(w, space.meanW(c), opts.psi);
    const noise = noiseMaps(opts.noiseSeed, space.noiseShapes).map((m, i) => tf.tensor4d(m, [1, ...space.noiseShapes[i], 1]));
    return space.synthesis(serverBroadcastW(w, space.numWs), { noise });
  }).dataSync() as Float32Array);
}

test('the page draws the latents the CLI draws: one stream per seed, and BigGAN truncation', () => {
  for (const seed of [0, 1, 7, 123456789, 2 ** 32 - 1]) {
    assert.deepEqual(seedLatents([seed], 13), tf.tidy(() => latents(new Rng(seed), 1, 13)).dataSync(), `seed ${seed}`);
    assert.deepEqual(truncatedSeedLatents([seed], 50, 0.7), tf.tidy(() => truncatedLatents(new Rng(seed), 1, 50, 0.7)).dataSync(), `truncated, seed ${seed}`);
  }
  const two = seedLatents([3, 4], 5);
  assert.deepEqual(two.subarray(5), seedLatents([4], 5), 'each seed its own stream');
  assert.ok(Math.max(...truncatedSeedLatents([9], 4000, 1).map(Math.abs)) <= 2, 'values beyond ±2 are redrawn');
});

test('pure w arithmetic: w+, mixing, layer presets', () => {
  const [a, b] = [Float32Array.of(1, 2), Float32Array.of(3, 4)];
  assert.deepEqual([...broadcastW(Float32Array.of(1, 2, 3, 4), 3, 2)], [1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4]);
  assert.deepEqual([...mixW(a, b, [1, 2], 4)], [1, 2, 3, 4, 3, 4, 1, 2]);
  assert.deepEqual(layerPresets({ resolutions: [4, 4, 8, 8, 16, 16] }), [{ name: 'coarse', range: [0, 3] }, { name: 'middle', range: [4, 5] }]);
  assert.deepEqual(layerPresets({ resolutions: [4, 4, 8, 8, 16, 16, 32, 32, 64, 64, 128, 128] }).map((p) => p.range), [[0, 3], [4, 7], [8, 11]]);
});

test('exported halves in the page = the server: mapping, truncation in w, mixing grid, interpolation, flat tensors', async () => {
  const space = tinyStyleSpace(1);
  const { g, exp, requested } = await load(space);
  try {
    assert.deepEqual(requested, ['mem://run/mapping/model.json', 'mem://run/synthesis/model.json']);
    assert.deepEqual(exp.style.noiseShapes, [[4, 4], [8, 8], [8, 8], [16, 16], [16, 16]]);
    assert.deepEqual(exp.style.meanW, tf.tidy(() => space.meanW().arraySync()));
    const z = seedLatents([3, 4, 5], Z);
    const serverW = tf.tidy(() => space.mapping(tf.tensor2d(z, [3, Z])).dataSync());
    assert.ok(maxDiff(await g.mapping(z), serverW) < 1e-6, 'mapping');

    // Truncation: the page's w̄ + ψ(w − w̄) and pinned noise give the server's pixels.
    const truncated = await g.generate(z, { truncation: 0.6, noise: 9 });
    assert.ok(maxDiff(truncated, serverImages(space, z, { psi: 0.6, noiseSeed: 9 })) < 1e-5, 'ψ = 0.6');
    const plain = await g.generate(z, { noise: 9 });
    assert.ok(maxDiff(plain, serverImages(space, z, { noiseSeed: 9 })) < 1e-5, 'ψ = 1');
    assert.ok(maxDiff(truncated, plain) > 0.01, 'ψ changes the images');
    assert.ok(maxDiff(plain, await g.generate(z, { noise: 10 })) > 0.01, 'the noise seed changes them too');

    // ψ = 0: every seed is the mean w's image.
    const mean = await g.generate(z, { truncation: 0, noise: 9 });
    const meanImage = await g.synthesize(broadcastW(g.meanW(), exp.style.numWs), { noise: 9 });
    for (let i = 0; i < 3; i++) assert.ok(maxDiff(image(mean, i), meanImage) < 1e-6, `ψ = 0, seed ${i}`);

    // The mixing grid of `sample --style-mix 1,2 3,4,5 --mix-layers 0-3 --truncation 0.7`, cell by cell.
    const request = { rows: [1, 2], cols: [3, 4, 5], layers: [0, 3] as [number, number], truncation: 0.7 };
    const server = to01(styleMixGrid(space, request, SHAPE).values);
    const page = await mixGrid(g, request);
    const at = (r: number, c: number) => image(server, r * 4 + c); // (rows + 1) × (cols + 1), blank top-left
    for (let c = 0; c < 3; c++) assert.ok(maxDiff(image(page.top, c), at(0, c + 1)) < 1e-5, `top ${c}`);
    for (let r = 0; r < 2; r++) {
      assert.ok(maxDiff(image(page.left, r), at(r + 1, 0)) < 1e-5, `left ${r}`);
      for (let c = 0; c < 3; c++) {
        assert.ok(maxDiff(image(page.cells, r * 3 + c), at(r + 1, c + 1)) < 1e-5, `cell ${r},${c}`);
        assert.ok(maxDiff(image(page.cells, r * 3 + c), image(page.left, r)) > 0.01, `cell ${r},${c} differs from its row`);
      }
    }
    // Taking every style input from the column gives the column's image.
    const all = await mixGrid(g, { ...request, layers: [0, 5] });
    for (let c = 0; c < 3; c++) assert.ok(maxDiff(image(all.cells, 3 + c), image(all.top, c)) < 1e-6, `all inputs from column ${c}`);
    await assert.rejects(mixGrid(g, { ...request, layers: [2, 6] }), /outside the network's 0–5/);

    // Interpolation in W: the ends are the seeds' images, the middle is w̄-free lerp of their w.
    const strip = await interpolateW(g, 1, 2, 3, { truncation: 0.8, noise: 0 });
    const ends = await g.generate(seedLatents([1, 2], Z), { truncation: 0.8, noise: 0 });
    assert.ok(maxDiff(image(strip, 0), image(ends, 0)) < 1e-6 && maxDiff(image(strip, 2), image(ends, 1)) < 1e-6, 'ends');
    assert.ok(maxDiff(image(strip, 1), image(ends, 0)) > 0.01 && maxDiff(image(strip, 1), image(ends, 1)) > 0.01, 'a middle of its own');

    const before = tf.memory().numTensors;
    await g.generate(z, { truncation: 0.5, noise: 'zero' });
    await mixGrid(g, request);
    assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
  } finally {
    g.dispose();
    space.dispose();
  }
});

test('conditional mapping: w̄ per class, the label moves the images, and the grid matches --class', async () => {
  const space = tinyStyleSpace(2, 3);
  const { g, exp } = await load(space, 3);
  try {
    assert.equal(exp.style.meanW.length, 3);
    assert.deepEqual(exp.style.meanW[2], tf.tidy(() => space.meanW(oneHotLabels([2], 3)).arraySync()[0]));
    const z = seedLatents([1, 2, 3], Z);
    const perSample = await g.generate(z, { truncation: 0.5, label: [0, 1, 2], noise: 4 });
    assert.ok(maxDiff(perSample, serverImages(space, z, { psi: 0.5, noiseSeed: 4, classes: [0, 1, 2], numClasses: 3 })) < 1e-5, 'a class per sample');
    const [zero, one] = [await g.generate(z, { label: 0, noise: 4 }), await g.generate(z, { label: 1, noise: 4 })];
    assert.ok(maxDiff(zero, one) > 0.01, 'the class changes the images');
    const request = { rows: [5, 6], cols: [7], layers: [4, 5] as [number, number], truncation: 0.9, label: 1 };
    const server = to01(styleMixGrid(space, request, SHAPE, oneHotLabels([1], 3)).values);
    const page = await mixGrid(g, request);
    assert.ok(maxDiff(image(page.cells, 1), image(server, 5)) < 1e-5, 'cell 1,0 under class 1');
  } finally {
    g.dispose();
    space.dispose();
  }
});

test('a manifest whose noise inputs are not the network\'s is refused on load', async () => {
  const space = tinyStyleSpace(3);
  const exp = (await styleExport(space, 0, { mapping: 'mapping', synthesis: 'synthesis' }))!;
  try {
    const info = manifestFor({ ...exp, style: { ...exp.style, noiseShapes: exp.style.noiseShapes.slice(1) } }, 0);
    await assert.rejects(loadStyleGenerator(browserTf(exp.files, []), 'mem://run', info), /noise inputs \(4×4, 8×8, 8×8, 16×16, 16×16\) are not the manifest's \(8×8/);
  } finally {
    space.dispose();
  }
});

// Every registered family with a style space, on fresh 16 px networks: its exported halves in the page give the
// pixels of its own StyleSpace (truncation and the mixing grid), with its noise inputs turned up so that their
// order matters.
for (const [name, family] of Object.entries(MODELS).filter(([, f]) => f.styleSpace)) {
  test(`${name}: the page on its exported halves = its style space on the server`, async (t) => {
    const classes = family.condition === 'class' ? 3 : 0;
    const data: DatasetInfo = { name: 'test', kind: 'image', shape: [16, 16, 3], ...(classes ? { numClasses: classes } : {}) };
    const config = resolveFamilyConfig(family.settings ?? {}, family.defaults(data), { model: name, latentDim: 16, width: 8 });
    const why = family.check(data, config);
    if (why) return t.skip(why);
    const nets = family.build(data, config, new Rng(5));
    const space = family.styleSpace!(nets, { config, data });
    assert.ok(space.models, `${name} declares a style space: it must provide its halves (StyleSpace.models)`);
    for (const l of space.models.synthesis.layers) if (l instanceof NoiseInjection) tf.tidy(() => l.setWeights([tf.scalar(0.5), l.getWeights()[1]]));
    const { g } = await load(space, classes);
    try {
      const z = seedLatents([1, 2], space.zDim);
      const label = classes ? [1, 2] : undefined;
      const page = await g.generate(z, { truncation: 0.7, noise: 3, label });
      assert.ok(maxDiff(page, serverImages(space, z, { psi: 0.7, noiseSeed: 3, classes: label, numClasses: classes })) < 1e-4, 'ψ = 0.7');
      const request = { rows: [1, 2], cols: [3], layers: [0, 1] as [number, number], truncation: 0.8, label: classes ? 1 : undefined };
      const server = to01(styleMixGrid(space, request, data.shape, classes ? oneHotLabels([1], classes) : undefined).values);
      const grid = await mixGrid(g, request);
      for (let r = 0; r < 2; r++) assert.ok(maxDiff(image(grid.cells, r), image(server, 2 * r + 3)) < 1e-4, `cell ${r},0`);
    } finally {
      g.dispose();
      for (const [, m] of allNetworks(nets)) m.dispose();
    }
  });
}
