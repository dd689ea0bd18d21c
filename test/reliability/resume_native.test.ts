import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.js';
import { resumeRun, startRun } from '../../src/run.js';
import type { RunConfig } from '../../src/gan/config.js';

await initBackend({ quiet: true });

/** G's weights after 6 steps: uninterrupted, and stopped after step 3 then resumed; count the numbers that differ. */
async function differingAfterResume(cfg: Partial<RunConfig>, tmp: string): Promise<number> {
  const full = await startRun({ ...cfg, out: path.join(tmp, 'full') });
  await full.train();
  const want = full.parts.nets.generator.getWeights().map((w) => w.dataSync().slice());
  full.dispose();
  const first = await startRun({ ...cfg, out: path.join(tmp, 'cut') });
  first.stats.subscribe((step) => {
    if (step === 3) first.requestStop(); // as Ctrl-C does: the schedule over 6 steps is the same
  });
  await first.train();
  first.dispose();
  const second = await resumeRun(path.join(tmp, 'cut'));
  await second.train();
  const got = second.parts.nets.generator.getWeights().map((w) => w.dataSync().slice());
  second.dispose();
  return got.reduce((n, w, i) => n + w.filter((v, j) => v !== want[i][j]).length, 0);
}

// On the backend the suite runs on (aten when built): conv filters, in-place Adam and the native gradients must not
// make a resumed run drift from an uninterrupted one (it did while a filter re-stored channels-last was a view the
// in-place Adam refused, so tfjs's Adam, rounding 1 − β apart, ran on different steps in the two runs).
test(`exact resume on the ${tf.getBackend()} backend: dcgan and pix2pix, bit for bit`, async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-resume-native-'));
  try {
    const common = { steps: 6, sampleEvery: 0, checkpointEvery: 3, logEvery: 1, dataLimit: 64, width: 4 };
    const dc = await differingAfterResume({ ...common, model: 'dcgan', data: 'fashion-mnist', batchSize: 8, latentDim: 8 }, path.join(tmp, 'dc'));
    assert.equal(dc, 0, `dcgan: ${dc} weights of G differ`);
    const p2p = await differingAfterResume({ ...common, model: 'pix2pix', data: 'edges:fashion-mnist', imageSize: 32, batchSize: 2 }, path.join(tmp, 'p2p'));
    assert.equal(p2p, 0, `pix2pix: ${p2p} weights of G differ`);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});
