/**
 * The sequence families' recurrent stacks on aten: tfjs-layers' GRU (a chain of small kernels per time step,
 * dispatched from JavaScript) against FusedGRU (src/nn/fused_gru.ts: one native GruSequence call per layer, and one
 * for its gradient), same weights, and a PyTorch twin (bench/reference/gru_torch.py: torch.nn.GRU of the same sizes)
 * with the same intra-op thread count and GOMP_SPINCOUNT. TimeGAN's sizes by default: batch 128, 24 steps of 6
 * features, 3 stacked GRUs of 24 units, sigmoid gates.
 *
 *   node dist/bench/gru_speed.js [--batch 128] [--time 24] [--features 6] [--units 24] [--layers 3]
 *        [--calls 10] [--repeats 5] [--warmup 3]
 *
 * Prints, per pass (forward; forward+backward: gradients of every weight of sum(y)), wall-clock and process-CPU ms
 * per call as mean ± std over the repeats (each of `calls` calls; the twin and FusedGRU alternate) for the three, the speed-ups of FusedGRU, and the largest difference
 * between the two tfjs layers' outputs. GANFORGE_THREADS sets the thread count on both sides (default: all cores).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/backend/index.js';
import { FusedGRU } from '../src/nn/fused_gru.js';
import { Rng } from '../src/util/rng.js';
import { benchThreads, meanStd, referenceDir, twinArgs, twinEnv, twinPython } from './step_bench.js';

interface Sizes { batch: number; time: number; features: number; units: number; layers: number }
interface Timing { wall: number[]; cpu: number[] }
type Passes = Record<'forward' | 'forward+backward', Timing>;

function stack(fused: boolean, s: Sizes): tfl.LayersModel {
  const input = tfl.input({ shape: [s.time, s.features] });
  let y = input;
  for (let i = 0; i < s.layers; i++) {
    const args = { units: s.units, returnSequences: true, recurrentActivation: 'sigmoid' as const, recurrentInitializer: 'glorotUniform' as const, name: `gru${i}` };
    y = (fused ? new FusedGRU(args) : tfl.layers.gru(args)).apply(y) as tfl.SymbolicTensor;
  }
  return tfl.model({ inputs: input, outputs: y });
}

/** Wall-clock and process-CPU ms per call of f over `calls` calls, for each of `repeats` repeats (after `warmup` calls). */
function time(f: () => void, calls: number, repeats: number, warmup: number): Timing {
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

/** One timed repeat of the PyTorch twin, or null when python3-torch is missing. */
function torchRun(s: Sizes, calls: number, warmup: number): Passes | null {
  const env = twinEnv();
  const args = [path.join(referenceDir, 'gru_torch.py'), '--batch', s.batch, '--time', s.time, '--features', s.features, '--units', s.units,
    '--layers', s.layers, '--calls', calls, '--repeats', 1, '--warmup', warmup, '--threads', benchThreads()].map(String);
  try {
    return JSON.parse(execFileSync(twinPython(), twinArgs(args), { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] })) as Passes;
  } catch (e) {
    const message = (e as { stderr?: string }).stderr ?? String(e);
    if (/No module named 'torch'|ENOENT/.test(message)) return null;
    throw new Error(`PyTorch twin failed: ${message}`);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    batch: { type: 'string', default: '128' }, time: { type: 'string', default: '24' }, features: { type: 'string', default: '6' },
    units: { type: 'string', default: '24' }, layers: { type: 'string', default: '3' }, calls: { type: 'string', default: '10' },
    repeats: { type: 'string', default: '5' }, warmup: { type: 'string', default: '3' },
  } });
  const s: Sizes = { batch: Number(values.batch), time: Number(values.time), features: Number(values.features), units: Number(values.units),
    layers: Number(values.layers) };
  const [calls, repeats, warmup] = [values.calls, values.repeats, values.warmup].map(Number);
  const backend = await initBackend({ prefer: 'aten' });
  console.log(`backend ${backend.name}: ${backend.detail}; threads ${benchThreads()}; GOMP_SPINCOUNT=${process.env.GOMP_SPINCOUNT}`);
  const chain = stack(false, s), fused = stack(true, s);
  fused.setWeights(chain.getWeights());
  const rng = new Rng(0);
  const x = tf.tensor3d(Float32Array.from({ length: s.batch * s.time * s.features }, () => rng.uniform()), [s.batch, s.time, s.features]);
  const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(chain.predict(x) as tf.Tensor, fused.predict(x) as tf.Tensor))).dataSync()[0]);
  // dataSync on a scalar of the result: a forward that returned without computing would time nothing.
  const forward = (m: tfl.LayersModel) => () => tf.tidy(() => { tf.sum(m.apply(x) as tf.Tensor).dataSync(); });
  const both = (m: tfl.LayersModel) => () => tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => tf.sum(m.apply(x) as tf.Tensor));
    value.dataSync();
    Object.values(grads).forEach((g) => g.dataSync());
  });
  const passes = [['forward', forward], ['forward+backward', both]] as const;
  // Runs alternate the PyTorch twin and FusedGRU (one timed repeat each), so that a busy machine's load falls on
  // both sides alike; FusedGRU runs before the chain, whose thousands of small tensors leave V8 garbage-collection
  // work that runs on other threads of this process afterwards and would count in whatever is timed next.
  const fusedTimes: Timing[] = passes.map(() => ({ wall: [], cpu: [] }));
  let torch: Passes | null = { forward: { wall: [], cpu: [] }, 'forward+backward': { wall: [], cpu: [] } };
  for (let r = 0; r < repeats; r++) {
    const twin = torch && torchRun(s, calls, warmup);
    if (twin === null) torch = null;
    for (const [k, [pass, run]] of passes.entries()) {
      if (torch && twin) for (const what of ['wall', 'cpu'] as const) torch[pass][what].push(...twin[pass][what]);
      const once = time(run(fused), calls, 1, warmup);
      fusedTimes[k].wall.push(...once.wall);
      fusedTimes[k].cpu.push(...once.cpu);
    }
  }
  if (torch === null) console.log('PyTorch twin skipped: python3-torch is missing (GANFORGE_EXTRA_APT=python3-torch bash scripts/setup.sh)');
  const chainTimes = passes.map(([, run]) => time(run(chain), calls, repeats, warmup));
  const mean = (xs: number[]) => xs.reduce((sum, v) => sum + v, 0) / xs.length;
  for (const [k, [pass]] of passes.entries()) {
    const a = chainTimes[k], b = fusedTimes[k], t = torch?.[pass];
    const row = (what: 'wall' | 'cpu') => `tfjs-layers GRU ${meanStd(a[what], 2)}, FusedGRU ${meanStd(b[what], 2)}` +
      (t ? `, torch.nn.GRU ${meanStd(t[what], 2)}; FusedGRU ${(mean(a[what]) / mean(b[what])).toFixed(1)}× the chain, ` +
        `${(mean(t[what]) / mean(b[what])).toFixed(2)}× PyTorch` : `; FusedGRU ${(mean(a[what]) / mean(b[what])).toFixed(1)}× the chain`);
    console.log(`B=${s.batch} T=${s.time} E=${s.features} H=${s.units}×${s.layers} layers ${pass} (max |Δ| of outputs ${diff.toExponential(1)})\n` +
      `  wall ms: ${row('wall')}\n  CPU ms:  ${row('cpu')}`);
  }
  tf.dispose(x);
}

await main();
