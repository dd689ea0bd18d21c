/**
 * ganforge's library API; the CLI only wraps it.
 *
 * @example
 * ```ts
 * import { initBackend, startRun } from 'ganforge';
 * await initBackend();
 * const trainer = await startRun({ model: 'vanilla', data: 'toy:ring8', steps: 500, out: 'runs/ring' });
 * trainer.stats.subscribe((step, s) => console.log(step, s['loss/D'], s['loss/G']));
 * await trainer.train();
 * ```
 */
export { initBackend, backendReport } from './backend/index.js';
export { startRun, resumeRun } from './run.js';
export { Trainer, DivergenceError } from './gan/trainer.js';
export { StatsChannel, type StatListener } from './gan/stats.js';
export { LOSSES, LOSS_NAMES, minimax, nonSaturating, type AdversarialLoss, type LossName } from './gan/losses.js';
export { adversarialStep, trainableVariables, type StepStats, type Optimizers } from './gan/step.js';
export { DEFAULT_CONFIG, resolveConfig, validatePartialConfig, type RunConfig } from './gan/config.js';
export type { GanFamily, GanNetworks } from './gan/family.js';
export { saveCheckpoint, loadCheckpoint, loadGenerator, resolveCheckpoint, type CheckpointState } from './gan/checkpoint.js';
export { saveModel, loadModel, folderHandler } from './gan/model_io.js';
export { generate, latents, samplesPng } from './gan/sampling.js';
export { MODELS, MODEL_NAMES, getModel } from './models/registry.js';
export * from './data/index.js';
export * from './io/index.js';
export { Rng, type RngState } from './util/rng.js';
export { UserError } from './util/errors.js';
export * from './metrics/index.js';
