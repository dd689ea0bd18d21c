/**
 * npm run bench:backend — the native backend against TF.js's cpu backend and PyTorch on this machine:
 *   1. the reference DCGAN training step (batch 64, 28×28) on aten, on cpu, and in PyTorch
 *      (shared/reference/dcgan_torch.py, when python3-torch is installed), then the aten/pytorch ratio;
 *   2. a 512³ float32 matmul in GFLOP/s on aten and in PyTorch;
 *   3. sampling 10,000 28×28 images with the DCGAN generator, images/s on aten and in PyTorch;
 *   4. the cost of one kernel call: µs per op of a chain of one-element adds (on a GPU, what bounds small steps).
 * GANFORGE_DEVICE (cpu, cuda) applies to both sides: the twin runs through bench/reference/dcgan_torch_device.py.
 * GANFORGE_PYTHON picks the python with torch (default /usr/bin/python3, Debian's python3-torch) and
 * GANFORGE_REFERENCE_DIR the folder holding dcgan_torch.py (default: shared/reference beside the repository).
 */
import * as tf from '@tensorflow/tfjs-core';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { initBackend } from '../src/backend/index.js';
import { dcgan } from '../src/models/dcgan.js';
import { resolveConfig } from '../src/gan/config.js';
import { generate, latents } from '../src/gan/sampling.js';
import { Rng } from '../src/util/rng.js';
import { dcganImagesPerSecond, FASHION_INFO } from './dcgan_step.js';
import { benchThreads, twinEnv } from './step_bench.js';

const here = path.dirname(new URL(import.meta.url).pathname);
const reference = path.join(process.env.GANFORGE_REFERENCE_DIR ?? path.resolve(here, '../../../shared/reference'), 'dcgan_torch.py');
const onDevice = path.resolve(here, '../../bench/reference/dcgan_torch_device.py');
const python = process.env.GANFORGE_PYTHON ?? '/usr/bin/python3';
const device = process.env.GANFORGE_DEVICE ?? 'cpu';
// Python prelude of the inline measurements: tensors on the device, and sync() to wait for it before reading a clock.
// (Sampling ends each batch with .cpu(), the copy back that aten's sampling makes too: no numpy needed there.)
const torchPrelude = `import torch,time\nif '${device}'!='cpu': torch.set_default_device('${device}')\n` +
  `sync=(lambda: torch.cuda.synchronize('${device}')) if '${device}'!='cpu' else (lambda: None)\n`;
const threads = benchThreads();

function torch(code: string): string | null {
  try {
    return execFileSync(python, ['-c', code], { encoding: 'utf8', env: twinEnv(threads), stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

function matmulGflops(): number {
  const a = tf.randomNormal([512, 512], 0, 1, 'float32', 1);
  const b = tf.randomNormal([512, 512], 0, 1, 'float32', 2);
  for (let i = 0; i < 3; i++) tf.matMul(a, b).dispose();
  const reps = 50;
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) {
    const c = tf.matMul(a, b);
    if (i === reps - 1) c.dataSync();
    c.dispose();
  }
  const s = (performance.now() - t0) / 1000;
  tf.dispose([a, b]);
  return (reps * 2 * 512 ** 3) / s / 1e9;
}

/** Microseconds per op of a chain of 5,000 one-element adds: what each kernel call costs beyond its arithmetic. */
function opOverheadMicros(): number {
  const one = tf.scalar(1);
  let x = tf.scalar(0);
  const run = (n: number) => {
    for (let i = 0; i < n; i++) {
      const y = tf.add(x, one) as tf.Scalar;
      x.dispose();
      x = y;
    }
    x.dataSync();
  };
  run(500);
  const t0 = performance.now();
  run(5000);
  const us = ((performance.now() - t0) * 1000) / 5000;
  tf.dispose([one, x]);
  return us;
}

function samplingImagesPerSecond(n: number): number {
  const config = resolveConfig({ model: 'dcgan' });
  const g = dcgan.build(FASHION_INFO, config, new Rng(0)).generator;
  const z = latents(new Rng(1), n, config.latentDim);
  generate(g, tf.slice(z, [0, 0], [256, -1]) as tf.Tensor2D);
  const t0 = performance.now();
  generate(g, z, 500);
  const s = (performance.now() - t0) / 1000;
  z.dispose();
  g.dispose();
  return n / s;
}

const results: Record<string, number> = {};
await initBackend({ prefer: 'aten', quiet: true });
results.aten = dcganImagesPerSecond(30, 5);
console.log(`backend=aten img/s=${results.aten.toFixed(1)}`);
const atenGflops = matmulGflops();
const atenSampling = samplingImagesPerSecond(10_000);
const atenOverhead = opOverheadMicros();

await initBackend({ prefer: 'cpu', quiet: true });
results.cpu = dcganImagesPerSecond(2, 1);
console.log(`backend=cpu img/s=${results.cpu.toFixed(1)}`);

if (existsSync(python) && existsSync(reference) && torch('import torch') !== null) {
  const out = execFileSync(python, [onDevice, reference, device, '30', String(threads)], { encoding: 'utf8', env: twinEnv(threads) });
  results.pytorch = Number(/img\/s ([\d.]+)/.exec(out)?.[1]);
  console.log(`backend=pytorch img/s=${results.pytorch.toFixed(1)}`);
  console.log(`ratio aten/pytorch=${(results.aten / results.pytorch).toFixed(2)}`);
  const torchGflops = Number(torch(
    `${torchPrelude}torch.set_num_threads(${threads});a=torch.randn(512,512);b=torch.randn(512,512)\nfor _ in range(3): a@b\nsync();t=time.perf_counter()\nfor _ in range(50): a@b\nsync();print(50*2*512**3/(time.perf_counter()-t)/1e9)`,
  ));
  const torchSampling = Number(torch(
    `import sys;sys.argv=['x'];${torchPrelude}import torch.nn as nn;torch.set_num_threads(${threads})\n` +
    `G=nn.Sequential(nn.Linear(100,7*7*128),nn.BatchNorm1d(7*7*128),nn.ReLU(),nn.Unflatten(1,(128,7,7)),nn.ConvTranspose2d(128,64,4,2,1),nn.BatchNorm2d(64),nn.ReLU(),nn.ConvTranspose2d(64,1,4,2,1),nn.Tanh()).eval()\n` +
    `z=torch.randn(10000,100)\nwith torch.no_grad():\n G(z[:256]);sync();t=time.perf_counter()\n for i in range(0,10000,500): G(z[i:i+500]).cpu()\nprint(10000/(time.perf_counter()-t))`,
  ));
  console.log(`matmul512 aten GFLOP/s=${atenGflops.toFixed(1)} pytorch GFLOP/s=${torchGflops.toFixed(1)} ratio=${(atenGflops / torchGflops).toFixed(2)}`);
  console.log(`sampling10k aten img/s=${atenSampling.toFixed(0)} pytorch img/s=${torchSampling.toFixed(0)} ratio=${(atenSampling / torchSampling).toFixed(2)}`);
  const torchOverhead = Number(torch(
    `${torchPrelude}torch.set_num_threads(${threads});one=torch.ones(());x=torch.zeros(())\nfor _ in range(500): x=x+one\n` +
    `sync();t=time.perf_counter()\nfor _ in range(5000): x=x+one\nx.item();print((time.perf_counter()-t)*1e6/5000)`,
  ));
  console.log(`op overhead (one-element add) aten µs/op=${atenOverhead.toFixed(1)} pytorch µs/op=${torchOverhead.toFixed(1)}`);
} else {
  console.log(`backend=pytorch unavailable (${python} with torch and ${reference} are needed; apt-get install python3-torch)`);
  console.log(`matmul512 aten GFLOP/s=${atenGflops.toFixed(1)}`);
  console.log(`sampling10k aten img/s=${atenSampling.toFixed(0)}`);
  console.log(`op overhead (one-element add) aten µs/op=${atenOverhead.toFixed(1)}`);
}
