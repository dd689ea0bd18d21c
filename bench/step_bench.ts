import * as tf from '@tensorflow/tfjs-core';
import { execFileSync } from 'node:child_process';
import { disposeState, runStep, type StepState } from '../src/gan/training_step.js';
import { discriminatorOf } from '../src/gan/family.js';

/** What a PyTorch twin prints: images per second of wall clock and of its process's CPU time, and its parameter counts (`G=… D=…`, with ` E=…` where a family has a third network). */
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
      params: /params (G=\d+ D=\d+(?: E=\d+)?)/.exec(out)![1],
    };
  } catch (e) {
    const message = (e as { stderr?: string }).stderr ?? String(e);
    if (/No module named 'torch'|ENOENT/.test(message)) return null;
    throw new Error(`PyTorch twin failed: ${message}`);
  }
}

/** Seconds of CPU this process has used (user + system), for rates per CPU-second beside wall-clock ones. */
export function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Trainable parameters of a model. */
export function paramCount(model: { trainableWeights: { shape: (number | null)[] }[] }): number {
  return model.trainableWeights.reduce((n, w) => n + w.shape.reduce((a, b) => a! * b!, 1)!, 0);
}

/**
 * Images per second of a family's real step (runStep) after `warmup` untimed steps, over `steps` timed ones;
 * each step reads every loss, a full sync as the trainer's log does. Frees the state.
 */
export function stepRate(state: StepState, o: { warmup: number; steps: number; batch: number }): TwinRate {
  const params = `G=${paramCount(state.nets.generator)} D=${paramCount(discriminatorOf(state.nets))}`;
  for (let i = 0; i < o.warmup; i++) runStep(state);
  const t0 = performance.now(), cpu0 = cpuSeconds();
  for (let i = 0; i < o.steps; i++) runStep(state);
  const seconds = (performance.now() - t0) / 1000, cpu = cpuSeconds() - cpu0;
  disposeState(state);
  return { imgPerSec: (o.steps * o.batch) / seconds, cpuImgPerSec: (o.steps * o.batch) / cpu, params };
}

/** Kernel time of one profiled step, by kernel name and by kernel and input shapes. */
export async function profileKernels(state: StepState): Promise<{ wall: number; total: number; count: number; byName: Map<string, { count: number; ms: number }>; byShape: Map<string, { count: number; ms: number }> }> {
  const t0 = performance.now();
  const profile = await tf.profile(() => { runStep(state); });
  const wall = performance.now() - t0;
  const byName = new Map<string, { count: number; ms: number }>();
  const byShape = new Map<string, { count: number; ms: number }>();
  let total = 0;
  for (const k of profile.kernels) {
    const ms = k.kernelTimeMs as number;
    const key = `${k.name} ${JSON.stringify(k.inputShapes)}`;
    const e = byShape.get(key) ?? { count: 0, ms: 0 };
    byShape.set(key, { count: e.count + 1, ms: e.ms + ms });
    const n = byName.get(k.name) ?? { count: 0, ms: 0 };
    byName.set(k.name, { count: n.count + 1, ms: n.ms + ms });
    total += ms;
  }
  return { wall, total, count: profile.kernels.length, byName, byShape };
}

/**
 * Per-kernel time of one step after max(1, warmup) untimed ones: the totals by kernel and the top `top`
 * kernel/shape pairs, where a slow step spends its time. Frees the state.
 */
export async function profileStep(state: StepState, label: string, warmup: number, top = 25, log = console.log): Promise<void> {
  for (let i = 0; i < Math.max(1, warmup); i++) runStep(state);
  const p = await profileKernels(state);
  log(`${label}: ${p.count} kernels, ${p.total.toFixed(0)} ms in kernels of ${p.wall.toFixed(0)} ms (profiled)`);
  log('by kernel: ' + [...p.byName].sort((a, b) => b[1].ms - a[1].ms).slice(0, 15).map(([n, e]) => `${n} ${e.ms.toFixed(0)}`).join(', '));
  for (const [key, e] of [...p.byShape].sort((a, b) => b[1].ms - a[1].ms).slice(0, top)) log(`  ${e.ms.toFixed(1).padStart(8)} ms x${e.count} ${key}`);
  disposeState(state);
}

/** "mean ± sample std" of xs. */
export function meanStd(xs: number[], digits: number): string {
  const m = xs.reduce((s, x) => s + x, 0) / xs.length;
  const std = Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / Math.max(1, xs.length - 1));
  return `${m.toFixed(digits)} ± ${std.toFixed(digits)}`;
}
