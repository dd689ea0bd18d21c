import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import { initBackend } from '../../src/backend/index.js';
import { getModel } from '../../src/models/registry.js';
import { HistoryBuffer, SIMGAN_PHASES, simganPhase } from '../../src/models/simgan.js';
import { resolveFamilyConfig, type RunConfig } from '../../src/gan/config.js';
import { disposeState, freshState, runStep, type StepState } from '../../src/gan/training_step.js';
import { startRun, resumeRun } from '../../src/run.js';
import { checkResumesExactly, countDiffering } from './resume_check.js';
import { sampleFamily } from '../../src/gan/sampling.js';
import { refineCommand } from '../../src/cli/refine.js';
import type { ArraySource } from '../../src/data/types.js';
import { Rng } from '../../src/util/rng.js';
import { UserError } from '../../src/util/errors.js';
import { discriminatorOf, type GanNetworks } from '../../src/gan/family.js';

const backend = await initBackend({ quiet: true });
// Typed locally (the package may be unbuilt, see src/backend/index.ts).
const aten = backend.name === 'aten' ? (await import('tfjs-backend-aten' as string)) as { atenFallbackKernels(): string[] } : null;
const fallbackBefore = aten?.atenFallbackKernels() ?? []; // before any simgan step of this file

/** Unpaired grey 16-px squares: A (synthetic) hard-edged and labelled by the square's quadrant, B (real) a fainter square. */
function squares(n: number, seed = 1): ArraySource {
  const rng = new Rng(seed);
  const size = 16;
  const a = new Uint8Array(n * size * size);
  const b = new Uint8Array(n * size * size);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const [ya, xa, yb, xb] = [rng.int(size - 5), rng.int(size - 5), rng.int(size - 5), rng.int(size - 5)];
    labels[i] = (ya < 6 ? 0 : 2) + (xa < 6 ? 0 : 1);
    for (let y = 0; y < 5; y++) for (let x = 0; x < 5; x++) {
      a[i * size * size + (ya + y) * size + xa + x] = 255;
      b[i * size * size + (yb + y) * size + xb + x] = 160;
    }
  }
  return {
    kind: 'array', count: n, values: b,
    info: { name: 'squares', kind: 'image', shape: [size, size, 1], count: n, input: { shape: [size, size, 1], pairing: 'unpaired', domains: ['synthetic', 'real'] } },
    inputs: { values: a, count: n, labels },
  };
}

const own = { width: 4, batchSize: 4, refinerBlocks: 1, bufferSize: 6, pretrainR: 2, pretrainD: 2, kG: 1, kD: 1 };
function configFor(source: ArraySource, overrides: Record<string, unknown> = {}): RunConfig {
  const family = getModel('simgan');
  return resolveFamilyConfig(family.settings ?? {}, family.defaults(source.info), { model: 'simgan', seed: 3, steps: 10, ...own, ...overrides } as Partial<RunConfig>);
}
const weightsOf = (m: { getWeights(): tf.Tensor[] }) => m.getWeights().map((w) => Array.from(w.dataSync()));
const same = (x: ArrayLike<number>[], y: ArrayLike<number>[]) => countDiffering(x, y) === 0;

test('simgan: pre-training phases switch at the configured steps; R alone, then D alone, then both', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 9].map((s) => simganPhase(s, { pretrainR: 2, pretrainD: 2 })), ['pretrain-R', 'pretrain-R', 'pretrain-D', 'pretrain-D', 'adversarial', 'adversarial']);
  assert.equal(simganPhase(0, { pretrainR: 0, pretrainD: 0 }), 'adversarial');
  const source = squares(32);
  const state = freshState(getModel('simgan'), source, configFor(source));
  try {
    const phases: string[] = [];
    for (let i = 0; i < 6; i++) {
      const [g0, d0] = [weightsOf(state.nets.generator), weightsOf(discriminatorOf(state.nets))];
      const s = runStep(state);
      phases.push(SIMGAN_PHASES[s.extra!.phase]);
      const [gMoved, dMoved] = [!same(g0, weightsOf(state.nets.generator)), !same(d0, weightsOf(discriminatorOf(state.nets)))];
      const want = { 'pretrain-R': [true, false], 'pretrain-D': [false, true], adversarial: [true, true] }[phases[i]]!;
      assert.deepEqual([gMoved, dMoved], want, `step ${i} (${phases[i]}): R moved ${gMoved}, D moved ${dMoved}`);
      if (phases[i] === 'pretrain-R') assert.ok(!('loss/R_adv' in s.extra!), 'pre-training R has no adversarial term');
    }
    assert.deepEqual(phases, ['pretrain-R', 'pretrain-R', 'pretrain-D', 'pretrain-D', 'adversarial', 'adversarial']);
  } finally {
    disposeState(state);
  }
});

test('simgan step: tensor count flat, losses finite, no CPU fallback on aten, the buffer fills to its size and supplies half of D\'s refined batch', () => {
  const source = squares(32);
  const state: StepState = freshState(getModel('simgan'), source, configFor(source, { kG: 2, kD: 2 }));
  try {
    const stats = [];
    let settled = -1;
    for (let i = 0; i < 10; i++) {
      stats.push(runStep(state));
      if (i === 4) settled = tf.memory().numTensors; // both optimizers have their slots after the first adversarial step
    }
    assert.equal(tf.memory().numTensors, settled, 'no tensors leak');
    for (const { extra, ...s } of stats) for (const [k, v] of Object.entries({ ...s, ...extra })) assert.ok(Number.isFinite(v), `${k} = ${v}`);
    // Step 2 (the first D step): the empty buffer takes all 4 refined images, then D's second update draws 2 from it.
    assert.deepEqual(stats.slice(2).map((s) => s.extra!['buffer/size']), [6, 6, 6, 6, 6, 6, 6, 6]);
    assert.deepEqual(stats.slice(2).map((s) => s.extra!['buffer/from_history']), [2, 2, 2, 2, 2, 2, 2, 2]);
    assert.ok(stats[9].extra!['loss/R_adv'] > 0 && stats[9].extra!['loss/self_reg'] >= 0);
    if (aten) assert.deepEqual(aten.atenFallbackKernels().filter((k) => !fallbackBefore.includes(k)), [], 'kernels that fell back to the CPU in training steps');
  } finally {
    disposeState(state);
  }
});

test('the history buffer: fills first; then half of the batch is fresh and half drawn from history, b/2 entries replaced', () => {
  const buffer = new HistoryBuffer(8, [1, 1, 1]);
  const rng = new Rng(2);
  const batch = (v: number) => tf.fill([4, 1, 1, 1], v);
  const round = (v: number) => {
    const x = batch(v);
    const { fake, fresh } = buffer.fakeBatch(x, rng);
    const got = [Array.from(fake.dataSync()), Array.from(fresh.dataSync())];
    buffer.add(fresh, rng);
    tf.dispose([x, fake, fresh]);
    return got;
  };
  assert.deepEqual(round(1), [[1, 1, 1, 1], [1, 1, 1, 1]], 'empty: the whole batch is fresh, and all of it is kept');
  assert.equal(buffer.length, 4);
  const [fake2, fresh2] = round(2);
  assert.deepEqual(fake2, [2, 2, 1, 1], 'first half fresh, second half from history');
  assert.deepEqual(fresh2, [2, 2]);
  assert.equal(buffer.length, 6);
  round(3);
  round(4); // full at 8: now each new image overwrites a random entry
  assert.equal(buffer.length, 8);
  const full = buffer.save();
  const before = Array.from(full.tensors[0].tensor.dataSync());
  tf.dispose(full.tensors.map((t) => t.tensor));
  round(5);
  const after = buffer.save();
  const values = Array.from(after.tensors[0].tensor.dataSync());
  tf.dispose(after.tensors.map((t) => t.tensor));
  assert.equal(values.filter((v, i) => v !== before[i]).length <= 2 && values.filter((v) => v === 5).length >= 1, true, `two entries replaced by 5s: ${before} → ${values}`);
  // save → restore round trip into a fresh buffer
  const saved = buffer.save();
  const copy = new HistoryBuffer(8, [1, 1, 1]);
  copy.restore(saved);
  const again = copy.save();
  assert.deepEqual(Array.from(again.tensors[0].tensor.dataSync()), values);
  assert.deepEqual(again.json, { length: 8 });
  tf.dispose([...saved.tensors, ...again.tensors].map((t) => t.tensor));
  buffer.dispose();
  copy.dispose();
});

test('simgan resumes bit-for-bit through the pre-training phases, its history buffer included', async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-simgan-'));
  try {
    const source = squares(16);
    const cfg = (out: string) => ({ model: 'simgan', ...own, pretrainR: 1, pretrainD: 1, steps: 6, sampleEvery: 3, checkpointEvery: 3, logEvery: 1, out }) as Partial<RunConfig>;
    const numbers = (nets: GanNetworks) => ({ R: weightsOf(nets.generator), D: weightsOf(discriminatorOf(nets)) });
    const { want } = await checkResumesExactly({ config: cfg, source, dir: tmp, cut: 3, steps: 6, numbers });
    const wantD = want.D;

    // A buffer left out of the checkpoint changes the run: resume again with the buffer emptied on restore.
    const proto = HistoryBuffer.prototype;
    const restore = proto.restore;
    proto.restore = function (this: HistoryBuffer) {
      restore.call(this, { json: { length: 0 }, tensors: [] });
    };
    try {
      await fs.rm(path.join(tmp, 'cut2'), { recursive: true, force: true });
      const again = await startRun(cfg(path.join(tmp, 'cut2')), { source });
      again.stats.subscribe((step) => {
        if (step === 3) again.requestStop();
      });
      await again.train();
      again.dispose();
      const forgetful = await resumeRun(path.join(tmp, 'cut2'), { steps: 6, source });
      await forgetful.train();
      const d = weightsOf(discriminatorOf(forgetful.parts.nets));
      forgetful.dispose();
      assert.ok(!same(d, wantD), 'without the buffer, D ends elsewhere (the comparison above can fail)');
    } finally {
      proto.restore = restore;
    }
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});

test('ganforge refine: a labelled dataset\'s labels are carried into labels.csv; non-images and mixed inputs are errors', async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-refine-'));
  try {
    const source = squares(16);
    const run = await startRun({ model: 'simgan', ...own, pretrainR: 1, pretrainD: 1, steps: 3, out: path.join(tmp, 'run') } as Partial<RunConfig>, { source });
    await run.train();
    run.dispose();
    // folder:DIR with class sub-folders is a labelled dataset: 2 images of class 'a', 1 of class 'b'.
    const data = path.join(tmp, 'data');
    for (const [cls, name, v] of [['a', 'x', 255], ['a', 'y', 128], ['b', 'z', 0]] as const) {
      await fs.mkdir(path.join(data, cls), { recursive: true });
      await sharp(Buffer.alloc(16 * 16, v), { raw: { width: 16, height: 16, channels: 1 } }).png().toFile(path.join(data, cls, `${name}.png`));
    }
    const out = path.join(tmp, 'out');
    await refineCommand(path.join(tmp, 'run'), [`folder:${data}`], { out });
    const csv = (await fs.readFile(path.join(out, 'labels.csv'), 'utf8')).trim().split('\n');
    // The folder's order interleaves the classes (a/x, b/z, a/y); the labels follow the images.
    assert.deepEqual(csv, ['file,label,class', '0.png,0,a', '1.png,1,b', '2.png,0,a']);
    const meta = await sharp(path.join(out, '2.png')).metadata();
    assert.deepEqual([meta.width, meta.height, meta.channels], [16, 16, 1]);
    // Plain files: refined under their own names, no labels.
    const files = path.join(tmp, 'files');
    await refineCommand(path.join(tmp, 'run'), [path.join(data, 'a', 'x.png')], { out: files });
    assert.deepEqual((await fs.readdir(files)).sort(), ['x.png']);
    const notImage = path.join(tmp, 'notes.txt');
    await fs.writeFile(notImage, 'not an image');
    await assert.rejects(refineCommand(path.join(tmp, 'run'), [notImage], { out: files }), (e: unknown) => e instanceof UserError && /cannot read image/.test(e.message));
    await assert.rejects(refineCommand(path.join(tmp, 'run'), [notImage, 'font-digits'], { out: files }), (e: unknown) => e instanceof UserError && /one dataset/.test(e.message));
    await assert.rejects(refineCommand(path.join(tmp, 'run'), [notImage], { out: files, limit: 3 }), (e: unknown) => e instanceof UserError && /--split and --limit/.test(e.message));
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});

test('simgan refuses data without a synthetic domain, and A and B of different shapes', () => {
  const family = getModel('simgan');
  const source = squares(4);
  assert.equal(family.check(source.info, configFor(source)), null);
  assert.match(family.check({ ...source.info, input: undefined }, configFor(source))!, /unpaired:SYNTHETIC,REAL/);
  assert.match(family.check({ ...source.info, input: { ...source.info.input!, shape: [16, 16, 3] } }, configFor(source))!, /one shape/);
});

test('simgan sampling refines a request in batches, each image as it is refined alone', () => {
  const source = squares(8);
  const config = configFor(source);
  const family = getModel('simgan');
  const state = freshState(family, source, config);
  try {
    const input = tf.tensor4d(Float32Array.from(source.inputs!.values.subarray(0, 3 * 256), (v) => v / 127.5 - 1), [3, 16, 16, 1]);
    const got = sampleFamily(family, state.nets, { count: 3, seed: 0, input }, { config, data: source.info });
    const alone = [0, 1, 2].map((i) => tf.tidy(() => Array.from((state.nets.generator.apply(tf.slice(input, i, 1)) as tf.Tensor).dataSync())));
    const diff = Math.max(...alone.flat().map((v, j) => Math.abs(v - got.values[j])));
    assert.ok(diff < 1e-5, `batched vs alone: max |Δ| ${diff}`);
    assert.deepEqual(got.shape, [16, 16, 1]);
    assert.throws(() => sampleFamily(family, state.nets, { count: 3, seed: 0, input, class: 1 }, { config, data: source.info }), UserError);
    input.dispose();
  } finally {
    disposeState(state);
  }
});
