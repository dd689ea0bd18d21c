/**
 * Per-shape convolution timings on the aten backend against PyTorch (bench/reference/conv_shapes_torch.py), for the
 * convolutions of a text-to-image step (stackgan's, by default): forward, input gradient and weight gradient of each,
 * best of --reps calls after warm-up, in ms. Run it under GANFORGE_CONV_PATH=gemm or =onednn to time one path of
 * the native rule (packages/tfjs-backend-aten/native/conv.cc) wherever both apply. --flush MB writes that many MB
 * before each timed call (both sides), so that the call starts with cold caches, as it does inside a training step,
 * where other layers' activations and weights ran through the caches since this convolution's inputs were made.
 *
 *   node dist/bench/conv_shapes.js [--cases stackgan|attngan|dfgan|esrgan|srgan|small] [--reps 20] [--flush 0] [--torch]
 */
import * as tf from '@tensorflow/tfjs-core';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/backend/index.js';
import { benchThreads, referenceDir, twinEnv, twinPython } from './step_bench.js';

/** One convolution: NHWC input, tfjs filter [kh, kw, in, out], stride, tfjs padding. */
export interface ConvCase { x: [number, number, number, number]; filter: [number, number, number, number]; stride: number; pad: 'same' | 'valid' }

const c = (x: ConvCase['x'], filter: ConvCase['filter'], stride: number, pad: ConvCase['pad'] = 'same'): ConvCase => ({ x, filter, stride, pad });
/** stackgan's convolutions at 32 px, batch 16, width 32 (bench/stackgan_speed.ts defaults), from its --profile. */
export const STACKGAN_CONVS: ConvCase[] = [
  c([16, 4, 4, 256], [3, 3, 256, 256], 1), c([16, 4, 4, 384], [3, 3, 384, 256], 1), c([16, 4, 4, 256], [3, 3, 256, 128], 1),
  c([16, 4, 4, 192], [3, 3, 192, 64], 1), c([16, 8, 8, 256], [3, 3, 256, 128], 1), c([16, 16, 16, 128], [3, 3, 128, 64], 1),
  c([16, 32, 32, 64], [3, 3, 64, 32], 1), c([16, 32, 32, 32], [3, 3, 32, 3], 1), c([16, 8, 8, 128], [4, 4, 128, 256], 2),
  c([16, 16, 16, 64], [4, 4, 64, 128], 2), c([16, 8, 8, 64], [4, 4, 64, 128], 2), c([16, 8, 8, 32], [4, 4, 32, 64], 2),
  c([16, 16, 16, 32], [4, 4, 32, 64], 2), c([16, 32, 32, 3], [4, 4, 3, 32], 2), c([16, 16, 16, 3], [4, 4, 3, 32], 2),
];

/** Convolutions with few output pixels (a U-Net's inner layers at batch 1 and 4, SR at batch 1), where the native
 *  rule sends products to its GEMM path: oneDNN took far longer on some of these than their FLOPs need. */
export const SMALL_OUTPUT_CONVS: ConvCase[] = [
  c([4, 4, 4, 512], [4, 4, 512, 1024], 2), c([1, 32, 32, 128], [3, 3, 128, 256], 2), c([1, 4, 4, 512], [4, 4, 512, 512], 2),
  c([1, 2, 2, 512], [4, 4, 512, 512], 2), c([1, 8, 8, 256], [4, 4, 256, 512], 2), c([4, 8, 8, 256], [3, 3, 256, 256], 1),
  c([1, 16, 16, 64], [3, 3, 64, 64], 1), c([16, 2, 2, 512], [3, 3, 512, 512], 1), c([64, 4, 4, 128], [4, 4, 128, 1], 1, 'valid'),
];

/** attngan's at 32 px, batch 16, width 32 (bench/attngan_speed.ts defaults), its costliest in --profile. */
export const ATTNGAN_CONVS: ConvCase[] = [
  c([16, 4, 4, 512], [3, 3, 512, 256], 1), c([16, 4, 4, 384], [3, 3, 384, 128], 1), c([16, 8, 8, 128], [4, 4, 128, 256], 2),
  c([16, 16, 16, 64], [4, 4, 64, 128], 2), c([16, 16, 16, 64], [3, 3, 64, 128], 1), c([16, 16, 16, 64], [3, 3, 64, 64], 1),
  c([16, 32, 32, 64], [3, 3, 64, 64], 1),
];

/** dfgan's at 32 px, batch 8, width 32 (bench/dfgan_speed.ts defaults), its costliest in --profile. */
export const DFGAN_CONVS: ConvCase[] = [
  c([8, 4, 4, 384], [3, 3, 384, 32], 1), c([8, 4, 4, 128], [3, 3, 128, 128], 1), c([8, 8, 8, 64], [4, 4, 64, 128], 2),
  c([8, 8, 8, 64], [3, 3, 64, 64], 1), c([8, 16, 16, 32], [3, 3, 32, 32], 1), c([8, 16, 16, 32], [4, 4, 32, 64], 2),
  c([8, 32, 32, 3], [3, 3, 3, 16], 1), c([8, 32, 32, 16], [3, 3, 16, 32], 1),
];

/** esrgan's at 32 px HR, ×4, batch 4 (bench/sr_speed.ts defaults): dense blocks on 8×8 maps, the rest on 16–32 px. */
export const ESRGAN_CONVS: ConvCase[] = [
  c([4, 8, 8, 48], [3, 3, 48, 16], 1), c([4, 8, 8, 96], [3, 3, 96, 32], 1), c([4, 4, 4, 64], [3, 3, 64, 128], 1),
  c([4, 8, 8, 64], [3, 3, 64, 64], 1), c([4, 8, 8, 32], [3, 3, 32, 16], 1), c([4, 32, 32, 16], [3, 3, 16, 16], 1),
  c([4, 32, 32, 32], [3, 3, 32, 32], 1), c([4, 32, 32, 3], [3, 3, 3, 16], 1), c([4, 16, 16, 32], [3, 3, 32, 32], 1),
];

/** srgan's at 8 → 32 px, batch 4, width 32 (bench/sr_speed.ts defaults), its costliest in --profile: the 9×9 output
 *  convolution to 3 channels led it. */
export const SRGAN_CONVS: ConvCase[] = [
  c([4, 32, 32, 32], [9, 9, 32, 3], 1), c([4, 8, 8, 3], [9, 9, 3, 32], 1), c([4, 8, 8, 32], [3, 3, 32, 32], 1),
  c([4, 16, 16, 32], [3, 3, 32, 128], 1), c([4, 16, 16, 32], [3, 3, 32, 64], 1),
];

let flushBuffer = new Float32Array(0);
/** Writes the flush buffer (--flush MB), evicting the caches' contents. */
function flushCaches(): void {
  for (let i = 0; i < flushBuffer.length; i += 16) flushBuffer[i] += 1;
}

function timeMs(fn: () => tf.Tensor, reps: number): number {
  for (let i = 0; i < 3; i++) fn().dispose();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    flushCaches();
    const t0 = performance.now();
    // aten runs each kernel to completion in the call; reading the result back would add a copy into tfjs's
    // layout that a training step never makes (a weight gradient goes to Adam in the layout it came in).
    const y = fn();
    times.push(performance.now() - t0);
    y.dispose();
  }
  return Math.min(...times);
}

/** [forward, input gradient, weight gradient] ms of one case on the current backend. */
export function atenTimes(k: ConvCase, reps: number): [number, number, number] {
  const x = tf.randomNormal(k.x) as tf.Tensor4D, filter = tf.variable(tf.randomNormal(k.filter)) as unknown as tf.Tensor4D;
  const y = tf.conv2d(x, filter, k.stride, k.pad);
  const dy = tf.randomNormal(y.shape) as tf.Tensor4D;
  const times: [number, number, number] = [
    timeMs(() => tf.conv2d(x, filter, k.stride, k.pad), reps),
    timeMs(() => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, { inputShape: k.x, strides: k.stride, pad: k.pad, dataFormat: 'NHWC' }) as tf.Tensor, reps),
    timeMs(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { filterShape: k.filter, strides: k.stride, pad: k.pad, dataFormat: 'NHWC' }) as tf.Tensor, reps),
  ];
  tf.dispose([x, filter, y, dy]);
  return times;
}

/** The same three times per case from the PyTorch side (NCHW, as a PyTorch model holds them). */
function torchTimes(cases: ConvCase[], reps: number, flushMb: number): [number, number, number][] | null {
  try {
    const out = execFileSync(twinPython(), [path.join(referenceDir, 'conv_shapes_torch.py'), '--reps', String(reps), '--threads', String(benchThreads()),
      '--flush', String(flushMb), JSON.stringify(cases)],
      { encoding: 'utf8', env: twinEnv() });
    return JSON.parse(out) as [number, number, number][];
  } catch (e) {
    if (/No module named 'torch'|ENOENT/.test(String((e as { stderr?: string }).stderr ?? e))) return null;
    throw e;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    reps: { type: 'string', default: '20' }, torch: { type: 'boolean', default: false }, cases: { type: 'string', default: 'stackgan' },
    flush: { type: 'string', default: '0' },
  } });
  const reps = Number(values.reps), flushMb = Number(values.flush);
  if (!(flushMb >= 0)) throw new Error(`--flush: megabytes ≥ 0, not ${values.flush}`);
  flushBuffer = new Float32Array((flushMb * 2 ** 20) / 4);
  const sets: Record<string, ConvCase[]> = { stackgan: STACKGAN_CONVS, attngan: ATTNGAN_CONVS, dfgan: DFGAN_CONVS, esrgan: ESRGAN_CONVS, srgan: SRGAN_CONVS, small: SMALL_OUTPUT_CONVS };
  const cases = sets[values.cases!];
  if (!cases) throw new Error(`--cases: one of ${Object.keys(sets).join(', ')}, not ${values.cases}`);
  await initBackend({ prefer: 'aten' });
  const ours = cases.map((k) => atenTimes(k, reps));
  const theirs = values.torch ? torchTimes(cases, reps, flushMb) : null;
  console.log(`conv path: ${process.env.GANFORGE_CONV_PATH ?? 'rule'}; ms, best of ${reps}${flushMb ? `, each after writing ${flushMb} MB` : ''}: forward / input grad / weight grad` + (theirs ? ' (aten | torch)' : ''));
  let sumOurs = 0, sumTheirs = 0;
  cases.forEach((k, i) => {
    const o = ours[i]!, t = theirs?.[i];
    sumOurs += o[0] + o[1] + o[2];
    if (t) sumTheirs += t[0] + t[1] + t[2];
    const f = (a: number[]) => a.map((v) => v.toFixed(2).padStart(6)).join(' ');
    console.log(`${JSON.stringify(k.x).padEnd(16)} ${JSON.stringify(k.filter).padEnd(16)} s${k.stride} ${f(o)}` + (t ? `  | ${f(t)}` : ''));
  });
  console.log(`sum (each case once): aten ${sumOurs.toFixed(1)} ms` + (theirs ? `, torch ${sumTheirs.toFixed(1)} ms` : ''));
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
