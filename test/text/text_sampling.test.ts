// The text condition's shared pieces: sampling sentences tokenized with a run's vocabulary (unknown words and
// cuts reported, empty sentences and text-free runs refused), and the sentence feature of a masked
// bidirectional encoder, as a function and as a layer that survives a save/load round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/backend/index.js';
import { requestCaptions, textInfoOf } from '../../src/text/sampling.js';
import { buildTextEncoder, encodeText } from '../../src/text/encoders.js';
import { BidirectionalLastStates } from '../../src/nn/last_states.js';
import { buildVocab } from '../../src/data/tokenizer.js';
import { loadModel, saveModel } from '../../src/gan/model_io.js';
import { UserError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import type { DatasetInfo } from '../../src/data/types.js';

await initBackend({ quiet: true });

const vocab = buildVocab(['a red square', 'a blue square', 'a red circle']);
const data: DatasetInfo = { name: 'captions:test', kind: 'image', shape: [8, 8, 3], text: { vocab, maxLen: 4, captions: 3, maxPerExample: 1 } };

test('requestCaptions tokenizes with the run vocabulary, cycles sentences, and reports unknown words and cuts', () => {
  const notices: string[] = [];
  const batch = requestCaptions(data, ['a red square', 'a green hexagon shape here now'], 3, (l) => notices.push(l));
  const tokens = batch.tokens.arraySync();
  const id = (w: string) => vocab.indexOf(w);
  assert.deepEqual(tokens[0], [id('a'), id('red'), id('square'), 0]);
  assert.deepEqual(tokens[1], [id('a'), 1, 1, 1]); // green, hexagon, shape are unknown; cut after 4 words
  assert.deepEqual(tokens[2], tokens[0]); // cycled
  assert.deepEqual(Array.from(batch.lengths.dataSync()), [3, 4, 3]);
  assert.match(notices.join('\n'), /3 word\(s\) not in the run's 5-word vocabulary became <unk>: 'green', 'hexagon', 'shape'/);
  assert.match(notices.join('\n'), /longer than the encoder's 4 words were cut/);
  tf.dispose([batch.tokens, batch.lengths]);
});

test('requestCaptions refuses sentences without words, missing sentences and runs without text', () => {
  assert.throws(() => requestCaptions(data, ['?!'], 1, () => {}), (e: Error) => e instanceof UserError && /no words/.test(e.message));
  assert.throws(() => requestCaptions(data, [], 1, () => {}), /pass --text/);
  assert.throws(() => textInfoOf({ ...data, text: undefined }), /takes no text/);
});

test('the sentence feature ignores padding, and its layer saves and loads', async () => {
  const long = { ...data.text!, maxLen: 6 };
  const short = { ...data.text!, maxLen: 3 };
  const spec = { embedDim: 6, featureDim: 8 };
  const a = buildTextEncoder(long, spec, new Rng(3));
  const b = buildTextEncoder(short, spec, new Rng(3));
  b.setWeights(a.getWeights());
  const ids = [vocab.indexOf('a'), vocab.indexOf('blue'), vocab.indexOf('square')];
  const fa = encodeText(a, { tokens: tf.tensor2d([[...ids, 0, 0, 0]], [1, 6], 'int32'), lengths: tf.tensor1d([3], 'int32') });
  const fb = encodeText(b, { tokens: tf.tensor2d([ids], [1, 3], 'int32'), lengths: tf.tensor1d([3], 'int32') });
  const [sa, sb] = [fa.sentence.dataSync(), fb.sentence.dataSync()];
  sa.forEach((v, i) => assert.ok(Math.abs(v - sb[i]) < 1e-5, `sentence[${i}] ${v} vs ${sb[i]}`));
  assert.deepEqual(Array.from(fa.mask.dataSync()), [1, 1, 1, 0, 0, 0]);

  // The layer over the encoder's outputs, as a composed model would use it, survives save/load.
  const tokens = tfl.input({ shape: [6] });
  const sentence = new BidirectionalLastStates().apply(a.apply(tokens) as tfl.SymbolicTensor) as tfl.SymbolicTensor;
  const composed = tfl.model({ inputs: tokens, outputs: sentence });
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-laststates-'));
  await saveModel(composed, dir);
  const back = await loadModel(dir);
  const y = back.predict(tf.tensor2d([[...ids, 0, 0, 0]], [1, 6])) as tf.Tensor;
  const ys = y.dataSync();
  sa.forEach((v, i) => assert.ok(Math.abs(v - ys[i]) < 1e-5, `loaded sentence[${i}] ${ys[i]} vs ${v}`));
  await fs.rm(dir, { recursive: true });
});
