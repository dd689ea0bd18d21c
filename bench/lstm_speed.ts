/**
 * The text encoder's recurrent part on aten: tfjs-layers' Bidirectional(LSTM) (a chain of small kernels per time
 * step, dispatched from JavaScript) against the same layer with FusedLSTM (src/nn/fused_lstm.ts: one native
 * LstmSequence call per direction, and one for its gradient), same weights. AttnGAN's sizes: captions of T = 18
 * tokens with padding at the end, embedding 300, 128 hidden units per direction, sigmoid gates.
 *
 *   node dist/bench/lstm_speed.js [--batch 32,10] [--calls 10] [--repeats 5] [--warmup 3]
 *
 * Prints, per batch size and pass (forward: the frozen encoder in GAN training; forward+backward: pretraining,
 * gradients of every weight), wall-clock and process-CPU ms per call as mean ± std over the repeats, and the largest
 * difference between the two layers' outputs. GANFORGE_THREADS=1 makes the CPU figure the work itself (no idle
 * OpenMP spinning), the steadier measure on a shared machine.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/backend/index.js';
import { FusedLSTM } from '../src/nn/fused_lstm.js';
import { Rng } from '../src/util/rng.js';
import { meanStd } from './step_bench.js';

const T = 18, VOCAB = 2000, EMBED = 300, UNITS = 128;

function encoder(fused: boolean): tfl.LayersModel {
  const tokens = tfl.input({ shape: [T], name: 'tokens' });
  const embedded = tfl.layers.embedding({ inputDim: VOCAB, outputDim: EMBED, maskZero: true, name: 'embed' }).apply(tokens);
  const args = { units: UNITS, returnSequences: true, recurrentActivation: 'sigmoid' as const, recurrentInitializer: 'glorotUniform' as const, name: 'lstm' };
  const lstm = fused ? new FusedLSTM(args) : tfl.layers.lstm(args);
  const words = tfl.layers.bidirectional({ layer: lstm as tfl.RNN, mergeMode: 'concat', name: 'words' }).apply(embedded);
  return tfl.model({ inputs: tokens, outputs: words as tfl.SymbolicTensor });
}

/** Captions of 5…18 words with PAD = 0 after them. */
function captions(batch: number, rng: Rng): tf.Tensor2D {
  const ids = new Float32Array(batch * T);
  for (let b = 0; b < batch; b++) {
    const length = 5 + rng.int(T - 4);
    for (let t = 0; t < length; t++) ids[b * T + t] = 2 + rng.int(VOCAB - 2);
  }
  return tf.tensor2d(ids, [batch, T]);
}

/** Wall-clock and process CPU ms per call of f over `calls` calls, for each of `repeats` repeats (after `warmup` calls).
 *  On a shared machine the CPU time (all threads of this process) is the steadier figure of the work done. */
function time(f: () => void, calls: number, repeats: number, warmup: number): { wall: number[]; cpu: number[] } {
  for (let i = 0; i < warmup; i++) f();
  const wall: number[] = [], cpu: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const start = performance.now(), used = process.cpuUsage();
    for (let i = 0; i < calls; i++) f();
    const { user, system } = process.cpuUsage(used);
    wall.push((performance.now() - start) / calls);
    cpu.push((user + system) / 1000 / calls);
  }
  return { wall, cpu };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    batch: { type: 'string', default: '32,10' }, calls: { type: 'string', default: '10' },
    repeats: { type: 'string', default: '5' }, warmup: { type: 'string', default: '3' },
  } });
  const backend = await initBackend({ prefer: 'aten' });
  console.log(`backend ${backend.name}: ${backend.detail}`);
  const [calls, repeats, warmup] = [values.calls, values.repeats, values.warmup].map(Number);
  const chain = encoder(false), fused = encoder(true);
  fused.setWeights(chain.getWeights());
  const rng = new Rng(0);
  for (const batch of values.batch.split(',').map(Number)) {
    const tokens = captions(batch, rng);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(chain.predict(tokens) as tf.Tensor, fused.predict(tokens) as tf.Tensor))).dataSync()[0]);
    // dataSync on a scalar of the result: a forward that returned without computing would time nothing.
    const forward = (m: tfl.LayersModel) => () => tf.tidy(() => { tf.sum(m.apply(tokens) as tf.Tensor).dataSync(); });
    const both = (m: tfl.LayersModel) => () => tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(m.apply(tokens) as tf.Tensor));
      value.dataSync();
      Object.values(grads).forEach((g) => g.dataSync());
    });
    for (const [pass, run] of [['forward', forward], ['forward+backward', both]] as const) {
      const a = time(run(chain), calls, repeats, warmup), b = time(run(fused), calls, repeats, warmup);
      const mean = (xs: number[]) => xs.reduce((sum, x) => sum + x, 0) / xs.length;
      console.log(`B=${batch} T=${T} E=${EMBED} H=${UNITS}×2 ${pass} (max |Δ| of outputs ${diff.toExponential(1)})\n` +
        `  wall ms: tfjs-layers chain ${meanStd(a.wall, 2)}, FusedLSTM ${meanStd(b.wall, 2)}, ${(mean(a.wall) / mean(b.wall)).toFixed(1)}×\n` +
        `  CPU ms:  tfjs-layers chain ${meanStd(a.cpu, 2)}, FusedLSTM ${meanStd(b.cpu, 2)}, ${(mean(a.cpu) / mean(b.cpu)).toFixed(1)}×`);
    }
    tokens.dispose();
  }
}

await main();
