import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { promises as fs } from 'node:fs';
import { UserError } from '../util/errors.js';
import { FeatureNetwork, shortSha256, wrapModel } from './features.js';

/** One parameter of the network in the weights file: its PyTorch state-dict name and its TF.js shape. */
export interface InceptionParam {
  /** e.g. 'Mixed_5b.branch1x1.conv.weight' (the name in pytorch-fid's pt_inception-2015-12-05 file) */
  torchName: string;
  /** Shape as stored in the file: conv kernels HWIO ([kh, kw, in, out]), fc weight [in, out]. */
  shape: number[];
}

/** Output classes of the FID Inception graph (the 2015 TF graph has 1008 logits, not 1000). */
export const INCEPTION_CLASSES = 1008;
export const INCEPTION_FEATURE_LAYER = 'pool3';
export const INCEPTION_LOGITS_LAYER = 'logits';

type T = tfl.SymbolicTensor;

/**
 * Builds Inception-v3 (Szegedy et al. 2016, "Rethinking the Inception Architecture for Computer Vision") in
 * the variant FID uses (Heusel et al. 2017's TF graph, as ported by pytorch-fid): average pools in the
 * branch_pool paths exclude the padding, and the last block (Mixed_7c) max-pools its pool branch. Input
 * float32 [N, size, size, 3] in [-1, 1]; outputs 'pool3' (2048-d, the FID features) and 'logits' (1008).
 *
 * `params` receives every parameter in the order the weights file stores them (PyTorch state-dict order,
 * skipping BN's num_batches_tracked), paired with the TF.js weight it fills.
 */
function buildInception(size: number): { model: tfl.LayersModel; params: { p: InceptionParam; layer: tfl.layers.Layer; index: number }[] } {
  const params: { p: InceptionParam; layer: tfl.layers.Layer; index: number }[] = [];
  const safe = (name: string) => name.replace(/\./g, '__');
  // BasicConv2d: conv (no bias) → batch norm (ε = 0.001) → ReLU.
  const conv = (name: string, x: T, out: number, k: [number, number], strides = 1, padding: 'valid' | 'same' = 'valid'): T => {
    const inC = x.shape[3] as number;
    // Zero initialisers: every weight is overwritten from the file, and random init of 24 M values is slow.
    const c = tfl.layers.conv2d({ name: safe(`${name}.conv`), filters: out, kernelSize: k, strides, padding, useBias: false, kernelInitializer: 'zeros' });
    const bn = tfl.layers.batchNormalization({ name: safe(`${name}.bn`), epsilon: 0.001, axis: 3 });
    const y = tfl.layers.activation({ activation: 'relu', name: safe(`${name}.relu`) }).apply(bn.apply(c.apply(x))) as T;
    params.push({ p: { torchName: `${name}.conv.weight`, shape: [k[0], k[1], inC, out] }, layer: c, index: 0 });
    for (const [i, w] of ['weight', 'bias', 'running_mean', 'running_var'].entries()) params.push({ p: { torchName: `${name}.bn.${w}`, shape: [out] }, layer: bn, index: i });
    return y;
  };
  let pools = 0;
  const avg3 = (x: T) => tfl.layers.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same', name: `avgpool_${pools++}` }).apply(x) as T;
  const max3 = (x: T, strides: number, padding: 'valid' | 'same' = 'valid') => tfl.layers.maxPooling2d({ poolSize: 3, strides, padding, name: `maxpool_${pools++}` }).apply(x) as T;
  const cat = (name: string, xs: T[]) => tfl.layers.concatenate({ axis: 3, name: safe(name) }).apply(xs) as T;

  const blockA = (n: string, x: T, poolFeatures: number) => {
    const b1 = conv(`${n}.branch1x1`, x, 64, [1, 1]);
    const b5 = conv(`${n}.branch5x5_2`, conv(`${n}.branch5x5_1`, x, 48, [1, 1]), 64, [5, 5], 1, 'same');
    let b3 = conv(`${n}.branch3x3dbl_1`, x, 64, [1, 1]);
    b3 = conv(`${n}.branch3x3dbl_3`, conv(`${n}.branch3x3dbl_2`, b3, 96, [3, 3], 1, 'same'), 96, [3, 3], 1, 'same');
    const bp = conv(`${n}.branch_pool`, avg3(x), poolFeatures, [1, 1]);
    return cat(n, [b1, b5, b3, bp]);
  };
  const blockB = (n: string, x: T) => {
    const b3 = conv(`${n}.branch3x3`, x, 384, [3, 3], 2);
    let bd = conv(`${n}.branch3x3dbl_1`, x, 64, [1, 1]);
    bd = conv(`${n}.branch3x3dbl_3`, conv(`${n}.branch3x3dbl_2`, bd, 96, [3, 3], 1, 'same'), 96, [3, 3], 2);
    return cat(n, [b3, bd, max3(x, 2)]);
  };
  const blockC = (n: string, x: T, c7: number) => {
    const b1 = conv(`${n}.branch1x1`, x, 192, [1, 1]);
    let b7 = conv(`${n}.branch7x7_1`, x, c7, [1, 1]);
    b7 = conv(`${n}.branch7x7_3`, conv(`${n}.branch7x7_2`, b7, c7, [1, 7], 1, 'same'), 192, [7, 1], 1, 'same');
    let bd = conv(`${n}.branch7x7dbl_1`, x, c7, [1, 1]);
    bd = conv(`${n}.branch7x7dbl_2`, bd, c7, [7, 1], 1, 'same');
    bd = conv(`${n}.branch7x7dbl_3`, bd, c7, [1, 7], 1, 'same');
    bd = conv(`${n}.branch7x7dbl_4`, bd, c7, [7, 1], 1, 'same');
    bd = conv(`${n}.branch7x7dbl_5`, bd, 192, [1, 7], 1, 'same');
    const bp = conv(`${n}.branch_pool`, avg3(x), 192, [1, 1]);
    return cat(n, [b1, b7, bd, bp]);
  };
  const blockD = (n: string, x: T) => {
    const b3 = conv(`${n}.branch3x3_2`, conv(`${n}.branch3x3_1`, x, 192, [1, 1]), 320, [3, 3], 2);
    let b7 = conv(`${n}.branch7x7x3_1`, x, 192, [1, 1]);
    b7 = conv(`${n}.branch7x7x3_2`, b7, 192, [1, 7], 1, 'same');
    b7 = conv(`${n}.branch7x7x3_3`, b7, 192, [7, 1], 1, 'same');
    b7 = conv(`${n}.branch7x7x3_4`, b7, 192, [3, 3], 2);
    return cat(n, [b3, b7, max3(x, 2)]);
  };
  const blockE = (n: string, x: T, maxPoolBranch: boolean) => {
    const b1 = conv(`${n}.branch1x1`, x, 320, [1, 1]);
    const b3 = conv(`${n}.branch3x3_1`, x, 384, [1, 1]);
    const b3a = conv(`${n}.branch3x3_2a`, b3, 384, [1, 3], 1, 'same');
    const b3b = conv(`${n}.branch3x3_2b`, b3, 384, [3, 1], 1, 'same');
    let bd = conv(`${n}.branch3x3dbl_1`, x, 448, [1, 1]);
    bd = conv(`${n}.branch3x3dbl_2`, bd, 384, [3, 3], 1, 'same');
    const bda = conv(`${n}.branch3x3dbl_3a`, bd, 384, [1, 3], 1, 'same');
    const bdb = conv(`${n}.branch3x3dbl_3b`, bd, 384, [3, 1], 1, 'same');
    const bp = conv(`${n}.branch_pool`, maxPoolBranch ? max3(x, 1, 'same') : avg3(x), 192, [1, 1]);
    return cat(n, [b1, cat(`${n}.b3`, [b3a, b3b]), cat(`${n}.bd`, [bda, bdb]), bp]);
  };

  const input = tfl.input({ shape: [size, size, 3], name: 'image' });
  let x = conv('Conv2d_1a_3x3', input, 32, [3, 3], 2);
  x = conv('Conv2d_2a_3x3', x, 32, [3, 3]);
  x = conv('Conv2d_2b_3x3', x, 64, [3, 3], 1, 'same');
  x = max3(x, 2);
  x = conv('Conv2d_3b_1x1', x, 80, [1, 1]);
  x = conv('Conv2d_4a_3x3', x, 192, [3, 3]);
  x = max3(x, 2);
  x = blockA('Mixed_5b', x, 32);
  x = blockA('Mixed_5c', x, 64);
  x = blockA('Mixed_5d', x, 64);
  x = blockB('Mixed_6a', x);
  x = blockC('Mixed_6b', x, 128);
  x = blockC('Mixed_6c', x, 160);
  x = blockC('Mixed_6d', x, 160);
  x = blockC('Mixed_6e', x, 192);
  x = blockD('Mixed_7a', x);
  x = blockE('Mixed_7b', x, false);
  x = blockE('Mixed_7c', x, true);
  const pool3 = tfl.layers.globalAveragePooling2d({ name: INCEPTION_FEATURE_LAYER }).apply(x) as T;
  const fc = tfl.layers.dense({ name: INCEPTION_LOGITS_LAYER, units: INCEPTION_CLASSES, kernelInitializer: 'zeros' });
  const logits = fc.apply(pool3) as T;
  params.push({ p: { torchName: 'fc.weight', shape: [2048, INCEPTION_CLASSES] }, layer: fc, index: 0 });
  params.push({ p: { torchName: 'fc.bias', shape: [INCEPTION_CLASSES] }, layer: fc, index: 1 });
  return { model: tfl.model({ inputs: input, outputs: logits, name: 'inception_v3_fid' }), params };
}

/**
 * The weights file layout: every parameter in file order, so a converter (see README, "Inception-v3") can
 * write the file from any source of the FID Inception weights by name.
 */
export function inceptionWeightLayout(): InceptionParam[] {
  const { model, params } = buildInception(75);
  model.dispose();
  return params.map((e) => e.p);
}

/** Number of float32 values in a complete weights file. */
export function inceptionWeightCount(layout = inceptionWeightLayout()): number {
  return layout.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
}

/**
 * Load Inception-v3 for FID from `weightsFile`: raw little-endian float32, the parameters of
 * `inceptionWeightLayout()` concatenated in order (conv kernels HWIO, BN γ, β, mean, variance, fc [in, out]).
 * `inputSize` defaults to 299 (the standard); ≥ 75 works, and tests use small sizes to stay cheap.
 */
export async function loadInceptionNet(weightsFile: string, opts: { inputSize?: number; batchSize?: number } = {}): Promise<FeatureNetwork> {
  const size = opts.inputSize ?? 299;
  if (!Number.isInteger(size) || size < 75) throw new UserError(`Inception-v3 needs an input size of at least 75, got ${size}`);
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(weightsFile);
  } catch (e) {
    throw new UserError(`cannot read the Inception weights '${weightsFile}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); see README "Inception-v3" for how to convert them`);
  }
  const { model, params } = buildInception(size);
  const expected = inceptionWeightCount(params.map((e) => e.p));
  if (bytes.byteLength !== expected * 4) {
    model.dispose();
    throw new UserError(`'${weightsFile}' holds ${bytes.byteLength} bytes; an Inception-v3 FID weights file has ${expected} float32 values (${expected * 4} bytes). Convert it as README "Inception-v3" describes`);
  }
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  // Group values per layer, in the layer's own weight order, then set each layer's weights at once.
  const perLayer = new Map<tfl.layers.Layer, tf.Tensor[]>();
  let offset = 0;
  for (const { p, layer, index } of params) {
    const count = p.shape.reduce((a, b) => a * b, 1);
    const list = perLayer.get(layer) ?? [];
    list[index] = tf.tensor(all.subarray(offset, offset + count), p.shape);
    perLayer.set(layer, list);
    offset += count;
  }
  for (const [layer, tensors] of perLayer) {
    layer.setWeights(tensors);
    tf.dispose(tensors);
  }
  return wrapModel(model, INCEPTION_FEATURE_LAYER, INCEPTION_LOGITS_LAYER, {
    name: 'inception-v3-fid-pool3', weightsFile, weightsSha256: await shortSha256(weightsFile),
  }, opts.batchSize ?? 16);
}
