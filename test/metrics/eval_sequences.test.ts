// `ganforge eval` and `--eval-every` on a run over sequences: the family is found by what it declares (data kinds,
// condition), the reference is the data's test split, each metric prints its protocol, and bad flags name themselves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MODELS } from '../../src/models/registry.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const ganforge = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
// An unconditional family that trains on sequences (whichever the registry holds first).
const family = Object.values(MODELS).find((f) => f.dataKinds?.includes('sequence') && (f.condition ?? 'none') === 'none');

test('eval on a sequence run: discriminative, predictive and MMD² against the sines test split, each with its protocol', async () => {
  assert.ok(family, 'a family that trains on sequences without a condition');
  const dir = join(await mkdtemp(join(tmpdir(), 'ganforge-seqeval-')), 'run');
  // --eval-every during training: metrics.jsonl gets eval/mmd (the only metric asked, so it picks the best checkpoint).
  const train = ganforge('train', family.name, '--data', 'sines', '--steps', '2', '--data-limit', '200', '--eval-every', '2', '--eval-metrics', 'mmd', '--eval-count', '50', '--out', dir);
  assert.equal(train.status, 0, train.stderr);
  const logged = (await readFile(join(dir, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
  assert.ok(logged.some((l) => typeof l['eval/mmd'] === 'number' && l['eval/mmd'] > 0), 'eval/mmd in metrics.jsonl');

  const r = ganforge('eval', dir, '--count', '100', '--repeats', '2', '--discriminative-iterations', '5', '--predictive-iterations', '5', '--mmd-subset', '50', '--json');
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { metric: string; values: Record<string, number | number[]>; protocol: Record<string, unknown> });
  assert.deepEqual(lines.map((l) => l.metric), ['discriminative', 'predictive', 'mmd']);
  for (const l of lines) {
    assert.equal(l.protocol.reference, 'sines test split');
    assert.equal(l.protocol.referenceCount, 100);
    assert.equal(l.protocol.generatedCount, 100);
    assert.match(String(l.protocol.generated), new RegExp(`\\(${family.name}, step 2, latent seed 0\\)`));
    assert.equal((l.values.runs as number[]).length, 2);
  }
  assert.match(String(lines[0].protocol.protocol), /TimeGAN's protocol with 5 iterations instead of 2000/);
  assert.equal(typeof lines[1].values.realPredictive, 'number');

  const text = ganforge('eval', dir, '--metrics', 'mmd', '--count', '60', '--ref', 'train');
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /^MMD² [\d.]+ ± [\d.]+ \(σ² [\d.]+\)\n {2}values +each sequence's 24 steps × 5 features in the run's \[0, 1\] scaled units\n {2}reference +sines training data, 60 \(60 of 200 at random, seed 0 \^ 0x5e9\)$/m);

  for (const [args, message] of [
    // ('fid' alone is the flag's default and means all three here.)
    [['--metrics', 'mmd,kid'], /metric 'kid' is for images; sequence runs are scored by discriminative, predictive, mmd/],
    [['--ref', 'mnist:test'], /--ref mnist:test: a sequence run is scored against its own data's test split or training data/],
    [['--repeats', '0'], /--repeats must be at least 1/],
    [['--count', '20000'], /--count 20000: sines's test split has 10000 sequences/],
  ] as const) {
    const bad = ganforge('eval', dir, ...args);
    assert.equal(bad.status, 2, `${args.join(' ')}: ${bad.stderr}`);
    assert.match(bad.stderr, message);
  }
});

test('eval on a class-conditional sequence run draws its samples in the reference’s class mix', async (t) => {
  const conditional = Object.values(MODELS).find((f) => f.dataKinds?.includes('sequence') && f.condition === 'class');
  if (!conditional) return t.skip('no class-conditional sequence family registered');
  const root = await mkdtemp(join(tmpdir(), 'ganforge-seqmix-'));
  // Ten series of 40 rows: eight of kind 'calm', two of kind 'wild'. The test split is the last 20 % of every
  // series' rows, one window of 8 each: calm 8, wild 2 (uniform cycling would draw 5 and 5).
  const rows = ['series,kind,x,y'];
  for (let s = 0; s < 10; s++) {
    const kind = s < 8 ? 'calm' : 'wild';
    for (let i = 0; i < 40; i++) rows.push(`${s},${kind},${Math.sin(i / (s + 2)).toFixed(4)},${((i * (s + 1)) % 7).toFixed(1)}`);
  }
  const csv = join(root, 'mix.csv');
  await writeFile(csv, rows.join('\n') + '\n');
  const dir = join(root, 'run');
  const train = ganforge('train', conditional.name, '--data', `csv:${csv}`, '--id-column', 'series', '--condition-column', 'kind', '--window', '8', '--stride', '8', '--steps', '2', '--batch-size', '4', '--out', dir);
  assert.equal(train.status, 0, train.stderr);
  const r = ganforge('eval', dir, '--metrics', 'mmd', '--count', '10', '--mmd-subset', '10');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /classes: as the reference's \(calm 8, wild 2\)/);
  // 20 points are too few for the protocol's perplexity 40: the t-SNE figure lowers it instead of failing.
  assert.match(r.stderr, /PCA and t-SNE of 10 real vs 10 synthetic sequences → .*tsne\.png/);
  assert.match(r.stdout, /the reference's classes\)/);
});

test('eval x.npy --ref RUN scores a samples file of sequences as the run itself is scored; bad files name the fix', async () => {
  assert.ok(family, 'a family that trains on sequences without a condition');
  const root = await mkdtemp(join(tmpdir(), 'ganforge-seqnpy-'));
  const dir = join(root, 'run');
  assert.equal(ganforge('train', family.name, '--data', 'sines', '--steps', '2', '--data-limit', '200', '--out', dir).status, 0);
  const npy = join(root, 'x.npy');
  const sample = ganforge('sample', dir, '--count', '60', '--seed', '3', '--out', npy);
  assert.equal(sample.status, 0, sample.stderr);
  // The file holds original units; scored against the run, it gives the run's own score for the same draw.
  const asFile = ganforge('eval', npy, '--ref', dir, '--metrics', 'mmd', '--count', '60', '--seed', '3', '--json');
  assert.equal(asFile.status, 0, asFile.stderr);
  const asRun = ganforge('eval', dir, '--metrics', 'mmd', '--count', '60', '--seed', '3', '--json', '--figures', join(root, 'fig'));
  assert.equal(asRun.status, 0, asRun.stderr);
  const [a, b] = [asFile, asRun].map((r) => JSON.parse(r.stdout.trim().split('\n')[0]) as { values: { mmd: number }; protocol: Record<string, unknown> });
  assert.ok(Math.abs(a.values.mmd - b.values.mmd) < 1e-4, `MMD² of the file ${a.values.mmd} vs of the run ${b.values.mmd}`);
  assert.equal(a.protocol.reference, 'sines test split');
  assert.match(String(a.protocol.generated), /samples file .*x\.npy \(first 60, original units scaled as /);

  const { writeNpy } = await import('../../src/io/npy.js');
  const wrong = join(root, 'wrong.npy');
  await writeNpy(wrong, new Float32Array(200), [4, 10, 5]);
  const bad = ganforge('eval', wrong, '--ref', dir, '--metrics', 'mmd');
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /shape \[4, 10, 5\]; .* sequences are \[N, 24, 5\] \(24 steps of .*\), as `ganforge sample .* --out x\.npy` writes them/);
  const nan = join(root, 'nan.npy');
  const values = new Float32Array(2 * 24 * 5);
  values[24 * 5 + 7] = Number.NaN;
  await writeNpy(nan, values, [2, 24, 5]);
  const diverged = ganforge('eval', nan, '--ref', dir, '--metrics', 'mmd');
  assert.equal(diverged.status, 2, diverged.stderr);
  assert.match(diverged.stderr, /sequence 1 holds NaN at step 1, feature \S+; the file is corrupt or its generator diverged/);
});
