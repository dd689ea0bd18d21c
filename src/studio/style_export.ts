import '@tensorflow/tfjs-backend-cpu'; // a backend to read w̄ with, in processes (the studio) that set none
import * as tf from '@tensorflow/tfjs-core';
import { allNetworks, type StyleSpace } from '../gan/family.js';
import { loadSamplingNetworks, type CheckpointState } from '../gan/checkpoint.js';
import { oneHotLabels } from '../gan/sampling.js';
import { modelFiles, type ModelFiles } from '../gan/model_io.js';
import { getModel } from '../models/registry.js';
import type { GeneratorManifest, StyleManifest } from './generator_core.js';
import { checkpointManifest } from './manifest.js';

/** A style space's two halves as files, and what the manifest says about them (folders as given). */
export interface StyleExport {
  style: StyleManifest;
  files: { mapping: ModelFiles; synthesis: ModelFiles };
}

/**
 * The manifest's `style` section and the files of the mapping and synthesis models, from a style space that
 * provides them (StyleSpace.models; null when it does not). w̄ is read once per class for a conditional
 * mapping (`numClasses` > 0), else once.
 *
 * @example
 * const s = await styleExport(space, 0, { mapping: 'mapping', synthesis: 'synthesis' });
 * s?.style.meanW[0].length; // wDim
 */
export async function styleExport(space: StyleSpace, numClasses: number, folders: { mapping: string; synthesis: string }): Promise<StyleExport | null> {
  if (!space.models) return null;
  const meanW = (classes?: tf.Tensor2D) => {
    const m = space.meanW(classes);
    const rows = m.arraySync();
    tf.dispose([m, ...(classes ? [classes] : [])]);
    return rows;
  };
  const style: StyleManifest = {
    zDim: space.zDim,
    wDim: space.wDim,
    numWs: space.numWs,
    resolutions: [...space.resolutions],
    noiseShapes: space.noiseShapes.map(([h, w]) => [h, w]),
    meanW: numClasses > 0 ? meanW(oneHotLabels(Array.from({ length: numClasses }, (_, k) => k), numClasses)) : meanW(),
    ...folders,
  };
  return { style, files: { mapping: await modelFiles(space.models.mapping), synthesis: await modelFiles(space.models.synthesis) } };
}

/** A text run's composed model (encoder and G, GanFamily.textGenerator) as files, built over the checkpoint's sampling networks. */
async function textModelFiles(state: CheckpointState, dir: string): Promise<ModelFiles> {
  const family = getModel(state.config.model);
  const { nets } = await loadSamplingNetworks(dir);
  try {
    return await modelFiles(family.textGenerator!(nets, { config: state.config, data: state.data }));
  } finally {
    for (const [, model] of allNetworks(nets)) model.dispose();
  }
}

/**
 * checkpointManifest, and for a text run the files of its composed model; for a family that declares a style space with models, its `style` section (folders
 * as given), truncation in W, and the two models' files. Loads the checkpoint's sampling networks only then.
 */
export async function styledManifest(state: CheckpointState, dir: string, folders: { mapping: string; synthesis: string }): Promise<{ manifest: GeneratorManifest; files?: StyleExport['files']; textFiles?: ModelFiles }> {
  const manifest = checkpointManifest(state, dir);
  const family = getModel(state.config.model);
  if (manifest.condition === 'text') return { manifest, textFiles: await textModelFiles(state, dir) };
  if (!family.styleSpace || manifest.condition === 'image') return { manifest };
  const { nets } = await loadSamplingNetworks(dir);
  try {
    const found = await styleExport(family.styleSpace(nets, { config: state.config, data: state.data }), manifest.numClasses, folders);
    if (!found) return { manifest };
    return { manifest: { ...manifest, style: found.style, ...(family.truncation === 'w' ? { truncation: 'w' as const } : {}) }, files: found.files };
  } finally {
    for (const [, model] of allNetworks(nets)) model.dispose();
  }
}
