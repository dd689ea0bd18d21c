// Speed of the aten backend: 512³ matmul GFLOP/s and DCGAN training img/s, side by side with
// PyTorch on the same machine when /usr/bin/python3 has torch (run back to back, so both see
// the same machine load). Usage: npm run bench [-- --steps 30 --profile --no-torch]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { atenFallbackKernels, atenInfo, registerAtenBackend } from 'tfjs-backend-aten';
import { buildDcgan, disposeDcgan, seededValues, trainStep } from './dcgan.js';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const STEPS = option('steps', 30), BATCH = 64;
const TORCH_REFERENCE = '/work/shared/reference/dcgan_torch.py';

function benchMatmul(): number {
  const a = tf.randomNormal([512, 512]), b = tf.randomNormal([512, 512]);
  for (let i = 0; i < 5; i++) tf.matMul(a, b).dispose();
  const n = 50, start = performance.now();
  for (let i = 0; i < n; i++) tf.matMul(a, b).dispose();
  const seconds = (performance.now() - start) / 1000;
  tf.dispose([a, b]);
  return (2 * 512 ** 3 * n) / seconds / 1e9;
}

async function benchDcgan(): Promise<number> {
  const gan = buildDcgan();
  const real = tf.tensor4d(seededValues(BATCH * 28 * 28, 1), [BATCH, 28, 28, 1]);
  const z = tf.tensor2d(seededValues(BATCH * 100, 2), [BATCH, 100]);
  for (let i = 0; i < 5; i++) trainStep(gan, real, z);
  if (flag('profile')) {
    const profile = await tf.profile(() => { trainStep(gan, real, z); });
    const byKernel = new Map<string, { count: number; ms: number }>();
    for (const k of profile.kernels) {
      const e = byKernel.get(k.name) ?? { count: 0, ms: 0 };
      e.count++;
      e.ms += k.kernelTimeMs as number;
      byKernel.set(k.name, e);
    }
    console.log('per-kernel time in one step (tf.profile):');
    for (const [name, e] of [...byKernel].sort((p, q) => q[1].ms - p[1].ms).slice(0, 15)) {
      console.log(`  ${name.padEnd(24)} x${String(e.count).padEnd(4)} ${e.ms.toFixed(1)} ms`);
    }
  }
  const start = performance.now();
  for (let i = 0; i < STEPS; i++) trainStep(gan, real, z);
  const seconds = (performance.now() - start) / 1000;
  tf.dispose([real, z]);
  disposeDcgan(gan);
  return (STEPS * BATCH) / seconds;
}

function torchFigures(threads: number): { matmul: number; dcgan: number } | null {
  if (flag('no-torch') || !fs.existsSync('/usr/bin/python3') || !fs.existsSync(TORCH_REFERENCE)) return null;
  try {
    const matmulScript = `import torch,time
torch.set_num_threads(${threads})
a=torch.randn(512,512);b=torch.randn(512,512)
for _ in range(5): a@b
n=50;t=time.perf_counter()
for _ in range(n): a@b
print(2*512**3*n/(time.perf_counter()-t)/1e9)`;
    const matmul = Number(execFileSync('/usr/bin/python3', ['-c', matmulScript], { encoding: 'utf8' }).trim());
    const out = execFileSync('/usr/bin/python3', [TORCH_REFERENCE, String(STEPS), String(threads)], { encoding: 'utf8' });
    const dcgan = Number(/img\/s ([\d.]+)/.exec(out)?.[1]);
    return { matmul, dcgan };
  } catch {
    return null;
  }
}

if (!registerAtenBackend()) {
  console.error('aten backend unavailable');
  process.exit(1);
}
await tf.setBackend('aten');
const info = atenInfo();
console.log(`aten: libtorch ${info.libtorchVersion}, ${info.device}, ${info.threads} threads, blas ${info.blas}, mkldnn ${info.mkldnn}`);
const matmul = benchMatmul();
console.log(`matmul 512^3   aten ${matmul.toFixed(1)} GFLOP/s`);
const dcgan = await benchDcgan();
console.log(`DCGAN step     aten ${dcgan.toFixed(1)} img/s (batch ${BATCH}, ${STEPS} steps)`);
console.log(`fallback kernels used: ${JSON.stringify(atenFallbackKernels())}`);
const torch = torchFigures(info.threads);
if (torch) {
  console.log(`matmul 512^3   torch ${torch.matmul.toFixed(1)} GFLOP/s  -> aten/torch ${(matmul / torch.matmul).toFixed(2)}`);
  console.log(`DCGAN step     torch ${torch.dcgan.toFixed(1)} img/s      -> aten/torch ${(dcgan / torch.dcgan).toFixed(2)}`);
}
