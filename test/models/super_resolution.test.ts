import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.js';
import { getModel } from '../../src/models/registry.js';
import { resolveFamilyConfig, type RunConfig } from '../../src/gan/config.js';
import { disposeState, freshState, runStep, type StepState } from '../../src/gan/training_step.js';
import type { StepContext } from '../../src/gan/family.js';
import { sampleFamily, progressPicture } from '../../src/gan/sampling.js';
import { loadCheckpoint, loadSamplingNetworks, readCheckpointState, resolveCheckpoint } from '../../src/gan/checkpoint.js';
import { interpolateRuns } from '../../src/gan/interpolate.js';
import { loadModel } from '../../src/gan/model_io.js';
import { startRun, resumeRun } from '../../src/run.js';
import type { ArraySource } from '../../src/data/types.js';
import { PixelShuffle2x, pixelShuffle2x } from '../../src/nn/sr_layers.js';
import { ContentNetwork } from '../../src/models/nets/content_net.js';
import { srResNetStep } from '../../src/models/srresnet.js';
import { Rng } from '../../src/util/rng.js';
import { UserError } from '../../src/util/errors.js';

const info = await initBackend({ quiet: true });
const aten = info.name === 'aten' ? ((await import('tfjs-backend-aten' as string)) as { atenFallbackKernels(): string[] }) : null;

/**
 * Super-resolution pairs: targets are smooth random images (a few blurred blobs) of `size` px, inputs the same
 * images box-downsampled by `scale` (the mean of each scale×scale cell), both uint8.
 */
function srPairs(n: number, size: number, scale: number, channels = 3, seed = 1): ArraySource {
  const rng = new Rng(seed);
  const small = size / scale;
  const hr = new Uint8Array(n * size * size * channels);
  const lr = new Uint8Array(n * small * small * channels);
  for (let i = 0; i < n; i++) {
    const blobs = Array.from({ length: 3 }, () => [rng.uniform() * size, rng.uniform() * size, 2 + rng.uniform() * size / 4, rng.uniform()]);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) for (let c = 0; c < channels; c++) {
      let v = 0;
      for (const [by, bx, r, a] of blobs) v += a * Math.exp(-((y - by) ** 2 + (x - bx) ** 2) / (r * r)) * (1 + 0.3 * c);
      hr[((i * size + y) * size + x) * channels + c] = Math.min(255, Math.round(255 * v));
    }
    for (let y = 0; y < small; y++) for (let x = 0; x < small; x++) for (let c = 0; c < channels; c++) {
      let sum = 0;
      for (let dy = 0; dy < scale; dy++) for (let dx = 0; dx < scale; dx++) sum += hr[((i * size + y * scale + dy) * size + x * scale + dx) * channels + c];
      lr[((i * small + y) * small + x) * channels + c] = Math.round(sum / (scale * scale));
    }
  }
  return {
    kind: 'array', count: n, values: hr,
    info: { name: `sr-x${scale}`, kind: 'image', shape: [size, size, channels], count: n, input: { shape: [small, small, channels], pairing: 'paired', domains: ['lowres', 'highres'] } },
    inputs: { values: lr, count: n },
  };
}

/** Tiny networks for every SR family. */
const TINY = { width: 8, blocks: 1, growth: 4, dWidth: 4, dDense: 8, batchSize: 4, seed: 3 };

/** TINY's settings that `model` has (D's only for the families with one), plus `overrides`. */
function tinyFor(model: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const own = getModel(model).settings ?? {};
  return { ...Object.fromEntries(Object.entries(TINY).filter(([k]) => k in own || ['width', 'batchSize', 'seed'].includes(k))), ...overrides };
}

function configFor(model: string, source: ArraySource, overrides: Record<string, unknown> = {}): RunConfig {
  const family = getModel(model);
  return resolveFamilyConfig(family.settings ?? {}, family.defaults(source.info), { model, ...tinyFor(model, overrides) } as Partial<RunConfig>);
}

/** `steps` steps with a flat tensor count from step 2 on and every reported number finite. */
function trainFor(state: StepState, steps: number) {
  const stats = [];
  let settled = -1;
  for (let i = 0; i < steps; i++) {
    stats.push(runStep(state));
    if (i === 1) settled = tf.memory().numTensors;
  }
  assert.equal(tf.memory().numTensors, settled, 'no tensors leak from step 2 on');
  for (const s of stats) for (const [k, v] of Object.entries({ ...s, ...s.extra })) if (typeof v === 'number') assert.ok(Number.isFinite(v), `${k} = ${v}`);
  return stats;
}

/** The kernels that fell back to the CPU backend while `f` ran (aten only): a training step must have none. */
function newFallbacks(f: () => void): string[] {
  const before = aten?.atenFallbackKernels() ?? [];
  f();
  return (aten?.atenFallbackKernels() ?? []).filter((k) => !before.includes(k));
}

const floats = (u: Uint8Array, shape: number[]) => tf.tensor(Float32Array.from(u, (v) => v / 127.5 - 1), shape);

test('pixel shuffle: out[2h + i, 2w + j, c] = in[h, w, (2i + j)·C + c], as tf.depthToSpace; the layer doubles H and W', () => {
  // One pixel, C = 2: channels [0..7] → a 2×2×2 block.
  const x = tf.tensor4d([0, 1, 2, 3, 4, 5, 6, 7], [1, 1, 1, 8]);
  const y = pixelShuffle2x(x);
  assert.deepEqual(y.shape, [1, 2, 2, 2]);
  assert.deepEqual(Array.from(y.dataSync()), [0, 1, 2, 3, 4, 5, 6, 7], 'row 0: (i=0,j=0) channels 0,1 then (0,1) 2,3; row 1: (1,0) 4,5, (1,1) 6,7');
  const r = tf.randomNormal([2, 3, 5, 12], 0, 1, 'float32', 7) as tf.Tensor4D;
  const ours = pixelShuffle2x(r);
  const theirs = tf.depthToSpace(r, 2, 'NHWC');
  assert.equal(tf.max(tf.abs(tf.sub(ours, theirs))).dataSync()[0], 0);
  const layer = new PixelShuffle2x();
  assert.deepEqual(layer.computeOutputShape([null, 3, 5, 12]), [null, 6, 10, 3]);
  tf.dispose([x, y, r, ours, theirs]);
});

test("srgan and esrgan share the content flags with the papers' values each: relu3 ×1/12.75, 10⁻³ vs bn3 ×1, 5·10⁻³", () => {
  const source = srPairs(2, 16, 2);
  const pick = (c: RunConfig) => { const o = c as unknown as Record<string, unknown>; return [o.contentLayer, o.contentScale, o.advWeight, c.loss]; };
  assert.deepEqual(pick(configFor('srgan', source)), ['relu3', 1 / 12.75, 1e-3, 'non-saturating']);
  assert.deepEqual(pick(configFor('esrgan', source)), ['bn3', 1, 5e-3, 'relativistic-average']);
  assert.deepEqual(pick(configFor('esrgan', source, { advWeight: 0.1, contentLayer: 'relu2' })).slice(0, 3), ['relu2', 1, 0.1], "the user's values win");
});

test('SR data: the scale is read from the shapes; same-size pairs and odd factors are refused naming lowres:', () => {
  for (const model of ['srresnet', 'srgan', 'esrgan']) {
    const family = getModel(model);
    const x4 = srPairs(2, 32, 4);
    assert.equal(family.check(x4.info, configFor(model, x4)), null);
    const same = { ...x4.info, input: { ...x4.info.input!, shape: [32, 32, 3] } };
    assert.match(family.check(same, configFor(model, x4))!, /factor 2, 4 or 8.*input 32×32×3 and target 32×32×3/s);
    assert.match(family.check(same, configFor(model, x4))!, /--data lowres:SPEC --scale/);
    const x3 = { ...x4.info, shape: [24, 24, 3], input: { ...x4.info.input!, shape: [8, 8, 3] } };
    assert.match(family.check(x3, configFor(model, x4))!, /factor 2, 4 or 8/);
    const unpaired = { ...x4.info, input: { ...x4.info.input!, pairing: 'unpaired' as const } };
    assert.match(family.check(unpaired, configFor(model, x4))!, /no paired input/);
  }
});

test('srresnet: no D, one player; s× output; the reported loss is the MSE of G(x) and y (and L1 with --pixel-loss l1); flat tensors', () => {
  for (const [scale, generator, pixelLoss] of [[2, 'srresnet', 'mse'], [4, 'rrdb', 'l1']] as const) {
    const source = srPairs(8, 16, scale);
    const config = configFor('srresnet', source, { generator, pixelLoss });
    const state = freshState(getModel('srresnet'), source, config);
    assert.equal(state.nets.discriminator, undefined);
    assert.equal(state.optimizers.d, undefined);
    assert.deepEqual(state.nets.generator.outputs[0].shape, [null, 16, 16, 3]);
    // The oracle: the loss of G on a batch, computed directly before the step, in training mode as the step runs it.
    const input = floats(source.inputs!.values.subarray(0, 4 * (16 / scale) ** 2 * 3), [4, 16 / scale, 16 / scale, 3]);
    const real = floats(source.values.subarray(0, 4 * 16 * 16 * 3) as Uint8Array, [4, 16, 16, 3]);
    const want = tf.tidy(() => {
      const d = tf.sub(state.nets.generator.apply(input, { training: true }) as tf.Tensor, real);
      return (pixelLoss === 'mse' ? tf.mean(tf.square(d)) : tf.mean(tf.abs(d))).dataSync()[0];
    });
    const stats = srResNetStep({ nets: state.nets, opt: state.optimizers, config, input, real } as unknown as StepContext);
    assert.ok(Math.abs(stats.lossG - want) < 1e-5 * Math.max(1, want), `${pixelLoss}: ${stats.lossG} vs direct ${want}`);
    assert.equal(stats.lossD, undefined);
    assert.equal(stats.extra![`loss/G_${pixelLoss}`], stats.lossG);
    tf.dispose([input, real]);
    let run: ReturnType<typeof trainFor> = [];
    assert.deepEqual(newFallbacks(() => (run = trainFor(state, 12))), [], `srresnet --generator ${generator}: CPU fallbacks in the step`);
    assert.ok(run[11].lossG < run[0].lossG, `pixel loss falls: ${run[0].lossG} → ${run[11].lossG}`);
    disposeState(state);
  }
});

test('srgan and esrgan: G, VGG-style D; content/perceptual and L1 terms reported; finite, flat; grey data works (replicated to RGB)', () => {
  for (const [model, terms] of [['srgan', ['loss/G_content', 'loss/G_GAN']], ['esrgan', ['loss/G_percep', 'loss/G_L1', 'loss/G_GAN']]] as const) {
    for (const channels of [3, 1]) {
      const source = srPairs(8, 16, 2, channels);
      const state = freshState(getModel(model), source, configFor(model, source));
      assert.ok(state.nets.discriminator);
      assert.deepEqual(state.nets.discriminator.outputs[0].shape, [null, 1]);
      let stats: ReturnType<typeof trainFor> = [];
      assert.deepEqual(newFallbacks(() => (stats = trainFor(state, 4))), [], `${model}: CPU fallbacks in the step`);
      for (const name of terms) assert.ok(name in stats[0].extra!, `${model}: ${name} reported`);
      assert.ok(stats[0].lossD! > 0);
      disposeState(state);
    }
  }
});

test('the content network: loaded synchronously, equal to the shipped model at the layer; grey = replicated RGB; scale multiplies', async () => {
  const net = ContentNetwork.load('', 'relu2', 1);
  const scaled = ContentNetwork.load('', 'relu2', 0.5);
  const reference = await loadModel(path.join(process.cwd(), 'assets/feature-nets/cifar10'));
  const sub = tfl.model({ inputs: reference.inputs, outputs: reference.getLayer('relu2').output as tfl.SymbolicTensor });
  const x = tf.randomUniform([2, 32, 32, 3], -1, 1, 'float32', 4);
  const grey = tf.randomUniform([2, 32, 32, 1], -1, 1, 'float32', 5);
  const diff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
  const ours = net.features(x);
  const theirs = sub.apply(x, { training: false }) as tf.Tensor;
  assert.ok(diff(ours, theirs) < 1e-5, `sync-loaded vs loadModel: ${diff(ours, theirs)}`);
  assert.ok(tf.max(ours).dataSync()[0] > 0, 'features are not all zero');
  const half = scaled.features(x);
  assert.ok(diff(half, tf.mul(ours, 0.5)) < 1e-6);
  const g = net.features(grey);
  const rgb = net.features(tf.tile(grey, [1, 1, 1, 3]));
  assert.equal(diff(g, rgb), 0);
  assert.deepEqual(net.features(tf.zeros([1, 16, 16, 3])).shape, [1, 8, 8, 64], 'any image size: relu2 of a 16² image is 8²');
  assert.throws(() => ContentNetwork.load('', 'nope', 1), (e: unknown) => e instanceof UserError && /--content-layer nope.*relu3/.test((e as Error).message));
  assert.throws(() => ContentNetwork.load('/nonexistent', 'relu2', 1), (e: unknown) => e instanceof UserError && /--content-net/.test((e as Error).message));
  tf.dispose([x, grey, ours, theirs, half, g, rgb]);
  net.dispose();
  scaled.dispose();
  reference.dispose();
});

test('generator-only runs end to end: checkpoint without D, resume bit-for-bit, sample and picture; --init copies G, refuses other families and other G settings; interpolate blends', async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-sr-'));
  try {
    const source = srPairs(16, 16, 2);
    const cfg = (model: string, out: string, extra: Record<string, unknown> = {}) =>
      ({ model, ...tinyFor(model), steps: 6, sampleEvery: 3, checkpointEvery: 3, logEvery: 1, out, ...extra }) as unknown as Partial<RunConfig>;
    const weightsOf = (m: tfl.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));
    const differing = (a: number[][], b: number[][]) => a.reduce((n, w, i) => n + w.filter((v, j) => v !== b[i][j]).length, 0);

    // Uninterrupted, and cut after step 3 then resumed: the same G, bit for bit.
    const psnr = path.join(tmp, 'psnr');
    const full = await startRun(cfg('srresnet', psnr), { source });
    await full.train();
    const want = weightsOf(full.parts.nets.generator);
    full.dispose();
    const state = await readCheckpointState(await resolveCheckpoint(psnr));
    assert.equal(state.extras?.noDiscriminator, true);
    await assert.rejects(fs.stat(path.join(await resolveCheckpoint(psnr), 'discriminator')));
    const cutDir = path.join(tmp, 'cut');
    const first = await startRun(cfg('srresnet', cutDir), { source });
    first.stats.subscribe((step) => {
      if (step === 3) first.requestStop();
    });
    await first.train();
    first.dispose();
    const second = await resumeRun(cutDir, { steps: 6, source });
    await second.train();
    assert.equal(differing(weightsOf(second.parts.nets.generator), want), 0, 'resumed G equals the uninterrupted one');
    second.dispose();
    assert.ok((await fs.readdir(path.join(psnr, 'samples'))).some((f) => f.endsWith('.png')));

    // Sampling a loaded run: low-res inputs in, 2× outputs; the picture is input | output | target.
    const loaded = await loadSamplingNetworks(psnr);
    const family = getModel('srresnet');
    const input = floats(source.inputs!.values.subarray(0, 3 * 8 * 8 * 3), [3, 8, 8, 3]);
    const out = sampleFamily(family, loaded.nets, { count: 3, seed: 0, input }, { config: loaded.state.config, data: loaded.state.data });
    assert.deepEqual([out.count, ...out.shape], [3, 16, 16, 3]);
    assert.ok(out.values.every((v) => v >= -1 && v <= 1));
    const batch = { x: floats(source.values.subarray(0, 2 * 16 * 16 * 3) as Uint8Array, [2, 16, 16, 3]), input: floats(source.inputs!.values.subarray(0, 2 * 8 * 8 * 3), [2, 8, 8, 3]) };
    const pic = progressPicture(family, loaded.nets, { z: tf.zeros([1, 1]) as tf.Tensor2D, batch }, { config: loaded.state.config, data: loaded.state.data });
    assert.deepEqual([pic.count, pic.cols, ...pic.shape], [6, 3, 16, 16, 3]);
    loaded.nets.generator.dispose();
    tf.dispose([input, batch.x, batch.input]);

    // --init: G starts as the srresnet run's G, weight for weight.
    const gan = path.join(tmp, 'srgan');
    const init = await startRun(cfg('srgan', gan, { init: psnr, steps: 2, sampleEvery: 0 }), { source });
    assert.equal(differing(weightsOf(init.parts.nets.generator), want), 0, "srgan's G starts as the srresnet run's");
    await init.train();
    init.dispose();
    // … and refuses a run of a family it does not start from, and a G of other settings, before writing a folder.
    await assert.rejects(startRun(cfg('esrgan', path.join(tmp, 'bad1'), { init: gan }), { source }), (e: unknown) => e instanceof UserError && /--init .*that is a srgan run, and esrgan starts from a run of srresnet/.test((e as Error).message));
    await assert.rejects(startRun(cfg('srgan', path.join(tmp, 'bad2'), { init: psnr, blocks: 2 }), { source }), (e: unknown) => e instanceof UserError && /--init .*generator has \d+ weights and this one \d+/.test((e as Error).message));
    await assert.rejects(startRun(cfg('esrgan', path.join(tmp, 'bad3'), { init: psnr }), { source }), (e: unknown) => e instanceof UserError && /--init /.test((e as Error).message), 'an srresnet-G run does not fit the RRDB G');
    for (const bad of ['bad1', 'bad2', 'bad3']) await assert.rejects(fs.stat(path.join(tmp, bad, 'config.json')));

    // interpolate: α = 0 and 1 give the endpoints, 0.5 their mean; other architectures are refused.
    const ganG = weightsOf((await loadCheckpoint(gan)).nets.generator);
    for (const alpha of [0, 1, 0.5]) {
      const dir = await interpolateRuns(psnr, gan, alpha, path.join(tmp, `mix-${alpha}`));
      const mixed = await loadSamplingNetworks(path.join(tmp, `mix-${alpha}`));
      const got = weightsOf(mixed.nets.generator);
      const expect = want.map((w, i) => w.map((v, j) => Math.fround((1 - alpha) * v + alpha * ganG[i][j])));
      const worst = got.reduce((m, w, i) => Math.max(m, ...w.map((v, j) => Math.abs(v - expect[i][j]))), 0);
      assert.ok(worst <= 1e-6, `α = ${alpha}: max |θ − θ_expected| = ${worst}`);
      if (alpha !== 0.5) assert.equal(differing(got, alpha === 0 ? want : ganG), 0, `α = ${alpha} is the endpoint exactly`);
      assert.equal(mixed.state.config.model, 'srgan');
      const record = JSON.parse(await fs.readFile(path.join(tmp, `mix-${alpha}`, 'interpolation.json'), 'utf8')) as { alpha: number; psnr: string };
      assert.equal(record.alpha, alpha);
      assert.equal(record.psnr, path.resolve(psnr));
      assert.ok(dir.includes('checkpoints'));
      mixed.nets.generator.dispose();
    }
    const rrdb = path.join(tmp, 'rrdb');
    const other = await startRun(cfg('srresnet', rrdb, { generator: 'rrdb', steps: 1, sampleEvery: 0 }), { source });
    await other.train();
    other.dispose();
    await assert.rejects(interpolateRuns(rrdb, gan, 0.5, path.join(tmp, 'mix-bad')), (e: unknown) => e instanceof UserError && /generators of .* differ/.test((e as Error).message));
    await assert.rejects(interpolateRuns(psnr, gan, 1.5, path.join(tmp, 'mix-bad2')), /--alpha must be in \[0, 1\]/);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});
