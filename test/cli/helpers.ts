import { spawn, type ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/test/cli/ → dist/src/cli/main.js: the CLI exactly as users run it. */
export const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Start `node main.js ...args` in `cwd`; stderr is a pipe, so progress comes as plain lines. A command still
 * running after `timeoutMs` is killed, so a hung CLI fails its test instead of hanging the suite.
 */
export function start(args: string[], cwd: string, timeoutMs = 300_000): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [MAIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

export function cli(args: string[], cwd: string): Promise<CliResult> {
  return start(args, cwd).done;
}

/** Asserts a clean success and returns the result. */
export async function ok(args: string[], cwd: string): Promise<CliResult> {
  const r = await cli(args, cwd);
  assert.equal(r.code, 0, `ganforge ${args.join(' ')} exited ${r.code}\n${r.stderr}`);
  return r;
}

/** Asserts exit status 2 and a message matching `pattern` on stderr, with no stack trace. */
export async function fails(args: string[], cwd: string, pattern: RegExp): Promise<CliResult> {
  const r = await cli(args, cwd);
  const what = `ganforge ${args.join(' ')}`;
  assert.equal(r.code, 2, `${what} exited ${r.code}\nstderr: ${r.stderr}`);
  assert.match(r.stderr, pattern, `${what}: stderr does not say what is wrong`);
  assert.ok(!r.stderr.includes('    at '), `${what}: stack trace on stderr:\n${r.stderr}`);
  return r;
}
