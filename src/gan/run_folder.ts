import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../util/errors.js';
import { exists, writeFileAtomic } from '../util/fs.js';
import type { RunConfig } from './config.js';

/** The layout of a run folder; every reader and writer goes through these names. */
export class RunFolder {
  constructor(readonly dir: string) {}
  get config() { return path.join(this.dir, 'config.json'); }
  get metrics() { return path.join(this.dir, 'metrics.jsonl'); }
  get samples() { return path.join(this.dir, 'samples'); }
  get checkpoints() { return path.join(this.dir, 'checkpoints'); }
  get final() { return path.join(this.dir, 'final.png'); }
  samplePath(step: number) { return path.join(this.samples, `step-${pad(step)}.png`); }
  checkpointPath(step: number) { return path.join(this.checkpoints, `step-${pad(step)}`); }

  /** config.json: the resolved settings, rewritten whenever they change (resume, a rollback's lower rates). */
  writeConfig(config: RunConfig): Promise<void> {
    return writeFileAtomic(this.config, JSON.stringify(config, null, 2) + '\n');
  }

  /** Throws a UserError unless `dir` holds a ganforge run (config.json and a checkpoints folder). */
  static async open(dir: string): Promise<RunFolder> {
    const run = new RunFolder(dir);
    if (!(await exists(dir))) throw new UserError(`run folder '${dir}' does not exist`);
    if (!(await exists(run.config))) throw new UserError(`'${dir}' is not a ganforge run folder (no config.json); pass the --out folder of a 'ganforge train'`);
    return run;
  }
}

export function pad(step: number): string {
  return String(step).padStart(6, '0');
}

/** Append one JSON object per line; on resume, drop lines past the restored step so the log matches the weights. */
export class MetricsLog {
  constructor(private readonly file: string) {}

  async append(record: Record<string, unknown>): Promise<void> {
    await fs.appendFile(this.file, JSON.stringify(record) + '\n');
  }

  async truncateAfter(step: number): Promise<void> {
    if (!(await exists(this.file))) return;
    const lines = (await fs.readFile(this.file, 'utf8')).split('\n').filter((l) => l.trim() !== '');
    const kept = lines.filter((l) => {
      try {
        return (JSON.parse(l) as { step?: number }).step! <= step;
      } catch {
        return false; // a torn last line from a crash
      }
    });
    await fs.writeFile(this.file, kept.map((l) => l + '\n').join(''));
  }

  async readAll(): Promise<Record<string, number>[]> {
    if (!(await exists(this.file))) return [];
    return (await fs.readFile(this.file, 'utf8'))
      .split('\n')
      .filter((l) => l.trim() !== '')
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, number>];
        } catch {
          return [];
        }
      });
  }
}

export async function listDirs(dir: string, pattern: RegExp): Promise<string[]> {
  if (!(await exists(dir))) return [];
  return (await fs.readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory() && pattern.test(e.name)).map((e) => e.name).sort();
}
