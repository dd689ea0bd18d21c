import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { LayerVariable } from '@tensorflow/tfjs-layers/dist/variables.js';
import type { Kwargs } from '@tensorflow/tfjs-layers/dist/types.js';
import { kernelInitializer, spectrallyNormalized, uInitializer, type SpectralInit } from './spectral_norm.js';

/** A kernel a layer owns, with its power-iteration vector ũ when it is spectrally normalised. */
export interface OwnedKernel {
  kernel: LayerVariable;
  u: LayerVariable | null;
}

/** Settings shared by the layers that own several kernels: the kernel init and whether to normalise them. */
export interface KernelLayerArgs extends SpectralInit, LayerArgs {
  /** Divide every kernel by its largest singular value (Miyato et al. 2018); BigGAN does in G and D. Default true. */
  spectralNorm?: boolean;
}

/**
 * Base of the layers that hold more than one kernel (self-attention's four 1×1 convolutions, conditional batch
 * norm's two projections, the projection output's ψ and class embedding), each one optionally spectrally
 * normalised exactly as SpectralDense/SpectralConv2D do it: ũ is a saved, non-trainable weight `NAME_sn_u`.
 */
export abstract class KernelLayer extends tfl.layers.Layer {
  protected readonly spectralNorm: boolean;
  private readonly init: SpectralInit;
  private kernelsAdded = 0;

  constructor(args: KernelLayerArgs) {
    super(args);
    this.spectralNorm = args.spectralNorm ?? true;
    this.init = { init: args.init ?? 'glorot', stddev: args.stddev ?? 0.02, seed: args.seed ?? undefined };
  }

  /** Adds a kernel [..., out] (and its ũ [1, out] under spectral norm); each kernel draws from its own seed. */
  protected addKernel(name: string, shape: number[]): OwnedKernel {
    const seed = this.init.seed == null ? undefined : this.init.seed + 2 * this.kernelsAdded++; // +1 is ũ's
    const init = { ...this.init, seed };
    const kernel = this.addWeight(name, shape, 'float32', kernelInitializer(init));
    const u = this.spectralNorm ? this.addWeight(`${name}_sn_u`, [1, shape[shape.length - 1]], 'float32', uInitializer(init), undefined, false) : null;
    return { kernel, u };
  }

  /** The kernel as applied: K/σ(K) (one power-iteration step, ũ kept in training calls) or K itself. */
  protected kernelValue(k: OwnedKernel, kwargs: Kwargs | undefined): tf.Tensor {
    return k.u ? spectrallyNormalized(k.kernel, k.u, kwargs?.['training'] === true) : k.kernel.read();
  }

  override getConfig(): tf.serialization.ConfigDict {
    const { init, stddev, seed } = this.init;
    return { ...super.getConfig(), spectralNorm: this.spectralNorm, init: init!, stddev: stddev!, seed: seed ?? null };
  }
}

/** Whether a layer call is a training call (tfjs-layers passes `training` in kwargs). */
export function isTraining(kwargs: Kwargs | undefined): boolean {
  return kwargs?.['training'] === true;
}
