import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.js';
import { getModel } from '../../src/models/registry.js';
import { STAGE1_DISCRIMINATOR } from '../../src/models/stackgan.js';
import { stackganStages } from '../../src/models/nets/text_nets.js';
import { resolveFamilyConfig, type RunConfig } from '../../src/gan/config.js';
import { disposeState, freshState, runStep } from '../../src/gan/training_step.js';
import { latents, sampleFamily } from '../../src/gan/sampling.js';
import { loadSamplingNetworks } from '../../src/gan/checkpoint.js';
import { startRun, resumeRun } from '../../src/run.js';
import type { DatasetInfo } from '../../src/data/types.js';
import { Reparameterize } from '../../src/nn/text_fusion.js';
import { TEXT_ENCODER } from '../../src/text/encoders.js';
import { caKl } from '../../src/text/conditioning.js';
import { UserError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { encodeSentences } from '../../src/data/tokenizer.js';
import type { GanNetworks } from '../../src/gan/family.js';
import { captionedSquares, runTextEncoderOnce } from './captioned_squares.js';

const backend = await initBackend({ quiet: true });
const aten = backend.name === 'aten' ? (await import('tfjs-backend-aten' as string)) as { atenFallbackKernels(): string[] } : null;
if (aten) runTextEncoderOnce();
const fallbackBefore = aten?.atenFallbackKernels() ?? []; // after the text encoder's own (see runTextEncoderOnce)

const small = { width: 4, batchSize: 4, latentDim: 16, wordDim: 8, textDim: 8, cDim: 4, resBlocks: 1 };
function configFor(info: DatasetInfo, overrides: Record<string, unknown> = {}): RunConfig {
  const family = getModel('stackgan');
  return resolveFamilyConfig(family.settings ?? {}, family.defaults(info), { model: 'stackgan', seed: 3, steps: 10, ...small, ...overrides } as Partial<RunConfig>);
}
const weightsOf = (m: { getWeights(): tf.Tensor[] }) => m.getWeights().map((w) => Array.from(w.dataSync()));
const same = (x: number[][], y: number[][]) => x.every((w, i) => w.every((v, j) => v === y[i][j]));


/** The family's composed browser model on z and the sentences' token ids, against what `sample` drew from the same seed. */
function assertTextGeneratorMatches(name: string, nets: GanNetworks, run: { config: RunConfig; data: DatasetInfo }, request: { count: number; seed: number; text: string[] }, want: Float32Array): void {
  const model = getModel(name).textGenerator!(nets, run);
  const sentences = Array.from({ length: request.count }, (_, i) => request.text[i % request.text.length]);
  const { tokens } = encodeSentences(run.data.text!.vocab, run.data.text!.maxLen, sentences);
  const got = tf.tidy(() => {
    const z = latents(new Rng(request.seed), request.count, run.config.latentDim);
    return Array.from((model.apply([z, tf.tensor2d(Float32Array.from(tokens), [request.count, run.data.text!.maxLen])]) as tf.Tensor).dataSync());
  });
  const worst = got.reduce((m, v, i) => Math.max(m, Math.abs(v - want[i])), 0);
  assert.ok(got.length === want.length && worst < 1e-4, `${name}: the composed text model differs from sample by ${worst}`);
}

test('stackgan trains both stages jointly on captions: tensor count flat, losses finite, the KL reported, no CPU fallback on aten; sample draws from sentences', () => {
  const source = captionedSquares(16);
  const family = getModel('stackgan');
  const config = configFor(source.info);
  assert.equal(family.check(source.info, config), null);
  const state = freshState(family, source, config);
  try {
    const enc0 = weightsOf(state.nets.extra![TEXT_ENCODER]);
    let settled = -1;
    const stats = [];
    for (let i = 0; i < 4; i++) {
      stats.push(runStep(state));
      if (i === 1) settled = tf.memory().numTensors;
    }
    assert.equal(tf.memory().numTensors, settled, 'no tensors leak');
    for (const { extra, ...s } of stats) for (const [k, v] of Object.entries({ ...s, ...extra })) assert.ok(Number.isFinite(v), `${k} = ${v}`);
    assert.ok(stats.every((s) => s.extra!['loss/kl1'] >= 0 && s.extra!['loss/kl2'] >= 0));
    assert.ok(same(enc0, weightsOf(state.nets.extra![TEXT_ENCODER])), 'the text encoder is in no player');
    if (aten) assert.deepEqual(aten.atenFallbackKernels().filter((k) => !fallbackBefore.includes(k)), [], 'kernels that fell back to the CPU in stackgan steps');

    const run = { config, data: source.info };
    const before = tf.memory().numTensors;
    const a = sampleFamily(family, state.nets, { count: 3, seed: 4, text: ['a red square'] }, run);
    const again = sampleFamily(family, state.nets, { count: 3, seed: 4, text: ['a red square'] }, run);
    assert.equal(tf.memory().numTensors, before, 'sampling frees what it makes');
    assert.deepEqual([a.count, a.shape], [3, [16, 16, 3]]);
    assert.deepEqual(Array.from(a.values), Array.from(again.values));
    assert.throws(() => sampleFamily(family, state.nets, { count: 2, seed: 4, text: [] }, run), (e: Error) => e instanceof UserError && /--text/.test(e.message));
  } finally {
    disposeState(state);
  }
});

test('stackgan --stage 1 moves stage I and its D only; --stage 2 moves stage II and its D only', () => {
  const source = captionedSquares(8);
  for (const stage of ['1', '2'] as const) {
    const state = freshState(getModel('stackgan'), source, configFor(source.info, { stage, init: stage === '2' ? 'unused-here' : '' }));
    try {
      const { stage1, stage2 } = stackganStages(state.nets.generator);
      const nets = [stage1, stage2, state.nets.extra![STAGE1_DISCRIMINATOR], state.nets.discriminator!];
      const before = nets.map(weightsOf);
      runStep(state);
      const moved = nets.map((m, i) => !same(before[i], weightsOf(m)));
      assert.deepEqual(moved, stage === '1' ? [true, false, true, false] : [false, true, false, true], `--stage ${stage}: [G stage I, G stage II, D stage I, D stage II] moved`);
    } finally {
      disposeState(state);
    }
  }
});

test("Conditioning Augmentation: c = μ + σ·ε, and its KL against the closed form ½Σ(μ² + σ² − 1 − log σ²) / (B·D)", () => {
  const mu = tf.tensor2d([[0.5, -1], [0, 2]]);
  const logVar = tf.tensor2d([[0, 0.5], [-1, 1]]);
  const eps = tf.tensor2d([[1, -1], [0.5, 2]]);
  const m = [0.5, -1, 0, 2], lv = [0, 0.5, -1, 1], ep = [1, -1, 0.5, 2];
  const want = m.reduce((s, mi, i) => s + 0.5 * (mi * mi + Math.exp(lv[i]) - 1 - lv[i]), 0) / 4;
  const kl = caKl(mu, logVar);
  assert.ok(Math.abs(kl.dataSync()[0] - want) < 1e-6, `KL ${kl.dataSync()[0]} vs ${want}`);
  const c = new Reparameterize().apply([mu, logVar, eps]) as tf.Tensor;
  Array.from(c.dataSync()).forEach((ci, i) => assert.ok(Math.abs(ci - (m[i] + Math.exp(lv[i] / 2) * ep[i])) < 1e-6));
  const zero = caKl(tf.zeros([2, 2]) as tf.Tensor2D, tf.zeros([2, 2]) as tf.Tensor2D);
  assert.equal(zero.dataSync()[0], 0, 'N(0, I) is at KL 0');
  tf.dispose([mu, logVar, eps, kl, c, zero]);
});

test('stackgan refuses data without captions, and --stage 2 without a stage-I run to start from', () => {
  const family = getModel('stackgan');
  const info = captionedSquares(2).info;
  const plain: DatasetInfo = { name: 'squares', kind: 'image', shape: [16, 16, 3], count: 8 };
  assert.match(family.check(plain, configFor(info)) ?? '', /no captions.*captions:/);
  assert.match(family.check(info, configFor(info, { stage: '2' })) ?? '', /--stage 2.*--init/);
  assert.match(family.check({ ...info, shape: [12, 12, 3] }, configFor(info)) ?? '', /square images/);
});

test("stackgan's two runs as in the paper: --stage 1, then --stage 2 --init RUN keeps that stage I fixed; resume is exact; sampling from the checkpoint", async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-stackgan-'));
  try {
    const source = captionedSquares(8);
    const cfg = (out: string, own: Record<string, unknown>) => ({ model: 'stackgan', ...small, seed: 2, sampleEvery: 2, checkpointEvery: 2, textEncoderSteps: 0, logEvery: 1, out, ...own }) as Partial<RunConfig>;
    const one = await startRun(cfg(path.join(tmp, 's1'), { stage: '1', steps: 2 }), { source });
    await one.train();
    const stageOne = weightsOf(stackganStages(one.parts.nets.generator).stage1);
    one.dispose();
    await fs.access(path.join(tmp, 's1', 'final.png')); // the progress grid of probe captions

    const two = cfg(path.join(tmp, 's2'), { stage: '2', init: path.join(tmp, 's1'), steps: 4 });
    const full = await startRun(two, { source });
    await full.train();
    assert.ok(same(stageOne, weightsOf(stackganStages(full.parts.nets.generator).stage1)), 'stage I is the first run\'s, unchanged by stage II training');
    const want = weightsOf(full.parts.nets.generator);
    full.dispose();
    const cut = await startRun({ ...two, out: path.join(tmp, 'cut') }, { source });
    cut.stats.subscribe((step) => {
      if (step === 2) cut.requestStop();
    });
    await cut.train();
    cut.dispose();
    const resumed = await resumeRun(path.join(tmp, 'cut'), { steps: 4, source });
    await resumed.train();
    assert.ok(same(want, weightsOf(resumed.parts.nets.generator)), 'the resumed run ends where the uninterrupted one does');
    resumed.dispose();

    const { state, nets } = await loadSamplingNetworks(path.join(tmp, 's2'));
    const out = sampleFamily(getModel('stackgan'), nets, { count: 2, seed: 1, text: ['a blue square'] }, { config: state.config, data: state.data });
    assert.deepEqual([out.count, out.shape], [2, [16, 16, 3]]);
    assertTextGeneratorMatches('stackgan', nets, { config: state.config, data: state.data }, { count: 2, seed: 1, text: ['a blue square'] }, out.values);
    for (const [, m] of [['g', nets.generator], ['d', nets.discriminator], ...Object.entries(nets.extra ?? {})] as const) m?.dispose();
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});
