// The fixed feature network of SRGAN's content loss and ESRGAN's perceptual loss, loaded synchronously
// (families build their state synchronously) from a TF.js layers model folder.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { readFileSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../util/errors.js';

/** The shipped RGB CIFAR-10 network (src/metrics/classifier.ts trains it): conv–BN–ReLU stages conv/bn/relu 1–3 at 32², 16², 8². */
export const SHIPPED_CONTENT_NET = 'cifar10';

function shippedDir(): string {
  // dist/src/models/nets/content_net.js → <repo>/assets/feature-nets/cifar10
  return fileURLToPath(new URL(`../../../../assets/feature-nets/${SHIPPED_CONTENT_NET}/`, import.meta.url));
}

// Keras/TF.js model.json uses Python's snake_case; the layers' fromConfig takes camelCase. This follows
// tfjs-layers' own conversion: string values are converted too, except layer names ('name', and the first
// item of each inbound node and of input/output layer lists).
function camel(s: string): string {
  return s.length <= 1 || !s.includes('_') ? s : s.replace(/_+(\w|$)/g, (_, c: string) => c.toUpperCase());
}

function pythonicToTs(v: unknown, key?: string): unknown {
  if (v === null || typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'string') return camel(v);
  if (Array.isArray(v)) {
    const keepFirst = key === 'inboundNodes' || key === 'inputLayers' || key === 'outputLayers';
    return v.map((item, i) => (keepFirst && i === 0 && typeof item === 'string' ? item : pythonicToTs(item, key)));
  }
  const out: Record<string, unknown> = {};
  for (const [k, value] of Object.entries(v as Record<string, unknown>)) {
    if (k === 'name' && typeof value === 'string') out[k] = value;
    else out[camel(k)] = pythonicToTs(value, camel(k));
  }
  return out;
}

interface ModelJson {
  modelTopology: { class_name: string; config: unknown; model_config?: { class_name: string; config: unknown } };
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

/** A TF.js layers model folder (model.json + weights) read synchronously; the weights set by name. */
function loadLayersModelSync(dir: string, flag: string): tfl.LayersModel {
  const file = path.join(dir, 'model.json');
  if (!existsSync(file)) throw new UserError(`${flag} ${dir}: no model.json there; pass a folder holding a TF.js layers model (model.json + weights)`);
  const json = JSON.parse(readFileSync(file, 'utf8')) as ModelJson;
  const topology = json.modelTopology.model_config ?? json.modelTopology;
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[topology.class_name];
  if (!entry) throw new UserError(`${flag} ${dir}: unknown model class '${topology.class_name}'`);
  const [cls, fromConfig] = entry;
  const model = fromConfig(cls, pythonicToTs(topology.config) as tf.serialization.ConfigDict) as unknown as tfl.LayersModel;
  const values: tf.NamedTensorMap = {};
  for (const group of json.weightsManifest) {
    const buffers = group.paths.map((p) => readFileSync(path.join(dir, p)));
    const joined = Buffer.concat(buffers);
    Object.assign(values, tf.io.decodeWeights(joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.byteLength), group.weights));
  }
  try {
    model.setWeights(model.weights.map((w) => {
      const t = values[w.originalName];
      if (!t) throw new UserError(`${flag} ${dir}: weights.bin has no '${w.originalName}'`);
      return t;
    }));
  } finally {
    tf.dispose(Object.values(values));
  }
  return model;
}

/**
 * φ: images → feature maps at one layer of a fixed network, the space in which SRGAN's content loss
 * (Ledig et al. 2017, eq. 5: MSE of VGG19 feature maps, rescaled by 1/12.75) and ESRGAN's perceptual loss
 * (Wang et al. 2018, §3.3: the same before the activation) compare G's output with the target. Images
 * [B, H, W, C] in [−1, 1] go in at their own size (the layers up to a conv stage do not care); grey is
 * repeated to RGB for an RGB network. Its weights are never trained.
 */
export class ContentNetwork {
  private constructor(readonly name: string, private readonly model: tfl.LayersModel, private readonly net: tfl.LayersModel, private readonly channels: number, private readonly scale: number) {}

  /** `modelPath` '' = the shipped CIFAR-10 network; `layer` one of its layers (e.g. relu3, or bn3 before the activation). */
  static load(modelPath: string, layer: string, scale: number): ContentNetwork {
    const dir = modelPath === '' ? shippedDir() : modelPath.endsWith('.json') ? path.dirname(modelPath) : modelPath;
    if (modelPath === '' && !existsSync(path.join(dir, 'weights.bin'))) {
      throw new UserError(`the CIFAR-10 feature network is missing (${dir}); run 'npm run train:feature-net -- --data cifar10 --cifar10 DIR', or pass --content-net PATH`);
    }
    const net = loadLayersModelSync(dir, '--content-net');
    const names = net.layers.map((l) => l.name);
    if (!names.includes(layer)) {
      net.dispose();
      throw new UserError(`--content-layer ${layer}: the network has no such layer; it has ${names.join(', ')}`);
    }
    // A new input of free height and width, then the network's layers up to `layer` re-applied: φ at any image size.
    const channels = net.inputs[0].shape[3] as number;
    const input = tfl.input({ shape: [null, null, channels] as unknown as number[] });
    const outputs = new Map<string, tfl.SymbolicTensor>([[net.inputLayers[0].name, input]]);
    for (const l of net.layers.slice(1)) {
      const inbound = (l.inboundNodes[0].inboundLayers as { name: string }[]).map((p) => outputs.get(p.name)!);
      outputs.set(l.name, l.apply(inbound.length === 1 ? inbound[0] : inbound) as tfl.SymbolicTensor);
      if (l.name === layer) break;
    }
    const model = tfl.model({ inputs: input, outputs: outputs.get(layer)!, name: 'content_net' });
    return new ContentNetwork(`${modelPath || SHIPPED_CONTENT_NET}#${layer}${scale === 1 ? '' : `×${scale}`}`, model, net, channels, scale);
  }

  /** φ(x)·scale for images [B, H, W, C] in [−1, 1], differentiable in x. */
  features(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const rgb = x.shape[3] === this.channels ? x : x.shape[3] === 1 ? tf.tile(x, [1, 1, 1, this.channels]) : null;
      if (!rgb) throw new UserError(`the content network takes ${this.channels}-channel images, got ${x.shape[3]}`);
      const f = this.model.apply(rgb, { training: false }) as tf.Tensor;
      return this.scale === 1 ? f : tf.mul(f, this.scale);
    });
  }

  dispose(): void {
    this.model.dispose();
    this.net.dispose();
  }
}
