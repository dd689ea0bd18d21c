import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { RunConfig } from './config.js';
import { EMA_GENERATOR, type GanFamily, type GanNetworks } from './family.js';
import { loadNetwork, readCheckpointState, resolveCheckpoint } from './checkpoint.js';
import { UserError } from '../util/errors.js';

/**
 * `--init RUN`: copy the generator of another run into a fresh run's G (and its EMA copy, which must start
 * where G does). The other run must be of a family this one declares in `initFrom`, and its G must have the
 * same weights, shape for shape; anything else is an error naming the flag and what differs.
 */
export async function initGenerator(family: GanFamily, nets: GanNetworks, config: RunConfig): Promise<void> {
  const dir = await checkInit(family, config);
  if (!dir) return;
  const { model } = await loadNetwork(dir, 'generator');
  try {
    copyWeights(model, nets.generator, config.init);
    const ema = nets.extra?.[EMA_GENERATOR];
    if (ema) copyWeights(model, ema, config.init);
  } finally {
    model.dispose();
  }
}

/** The checkpoint `--init` names, once its run is known to be of a family this one starts from; null without --init. */
export async function checkInit(family: GanFamily, config: RunConfig): Promise<string | null> {
  if (!config.init) return null;
  const accepted = family.initFrom ?? [];
  if (accepted.length === 0) throw new Error(`${family.name} honours --init but declares no initFrom families`);
  const dir = await resolveCheckpoint(config.init);
  const state = await readCheckpointState(dir);
  if (!accepted.includes(state.config.model)) {
    throw new UserError(`--init ${config.init}: that is a ${state.config.model} run, and ${family.name} starts from a run of ${accepted.join(' or ')}; train one first (ganforge train --model ${accepted[0]} …) and pass its folder`);
  }
  return dir;
}

function copyWeights(from: tfl.LayersModel, to: tfl.LayersModel, run: string): void {
  const source = from.weights;
  const target = to.weights;
  const describe = (ws: typeof source) => `${ws.length} weights`;
  if (source.length !== target.length) {
    throw new UserError(`--init ${run}: its generator has ${describe(source)} and this one ${describe(target)}; train with the same generator settings (blocks, width, --scale) as that run`);
  }
  target.forEach((w, i) => {
    const s = source[i];
    if (s.shape.join() !== w.shape.join()) {
      throw new UserError(`--init ${run}: generator weight ${i} (${w.originalName}) is [${w.shape.join(', ')}] here and [${s.shape.join(', ')}] there; train with the same generator settings as that run`);
    }
  });
  tf.tidy(() => to.setWeights(source.map((s) => s.read())));
}
