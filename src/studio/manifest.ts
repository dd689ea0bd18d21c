import * as path from 'node:path';
import type { CheckpointState } from '../gan/checkpoint.js';
import { EMA_GENERATOR, conditionOf } from '../gan/family.js';
import { getModel } from '../models/registry.js';
import { UserError } from '../util/errors.js';
import type { Direction, GeneratorManifest, Shape } from './generator_core.js';

/** The conditions a browser page can feed a generator (generator_core.ts). */
const BROWSER_CONDITIONS = ['none', 'class', 'image', 'text'] as const;

/** Where a text run's composed model (GanFamily.textGenerator) sits, relative to the manifest: written by export, served by the studio. */
export const TEXT_MODEL_FOLDER = 'text';

/**
 * What a browser page needs to run checkpoint `dir`'s generator(s), from the run's family declarations
 * (condition, directions, exportGenerators, sampleInTrainingMode) and its data info — never from a model's
 * name or its networks' inputs. Throws a UserError when no browser page can run it.
 *
 * @example
 * const m = checkpointManifest(await readCheckpointState(dir), dir);
 * m.directions?.BtoA?.generator; // 'generator-ba' for a cyclegan run
 */
export function checkpointManifest(state: CheckpointState, dir: string): GeneratorManifest {
  const family = getModel(state.config.model);
  const data = state.data;
  if (data.kind === 'sequence') throw new UserError(`${family.name} run on ${data.name} makes sequences; they are sampled in Node, not in the browser: the studio's sequences page (#/sequences/RUN) draws them`);
  if (data.kind !== 'image') throw new UserError(`${family.name} run on ${data.name} makes 2-D points; only image generators run in the browser`);
  const declared = conditionOf(family, data);
  if (!(BROWSER_CONDITIONS as readonly string[]).includes(declared)) {
    throw new UserError(`${family.name} takes a '${declared}' condition; browser pages can feed ${BROWSER_CONDITIONS.join(', ')} only`);
  }
  const condition = declared as (typeof BROWSER_CONDITIONS)[number];
  const output = data.shape as Shape;
  const base = {
    format: 'ganforge-generator' as const,
    version: 1 as const,
    model: family.name,
    data: data.name,
    checkpoint: path.basename(dir),
    step: state.step,
    trainingMode: family.sampleInTrainingMode ?? false,
  };
  if (condition === 'image') {
    if (!data.input) throw new UserError(`${family.name} translates images, but the run's data (${data.name}) declares no input domain`);
    const input = data.input.shape as Shape;
    const folders = family.exportGenerators ?? {};
    const directions: Partial<Record<Direction, { generator: string; input: Shape; output: Shape }>> = {};
    for (const d of family.directions ?? ['AtoB']) {
      const generator = folders[d];
      if (!generator) throw new UserError(`${family.name} declares direction ${d} but no generator for it (GanFamily.exportGenerators.${d})`);
      directions[d] = d === 'AtoB' ? { generator, input, output } : { generator, input: output, output: input };
    }
    return { ...base, condition, latentDim: 0, shapes: { output, input }, numClasses: 0, directions, domains: data.input.domains };
  }
  if (condition === 'text') {
    if (!data.text) throw new UserError(`${family.name} draws from text, but the run's data (${data.name}) has no captions`);
    if (!family.textGenerator) throw new UserError(`${family.name} declares no textGenerator (GanFamily.textGenerator), the one model a browser page runs`);
    return { ...base, condition, latentDim: state.config.latentDim, shapes: { output }, numClasses: 0, text: { vocab: data.text.vocab, maxLen: data.text.maxLen, model: TEXT_MODEL_FOLDER } };
  }
  // Noise families: sample the EMA copy of G when the run keeps one, as `ganforge sample` does.
  const generator = (state.extras?.nets ?? []).includes(EMA_GENERATOR) ? EMA_GENERATOR : 'generator';
  const numClasses = condition === 'class' ? (data.numClasses ?? 0) : 0;
  return {
    ...base,
    condition,
    latentDim: state.config.latentDim,
    shapes: { output },
    numClasses,
    ...(numClasses > 0 && data.classNames ? { classNames: data.classNames } : {}),
    generator,
    // Truncation in z needs nothing but G; truncation in w needs the style space's halves (style_export.ts).
    ...(family.truncation === 'z' ? { truncation: 'z' as const } : {}),
  };
}

/** Every checkpoint folder a manifest names (what a server may serve, what an export copies). */
export function manifestFolders(m: GeneratorManifest): string[] {
  const folders = m.generator ? [m.generator] : [];
  for (const d of Object.values(m.directions ?? {})) if (d && !folders.includes(d.generator)) folders.push(d.generator);
  return folders;
}
