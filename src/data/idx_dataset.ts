import { UserError } from '../util/errors.js';
import type { ArraySource } from './types.js';
import { readIdx } from './idx.js';

/** Where an idx image/label pair lives and how to describe it. */
export interface IdxPairSpec {
  name: string;
  imagesPath: string;
  labelsPath: string;
  classNames: readonly string[];
  /** Keep only the first `limit` examples. */
  limit?: number;
}

/**
 * Load an idx image file (uint8 [N, H, W]) and its label file (uint8 [N]) as an image ArraySource
 * [N, H, W, 1]. Both files are checked against each other; errors name both.
 */
export async function loadIdxPair(spec: IdxPairSpec): Promise<ArraySource> {
  const [images, labels] = await Promise.all([readIdx(spec.imagesPath), readIdx(spec.labelsPath)]);
  if (images.dtype !== 'uint8' || images.shape.length !== 3) {
    throw new UserError(`${spec.imagesPath}: expected uint8 images [N, H, W], got ${images.dtype} [${images.shape.join(', ')}]`);
  }
  if (labels.dtype !== 'uint8' || labels.shape.length !== 1) {
    throw new UserError(`${spec.labelsPath}: expected uint8 labels [N], got ${labels.dtype} [${labels.shape.join(', ')}]`);
  }
  const [n, h, w] = images.shape;
  if (labels.shape[0] !== n) {
    throw new UserError(
      `image/label count mismatch: ${spec.imagesPath} has ${n} images but ${spec.labelsPath} has ${labels.shape[0]} labels`,
    );
  }
  const k = spec.classNames.length;
  const labelBytes = labels.data as Uint8Array;
  for (let i = 0; i < n; i++) {
    if (labelBytes[i] >= k) throw new UserError(`${spec.labelsPath}: label ${labelBytes[i]} at index ${i} is outside 0..${k - 1}`);
  }
  const count = spec.limit !== undefined ? Math.max(0, Math.min(n, Math.floor(spec.limit))) : n;
  if (count === 0) throw new UserError(`${spec.name}: limit ${spec.limit} leaves no examples`);
  const values = count === n ? (images.data as Uint8Array) : (images.data as Uint8Array).slice(0, count * h * w);
  return {
    kind: 'array',
    info: { name: spec.name, kind: 'image', shape: [h, w, 1], numClasses: k, classNames: [...spec.classNames], count },
    count,
    values,
    labels: Int32Array.from(labelBytes.subarray(0, count)),
  };
}
