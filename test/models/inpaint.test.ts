import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.js';
import { getModel } from '../../src/models/registry.js';
import { resolveFamilyConfig, type RunConfig } from '../../src/gan/config.js';
import { disposeState, freshState, runStep } from '../../src/gan/training_step.js';
import { sampleFamily } from '../../src/gan/sampling.js';
import { checkResumesExactly, movedAfterCut } from './resume_check.js';
import type { GanNetworks } from '../../src/gan/family.js';
import type { ArraySource } from '../../src/data/types.js';
import { exampleMasks, maskedInputs } from '../../src/data/masks.js';
import { bandAround, composite, maskedL1 } from '../../src/models/nets/inpaint_nets.js';
import type { StepStats } from '../../src/gan/step.js';
import { UserError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';

const info = await initBackend({ quiet: true });
const aten = info.name === 'aten' ? (await import('tfjs-backend-aten' as string)) as { atenFallbackKernels(): string[] } : null;

/** n smooth colour images (a gradient and a soft blob) with per-example stroke or rectangle holes: masked: data as loadDerived makes it. */
function holes(n: number, size: number, kind: 'rect' | 'strokes' = 'rect'): ArraySource {
  const rng = new Rng(5);
  const values = new Uint8Array(n * size * size * 3);
  for (let i = 0; i < n; i++) {
    const [cy, cx, r] = [rng.int(size), rng.int(size), 4 + rng.int(size / 4)];
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
      const blob = Math.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * r * r));
      const p = ((i * size + y) * size + x) * 3;
      values[p] = Math.round(255 * blob);
      values[p + 1] = Math.round((255 * x) / size);
      values[p + 2] = Math.round((255 * y) / size);
    }
  }
  const masks = exampleMasks(n, size, size, kind, 11);
  return {
    kind: 'array', count: n, values,
    info: { name: 'masked:blobs', kind: 'image', shape: [size, size, 3], count: n, input: { shape: [size, size, 4], pairing: 'paired', domains: ['masked', 'blobs'] } },
    inputs: { values: maskedInputs(values, n, [size, size, 3], (i) => masks[i]), count: n },
  };
}

function configFor(source: ArraySource, overrides: Partial<RunConfig>): RunConfig {
  const family = getModel('inpaint');
  return resolveFamilyConfig(family.settings ?? {}, family.defaults(source.info), { model: 'inpaint', seed: 3, ...overrides } as Partial<RunConfig>);
}

const toFloat = (v: Uint8Array) => Float32Array.from(v, (x) => x / 127.5 - 1);

test('the hole algebra: composite keeps known pixels, the band rings the hole, masked L1 averages where asked', () => {
  tf.tidy(() => {
    const hole = tf.tensor4d([0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [1, 5, 5, 1]); // the pixel (1, 1)
    const band = bandAround(hole, 1).dataSync();
    const want = Array.from({ length: 25 }, (_, p) => (Math.abs(Math.floor(p / 5) - 1) <= 1 && Math.abs((p % 5) - 1) <= 1 && p !== 6 ? 1 : 0));
    assert.deepEqual([...band], want);
    const a = tf.fill([1, 5, 5, 2], 0.5);
    const b = tf.zeros([1, 5, 5, 2]);
    assert.deepEqual([...composite(a, b, hole).dataSync()].filter((v) => v !== 0), [0.5, 0.5]);
    assert.ok(Math.abs(maskedL1(a, b, hole).dataSync()[0] - 0.5) < 1e-7);
    assert.equal(maskedL1(a, b, tf.zeros([1, 5, 5, 1])).dataSync()[0], 0);
  });
});

test('inpaint: trains on masked data without leaking tensors, on aten without CPU fallbacks; the hole L1 falls; sampling keeps known pixels', () => {
  const source = holes(32, 32);
  const family = getModel('inpaint');
  const config = configFor(source, { width: 8, batchSize: 4, steps: 200, lrG: 1e-3 } as Partial<RunConfig>);
  assert.equal(family.check(source.info, config), null);
  const state = freshState(family, source, config);
  const fallbackBefore = aten?.atenFallbackKernels() ?? [];
  const stats: StepStats[] = [];
  let settled = 0;
  for (let i = 0; i < 40; i++) {
    stats.push(runStep(state));
    if (i === 1) settled = tf.memory().numTensors;
  }
  assert.equal(tf.memory().numTensors, settled, 'no tensors leak from step 2 on');
  if (aten) assert.deepEqual(aten.atenFallbackKernels().filter((k) => !fallbackBefore.includes(k)), [], 'kernels that ran on the CPU fallback');
  for (const name of ['loss/G_GAN', 'loss/G_hole', 'loss/G_valid']) assert.ok(Number.isFinite(stats[0].extra![name]), `${name} reported`);
  const mean = (xs: typeof stats) => xs.reduce((a, s) => a + s.extra!['loss/G_hole'], 0) / xs.length;
  assert.ok(mean(stats.slice(-5)) < mean(stats.slice(0, 5)) * 0.8, `hole L1 falls: ${mean(stats.slice(0, 5)).toFixed(3)} → ${mean(stats.slice(-5)).toFixed(3)}`);

  // Sampling: the known pixels come back exactly, the hole is G's.
  const n = 3;
  const input = tf.tensor(toFloat(source.inputs!.values.subarray(0, n * 32 * 32 * 4)), [n, 32, 32, 4]);
  const out = sampleFamily(family, state.nets, { count: n, seed: 0, input }, { config, data: source.info });
  assert.deepEqual([out.count, ...out.shape], [n, 32, 32, 3]);
  const target = toFloat(source.values as Uint8Array);
  let changed = 0;
  for (let p = 0; p < n * 32 * 32; p++) {
    const inHole = source.inputs!.values[p * 4 + 3] === 255;
    for (let k = 0; k < 3; k++) {
      if (!inHole) assert.equal(out.values[p * 3 + k], target[p * 3 + k], `known pixel ${p} kept`);
      else if (out.values[p * 3 + k] !== 128 / 127.5 - 1) changed++;
    }
  }
  assert.ok(changed > 0, 'the hole is filled');
  assert.throws(() => sampleFamily(family, state.nets, { count: 1, seed: 0 }, { config, data: source.info }), UserError);
  input.dispose();
  disposeState(state);
});

test('--step-masks draws fresh holes from the run’s seeded generator: not the data’s, the same for the same seed', () => {
  const source = holes(8, 32);
  const holeLosses = (stepMasks: string) => {
    const state = freshState(getModel('inpaint'), source, configFor(source, { width: 4, batchSize: 8, stepMasks } as Partial<RunConfig>));
    // The same seed gives the same weights and batches, so the band's L1 differs only if the holes do.
    const out = [runStep(state), runStep(state)].map((st) => st.extra!['loss/G_valid']);
    disposeState(state);
    return out;
  };
  const [dataHoles, fresh] = [holeLosses('off'), holeLosses('strokes')];
  assert.notEqual(dataHoles[0], fresh[0], 'fresh holes are not the data’s');
  assert.deepEqual(holeLosses('strokes'), fresh, 'the same seed draws the same holes');
});

test('inpaint refuses data without a mask channel, naming masked:', () => {
  const plain = holes(4, 32);
  const noMask: ArraySource = { ...plain, info: { ...plain.info, input: { ...plain.info.input!, shape: [32, 32, 3] } } };
  assert.match(getModel('inpaint').check(noMask.info, configFor(noMask, {}))!, /masked:SPEC/);
  const unconditional: ArraySource = { kind: 'array', count: 4, values: plain.values, info: { name: 'x', kind: 'image', shape: [32, 32, 3] } };
  assert.match(getModel('inpaint').check(unconditional.info, configFor(unconditional, {}))!, /masked:SPEC/);
});

test('inpaint resumes bit-for-bit, with the data’s holes and with fresh stroke holes every step', async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-inpaint-'));
  try {
    for (const stepMasks of ['off', 'strokes']) {
      const source = holes(16, 32, 'strokes');
      const cfg = (out: string) => ({ model: 'inpaint', width: 4, batchSize: 2, steps: 6, sampleEvery: 2, checkpointEvery: 3, logEvery: 1, out, stepMasks }) as Partial<RunConfig>;
      const numbers = (nets: GanNetworks) => ({ G: nets.generator.getWeights().map((w) => Array.from(w.dataSync())) });
      const r = await checkResumesExactly({ config: cfg, source, dir: tmp, name: stepMasks, cut: 3, steps: 6, numbers });
      assert.ok(movedAfterCut(r), `--step-masks ${stepMasks}: the run moved after the cut (the comparison can fail)`);
      assert.ok((await fs.readdir(path.join(tmp, `${stepMasks}-full`, 'samples'))).some((f) => f.endsWith('.png')));
    }
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});
