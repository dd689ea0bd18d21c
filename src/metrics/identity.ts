import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { loadClassifierNet, loadUserNet, type FeatureNetwork } from './features.js';
import { UserError } from '../util/errors.js';

/**
 * The identity embedding FR of an attribute edit (Age-cGAN's face-recognition network) for images of `shape`
 * [H, W, C]: a user's TF.js layers model when `path` is given (`PATH` reads its last layer, `PATH#layer` a named
 * one), else the shipped classifier's 128-d features — the MNIST net for grey images, the CIFAR-10 net for RGB.
 * The shipped nets know digits and small objects, not faces: for photos of faces, pass a face-recognition model.
 */
export async function loadIdentityNet(shape: readonly number[], path?: string): Promise<FeatureNetwork> {
  const c = shape[2];
  if (path) {
    const [dir, layer] = path.split('#');
    const net = await loadUserNet(dir, layer ?? (await lastLayer(dir)));
    net.resizeFor({ h: shape[0], w: shape[1], c });
    return net;
  }
  if (c !== 1 && c !== 3) throw new UserError(`an identity network takes grey or RGB images, and these have ${c} channels; pass --identity-net PATH`);
  return loadClassifierNet(c === 1 ? 'mnist' : 'cifar10');
}

/** Name of the last layer of the TF.js layers model in `dir` (its output, when no layer is named). */
async function lastLayer(dir: string): Promise<string> {
  const file = join(dir.endsWith('.json') ? dirname(dir) : dir, 'model.json');
  if (!existsSync(file)) throw new UserError(`--identity-net ${dir}: no model.json there; pass a folder holding a TF.js layers model (model.json + weights), with #LAYER to read a named layer`);
  try {
    const json = JSON.parse(await readFile(file, 'utf8')) as { modelTopology?: { model_config?: { config?: { layers?: { name?: string; config?: { name?: string } }[] } }; config?: { layers?: { name?: string; config?: { name?: string } }[] } } };
    const top = json.modelTopology;
    const layers = top?.model_config?.config?.layers ?? top?.config?.layers ?? [];
    const last = layers[layers.length - 1];
    const name = last?.name ?? last?.config?.name;
    if (name) return name;
  } catch {
    // loadUserNet below names what is wrong with the folder
  }
  throw new UserError(`--identity-net ${dir}: cannot find the model's last layer in ${file}; name the embedding layer as PATH#LAYER`);
}
