/**
 * npm run bench:zoo — every registered image model on Fashion-MNIST with the same budget, over several seeds:
 * train `--steps` steps (same batch size for all) the way `ganforge train --seed S` does (freshState/runStep),
 * then draw `--count` samples and score them with the evaluation code's shipped Fashion-MNIST feature network:
 * FID against the first `--count` test images (the same reference for every seed), and the histogram of the
 * network's predicted classes (classes covered, the largest class's share, KL to uniform). One line per model ×
 * loss × seed as it finishes, then a summary: mean ± standard deviation (n − 1) over the seeds and the per-seed
 * values.
 *
 *   npm run bench:zoo                                              # 300 steps, 2,000 samples, seeds 0, 1, 2
 *   node dist/bench/zoo.js --steps 1000 --count 5000 --seeds 0     # a longer one, one seed
 *   node dist/bench/zoo.js --models dcgan --losses non-saturating,f-kl,f-reverse-kl,f-pearson,f-hellinger,f-js
 *   node dist/bench/zoo.js --models ebgan --set margin=0.1                 # a family setting (config key), validated as in --config
 *
 * Models are read from the registry when the bench runs, so a newly registered family is included; those
 * whose `check` refuses Fashion-MNIST are listed as skipped. Each keeps its family's own defaults (learning
 * rates, losses, n_critic, widths) and only the shared settings are overridden, so a model with n_critic 5
 * makes five D updates per step: the budget is steps, not gradient evaluations — the seconds column shows
 * the cost. With --losses, a family that takes --loss gets one row per loss; the others keep their own ('(own)').
 * A short budget shows early behaviour, not each paper's converged result. Conditional models sample with
 * labels cycling through the classes (as `ganforge sample` does), which flatters their histogram; for them the
 * 'agree' column is the share of samples the classifier puts in the class they were drawn for (10 % is chance).
 */
import '@tensorflow/tfjs-layers'; // registers gradients in Node
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/backend/index.js';
import { MODELS } from '../src/models/registry.js';
import type { RunConfig } from '../src/gan/config.js';
import { familyConfig } from '../src/gan/settings.js';
import { conditionOf, honouredSettings } from '../src/gan/family.js';
import { sampleFamily } from '../src/gan/sampling.js';
import { disposeState, freshState, runStep } from '../src/gan/training_step.js';
import { loadData } from '../src/data/registry.js';
import { fromSamples, loadReference } from '../src/metrics/evaluate.js';
import { loadClassifierNet } from '../src/metrics/features.js';
import { fidFromFeatures } from '../src/metrics/fid.js';
import { classHistogram, labelAgreement } from '../src/metrics/class_histogram.js';
import { UserError, unknownChoice } from '../src/util/errors.js';
import { formatMeanStd, formatPerSeed, parseLosses, parseSeeds, parseSet } from './seeds.js';

const USAGE = 'usage: node dist/bench/zoo.js [--steps N] [--count N] [--batch-size N] [--seeds 0,1,2] [--models a,b,…] [--losses l1,l2,…] [--set key=value,…]';

interface Options {
  steps: number;
  count: number;
  batchSize: number;
  seeds: number[];
  /** Losses to run each family that takes --loss under (empty: each family's own). */
  losses: string[];
  /** Only these registered models ('' = all that accept Fashion-MNIST). */
  models: string;
  /** Config keys set for every model (a family setting such as margin=0.1), checked by the config's validation. */
  set: Partial<RunConfig>;
}

function parseOptions(argv: string[]): Options {
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { steps: { type: 'string' }, count: { type: 'string' }, 'batch-size': { type: 'string' }, seeds: { type: 'string' }, models: { type: 'string' }, losses: { type: 'string' }, set: { type: 'string' } },
      strict: true,
    }) as { values: Record<string, string | undefined> });
  } catch (e) {
    throw new UserError(`${(e as Error).message}\n${USAGE}`);
  }
  const int = (flag: string, fallback: number, min: number) => {
    const raw = values[flag];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isInteger(n) || n < min) throw new UserError(`--${flag} needs an integer ≥ ${min}, got '${raw}'`);
    return n;
  };
  const models = values.models ?? '';
  for (const name of models.split(',').filter((s) => s !== '')) {
    if (!MODELS[name]) throw unknownChoice('model in --models', name, Object.keys(MODELS));
  }
  // FID needs a covariance of at least two samples per set (and many more to mean anything).
  return {
    steps: int('steps', 300, 1), count: int('count', 2000, 2), batchSize: int('batch-size', 64, 1),
    seeds: parseSeeds(values.seeds), models, losses: parseLosses(values.losses), set: parseSet(values.set ?? ''),
  };
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const backend = await initBackend({ quiet: true });
  const source = await loadData('fashion-mnist');
  const shared: Partial<RunConfig> = { data: 'fashion-mnist', steps: opts.steps, batchSize: opts.batchSize, ...opts.set };

  // The reference is embedded once, the same for every seed: the first `count` test images through the shipped classifier.
  const net = await loadClassifierNet('fashion-mnist');
  const ref = await loadReference('fashion-mnist:test', opts.count, 0);
  if (ref.set.kind !== 'image') throw new Error('fashion-mnist:test should be images');
  const real = net.embed(ref.set);
  const { featureDim, classes } = net.info;

  const wanted = opts.models.split(',').filter((s) => s !== '');
  const families = Object.values(MODELS).filter((f) => wanted.length === 0 || wanted.includes(f.name));
  process.stdout.write(
    `bench:zoo — fashion-mnist, ${opts.steps} steps, batch ${opts.batchSize}, seeds ${opts.seeds.join(', ')}, ${opts.count} samples vs ${ref.name} (${ref.selection}), ` +
      (Object.keys(opts.set).length > 0 ? `set ${JSON.stringify(opts.set)}, ` : '') +
      `${net.info.name} (${featureDim}-d, weights ${net.info.weightsSha256}), backend ${backend.name}\n`,
  );
  process.stdout.write(`${'model'.padEnd(12)} ${'loss'.padEnd(16)} ${'seed'.padStart(4)} ${'FID'.padStart(9)} ${'classes'.padStart(8)} ${'max share'.padStart(10)} ${'KL→unif'.padStart(8)} ${'agree'.padStart(6)} ${'train s'.padStart(8)} ${'eval s'.padStart(7)}  last step\n`);

  interface Row { model: string; loss: string; fid: number[]; classes: number[]; maxShare: number[]; kl: number[]; agree: number[]; seconds: number[]; conditional: boolean; note: string }
  const rows: Row[] = [];
  for (const family of families) {
    const problem = family.check(source.info, familyConfig(family, source.info, { ...shared, model: family.name }));
    if (problem) {
      process.stdout.write(`${family.name.padEnd(12)} skipped: ${problem}\n`);
      continue;
    }
    const ownLoss = !honouredSettings(family, source.info).includes('loss') || (family.discriminatorOutput ?? 'score') !== 'score';
    const losses: (string | undefined)[] = opts.losses.length > 0 && !ownLoss ? opts.losses : [undefined];
    for (const loss of losses) {
      // A class-conditional family draws sample i from class i mod C (the classes cycled, as `ganforge sample` does);
      // agreement is scored against these same labels.
      const labels = conditionOf(family, source.info) === 'class' ? Array.from({ length: opts.count }, (_, i) => i % classes!) : undefined;
      const row: Row = { model: family.name, loss: loss ?? '', fid: [], classes: [], maxShare: [], kl: [], agree: [], seconds: [], conditional: labels !== undefined, note: labels ? '  (labels cycled)' : '' };
      rows.push(row);
      for (const seed of opts.seeds) {
        // A family that fails (e.g. one still being written) gets its error on its line; the others still run.
        let state: ReturnType<typeof freshState> | undefined;
        try {
          const config = familyConfig(family, source.info, { ...shared, model: family.name, seed, ...(loss ? { loss: loss as RunConfig['loss'] } : {}) });
          row.loss = loss ?? (ownLoss ? '(own)' : config.loss);
          state = freshState(family, source, config);
          const t0 = performance.now();
          let last = '';
          for (let i = 0; i < config.steps; i++) {
            const s = runStep(state);
            last = `D ${(s.lossD ?? NaN).toFixed(3)} G ${s.lossG.toFixed(3)}${Object.entries(s.extra ?? {}).map(([k, v]) => ` ${k} ${v.toFixed(3)}`).join('')}`;
          }
          const t1 = performance.now();
          const fake = fromSamples(sampleFamily(family, state.nets, { count: opts.count, seed: seed + 1, classes: labels }, { config, data: source.info }), 'image', family.name);
          if (fake.kind !== 'image') throw new Error('expected images');
          const emb = net.embed(fake);
          const fid = fidFromFeatures(real.features, ref.set.n, emb.features, fake.n, featureDim).fid;
          const hist = classHistogram(emb.logits!, fake.n, classes!);
          const t2 = performance.now();
          const maxShare = (100 * Math.max(...hist.counts)) / fake.n;
          const agree = labels ? 100 * labelAgreement(emb.logits!, labels, classes!) : NaN;
          row.fid.push(fid);
          row.classes.push(hist.classesPresent);
          row.maxShare.push(maxShare);
          row.kl.push(hist.klToUniform);
          row.agree.push(agree);
          row.seconds.push((t1 - t0) / 1000);
          process.stdout.write(
            `${family.name.padEnd(12)} ${row.loss.padEnd(16)} ${String(seed).padStart(4)} ${fid.toFixed(2).padStart(9)} ${`${hist.classesPresent}/${classes}`.padStart(8)} ` +
              `${`${maxShare.toFixed(1)}%`.padStart(10)} ${hist.klToUniform.toFixed(3).padStart(8)} ${(labels ? `${agree.toFixed(1)}%` : '—').padStart(6)} ` +
              `${((t1 - t0) / 1000).toFixed(1).padStart(8)} ${((t2 - t1) / 1000).toFixed(1).padStart(7)}  ${last}${row.note}\n`,
          );
        } catch (e) {
          for (const figure of [row.fid, row.classes, row.maxShare, row.kl, row.agree]) figure.push(NaN);
          process.stdout.write(`${family.name.padEnd(12)} ${(loss ?? '').padEnd(16)} ${String(seed).padStart(4)} failed: ${(e as Error).message.split('\n')[0]}\n`);
        } finally {
          if (state) disposeState(state);
        }
      }
    }
  }

  process.stdout.write(`\nsummary — mean ± std over seeds ${opts.seeds.join(', ')} (per-seed FID and classes after '|')\n`);
  process.stdout.write(`${'model'.padEnd(12)} ${'loss'.padEnd(16)} ${'FID'.padStart(16)} ${'classes'.padStart(12)} ${'max share %'.padStart(12)} ${'KL→unif'.padStart(15)} ${'agree %'.padStart(12)} ${'train s'.padStart(8)} | FID per seed; classes per seed\n`);
  for (const r of rows) {
    const seconds = r.seconds.length > 0 ? r.seconds.reduce((a, b) => a + b, 0) / r.seconds.length : NaN;
    process.stdout.write(
      `${r.model.padEnd(12)} ${r.loss.padEnd(16)} ${formatMeanStd(r.fid, 2).padStart(16)} ${formatMeanStd(r.classes, 1).padStart(12)} ${formatMeanStd(r.maxShare, 1).padStart(12)} ` +
        `${formatMeanStd(r.kl, 3).padStart(15)} ${(r.conditional ? formatMeanStd(r.agree, 1) : '—').padStart(12)} ${seconds.toFixed(1).padStart(8)} | ${formatPerSeed(r.fid, 2)}; ${formatPerSeed(r.classes, 0)}${r.note}\n`,
    );
  }
  net.dispose();
  process.stdout.write(`tensors left: ${tf.memory().numTensors}\n`);
}

try {
  await main();
} catch (e) {
  if (!(e instanceof UserError)) throw e;
  process.stderr.write(`bench:zoo: ${e.message}\n`);
  process.exitCode = 2;
}
