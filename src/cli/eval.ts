import type { Command } from 'commander';
import { initBackend } from '../backend/index.js';
import { UserError } from '../util/errors.js';
import { METRIC_NAMES } from '../metrics/registry.js';
import { NET_NAMES, REFERENCE_SPECS, evaluateSets, formatResult, loadGenerated, loadReference, resolveNet } from '../metrics/evaluate.js';

export interface EvalCliOptions {
  metrics: string;
  ref: string;
  count?: number;
  seed: number;
  net?: string;
  layer?: string;
  logitsLayer?: string;
  inceptionWeights?: string;
  kidSubsets?: number;
  kidSubsetSize?: number;
  splits?: number;
  k?: number;
  json?: boolean;
  backend?: string;
}

/**
 * `ganforge eval TARGET --metrics … --ref …`: every number is printed with what produced it (network and
 * weights hash, reference set and count, generated count, resize method, seed), so two tools' numbers can
 * be compared line by line. --json prints one JSON object per metric instead.
 */
export async function evalCommand(target: string, opts: EvalCliOptions): Promise<void> {
  if (opts.count !== undefined && (!Number.isInteger(opts.count) || opts.count < 2)) throw new UserError(`--count must be an integer ≥ 2, got ${opts.count}`);
  await initBackend({ prefer: opts.backend, quiet: true }); // validates the name
  const log = (line: string) => { if (!opts.json) process.stderr.write(`ganforge: ${line}\n`); };
  const fake = await loadGenerated(target, opts.count, opts.seed);
  const ref = await loadReference(opts.ref, fake.n, opts.seed);
  const net = fake.kind === 'image' ? await resolveNet({ net: opts.net, layer: opts.layer, logitsLayer: opts.logitsLayer, inceptionWeights: opts.inceptionWeights }, fake, ref.name) : undefined;
  try {
    const results = evaluateSets(fake, ref.set, net, ref, {
      metrics: opts.metrics, seed: opts.seed, kidSubsets: opts.kidSubsets, kidSubsetSize: opts.kidSubsetSize, isSplits: opts.splits, k: opts.k, onProgress: log,
    });
    for (const r of results) process.stdout.write(opts.json ? JSON.stringify(r) + '\n' : formatResult(r) + '\n');
  } finally {
    net?.dispose();
  }
}

/** Adds the `eval` command to the CLI program. */
export function registerEvalCommand(program: Command, int: (flag: string) => (v: string) => number): void {
  program
    .command('eval')
    .description('evaluate a generator or a samples file against a reference set; prints each metric with its protocol')
    .argument('<target>', 'a run folder (newest checkpoint), a checkpoint folder, or a samples .npy (uint8 0–255 or float32 in [-1, 1])')
    .option('--metrics <list>', `comma-separated: ${METRIC_NAMES.join(', ')}, or all`, 'fid')
    .requiredOption('--ref <spec>', `reference set: ${REFERENCE_SPECS.join(' | ')}`)
    .option('--count <n>', 'samples of each set (default: all of a .npy, 10000 generated)', int('--count'))
    .option('--seed <n>', 'seed for generated latents and KID subsets', int('--seed'), 0)
    .option('--net <name>', `feature network: ${NET_NAMES.join(' | ')} | PATH to a TF.js layers model (default: by data)`)
    .option('--layer <name>', 'feature layer of a --net PATH model')
    .option('--logits-layer <name>', 'logits layer of a --net PATH model (enables is, classes)')
    .option('--inception-weights <file>', 'Inception-v3 weights file (default $GANFORGE_INCEPTION_WEIGHTS)')
    .option('--kid-subsets <n>', 'KID: number of subsets', int('--kid-subsets'))
    .option('--kid-subset-size <n>', 'KID: examples per subset (default min(1000, count))', int('--kid-subset-size'))
    .option('--splits <n>', 'IS: number of splits (default 10)', int('--splits'))
    .option('--k <n>', 'precision/recall/density/coverage: k of the k-NN balls (default 5)', int('--k'))
    .option('--json', 'one JSON object per metric')
    .option('--backend <name>', 'tensor backend: auto | aten | cpu (env GANFORGE_BACKEND)')
    .action((target: string, opts: EvalCliOptions) => evalCommand(target, opts));
}
