import * as tf from '@tensorflow/tfjs-core';
import { readTidyAll } from '../util/tensors.js';
import * as tfl from '@tensorflow/tfjs-layers';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { loadModel } from '../gan/model_io.js';
import { UserError, unknownChoice } from '../util/errors.js';
import { exists } from '../util/fs.js';
import { CLASSIFIER_DATASETS, FEATURE_LAYER, LOGITS_LAYER, classifierDir, type ClassifierDataset } from './classifier.js';

/**
 * Images to embed: NHWC, either uint8 0–255 or float32 in [-1, 1] (the generator's tanh range). Every
 * network here takes float32 in [-1, 1], so uint8 is mapped by x / 127.5 − 1.
 */
export interface ImageSet {
  values: Uint8Array | Float32Array;
  n: number;
  h: number;
  w: number;
  c: number;
}

/** What a feature network is, recorded next to every number computed with it. */
export interface FeatureNetInfo {
  /** e.g. 'ganforge-fashion-mnist-cnn', 'inception-v3-pool3', 'model:/path/to/dir#layer' */
  name: string;
  /** sha256 of the weights file, first 12 hex digits. */
  weightsSha256: string;
  weightsFile: string;
  featureLayer: string;
  featureDim: number;
  /** Number of classes when the network also gives logits (for IS and class histograms). */
  classes?: number;
  /** [H, W, C] the network takes. */
  inputShape: [number, number, number];
  /** Said next to every number when the features are not the ones a reader would assume (RGB without Inception). */
  caveat?: string;
}

export interface Embedding {
  features: Float32Array;
  logits?: Float32Array;
  /** How the images were brought to the network's input, e.g. 'none' or 'bilinear 28×28→299×299, grey→RGB'. */
  resize: string;
}

/** A loaded feature network: a TF.js model whose outputs are [features] or [features, logits]. */
export class FeatureNetwork {
  constructor(readonly info: FeatureNetInfo, private readonly model: tfl.LayersModel, private readonly batchSize = 500) {}

  /** How `set` would be adapted to the input; throws a UserError when it cannot be (e.g. RGB into a grey net). */
  resizeFor(set: Pick<ImageSet, 'h' | 'w' | 'c'>): string {
    const [h, w, c] = this.info.inputShape;
    if (set.c !== 1 && set.c !== 3) throw new UserError(`images must have 1 or 3 channels, got ${set.c}`);
    if (set.c === 3 && c === 1) {
      throw new UserError(`${this.info.name} takes grey ${h}×${w}×1 images and these are RGB (${set.h}×${set.w}×3); use --net inception-v3 or --net cifar10 for RGB images, or pass grey images`);
    }
    const parts: string[] = [];
    if (set.h !== h || set.w !== w) parts.push(`bilinear (half-pixel centres) ${set.h}×${set.w}→${h}×${w}`);
    if (set.c === 1 && c === 3) parts.push('grey→RGB by repetition');
    return parts.length ? parts.join(', ') : 'none';
  }

  /**
   * Embed `set` in batches; deterministic for a given backend (inference mode, no randomness).
   * Returns features [n, featureDim] and, for classifiers, logits [n, classes].
   */
  embed(set: ImageSet, onProgress?: (done: number) => void): Embedding {
    const resize = this.resizeFor(set);
    const [h, w, c] = this.info.inputShape;
    const { featureDim, classes } = this.info;
    const features = new Float32Array(set.n * featureDim);
    const logits = classes ? new Float32Array(set.n * classes) : undefined;
    const size = set.h * set.w * set.c;
    for (let lo = 0; lo < set.n; lo += this.batchSize) {
      const b = Math.min(this.batchSize, set.n - lo);
      const outs = readTidyAll(() => {
        const slice = set.values.subarray(lo * size, (lo + b) * size);
        let x: tf.Tensor4D = tf.tensor4d(slice instanceof Uint8Array ? Float32Array.from(slice, (v) => v / 127.5 - 1) : slice, [b, set.h, set.w, set.c]);
        if (set.h !== h || set.w !== w) x = tf.image.resizeBilinear(x, [h, w], false, true);
        if (set.c === 1 && c === 3) x = tf.tile(x, [1, 1, 1, 3]);
        const y = this.model.predict(x);
        return (Array.isArray(y) ? y : [y]).map((t) => tf.reshape(t, [b, -1]));
      });
      features.set(outs[0], lo * featureDim);
      if (logits) logits.set(outs[1], lo * classes!);
      onProgress?.(lo + b);
    }
    return { features, logits, resize };
  }

  /**
   * The features of images x [B, H, W, C] in [-1, 1] as a tensor [B, featureDim], differentiable in x (an
   * identity embedding to optimise against, as Age-cGAN's edit does); adapted to the input as `embed` does.
   */
  apply(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      this.resizeFor({ h: x.shape[1], w: x.shape[2], c: x.shape[3] });
      const [h, w, c] = this.info.inputShape;
      let input = x;
      if (x.shape[1] !== h || x.shape[2] !== w) input = tf.image.resizeBilinear(input, [h, w], false, true);
      if (x.shape[3] === 1 && c === 3) input = tf.tile(input, [1, 1, 1, 3]);
      const y = this.model.apply(input, { training: false }) as tf.Tensor | tf.Tensor[];
      return tf.reshape(Array.isArray(y) ? y[0] : y, [x.shape[0], -1]) as tf.Tensor2D;
    });
  }

  dispose(): void {
    this.model.dispose();
  }
}

/** sha256 of a file, first 12 hex digits: the short weights hash printed with every metric. */
export async function shortSha256(file: string): Promise<string> {
  return createHash('sha256').update(await fs.readFile(file)).digest('hex').slice(0, 12);
}

/**
 * Wrap a layers model as a feature network reading `featureLayer` (and, optionally, `logitsLayer`).
 * The layer's output is flattened, so a conv layer's [h, w, c] map becomes an h·w·c vector.
 */
export function wrapModel(model: tfl.LayersModel, featureLayer: string, logitsLayer: string | undefined, meta: { name: string; weightsFile: string; weightsSha256: string; caveat?: string }, batchSize?: number): FeatureNetwork {
  const names = model.layers.map((l) => l.name);
  const layer = (name: string) => {
    if (!names.includes(name)) throw unknownChoice(`layer of ${meta.name}`, name, names);
    return model.getLayer(name);
  };
  const outputs = [layer(featureLayer).output as tfl.SymbolicTensor];
  if (logitsLayer) outputs.push(layer(logitsLayer).output as tfl.SymbolicTensor);
  const inner = tfl.model({ inputs: model.inputs, outputs });
  const inShape = model.inputs[0].shape;
  if (inShape.length !== 4 || inShape.slice(1).some((d) => d === null)) {
    throw new UserError(`${meta.name}: the model's input must be [batch, H, W, C] with fixed H, W, C, got [${inShape.join(', ')}]`);
  }
  const dim = (s: tfl.SymbolicTensor) => (s.shape.slice(1) as number[]).reduce((a, b) => a * b, 1);
  const info: FeatureNetInfo = {
    ...meta,
    featureLayer,
    featureDim: dim(outputs[0]),
    classes: logitsLayer ? dim(outputs[1]) : undefined,
    inputShape: inShape.slice(1) as [number, number, number],
  };
  return new FeatureNetwork(info, inner, batchSize);
}

/**
 * What the CIFAR-10 classifier's numbers are: FID/KID/PRDC in the space of a small CNN trained on CIFAR-10,
 * on a different scale from Inception-based numbers and not comparable with published ones.
 */
export const CIFAR10_CAVEAT = 'ganforge CIFAR-10 features, not Inception';

/** The committed classifier for Fashion-MNIST, MNIST or CIFAR-10 (see `npm run train:feature-net`). */
export async function loadClassifierNet(dataset: ClassifierDataset): Promise<FeatureNetwork> {
  const dir = classifierDir(dataset);
  const weightsFile = path.join(dir, 'weights.bin');
  if (!(await exists(weightsFile))) {
    throw new UserError(`the ${dataset} feature network is missing (${weightsFile}); run 'npm run train:feature-net -- --data ${dataset}${dataset === 'cifar10' ? ' --cifar10 DIR' : ''}' to train it`);
  }
  const model = await loadModel(dir);
  const rgb = dataset === 'cifar10';
  const meta = { name: `ganforge-${dataset}-cnn`, weightsFile, weightsSha256: await shortSha256(weightsFile), ...(rgb ? { caveat: CIFAR10_CAVEAT } : {}) };
  // Batches of 1000: per-call overhead dominates the grey net at smaller batches (≈ 20 % slower at 250). The
  // RGB net's first stage is 32×32×32 floats per image, so 500 keeps a batch's activations near 250 MB.
  return wrapModel(model, FEATURE_LAYER, LOGITS_LAYER, meta, rgb ? 500 : 1000);
}

/**
 * A user's TF.js layers model (a folder with model.json + weights.bin, or the model.json itself) read at
 * `layer`. The model receives float32 images in [-1, 1], resized bilinearly to its input size.
 */
export async function loadUserNet(modelPath: string, layer: string, logitsLayer?: string): Promise<FeatureNetwork> {
  const dir = modelPath.endsWith('.json') ? path.dirname(modelPath) : modelPath;
  if (!(await exists(path.join(dir, 'model.json')))) {
    throw new UserError(`--net ${modelPath}: no model.json there; pass a folder holding a TF.js layers model (model.json + weights), or one of: ${[...CLASSIFIER_DATASETS, 'inception-v3'].join(', ')}`);
  }
  const model = await loadModel(dir);
  const json = JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8')) as { weightsManifest?: { paths: string[] }[] };
  const files = (json.weightsManifest ?? []).flatMap((g) => g.paths).map((p) => path.join(dir, p));
  const hash = createHash('sha256');
  for (const f of files) hash.update(await fs.readFile(f));
  return wrapModel(model, layer, logitsLayer, { name: `model:${path.resolve(dir)}#${layer}`, weightsFile: files.join(','), weightsSha256: hash.digest('hex').slice(0, 12) });
}
