/**
 * `npm run train:feature-net [-- --data fashion-mnist|mnist|cifar10|all] [--epochs N] [--cifar10 DIR]`: trains
 * the small classifier whose 128-d layer is ganforge's default feature network for 28×28 grey images (and,
 * for cifar10, for 32×32 RGB images without Inception weights), checks its test accuracy and writes it to
 * assets/feature-nets/<dataset>/ (model.json + weights.bin + training.json).
 * Deterministic: weights come from a seeded initialiser, batches and augmentation from seeded RNGs.
 */
import * as tf from '@tensorflow/tfjs-core';
import { readTidy } from '../util/tensors.js';
import type * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-layers'; // registers the layers' gradients
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createHash } from 'node:crypto';
import { initBackend } from '../backend/index.js';
import { loadData } from '../data/registry.js';
import type { ArraySource } from '../data/types.js';
import { saveModel } from '../gan/model_io.js';
import { Rng } from '../util/rng.js';
import { UserError } from '../util/errors.js';
import { adam } from '../nn/adam.js';
import { CLASSIFIER_DATASETS, CLASSIFIER_INPUT, buildClassifierFor, classifierDir, uint8Batch, type ClassifierDataset } from './classifier.js';

/**
 * Epochs per dataset, short enough for a 2-core CPU. Measured (test accuracy): MNIST 1 epoch 97.63 %;
 * Fashion-MNIST 3 epochs 88.91 %, 6 epochs 90.24 % (445 s on aten); CIFAR-10 7 epochs 77.22 % (2,007 s on aten,
 * with the 2 cores shared at load 6–10; ≈ 0.3 s a step when they are free).
 */
export const DEFAULT_EPOCHS: Record<ClassifierDataset, number> = { 'fashion-mnist': 6, mnist: 1, cifar10: 7 };

/** The CIFAR-10 class folders in label order (Krizhevsky 2009); sorted folder names give exactly this. */
export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/** Where the unpacked CIFAR-10 image folder is (holding train/ and test/): the flag, else $GANFORGE_CIFAR10. */
export function cifar10Dir(given?: string): string {
  const dir = given ?? process.env.GANFORGE_CIFAR10;
  if (!dir) throw new UserError('cifar10 needs the unpacked CIFAR-10 image folder (train/<class>/*.jpg, test/<class>/*.jpg): pass --cifar10 DIR or set GANFORGE_CIFAR10');
  return dir;
}

/** The training or test split of `dataset` as uint8 images with labels. */
export async function loadClassifierData(dataset: ClassifierDataset, split: 'train' | 'test', cifarDir?: string): Promise<ArraySource> {
  if (dataset !== 'cifar10') return (await loadData(dataset, { split })) as ArraySource;
  const src = (await loadData(`folder:${path.join(cifar10Dir(cifarDir), split)}`, { imageSize: 32, channels: 3 })) as ArraySource;
  if (src.info.classNames?.join() !== CIFAR10_CLASSES.join()) {
    throw new UserError(`${src.info.name}: expected the ten CIFAR-10 class folders ${CIFAR10_CLASSES.join(', ')}, found ${src.info.classNames?.join(', ') ?? 'none'}`);
  }
  return src;
}

/**
 * A training batch with the standard CIFAR augmentation (He et al. 2016, §4.2): each image shifted by up to
 * `pad` pixels either way, i.e. a 32×32 crop of the image zero-padded by `pad` (0 is mid-grey in [-1, 1]),
 * and mirrored left–right with probability ½. It is done in JS while the batch is built, which costs far
 * less than the step itself.
 */
export function augmentedBatch(values: Uint8Array, idx: ArrayLike<number>, shape: readonly number[], pad: number, rng: Rng): tf.Tensor4D {
  const [h, w, c] = shape;
  const size = h * w * c;
  const out = new Float32Array(idx.length * size); // zeros: the padding
  for (let b = 0; b < idx.length; b++) {
    const src = idx[b] * size;
    const dy = rng.int(2 * pad + 1) - pad;
    const dx = rng.int(2 * pad + 1) - pad;
    const flip = rng.uniform() < 0.5;
    for (let y = 0; y < h; y++) {
      const sy = y + dy;
      if (sy < 0 || sy >= h) continue;
      for (let x = 0; x < w; x++) {
        const sx = (flip ? w - 1 - x : x) + dx;
        if (sx < 0 || sx >= w) continue;
        const o = b * size + (y * w + x) * c;
        const i = src + (sy * w + sx) * c;
        for (let k = 0; k < c; k++) out[o + k] = values[i + k] / 127.5 - 1;
      }
    }
  }
  return tf.tensor4d(out, [idx.length, h, w, c]);
}

const GREY_ARCHITECTURE = 'ganforge_classifier (conv16-conv32-conv64, dense 128 "features", dense 10 "logits")';

/** What differs per dataset in training: augmentation (grey nets train without) and the learning-rate decay. */
const RECIPES: Record<ClassifierDataset, { augment: boolean; pad: number; finalLrScale: number; architecture: string }> = {
  'fashion-mnist': { augment: false, pad: 0, finalLrScale: 1, architecture: GREY_ARCHITECTURE },
  mnist: { augment: false, pad: 0, finalLrScale: 1, architecture: GREY_ARCHITECTURE },
  // Shifts and mirrors are label-preserving for CIFAR's objects; the rate falls linearly to 5 % by the end.
  cifar10: { augment: true, pad: 2, finalLrScale: 0.05, architecture: 'ganforge_rgb_classifier (conv32-conv64-conv128, each + batch norm + ReLU + max-pool, dense 128 + batch norm + ReLU "features", dense 10 "logits")' },
};

export interface TrainFeatureNetOptions {
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  seed?: number;
  /** cifar10 only: the unpacked CIFAR-10 folder (default $GANFORGE_CIFAR10). */
  cifarDir?: string;
  log?: (line: string) => void;
}

/** Classification accuracy of `model` on an image source (argmax of the logits). */
export function accuracy(model: tfl.LayersModel, src: ArraySource, batch = 500): number {
  let correct = 0;
  for (let lo = 0; lo < src.count; lo += batch) {
    const idx = Array.from({ length: Math.min(batch, src.count - lo) }, (_, i) => lo + i);
    const pred = readTidy(() => {
      const x = uint8Batch(src.values as Uint8Array, idx, src.info.shape);
      return tf.argMax(model.predict(x) as tf.Tensor, 1);
    });
    for (let i = 0; i < idx.length; i++) if (pred[i] === src.labels![lo + i]) correct++;
  }
  return correct / src.count;
}

/** Train the classifier for `dataset` (Adam, softmax cross-entropy) and return it with its test accuracy. */
export async function trainFeatureNet(dataset: ClassifierDataset, opts: TrainFeatureNetOptions = {}) {
  const epochs = opts.epochs ?? DEFAULT_EPOCHS[dataset];
  const batchSize = opts.batchSize ?? 128;
  const seed = opts.seed ?? 20240501;
  const log = opts.log ?? ((l: string) => console.log(l));
  const train = await loadClassifierData(dataset, 'train', opts.cifarDir);
  const test = await loadClassifierData(dataset, 'test', opts.cifarDir);
  const model = buildClassifierFor(dataset, seed);
  const recipe = RECIPES[dataset];
  const lr = opts.learningRate ?? 1e-3;
  // The grey nets keep tfjs's Adam they were trained with; the RGB net uses ganforge's in-place Adam (same
  // arithmetic, fewer kernels per step on aten), whose rate is read on every step, so it can decay.
  const optimizer = dataset === 'cifar10' ? adam(lr, 0.9, 0.999) : tf.train.adam(lr);
  const rng = new Rng(seed + 1);
  const augRng = new Rng(seed + 2);
  const stepsPerEpoch = Math.floor(train.count / batchSize);
  const order = Int32Array.from({ length: train.count }, (_, i) => i);
  const t0 = performance.now();
  for (let epoch = 0; epoch < epochs; epoch++) {
    rng.shuffle(order);
    let lossSum = 0;
    let batches = 0;
    for (let lo = 0; lo + batchSize <= train.count; lo += batchSize) {
      const idx = order.subarray(lo, lo + batchSize);
      if (recipe.finalLrScale !== 1) {
        const progress = (epoch * stepsPerEpoch + batches) / (epochs * stepsPerEpoch);
        // AdamOptimizer's rate is protected in tfjs's typings; FusedAdam reads it afresh on each step.
        (optimizer as unknown as { learningRate: number }).learningRate = lr * (1 - (1 - recipe.finalLrScale) * progress);
      }
      const loss = tf.tidy(() => {
        const x = recipe.augment ? augmentedBatch(train.values as Uint8Array, idx, train.info.shape, recipe.pad, augRng) : uint8Batch(train.values as Uint8Array, idx, train.info.shape);
        const y = tf.oneHot(tf.tensor1d(Array.from(idx, (i) => train.labels![i]), 'int32'), 10);
        return optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true)!;
      });
      lossSum += (await loss.data())[0];
      loss.dispose();
      if (++batches % 100 === 0) log(`${dataset}: epoch ${epoch + 1} batch ${batches} loss ${(lossSum / batches).toFixed(4)} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    }
    log(`${dataset}: epoch ${epoch + 1}/${epochs} loss ${(lossSum / batches).toFixed(4)} test accuracy ${(100 * accuracy(model, test)).toFixed(2)}% (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
  optimizer.dispose();
  return { model, testAccuracy: accuracy(model, test), epochs, batchSize, seed, seconds: (performance.now() - t0) / 1000, recipe, lr };
}

async function main(argv: string[]): Promise<void> {
  const arg = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const which = arg('--data') ?? arg('--dataset') ?? 'all';
  const epochs = arg('--epochs') !== undefined ? Number(arg('--epochs')) : undefined;
  const datasets = which === 'all' ? [...CLASSIFIER_DATASETS] : [which as ClassifierDataset];
  if (!datasets.every((d) => (CLASSIFIER_DATASETS as readonly string[]).includes(d))) throw new Error(`--data must be one of ${CLASSIFIER_DATASETS.join(', ')}, all`);
  // Before any training: a missing CIFAR-10 folder should not surface after the grey nets' minutes.
  const cifarDir = datasets.includes('cifar10') ? cifar10Dir(arg('--cifar10')) : undefined;
  const backend = await initBackend();
  for (const dataset of datasets) {
    const r = await trainFeatureNet(dataset, { epochs, cifarDir });
    const dir = classifierDir(dataset);
    await saveModel(r.model, dir);
    const sha256 = createHash('sha256').update(await fs.readFile(path.join(dir, 'weights.bin'))).digest('hex');
    const [h, w, c] = CLASSIFIER_INPUT[dataset];
    const record = {
      dataset, architecture: r.recipe.architecture,
      testAccuracy: r.testAccuracy, epochs: r.epochs, batchSize: r.batchSize, seed: r.seed,
      optimizer: `adam lr ${r.lr}${r.recipe.finalLrScale !== 1 ? `, linear decay to ×${r.recipe.finalLrScale}` : ''}`,
      ...(r.recipe.augment ? { augmentation: `random shift ±${r.recipe.pad} px (zero padding), horizontal flip p 0.5` } : {}),
      input: `float32 [N, ${h}, ${w}, ${c}] in [-1, 1]`, weightsSha256: sha256, backend: backend.name, trainSeconds: Math.round(r.seconds),
      ...(dataset === 'cifar10' ? { data: 'CIFAR-10 JPEG folder (quality ≈ 75): train/ 50,000, test/ 10,000', command: `npm run train:feature-net -- --data cifar10 --cifar10 DIR${epochs !== undefined ? ` --epochs ${epochs}` : ''}` } : {}),
    };
    await fs.writeFile(path.join(dir, 'training.json'), JSON.stringify(record, null, 1) + '\n');
    console.log(`${dataset}: test accuracy ${(100 * r.testAccuracy).toFixed(2)}%, weights sha256 ${sha256.slice(0, 12)} → ${dir}`);
    r.model.dispose();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main(process.argv.slice(2));
