import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';
// Custom layers a saved model may contain register themselves on import; loadModel must know them all.
import '../nn/spectral_norm.js';
import '../nn/minibatch.js';
import '../nn/seeded_dropout.js';
import '../nn/instance_norm.js';
import '../nn/reflection_padding.js';
import '../nn/conditional_batch_norm.js';
import '../nn/hierarchical_latent.js';
import '../nn/self_attention.js';
import '../nn/projection_discriminator.js';
import '../nn/upsample.js';
import '../nn/equalized.js';
import '../nn/mapping.js';
import '../nn/modulated_conv.js';
import '../nn/synthesis_inputs.js';
import '../nn/residual_block.js';
import '../nn/w_plus.js';
import '../nn/glu.js';
import '../nn/conditioning_augmentation.js';
import '../nn/word_attention.js';
import '../nn/text_fusion.js';
import '../nn/last_states.js';
import '../nn/fused_gru.js';
import '../nn/fused_lstm.js';

/** A tensor with the name it is saved under (optimizer state uses these). */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

/**
 * Saves and loads TF.js layers models as `model.json` + `weights.bin` in a folder: the layout
 * `tf.loadLayersModel('http://…/model.json')` reads in a browser. (tfjs-node's file:// handler is not
 * available to us, so this is the Node side of that format.)
 */
export function folderHandler(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      await fs.mkdir(dir, { recursive: true });
      const files = modelFilesOf(artifacts);
      await writeFileAtomic(path.join(dir, 'weights.bin'), files['weights.bin']);
      await writeFileAtomic(path.join(dir, 'model.json'), files['model.json']);
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      const jsonPath = path.join(dir, 'model.json');
      let modelJson: tf.io.ModelJSON;
      try {
        modelJson = JSON.parse(await fs.readFile(jsonPath, 'utf8')) as tf.io.ModelJSON;
      } catch (e) {
        throw new UserError(`cannot read model ${jsonPath}: ${(e as Error).message}`);
      }
      const manifest = modelJson.weightsManifest ?? [];
      const buffers: Buffer[] = [];
      const specs: tf.io.WeightsManifestEntry[] = [];
      for (const group of manifest) {
        for (const p of group.paths) buffers.push(await fs.readFile(path.join(dir, p)));
        specs.push(...group.weights);
      }
      const joined = Buffer.concat(buffers);
      const expected = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * 4, 0);
      if (joined.byteLength !== expected) {
        throw new UserError(`model ${dir}: weights file holds ${joined.byteLength} bytes, the manifest needs ${expected} (truncated or mismatched weights.bin)`);
      }
      return {
        modelTopology: modelJson.modelTopology,
        format: modelJson.format,
        generatedBy: modelJson.generatedBy,
        convertedBy: modelJson.convertedBy,
        weightSpecs: specs,
        weightData: joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.byteLength),
      };
    },
  };
}

/** A saved model's two files, as a folder holds them and `tf.loadLayersModel('…/model.json')` fetches them. */
export type ModelFiles = Record<'model.json' | 'weights.bin', Buffer>;

function modelFilesOf(artifacts: tf.io.ModelArtifacts): ModelFiles {
  const weights = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
  const modelJson: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology as object,
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tfl.version_layers}`,
    convertedBy: 'ganforge',
    weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
  };
  return { 'model.json': Buffer.from(JSON.stringify(modelJson)), 'weights.bin': Buffer.from(weights) };
}

/** A model's files in memory (what saveModel would write), e.g. for a server to hand to a browser. */
export async function modelFiles(model: tfl.LayersModel): Promise<ModelFiles> {
  let files: ModelFiles | null = null;
  await model.save({
    save: async (artifacts: tf.io.ModelArtifacts) => {
      files = modelFilesOf(artifacts);
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
  });
  return files!;
}

export async function saveModel(model: tfl.LayersModel, dir: string): Promise<void> {
  await model.save(folderHandler(dir));
}

export async function loadModel(dir: string): Promise<tfl.LayersModel> {
  return tfl.loadLayersModel(folderHandler(dir));
}

/** Named tensors (e.g. optimizer moments) as `NAME.json` (specs) + `NAME.bin`. */
export async function saveNamedTensors(tensors: NamedTensor[], dir: string, name: string): Promise<void> {
  const { data, specs } = await tf.io.encodeWeights(tensors);
  await writeFileAtomic(path.join(dir, `${name}.bin`), Buffer.from(tf.io.CompositeArrayBuffer.join(data)));
  await writeFileAtomic(path.join(dir, `${name}.json`), JSON.stringify(specs));
}

export async function loadNamedTensors(dir: string, name: string): Promise<NamedTensor[]> {
  const specs = JSON.parse(await fs.readFile(path.join(dir, `${name}.json`), 'utf8')) as tf.io.WeightsManifestEntry[];
  const bin = await fs.readFile(path.join(dir, `${name}.bin`));
  const map = tf.io.decodeWeights(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength), specs);
  return specs.map((s) => ({ name: s.name, tensor: map[s.name] }));
}
