/**
 * bench:toy — every unconditional model that can train on 2-D points, on ring8 and grid25, over several seeds
 * with a fixed step budget. One line per model × loss × dataset × seed as it finishes — modes covered and the
 * high-quality share (within 3σ of a centre) of 2,500 samples, by the convention of src/data/toy2d.ts
 * `modeCoverage` — then a summary table: mean ± standard deviation (n − 1) over the seeds, and the per-seed values.
 *
 *   npm run bench:toy                                                  # 3,000 steps, seeds 0, 1, 2
 *   node dist/bench/toy.js --steps 1000 --seeds 0,1 --models vanilla,wgan-gp
 *   node dist/bench/toy.js --models vanilla,dcgan --losses non-saturating,f-kl,f-reverse-kl,f-js
 *   node dist/bench/toy.js --models ebgan --set margin=0.3                # a family setting (config key), validated
 *
 * Each model trains exactly as `ganforge train <model> --data toy:<mixture> --seed S [--loss L]` would — its
 * family's toy defaults (batch size, widths, learning rates, n_critic) — for the same number of generator steps.
 * Models come from the registry, so a newly registered family is included. With --losses, a family that takes
 * --loss on points gets one row per loss; one that does not (its own loss, or a D that outputs an energy) keeps
 * one row, marked '(own)'. 3,000 steps is about where vanilla's tuned defaults cover ring8 (see
 * src/models/vanilla.ts); a family whose D makes n_critic updates per step costs that many times more (seconds).
 */
import '@tensorflow/tfjs-layers'; // registers gradients in Node
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/backend/index.js';
import { MODELS } from '../src/models/registry.js';
import { familyConfig } from '../src/gan/settings.js';
import { generate, latents } from '../src/gan/sampling.js';
import { conditionProblem, disposeState, freshState, runStep } from '../src/gan/training_step.js';
import { honouredSettings, samplingGenerator, type GanFamily } from '../src/gan/family.js';
import { loadData } from '../src/data/registry.js';
import type { DatasetInfo } from '../src/data/types.js';
import { MIXTURES, modeCoverage } from '../src/data/toy2d.js';
import { Rng } from '../src/util/rng.js';
import { UserError, unknownChoice } from '../src/util/errors.js';
import { formatMeanStd, formatPerSeed, parseLosses, parseSeeds, parseSet } from './seeds.js';

const USAGE = 'usage: node dist/bench/toy.js [--steps N] [--seeds 0,1,2] [--models a,b,…] [--losses l1,l2,…] [--set key=value,…]';
const SAMPLES = 2500;

function parseOptions(argv: string[]) {
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { steps: { type: 'string' }, seeds: { type: 'string' }, models: { type: 'string' }, losses: { type: 'string' }, set: { type: 'string' } },
      strict: true,
    }) as { values: Record<string, string | undefined> });
  } catch (e) {
    throw new UserError(`${(e as Error).message}\n${USAGE}`);
  }
  const steps = Number(values.steps ?? 3000);
  if (!Number.isInteger(steps) || steps < 1) throw new UserError(`--steps needs an integer ≥ 1, got '${values.steps}'`);
  const models = (values.models ?? '').split(',').filter((s) => s !== '');
  for (const name of models) if (!MODELS[name]) throw unknownChoice('model in --models', name, Object.keys(MODELS));
  return { steps, seeds: parseSeeds(values.seeds), models, losses: parseLosses(values.losses), set: parseSet(values.set ?? '') };
}

/** The losses to run `family` under: each of --losses when it takes --loss on this data, else its own (undefined). */
function lossesFor(family: GanFamily, data: DatasetInfo, losses: readonly string[]): (string | undefined)[] {
  const takesLoss = honouredSettings(family, data).includes('loss') && (family.discriminatorOutput ?? 'score') === 'score';
  return losses.length > 0 && takesLoss ? [...losses] : [undefined];
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const info = await initBackend({ quiet: true });
  // Conditional families need labels at sampling time and are measured by class agreement instead (tests).
  const bare: DatasetInfo = { name: 'toy:ring8', kind: 'points', shape: [2] };
  const models = Object.values(MODELS)
    .filter((m) => conditionProblem(m, bare) === null && m.check(bare, familyConfig(m, bare)) === null)
    .filter((m) => opts.models.length === 0 || opts.models.includes(m.name));
  process.stdout.write(`bench:toy — ${opts.steps} steps (each family's toy defaults${Object.keys(opts.set).length > 0 ? `, set ${JSON.stringify(opts.set)}` : ''}), seeds ${opts.seeds.join(', ')}, ${SAMPLES} samples, backend ${info.name}\n`);
  process.stdout.write(`${'model'.padEnd(10)} ${'loss'.padEnd(22)} ${'data'.padEnd(7)} ${'seed'.padStart(4)} ${'modes'.padStart(7)} ${'HQ share'.padStart(9)} ${'s'.padStart(6)}\n`);

  interface Row { model: string; loss: string; data: string; modes: number[]; total: number; hq: number[]; seconds: number[] }
  const rows: Row[] = [];
  for (const family of models) {
    for (const loss of lossesFor(family, bare, opts.losses)) {
      for (const mixture of [MIXTURES.ring8, MIXTURES.grid25]) {
        const source = await loadData(`toy:${mixture.name}`);
        const row: Row = { model: family.name, loss: '', data: mixture.name, modes: [], total: mixture.centres.length, hq: [], seconds: [] };
        rows.push(row);
        for (const seed of opts.seeds) {
          let state: ReturnType<typeof freshState> | undefined;
          try {
            const config = familyConfig(family, source.info, { ...opts.set, model: family.name, steps: opts.steps, seed, ...(loss ? { loss: loss as never } : {}) });
            row.loss = loss ?? (honouredSettings(family, source.info).includes('loss') ? config.loss : '(own)');
            state = freshState(family, source, config);
            const started = performance.now();
            let last = '';
            for (let i = 0; i < config.steps; i++) {
              const s = runStep(state);
              last = `D ${(s.lossD ?? NaN).toFixed(3)} G ${s.lossG.toFixed(3)}`;
            }
            const seconds = (performance.now() - started) / 1000;
            const z = latents(new Rng(seed + 1), SAMPLES, config.latentDim);
            const cov = modeCoverage(generate(samplingGenerator(state.nets), z), mixture);
            z.dispose();
            row.modes.push(cov.modesCovered);
            row.hq.push(100 * cov.highQualityShare);
            row.seconds.push(seconds);
            process.stdout.write(
              `${family.name.padEnd(10)} ${row.loss.padEnd(22)} ${mixture.name.padEnd(7)} ${String(seed).padStart(4)} ${`${cov.modesCovered}/${row.total}`.padStart(7)} ` +
                `${(100 * cov.highQualityShare).toFixed(1).padStart(8)}% ${seconds.toFixed(0).padStart(6)}   (${last})\n`,
            );
          } catch (e) {
            // A family or loss that fails (diverges to NaN, or is still being written) gets its error on its line.
            row.modes.push(NaN);
            row.hq.push(NaN);
            process.stdout.write(`${family.name.padEnd(10)} ${(loss ?? '').padEnd(22)} ${mixture.name.padEnd(7)} ${String(seed).padStart(4)} failed: ${(e as Error).message.split('\n')[0]}\n`);
          } finally {
            if (state) disposeState(state);
          }
        }
      }
    }
  }

  process.stdout.write(`\nsummary — mean ± std over seeds ${opts.seeds.join(', ')} (per-seed values after '|')\n`);
  process.stdout.write(`${'model'.padEnd(10)} ${'loss'.padEnd(22)} ${'data'.padEnd(7)} ${'modes'.padStart(14)} ${'HQ share %'.padStart(14)} ${'s'.padStart(5)} | modes per seed; HQ % per seed\n`);
  for (const r of rows) {
    process.stdout.write(
      `${r.model.padEnd(10)} ${r.loss.padEnd(22)} ${r.data.padEnd(7)} ${`${formatMeanStd(r.modes, 1)}/${r.total}`.padStart(14)} ${formatMeanStd(r.hq, 1).padStart(14)} ` +
        `${(r.seconds.reduce((a, b) => a + b, 0) / Math.max(1, r.seconds.length)).toFixed(0).padStart(5)} | ${formatPerSeed(r.modes, 0)}; ${formatPerSeed(r.hq, 1)}\n`,
    );
  }
  process.stdout.write(`tensors left: ${tf.memory().numTensors}\n`);
}

try {
  await main();
} catch (e) {
  if (!(e instanceof UserError)) throw e;
  process.stderr.write(`bench:toy: ${e.message}\n`);
  process.exitCode = 2;
}
