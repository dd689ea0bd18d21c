import { execFileSync } from 'node:child_process';

/** What a PyTorch twin prints: images per second of wall clock and of its process's CPU time, and its parameter counts. */
export interface TwinRate { imgPerSec: number; cpuImgPerSec: number; params: string }

/**
 * Runs a PyTorch twin (`/usr/bin/python3 SCRIPT ARGS…`) and reads its `img/s=`, `cpu_img/s=` and `params G=… D=…`;
 * null when python3-torch is missing. The aten loader set GOMP_SPINCOUNT for this process; the child gets the
 * same spin policy, so both sides wait for work the same way.
 */
export function runTorchTwin(args: string[]): TwinRate | null {
  const env = { ...process.env, GOMP_SPINCOUNT: process.env.GOMP_SPINCOUNT ?? '10000' };
  try {
    const out = execFileSync('/usr/bin/python3', args, { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
    return {
      imgPerSec: Number(/(?:^|\s)img\/s=([\d.]+)/.exec(out)![1]), cpuImgPerSec: Number(/cpu_img\/s=([\d.]+)/.exec(out)![1]),
      params: /params (G=\d+ D=\d+)/.exec(out)![1],
    };
  } catch (e) {
    const message = (e as { stderr?: string }).stderr ?? String(e);
    if (/No module named 'torch'|ENOENT/.test(message)) return null;
    throw new Error(`PyTorch twin failed: ${message}`);
  }
}
