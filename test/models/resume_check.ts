// The exact-resume check the families' tests share: a run stopped after some step (as Ctrl-C stops it) and
// resumed must end with the same numbers, bit for bit, as the same run left alone.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type { RunConfig } from '../../src/gan/config.js';
import type { GanNetworks } from '../../src/gan/family.js';
import type { DataSource } from '../../src/data/types.js';
import { resumeRun, startRun } from '../../src/run.js';

/** A network's numbers, one array per weight. */
export type Numbers = ArrayLike<number>[];

export interface ResumeCase {
  /** The run's settings, given its folder. */
  config: (out: string) => Partial<RunConfig>;
  source: DataSource;
  /** The two runs' folders are DIR/NAME-full and DIR/NAME-cut. */
  dir: string;
  name?: string;
  /** The step after which the first run stops. */
  cut: number;
  /** The resumed run's total steps (default: the checkpoint's). */
  steps?: number;
  /** The numbers compared, by part (e.g. G, D, EMA): each part's differing count is reported on its own. */
  numbers: (nets: GanNetworks) => Record<string, Numbers>;
}

/** How many numbers differ between two sets of the same shapes. */
export function countDiffering(a: Numbers, b: Numbers): number {
  let n = 0;
  a.forEach((w, i) => {
    for (let j = 0; j < w.length; j++) if (w[j] !== b[i][j]) n++;
  });
  return n;
}

/**
 * Trains the uninterrupted and the cut-and-resumed run and asserts every part equal, counting differing numbers
 * (a deepEqual of the arrays would print every weight on failure). Returns the uninterrupted run's numbers and the
 * cut run's at its stop, so a caller can show the run moved after the cut (that the comparison can fail).
 */
export async function checkResumesExactly(c: ResumeCase): Promise<{ want: Record<string, Numbers>; atCut: Record<string, Numbers> }> {
  const name = c.name ?? 'run';
  const full = await startRun(c.config(path.join(c.dir, `${name}-full`)), { source: c.source });
  await full.train();
  const want = c.numbers(full.parts.nets);
  full.dispose();
  const first = await startRun(c.config(path.join(c.dir, `${name}-cut`)), { source: c.source });
  first.stats.subscribe((step) => {
    if (step === c.cut) first.requestStop();
  });
  await first.train();
  const atCut = c.numbers(first.parts.nets);
  first.dispose();
  const second = await resumeRun(path.join(c.dir, `${name}-cut`), { source: c.source, ...(c.steps === undefined ? {} : { steps: c.steps }) });
  await second.train();
  const got = c.numbers(second.parts.nets);
  second.dispose();
  for (const [part, numbers] of Object.entries(got)) {
    const differing = countDiffering(numbers, want[part]);
    assert.equal(differing, 0, `${name}: ${differing} numbers of ${part} differ between the resumed and the uninterrupted run`);
  }
  return { want, atCut };
}

/** Whether any part moved between the cut and the end of the uninterrupted run. */
export function movedAfterCut(r: { want: Record<string, Numbers>; atCut: Record<string, Numbers> }): boolean {
  return Object.keys(r.want).some((part) => countDiffering(r.atCut[part], r.want[part]) > 0);
}
