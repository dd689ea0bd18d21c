/**
 * Picks the compute backend: the native ATen backend (packages/tfjs-backend-aten) when it is built,
 * else TF.js's pure-JS cpu backend with ganforge's faster kernels installed over its slowest ones.
 */
import * as tf from '@tensorflow/tfjs-core';
import { UserError, unknownChoice } from '../util/errors.js';
import { installFastCpuKernels } from './js_kernels.js';

export { installFastCpuKernels, uninstallFastCpuKernels } from './js_kernels.js';

/** The backend initBackend settled on, with a one-line human description. */
export interface BackendInfo { name: 'aten' | 'cpu'; detail: string }

export const BACKEND_PREFERENCES = ['auto', 'aten', 'cpu'] as const;
export type BackendPreference = (typeof BACKEND_PREFERENCES)[number];

const isPreference = (s: string): s is BackendPreference => (BACKEND_PREFERENCES as readonly string[]).includes(s);

export interface InitBackendOptions {
  /** 'auto' (default, or GANFORGE_BACKEND): ATen if it loads, else cpu. 'aten' fails loudly instead.
   *  A string from outside (a CLI flag) is accepted and checked: an unknown name is a UserError. */
  prefer?: BackendPreference | string;
  /** Suppress the one-line fallback notice. */
  quiet?: boolean;
  /** Where the notice goes (default: stderr, so piped stdout stays clean). */
  log?: (line: string) => void;
  /** Module specifier of the native backend (tests point it at a missing package to force a fallback). */
  atenModule?: string;
}

/** The part of tfjs-backend-aten's API used here; typed locally so ganforge compiles before it is built. */
interface AtenModule {
  registerAtenBackend(priority?: number): boolean;
  atenLoadError(): string | undefined;
  atenInfo(): { libtorchVersion: string; device: string; threads: number; blas: string; blasThreads: number; mkldnn: boolean };
}

/** A variable specifier keeps TypeScript from resolving the (possibly unbuilt) package at compile time. */
const ATEN_PACKAGE: string = 'tfjs-backend-aten';

let lastFallbackReason: string | undefined;

/** The requested backend, validated here for every caller: `prefer` may come unchecked from a CLI flag. */
function preference(opts: InitBackendOptions): { prefer: BackendPreference; source: string } {
  if (opts.prefer !== undefined) {
    if (!isPreference(opts.prefer)) throw unknownChoice('backend', opts.prefer, BACKEND_PREFERENCES);
    return { prefer: opts.prefer, source: `prefer: '${opts.prefer}'` };
  }
  const env = process.env.GANFORGE_BACKEND?.trim().toLowerCase();
  if (!env) return { prefer: 'auto', source: 'default' };
  if (!isPreference(env)) {
    throw new UserError(`GANFORGE_BACKEND='${process.env.GANFORGE_BACKEND}' is not one of auto, aten, cpu`);
  }
  return { prefer: env, source: `GANFORGE_BACKEND=${env}` };
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0];
}

/** Imports and registers the ATen backend; resolves to the module, or to the reason it is unusable. */
async function loadAten(spec: string): Promise<{ mod: AtenModule } | { reason: string }> {
  let mod: AtenModule;
  try {
    mod = (await import(spec)) as AtenModule;
  } catch (err) {
    const code = (err as { code?: string }).code;
    return { reason: code === 'ERR_MODULE_NOT_FOUND' ? `${spec} is not built` : firstLine(err) };
  }
  try {
    if (!mod.registerAtenBackend()) return { reason: mod.atenLoadError() ?? 'registerAtenBackend() returned false' };
    if (!(await tf.setBackend('aten'))) return { reason: "tf.setBackend('aten') failed" };
    return { mod };
  } catch (err) {
    return { reason: firstLine(err) };
  }
}

function describeAten(mod: AtenModule): string {
  const i = mod.atenInfo();
  return `ATen (libtorch ${i.libtorchVersion}) on ${i.device}, ${i.threads} threads, BLAS ${i.blas}${i.mkldnn ? ', oneDNN' : ''}`;
}

/**
 * Selects and activates the backend. 'auto' tries ATen and falls back to the JS cpu backend with one
 * notice line; 'aten' throws a UserError when ATen cannot be used; 'cpu' skips ATen. Safe to call again.
 */
export async function initBackend(opts: InitBackendOptions = {}): Promise<BackendInfo> {
  const { prefer, source } = preference(opts);
  const log = opts.log ?? ((line: string) => console.error(line));
  let reason = `cpu requested (${source})`;
  if (prefer !== 'cpu') {
    const r = await loadAten(opts.atenModule ?? ATEN_PACKAGE);
    if ('mod' in r) {
      lastFallbackReason = undefined;
      return { name: 'aten', detail: describeAten(r.mod) };
    }
    if (prefer === 'aten') {
      throw new UserError(`the native ATen backend was requested (${source}) but is unavailable: ${r.reason}. ` +
        'Run `npm run setup` to build it, or use the cpu backend (GANFORGE_BACKEND=cpu).');
    }
    reason = r.reason;
  }
  const kernels = installFastCpuKernels();
  await tf.setBackend('cpu');
  silenceTfjsNodeAdvert();
  lastFallbackReason = reason;
  if (!opts.quiet) {
    log(prefer === 'cpu'
      ? `ganforge: native backend not used (${reason}); using the JS cpu backend (slow).`
      : `ganforge: native backend unavailable (${reason}); using the JS cpu backend (slow). Run npm run setup to build it.`);
  }
  return { name: 'cpu', detail: `TF.js cpu backend with ${kernels.length} ganforge JS kernels (${reason})` };
}

/**
 * TF.js's cpu backend prints a banner on its first tensor in Node asking the user to install @tensorflow/tfjs-node,
 * which cannot install here and which ganforge replaces with ATen; our own line above says what to do instead. The
 * banner is keyed on the backend's public `firstUse` flag, cleared here before any tensor is made. Exported for code
 * that runs the cpu backend without initBackend (tests' oracles).
 */
export function silenceTfjsNodeAdvert(): void {
  const cpu = tf.findBackend('cpu') as { firstUse?: boolean } | null;
  if (cpu && 'firstUse' in cpu) cpu.firstUse = false;
}

/** Lines for `ganforge doctor`: the active backend, the native build's details or why it is unusable. */
export async function backendReport(): Promise<string[]> {
  // engine().backendName, unlike tf.getBackend(), does not initialise a backend as a side effect.
  const active = tf.engine().backendName as string | null;
  const lines = [`active backend: ${active ?? 'none (initBackend not called)'}`, `tfjs-core: ${tf.version_core}`];
  lines.push(`GANFORGE_BACKEND: ${process.env.GANFORGE_BACKEND ?? '(unset, auto)'}`);
  let mod: AtenModule | undefined;
  let problem: string | undefined;
  try {
    mod = (await import(ATEN_PACKAGE)) as AtenModule;
    problem = mod.atenLoadError();
  } catch (err) {
    problem = (err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' ? 'tfjs-backend-aten is not built' : firstLine(err);
  }
  if (mod && !problem) {
    try {
      const i = mod.atenInfo();
      lines.push(`libtorch: ${i.libtorchVersion}`, `device: ${i.device}`, `threads: ${i.threads}`,
        `BLAS: ${i.blas}${i.blasThreads > 0 ? ` (OpenBLAS, ${i.blasThreads} thread${i.blasThreads === 1 ? '' : 's'})` : ''}`, `oneDNN (mkldnn): ${i.mkldnn ? 'yes' : 'no'}`);
    } catch (err) {
      problem = firstLine(err);
    }
  }
  if (problem) lines.push(`native backend: unavailable (${problem}); run npm run setup to build it`);
  if (active === 'cpu') {
    lines.push(`fallback: JS cpu backend with ganforge fast kernels${lastFallbackReason ? ` (${lastFallbackReason})` : ''}; ` +
      'expect training to be far slower than on ATen');
  }
  return lines;
}
