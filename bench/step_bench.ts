import * as tf from '@tensorflow/tfjs-core';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../src/backend/index.js';
import { resolveFamilyConfig, type RunConfig } from '../src/gan/config.js';
import { disposeState, freshState, runStep, type StepState } from '../src/gan/training_step.js';
import { discriminatorOf } from '../src/gan/family.js';
import { getModel } from '../src/models/registry.js';
import { captionSet } from '../src/data/tokenizer.js';
import type { ArraySource } from '../src/data/types.js';
import { Rng } from '../src/util/rng.js';

/** The PyTorch twins' folder. */
export const referenceDir = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../bench/reference');

/** ATen intra-op threads as the backend sets them (GANFORGE_THREADS, else every core); PyTorch gets the same. */
export function benchThreads(): number {
  return Number(process.env.GANFORGE_THREADS ?? 0) || os.availableParallelism();
}

/** What a PyTorch twin prints: images per second of wall clock and of its process's CPU time, and its parameter counts (`G=… D=…`, with ` E=…` where a family has a third network). */
export interface TwinRate { imgPerSec: number; cpuImgPerSec: number; params: string }

/** The python whose torch the twins run on (GANFORGE_PYTHON; default Debian's python3-torch). */
export const twinPython = (): string => process.env.GANFORGE_PYTHON ?? '/usr/bin/python3';

/**
 * A twin's command line (SCRIPT ARGS…) on the device aten uses (GANFORGE_DEVICE): on a GPU it goes through
 * on_device.py, which puts the twin's tensors there and makes its clock wait for the GPU.
 */
export function twinArgs(args: string[]): string[] {
  const device = process.env.GANFORGE_DEVICE ?? 'cpu';
  return device === 'cpu' ? args : [path.join(referenceDir, 'on_device.py'), device, ...args];
}

/**
 * The environment a twin runs in, so that both sides wait for work and use threads the same way: the aten loader set
 * GOMP_SPINCOUNT for this process, and aten sizes OpenBLAS's pool to its thread count (torch.set_num_threads does
 * not; OpenBLAS reads OPENBLAS_NUM_THREADS when it loads). `threads`: the twin's thread count.
 */
export function twinEnv(threads = benchThreads()): NodeJS.ProcessEnv {
  return { ...process.env, GOMP_SPINCOUNT: process.env.GOMP_SPINCOUNT ?? '10000', OPENBLAS_NUM_THREADS: String(threads) };
}

/**
 * Runs a PyTorch twin (`python3 SCRIPT ARGS…`, see twinPython and twinArgs) and reads its `img/s=`, `cpu_img/s=`
 * and `params G=… D=…`; null when python3-torch is missing. It runs in twinEnv().
 */
export function runTorchTwin(args: string[]): TwinRate | null {
  const env = twinEnv();
  try {
    const out = execFileSync(twinPython(), twinArgs(args), { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
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
export async function profileKernels(state: StepState): Promise<{ wall: number; total: number; count: number; byName: Map<string, { count: number; ms: number }>; byShape: Map<string, { count: number; ms: number; calls: number[] }> }> {
  // PROFILE_STEPS=N profiles N steps (times are for all N), steadier than one on a shared machine.
  const steps = Number(process.env.PROFILE_STEPS ?? 1);
  const t0 = performance.now();
  const profile = await tf.profile(() => { for (let i = 0; i < steps; i++) runStep(state); });
  const wall = performance.now() - t0;
  const byName = new Map<string, { count: number; ms: number }>();
  const byShape = new Map<string, { count: number; ms: number; calls: number[] }>();
  let total = 0;
  for (const k of profile.kernels) {
    // A custom-gradient op (tf.fused.conv2d, tf.fused.matMul) is recorded under its scope's name, `NAME__op`, around
    // the kernel it runs, which is recorded too: counting both would count that kernel's time twice.
    if (k.name.endsWith('__op')) continue;
    const ms = k.kernelTimeMs as number;
    const key = `${k.name} ${JSON.stringify(k.inputShapes)}`;
    const e = byShape.get(key) ?? { count: 0, ms: 0, calls: [] };
    e.count++;
    e.ms += ms;
    e.calls.push(ms);
    byShape.set(key, e);
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
export async function profileStep(state: StepState, label: string, warmup: number, top = Number(process.env.PROFILE_TOP ?? 25), log = console.log): Promise<void> {
  for (let i = 0; i < Math.max(1, warmup); i++) runStep(state);
  const p = await profileKernels(state);
  log(`${label}: ${p.count} kernels, ${p.total.toFixed(0)} ms in kernels of ${p.wall.toFixed(0)} ms (profiled)`);
  log('by kernel (ms, calls): ' + [...p.byName].sort((a, b) => b[1].ms - a[1].ms).slice(0, 20).map(([n, e]) => `${n} ${e.ms.toFixed(0)} x${e.count}`).join(', '));
  // The median call beside the total: a shape whose total is far above count × median has a tail of slow calls.
  for (const [key, e] of [...p.byShape].sort((a, b) => b[1].ms - a[1].ms).slice(0, top)) {
    log(`  ${e.ms.toFixed(1).padStart(8)} ms x${e.count} (median ${median(e.calls).toFixed(2)}) ${key}`);
  }
  disposeState(state);
}

/** The middle value of xs (the upper one of the two middle values for an even count). */
export function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
}

/** "mean ± sample std" of xs. */
export function meanStd(xs: number[], digits: number): string {
  const m = xs.reduce((s, x) => s + x, 0) / xs.length;
  const std = Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / Math.max(1, xs.length - 1));
  return `${m.toFixed(digits)} ± ${std.toFixed(digits)}`;
}

/** Words of the random captions: with PAD and UNK, a vocabulary of CAPTION_WORDS + 2 (the twins' --vocab). */
export const CAPTION_WORDS = 38;

/** The sizes every text-to-image speed bench takes. */
export interface CaptionedSpeedOptions {
  size: number;
  batch: number;
  steps: number;
  warmup: number;
  width: number;
  wordDim: number;
  textDim: number;
  maxLen: number;
}

/** The text-to-image benches' common flags (parseArgs options), with the family's default batch and width. */
export function captionedFlags(defaults: { batch: string; width: string }) {
  return {
    size: { type: 'string', default: '32' }, batch: { type: 'string', default: defaults.batch }, steps: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' }, runs: { type: 'string', default: '2' }, width: { type: 'string', default: defaults.width },
    'word-dim': { type: 'string', default: '300' }, 'text-dim': { type: 'string', default: '256' }, 'max-len': { type: 'string', default: '12' },
    profile: { type: 'boolean', default: false },
  } as const;
}

/** CaptionedSpeedOptions from the values of captionedFlags. */
export function captionedOptions(values: Record<'size' | 'batch' | 'steps' | 'warmup' | 'width' | 'word-dim' | 'text-dim' | 'max-len', string>): CaptionedSpeedOptions {
  return {
    size: Number(values.size), batch: Number(values.batch), steps: Number(values.steps), warmup: Number(values.warmup), width: Number(values.width),
    wordDim: Number(values['word-dim']), textDim: Number(values['text-dim']), maxLen: Number(values['max-len']),
  };
}

/** Random uint8 RGB images, each with one caption of maxLen random words (no padding, as the twins'). */
export function randomCaptioned(o: { size: number; maxLen: number }, count = 32): ArraySource {
  const rng = new Rng(7);
  const values = Uint8Array.from({ length: count * o.size * o.size * 3 }, () => rng.int(256));
  const vocab = Array.from({ length: CAPTION_WORDS }, (_, i) => `w${i}`);
  const texts = Array.from({ length: count }, (_, i) =>
    Array.from({ length: o.maxLen }, (_, j) => vocab[(i * 7 + j * 3 + rng.int(CAPTION_WORDS)) % CAPTION_WORDS]).join(' '));
  const { captions, info } = captionSet(texts, Int32Array.from({ length: count }, (_, i) => i), o.maxLen);
  return { kind: 'array', count, values, captions, info: { name: 'random-captioned', kind: 'image', shape: [o.size, o.size, 3], count, text: info } };
}

/** A fresh state of the registered family `model` on `source`, its settings resolved from `own` over its defaults. */
export function familyState(model: string, source: ArraySource, own: Partial<RunConfig>): StepState {
  const family = getModel(model);
  const config = resolveFamilyConfig(family.settings ?? {}, family.defaults(source.info), { model, seed: 0, steps: 1_000_000, ...own });
  const problem = family.check(source.info, config);
  if (problem) throw new Error(problem);
  return freshState(family, source, config);
}

/** What the runs of a twin comparison gathered, for its table row. */
export interface TwinSummary {
  /** aten speed / PyTorch speed per run, by wall clock and by CPU-second (runs where the twin ran). */
  ratios: number[];
  cpuRatios: number[];
  atenMs: number[];
  torchMs: number[];
  /** Kernels that fell back from aten to the CPU backend during the runs. */
  fallbacks: string[];
}

/** "mean ± std" of xs, or n/a when there are none (no twin). */
export const meanStdOrNa = (xs: number[], digits: number): string => (xs.length ? meanStd(xs, digits) : 'n/a');
/** The fallback kernels as the tables list them. */
export const fallbackList = (s: TwinSummary): string => (s.fallbacks.length ? s.fallbacks.join(', ') : 'none');

/** The image families' table: family, px, batch, width, the wall-clock speed ratio and the fallbacks. */
export function imageTable(family: string, o: { size: number; batch: number; width: number }): TwinComparison['tableColumns'] {
  return [
    ['family', () => family], ['px', () => String(o.size)], ['batch', () => String(o.batch)], ['width', () => String(o.width)],
    ['aten/torch speed (wall)', (s) => meanStdOrNa(s.ratios, 2)], ['aten fallbacks', fallbackList],
  ];
}

export interface TwinComparison {
  batch: number;
  steps: number;
  warmup: number;
  runs: number;
  /** --profile: print one step's kernel time under this label instead of timing. */
  profile: boolean;
  label: string;
  /** A fresh aten state; each run builds one and stepRate frees it. */
  atenState: () => StepState;
  /** The aten parameter counts for the first line, read before the state is freed; stepRate's `G=… D=…` when absent. */
  atenParams?: (state: StepState) => string;
  /** One PyTorch twin run with the same sizes; null when PyTorch is missing. */
  torch: () => TwinRate | null;
  /** The first line, from the parameter counts of both sides. */
  headline: (atenParams: string, torchParams: string) => string;
  /** What the fallback line calls the timed steps (default "real step"). */
  stepsName?: string;
  /** The markdown table: header and cell of each column. */
  tableColumns: [string, (s: TwinSummary) => string][];
}

/**
 * Times `runs` runs alternating the aten step and its PyTorch twin, printing per run `aten ms/step=… torch
 * ms/step=… ratio=… | per CPU-second ratio=…`, then the kernels that fell back from aten to the CPU backend and a
 * one-row markdown table. Initialises the aten backend first.
 */
export async function runTwinComparison(c: TwinComparison): Promise<void> {
  const info = await initBackend({ prefer: 'aten', quiet: true });
  console.log(`backend ${info.detail}; threads ${benchThreads()}; GOMP_SPINCOUNT=${process.env.GOMP_SPINCOUNT}`);
  if (c.profile) return profileStep(c.atenState(), c.label, c.warmup);
  const aten = tf.getBackend() === 'aten' ? ((await import('tfjs-backend-aten' as string)) as { atenFallbackKernels(): string[] }) : null;
  const before = aten?.atenFallbackKernels() ?? [];
  const ms = (r: TwinRate) => (1000 * c.batch) / r.imgPerSec;
  const s: TwinSummary = { ratios: [], cpuRatios: [], atenMs: [], torchMs: [], fallbacks: [] };
  for (let r = 0; r < c.runs; r++) {
    const state = c.atenState();
    const params = c.atenParams?.(state);
    const a = stepRate(state, c);
    const t = c.torch();
    if (r === 0) console.log(c.headline(params ?? a.params, t?.params ?? 'n/a'));
    s.atenMs.push(ms(a));
    if (t) {
      s.ratios.push(a.imgPerSec / t.imgPerSec);
      s.cpuRatios.push(a.cpuImgPerSec / t.cpuImgPerSec);
      s.torchMs.push(ms(t));
    }
    console.log(`run=${r + 1} aten ms/step=${ms(a).toFixed(1)} torch ms/step=${t ? ms(t).toFixed(1) : 'n/a'}` +
      (t ? ` ratio=${(a.imgPerSec / t.imgPerSec).toFixed(2)} | per CPU-second ratio=${(a.cpuImgPerSec / t.cpuImgPerSec).toFixed(2)}` : ''));
  }
  s.fallbacks = (aten?.atenFallbackKernels() ?? []).filter((k) => !before.includes(k));
  console.log(`aten fallback kernels in the ${c.stepsName ?? 'real step'}: ${fallbackList(s)}`);
  console.log(`\n| ${c.tableColumns.map(([h]) => h).join(' | ')} |\n|${'---|'.repeat(c.tableColumns.length)}`);
  console.log(`| ${c.tableColumns.map(([, cell]) => cell(s)).join(' | ')} |`);
}
