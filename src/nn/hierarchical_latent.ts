import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology.js';

type Shape = (number | null)[];

/**
 * The size of each of the equal chunks z [B, zDim] is split into for a generator with `blocks` residual
 * blocks: one chunk per block plus one for the first linear layer (BigGAN's hierarchical latent space, Brock et
 * al. 2019 §3 and Appendix B; their 128 px G splits z ∈ R^120 into 6 chunks of 20).
 */
export function latentChunkSize(zDim: number, blocks: number): number {
  const parts = blocks + 1;
  if (!Number.isInteger(zDim) || zDim % parts !== 0) {
    const below = Math.max(parts, Math.floor(zDim / parts) * parts);
    throw new Error(`a latent of ${zDim} dimensions cannot be split into ${parts} equal chunks (${blocks} blocks + the first linear layer); use a multiple of ${parts}, e.g. ${below} or ${below + parts}`);
  }
  return zDim / parts;
}

/** Chunk `index` of `parts` equal chunks along the last axis: [B, Z] → [B, Z / parts]. Weightless. */
export class LatentChunk extends tfl.layers.Layer {
  static className = 'LatentChunk';
  readonly index: number;
  readonly parts: number;

  constructor(args: LayerArgs & { index: number; parts: number }) {
    super(args);
    if (!(args.index >= 0 && args.index < args.parts)) throw new Error(`LatentChunk: index ${args.index} is not in [0, ${args.parts})`);
    this.index = args.index;
    this.parts = args.parts;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = inputShape as Shape;
    return [s[0], latentChunkSize(s[1]!, this.parts - 1)];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const z = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor2D; // [B, Z]
    const size = latentChunkSize(z.shape[1], this.parts - 1);
    return tf.slice(z, [0, this.index * size], [-1, size]); // [B, Z / parts]
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), index: this.index, parts: this.parts };
  }
}
tf.serialization.registerClass(LatentChunk);

/**
 * BigGAN's shared class embedding E(y) (Appendix B: one embedding for all blocks instead of one per block's
 * batch norm): a bias-free linear map of the one-hot label [B, classes] → [B, dim], i.e. a row lookup that also
 * takes soft labels. Not spectrally normalised, as in the paper.
 */
export function sharedClassEmbedding(label: SymbolicTensor, dim: number, seed?: number, name = 'shared_embedding'): SymbolicTensor {
  const layer = tfl.layers.dense({ units: dim, useBias: false, kernelInitializer: tfl.initializers.glorotUniform({ seed }), name });
  return layer.apply(label) as SymbolicTensor;
}

/**
 * Hierarchical z (Brock et al. 2019 §3): z [B, zDim] split into blocks + 1 equal chunks. The first feeds G's first
 * linear layer alone; chunk i (i ≥ 1) is concatenated with the shared embedding E(y) into block i's condition,
 * the vector its conditional batch norms project to gains and biases. Without an embedding (an unconditional G)
 * block i's condition is its chunk alone.
 *
 * @example
 * const { first, conditions } = hierarchicalLatent(z, sharedClassEmbedding(label, 128, 1), 3); // z [B, 128]
 * // first [B, 32] → linear → 4×4; conditions[i] [B, 32 + 128] → block i's ClassConditionalBatchNorm
 */
export function hierarchicalLatent(z: SymbolicTensor, embedding: SymbolicTensor | null, blocks: number, name = 'z'): { first: SymbolicTensor; conditions: SymbolicTensor[] } {
  latentChunkSize(z.shape[1]!, blocks); // fails early with the sizes that would work
  const chunk = (index: number) => new LatentChunk({ index, parts: blocks + 1, name: `${name}_chunk${index}` }).apply(z) as SymbolicTensor;
  const conditions = Array.from({ length: blocks }, (_, i) => embedding
    ? tfl.layers.concatenate({ name: `${name}_condition${i + 1}` }).apply([chunk(i + 1), embedding]) as SymbolicTensor // [B, zDim/(blocks+1) + dim]
    : chunk(i + 1)); // [B, zDim/(blocks+1)]
  return { first: chunk(0), conditions };
}
