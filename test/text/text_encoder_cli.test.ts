// `ganforge text-encoder`'s refusals, each naming the flag (the training itself is tested in pretrain.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { textEncoderCommand, type TextEncoderOptions } from '../../src/cli/text_encoder.js';
import { UserError } from '../../src/util/errors.js';

const base: TextEncoderOptions = { data: 'fashion-mnist', out: path.join(os.tmpdir(), `ganforge-te-cli-${process.pid}`), steps: 1, batchSize: 8, seed: 0, embedDim: 8, featureDim: 8, dataLimit: 16, backend: 'cpu' };
const refused = (opts: Partial<TextEncoderOptions>, pattern: RegExp) => assert.rejects(textEncoderCommand({ ...base, ...opts }), (e: Error) => e instanceof UserError && pattern.test(e.message));

test('text-encoder refuses an odd feature size, a batch of one, data without captions and an --out of something else', async () => {
  await refused({ featureDim: 7 }, /--feature-dim 7: must be even/);
  await refused({ batchSize: 1 }, /--batch-size 1: .*at least 2/);
  await refused({ steps: 0 }, /--steps must be a positive integer/);
  await refused({}, /--data fashion-mnist has no captions/);
  const other = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-te-cli-'));
  await fs.writeFile(path.join(other, 'x.txt'), 'mine');
  await refused({ out: other }, /--out .* holds no text encoders/);
  await fs.rm(other, { recursive: true, force: true });
});
