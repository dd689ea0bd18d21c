// stylegan2 end to end through the CLI as users run it: a 50-step 16 px run without NaN, then sampling with
// the truncation trick and the style-mixing grid from its checkpoint (the EMA generator, loaded from disk).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fails, ok } from '../cli/helpers.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

test('ganforge train stylegan2: 50 steps at 16 px without NaN; sample --truncation 0.7 and --style-mix 1,2 3,4 --mix-layers 0-1', async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-stylegan2-cli-'));
  try {
    const run = path.join(tmp, 'run');
    await ok(['train', 'stylegan2', '--data', 'mnist', '--image-size', '16', '--data-limit', '256', '--steps', '50', '--batch-size', '8',
      '--width', '8', '--max-width', '16', '--w-dim', '32', '--latent-dim', '32', '--mapping-layers', '2', '--sample-every', '25', '--log-every', '1', '--out', run], tmp);
    const lines = (await fs.readFile(path.join(run, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines[lines.length - 1].step, 50);
    for (const line of lines) for (const [k, v] of Object.entries(line)) if (typeof v === 'number') assert.ok(Number.isFinite(v), `step ${line.step}: ${k} = ${v}`);
    assert.ok(lines.some((l) => 'reg/r1' in l) && lines.some((l) => 'reg/pl' in l), 'R1 and path length are reported on their steps');

    const r1 = await ok(['sample', run, '--count', '8', '--truncation', '0.7', '--out', 'trunc.png'], tmp);
    assert.match(r1.stderr, /wrote 8 samples from step 50 \(EMA generator\)/);
    assert.deepEqual((await fs.readFile(path.join(tmp, 'trunc.png'))).subarray(0, 8), PNG_SIGNATURE);
    const r2 = await ok(['sample', run, '--style-mix', '1,2', '3,4', '--mix-layers', '0-1', '--out', 'mix.png'], tmp);
    assert.match(r2.stderr, /wrote 9 samples/, 'a 3×3 grid: the corner, two column seeds, two rows of a seed and its two mixes');
    assert.deepEqual((await fs.readFile(path.join(tmp, 'mix.png'))).subarray(0, 8), PNG_SIGNATURE);
    await fails(['sample', run, '--style-mix', '1,2', '3,4', '--mix-layers', '2-6', '--out', 'bad.png'], tmp, /6 style inputs, 0–5 \(resolutions 4, 4, 8, 8, 16, 16\)/);
    await fails(['sample', run, '--truncation', '1.5', '--out', 'bad.png'], tmp, /--truncation must be in \(0, 1\]/);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});
