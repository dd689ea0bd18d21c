/**
 * bench:toy — every unconditional model that can train on 2-D points, on ring8 and grid25, with a fixed
 * seed and step budget. One line per model × dataset: modes covered and the high-quality share (within 3σ
 * of a centre) of 2,500 samples, by the convention of src/data/toy2d.ts `modeCoverage`.
 *
 *   npm run bench:toy                                  # 3,000 steps each
 *   node dist/bench/toy.js --steps 1000 --models vanilla,wgan-gp
 *
 * Each model trains exactly as `ganforge train <model> --data toy:<mixture>` would — its family's toy
 * defaults (batch size, widths, learning rates, n_critic) — for the same number of generator steps and the
 * same seed. 3,000 steps is about where vanilla's tuned defaults cover ring8 (see src/models/vanilla.ts); a
 * family whose D makes n_critic updates per step costs that many times more (the seconds column).
 */
import '@tensorflow/tfjs-layers'; // registers gradients in Node
import { initBackend } from '../src/backend/index.js';
import { MODELS } from '../src/models/registry.js';
import { resolveConfig } from '../src/gan/config.js';
import { generate, latents } from '../src/gan/sampling.js';
import { disposeState, freshState, runStep } from '../src/gan/training_step.js';
import { samplingGenerator } from '../src/gan/family.js';
import { loadData } from '../src/data/registry.js';
import { MIXTURES, modeCoverage } from '../src/data/toy2d.js';
import { Rng } from '../src/util/rng.js';

const arg = (flag: string, fallback: number) => {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const STEPS = arg('--steps', 3000);
const SEED = arg('--seed', 0);
const SAMPLES = 2500;
const SHARED = { steps: STEPS, seed: SEED };

const info = await initBackend({ quiet: true });
// Conditional families need labels at sampling time and are measured by class agreement instead (tests).
const only = process.argv.includes('--models') ? process.argv[process.argv.indexOf('--models') + 1].split(',') : undefined;
const models = Object.values(MODELS)
  .filter((m) => m.check({ name: 'toy:ring8', kind: 'points', shape: [2] }, resolveConfig()) === null)
  .filter((m) => !only || only.includes(m.name));
process.stdout.write(`bench:toy — ${STEPS} steps (each family's toy defaults), seed ${SEED}, ${SAMPLES} samples, backend ${info.name}\n`);
process.stdout.write(`${'model'.padEnd(10)} ${'data'.padEnd(7)} ${'modes'.padStart(7)} ${'HQ share'.padStart(9)} ${'loss'.padEnd(22)} ${'s'.padStart(6)}\n`);

for (const family of models) {
  for (const mixture of [MIXTURES.ring8, MIXTURES.grid25]) {
    const source = await loadData(`toy:${mixture.name}`);
    const config = resolveConfig(family.defaults(source.info), { model: family.name, ...SHARED });
    const state = freshState(family, source, config);
    const started = performance.now();
    let lastLoss = '';
    for (let i = 0; i < config.steps; i++) {
      const s = runStep(state);
      lastLoss = `D ${(s.lossD ?? NaN).toFixed(3)} G ${s.lossG.toFixed(3)}`;
    }
    const seconds = (performance.now() - started) / 1000;
    const z = latents(new Rng(SEED + 1), SAMPLES, config.latentDim);
    const cov = modeCoverage(generate(samplingGenerator(state.nets), z), mixture);
    z.dispose();
    process.stdout.write(
      `${family.name.padEnd(10)} ${mixture.name.padEnd(7)} ${`${cov.modesCovered}/${mixture.centres.length}`.padStart(7)} ` +
        `${(100 * cov.highQualityShare).toFixed(1).padStart(8)}% ${`${config.loss}`.padEnd(22)} ${seconds.toFixed(0).padStart(6)}   (${lastLoss})\n`,
    );
    disposeState(state);
  }
}
