// DAMSM pretraining of the text and image encoders (src/text/pretrain.ts, run_encoders.ts, encoder_folder.ts):
// shapes, flat tensor counts, the loss going down on coloured squares, the saved folder's round trip, the
// vocabulary check of --text-encoder, weight copying into a run's networks, and the pretraining phase.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/backend/index.js';
import { BatchStream } from '../../src/data/batches.js';
import { resolveConfig } from '../../src/gan/config.js';
import { IMAGE_ENCODER, TEXT_ENCODER, buildImageEncoder, buildTextEncoder, encodeImages, type TextEncoderSpec } from '../../src/text/encoders.js';
import { DAMSM_PRETRAIN, pretrainEncoders, type DamsmStats } from '../../src/text/pretrain.js';
import { ENCODERS_FILE, loadEncoders, saveEncoders } from '../../src/text/encoder_folder.js';
import { attachTextEncoders, prepareTextEncoders, trainTextEncoders, useEncoderVocabulary } from '../../src/text/run_encoders.js';
import { UserError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { squares } from './squares.js';

const info = await initBackend({ quiet: true });
const aten = info.name === 'aten' ? (await import('tfjs-backend-aten' as string)) as { atenFallbackKernels(): string[] } : null;

const SPEC: TextEncoderSpec = { embedDim: 16, featureDim: 16 };
const tmp = () => fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-textenc-'));
const silent = () => {};

function encodersFor(seed: number, spec = SPEC, source = squares()) {
  const rng = new Rng(seed);
  return { text: buildTextEncoder(source.info.text!, spec, rng.fork()), image: buildImageEncoder(source.info.shape, spec.featureDim, rng.fork()) };
}

function dispose(...models: tfl.LayersModel[]) {
  for (const m of models) m.dispose();
}

test('image encoder: regions from an 8×8 (or smaller) map and a global feature of size D', () => {
  for (const [shape, grid] of [[[64, 64, 3], 8], [[28, 28, 1], 7], [[16, 16, 3], 8]] as const) {
    const enc = buildImageEncoder([...shape], 12, new Rng(0));
    const x = tf.zeros([2, ...shape]) as tf.Tensor4D;
    const { regions, global } = encodeImages(enc, x);
    assert.deepEqual(regions.shape, [2, grid * grid, 12], `regions of ${shape}`);
    assert.deepEqual(global.shape, [2, 12]);
    tf.dispose([x, regions, global]);
    enc.dispose();
  }
});

test('pretraining: tensor counts flat across steps, no CPU fallback on aten, and the DAMSM loss falls on coloured squares', () => {
  const source = squares();
  const enc = encodersFor(1);
  const stream = new BatchStream(source, { batchSize: 8, seed: 3 });
  const counts: number[] = [];
  const losses: DamsmStats[] = [];
  const fallbackBefore = aten?.atenFallbackKernels() ?? [];
  const before = tf.memory().numTensors;
  pretrainEncoders(enc, () => stream.next(), { ...DAMSM_PRETRAIN, steps: 40 }, (s) => {
    counts.push(tf.memory().numTensors);
    losses.push(s);
  });
  assert.equal(tf.memory().numTensors, before, 'the optimizer and every batch are freed at the end');
  // Adam makes its moments on the first update; from then on each step must leave the count where it was.
  assert.ok(counts.slice(1).every((c) => c === counts[1]), `tensor counts per step: ${counts.join(' ')}`);
  // tfjs-layers' masked LSTM expands its mask with tf.expandDims, a kernel aten does not have yet: that one is
  // the text encoder's (the native LSTM replaces it); nothing else may fall back.
  if (aten) assert.deepEqual(aten.atenFallbackKernels().filter((k) => !fallbackBefore.includes(k) && k !== 'ExpandDims'), [], 'kernels that ran on the CPU fallback');
  const mean = (xs: DamsmStats[]) => xs.reduce((a, s) => a + s.total, 0) / xs.length;
  const first = mean(losses.slice(0, 5)), last = mean(losses.slice(-5));
  // Seen on cpu and aten: ≈ 10.5 → ≈ 3.5 (duplicate captions in a batch keep it above 0).
  assert.ok(last < 0.6 * first, `DAMSM loss ${first.toFixed(3)} → ${last.toFixed(3)} after 40 steps`);
  stream.close();
  dispose(enc.text, enc.image);
});

test('saved encoders load back with the same outputs, vocabulary and losses; a folder of something else is refused', async () => {
  const dir = await tmp();
  const source = squares();
  const { encoders, info: meta } = trainTextEncoders(source, { data: 'test:squares', steps: 2, batchSize: 8, seed: 5, spec: SPEC }, silent);
  const out = path.join(dir, 'enc');
  await saveEncoders(out, encoders, meta);
  await saveEncoders(out, encoders, meta); // replacing a folder of encoders is allowed
  assert.deepEqual((await fs.readdir(dir)).sort(), ['enc'], 'no temporary or aside folders left');
  const back = await loadEncoders(out);
  assert.deepEqual(back.info.vocab, source.info.text!.vocab);
  assert.equal(back.info.maxLen, 8);
  assert.deepEqual(back.info.spec, SPEC);
  assert.equal(back.info.steps, 2);
  assert.ok(back.info.final && Number.isFinite(back.info.final.total));
  const tokens = tf.tensor2d(source.captions!.tokens.slice(0, 16), [2, 8]);
  const x = tf.tensor4d(Float32Array.from(source.values.subarray(0, 2 * 16 * 16 * 3), (v) => v / 127.5 - 1), [2, 16, 16, 3]);
  const same = (a: tf.Tensor | tf.Tensor[], b: tf.Tensor | tf.Tensor[]) => [a].flat().forEach((t, i) => assert.deepEqual(t.dataSync(), [b].flat()[i].dataSync()));
  same(encoders.text.predict(tokens) as tf.Tensor, back.encoders.text.predict(tokens) as tf.Tensor);
  same(encoders.image.predict(x) as tf.Tensor[], back.encoders.image.predict(x) as tf.Tensor[]);
  // A run folder holding text-encoder/ is accepted too.
  const run = path.join(dir, 'run');
  await saveEncoders(path.join(run, TEXT_ENCODER), encoders, meta);
  const viaRun = await loadEncoders(run);
  assert.equal(viaRun.dir, path.join(run, TEXT_ENCODER));
  await fs.mkdir(path.join(dir, 'other'));
  await assert.rejects(saveEncoders(path.join(dir, 'other'), encoders, meta), /not a folder of text encoders/);
  await assert.rejects(loadEncoders(path.join(dir, 'other')), (e: Error) => e instanceof UserError && /--text-encoder .*no encoders\.json/.test(e.message));
  tf.dispose([tokens, x]);
  dispose(encoders.text, encoders.image, back.encoders.text, back.encoders.image, viaRun.encoders.text, viaRun.encoders.image);
  await fs.rm(dir, { recursive: true, force: true });
});

test('--text-encoder: captions are tokenized with its vocabulary; other captions are refused naming the flag; weights are copied', async () => {
  const dir = await tmp();
  // The encoder's vocabulary comes from captions in another order, so the ids differ from the run's own.
  const trained = squares(16, 2);
  const { encoders, info: meta } = trainTextEncoders(trained, { data: 'test:squares', steps: 1, batchSize: 8, seed: 7, spec: SPEC }, silent);
  const reordered = { ...meta, vocab: [meta.vocab[0], meta.vocab[1], ...meta.vocab.slice(2).reverse()] };
  await saveEncoders(path.join(dir, 'enc'), encoders, reordered);
  const run = squares(16, 1);
  const notices = await useEncoderVocabulary(run, path.join(dir, 'enc'));
  assert.deepEqual(notices, []);
  assert.deepEqual(run.info.text!.vocab, reordered.vocab);
  const firstWords = [...run.captions!.tokens.slice(0, 8)].filter((t) => t !== 0).map((t) => reordered.vocab[t]).join(' ');
  assert.equal(firstWords, run.captions!.texts[0]);

  // Captions of other words: refused, naming the flag.
  const other = squares(16, 1);
  other.captions!.texts = other.captions!.texts.map((t, j) => (j % 2 ? 'zebra crossing under violet lamps' : t));
  await assert.rejects(useEncoderVocabulary(other, path.join(dir, 'enc')), (e: Error) => e instanceof UserError && /--text-encoder .*not in the encoder's .*vocabulary .*'zebra'/.test(e.message));

  // Weights are copied into nets a family built from the retokenized data; other sizes are refused naming the flag.
  const mine = encodersFor(99, SPEC, run);
  const g = tfl.sequential({ layers: [tfl.layers.dense({ units: 1, inputShape: [1] })] });
  const nets = { generator: g, extra: { [TEXT_ENCODER]: mine.text, [IMAGE_ENCODER]: mine.image } };
  await attachTextEncoders(nets, path.join(dir, 'enc'));
  mine.text.getWeights().forEach((w, i) => assert.deepEqual(w.dataSync(), encoders.text.getWeights()[i].dataSync()));
  mine.image.getWeights().forEach((w, i) => assert.deepEqual(w.dataSync(), encoders.image.getWeights()[i].dataSync()));
  const wide = encodersFor(99, { embedDim: 16, featureDim: 32 }, run);
  await assert.rejects(attachTextEncoders({ generator: g, extra: { [TEXT_ENCODER]: wide.text } }, path.join(dir, 'enc')), (e: Error) => e instanceof UserError && /--text-encoder .*text encoder weight/.test(e.message));
  dispose(encoders.text, encoders.image, mine.text, mine.image, wide.text, wide.image, g);
  await fs.rm(dir, { recursive: true, force: true });
});

test('pretraining phase: fresh encoders of a text run are trained and saved in RUN/text-encoder, which a later run can start from', async () => {
  const dir = await tmp();
  const source = squares();
  const mine = encodersFor(11);
  const g = tfl.sequential({ layers: [tfl.layers.dense({ units: 1, inputShape: [1] })] });
  const start = mine.text.getWeights().map((w) => w.clone());
  const config = resolveConfig({ out: path.join(dir, 'run'), batchSize: 8, textEncoderSteps: 4, seed: 2 });
  const lines: string[] = [];
  const before = tf.memory().numTensors;
  // A family with a text encoder only: the phase builds an image encoder for the loss and drops it after.
  await prepareTextEncoders({ generator: g, extra: { [TEXT_ENCODER]: mine.text } }, source, config, { log: (l) => lines.push(l) });
  assert.equal(tf.memory().numTensors, before);
  assert.ok(lines.some((l) => /text encoder step 4\/4: DAMSM/.test(l)), lines.join('\n'));
  const saved = JSON.parse(await fs.readFile(path.join(dir, 'run', TEXT_ENCODER, ENCODERS_FILE), 'utf8')) as { steps: number; vocab: string[] };
  assert.equal(saved.steps, 4);
  assert.ok(mine.text.getWeights().some((w, i) => tf.tidy(() => tf.any(tf.notEqual(w, start[i])).dataSync()[0] === 1)), 'the phase moved the weights');
  // --text-encoder-steps 0: left random, with a warning.
  const other = encodersFor(12);
  const zeroLines: string[] = [];
  await prepareTextEncoders({ generator: g, extra: { [TEXT_ENCODER]: other.text } }, source, resolveConfig({ out: path.join(dir, 'run0'), textEncoderSteps: 0 }), { log: (l) => zeroLines.push(l) });
  assert.match(zeroLines.join('\n'), /--text-encoder-steps 0: .*random/);
  // A later run names the first one: its encoders get the saved weights.
  await prepareTextEncoders({ generator: g, extra: { [TEXT_ENCODER]: other.text, [IMAGE_ENCODER]: other.image } }, source, resolveConfig({ out: path.join(dir, 'run2'), textEncoder: path.join(dir, 'run') }), { log: silent });
  other.text.getWeights().forEach((w, i) => assert.deepEqual(w.dataSync(), mine.text.getWeights()[i].dataSync()));
  tf.dispose(start);
  dispose(mine.text, mine.image, other.text, other.image, g);
  await fs.rm(dir, { recursive: true, force: true });
});
