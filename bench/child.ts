/** Child processes of the benchmarks that drive the CLI: their progress shows, their stdout is the result. */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The CLI's entry point beside this compiled file (dist/bench → dist/src/cli/main.js). */
const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/cli/main.js');

/** Runs a node script, stderr passed through with a prefix so that progress shows; resolves to its stdout. */
export function runNode(script: string, args: string[], tag: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', tail = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d: Buffer) => {
      const text = d.toString();
      tail = (tail + text).slice(-4000);
      for (const line of text.split('\n').filter((l) => l.trim())) process.stderr.write(`  [${tag}] ${line}\n`);
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${path.basename(script)} ${args.join(' ')} exited ${code}: ${tail.trim().split('\n').slice(-3).join(' | ')}`))));
  });
}

/** Runs `ganforge ARGS…` as runNode does. */
export const ganforge = (args: string[], tag: string): Promise<string> => runNode(MAIN, args, tag);
