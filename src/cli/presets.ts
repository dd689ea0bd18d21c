import type { RunConfig } from '../gan/config.js';

/** Named partial configs: `--preset NAME`. Flags and --config files still override them. */
export const PRESETS: Readonly<Record<string, { about: string; config: Partial<RunConfig> }>> = {
  demo: {
    about: 'the README demo: DCGAN on Fashion-MNIST, stops after 8 minutes of training at most',
    config: { model: 'dcgan', data: 'fashion-mnist', steps: 2000, sampleEvery: 100, checkpointEvery: 500, maxMinutes: 8 },
  },
  smoke: {
    about: 'a few seconds: tiny networks on 512 examples, to check that everything runs',
    config: { steps: 20, batchSize: 16, dataLimit: 512, width: 8, hidden: 32, sampleEvery: 10, checkpointEvery: 10, logEvery: 1 },
  },
};
