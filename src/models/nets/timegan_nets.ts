// TimeGAN's five networks (Yoon, Jarrett & van der Schaar 2019, §4): GRU stacks over time, each ending in a
// dense layer applied at every time step.
import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { SeededInit } from '../../nn/init.js';
import { FusedGRU } from '../../nn/fused_gru.js';

/**
 * The recurrent layer of every TimeGAN network, in one place so its implementation is a one-line choice: a GRU
 * over the whole sequence, one output per time step. Reset gate before the candidate's recurrent product and
 * sigmoid gates, as the authors' TF1 GRUCell; Glorot-uniform kernels, the TF1 default initializer.
 */
export function gruLayer(units: number, init: SeededInit): tfl.layers.Layer {
  // FusedGRU: one native kernel per sequence (and one for its gradient) on aten, tfjs-layers' GRU elsewhere.
  return new FusedGRU({ units, returnSequences: true, recurrentActivation: 'sigmoid', kernelInitializer: init.glorotUniform(), recurrentInitializer: init.glorotUniform() });
}

/** One TimeGAN network's shape: input [T, inDim] → `layers` GRUs of `hidden` units → dense to `outDim` per step. */
export interface GruStackSpec {
  name: string;
  window: number;
  inDim: number;
  hidden: number;
  layers: number;
  outDim: number;
  /** 'sigmoid' for E, R (on data scaled to [0, 1]), G and S; 'linear' for D's logits (and R on standardised data). */
  activation: 'sigmoid' | 'linear';
}

/** [B, T, inDim] → [B, T, outDim]: a GRU stack and a per-step dense layer (the authors' MultiRNNCell + dense). */
export function gruStack(spec: GruStackSpec, init: SeededInit): tfl.LayersModel {
  const x = tfl.input({ shape: [spec.window, spec.inDim], name: `${spec.name}_in` });
  let h: SymbolicTensor = x;
  for (let i = 0; i < spec.layers; i++) h = gruLayer(spec.hidden, init).apply(h) as SymbolicTensor; // [B, T, hidden]
  const out = tfl.layers.dense({ units: spec.outDim, activation: spec.activation, kernelInitializer: init.glorotUniform() }).apply(h) as SymbolicTensor; // [B, T, outDim]
  return tfl.model({ inputs: x, outputs: out, name: spec.name });
}

/** The five networks. Sizes: F features, hidden size H, L layers (the supervisor has L − 1, as the authors'). */
export interface TimeganNets {
  /** E: X [B, T, F] → H [B, T, H] (sigmoid). */
  embedder: tfl.LayersModel;
  /** R: H → X̃ [B, T, F] (sigmoid on [0, 1] data, linear on standardised data). */
  recovery: tfl.LayersModel;
  /** G: Z [B, T, F] → Ê [B, T, H] (sigmoid). */
  generator: tfl.LayersModel;
  /** S: H → the next step's H [B, T, H] (sigmoid). */
  supervisor: tfl.LayersModel;
  /** D: H → a logit per step [B, T, 1]. */
  discriminator: tfl.LayersModel;
}

export function timeganNets(o: { window: number; features: number; hidden: number; layers: number; boundedData: boolean }, init: SeededInit): TimeganNets {
  const { window, features: f, hidden: h, layers } = o;
  return {
    embedder: gruStack({ name: 'embedder', window, inDim: f, hidden: h, layers, outDim: h, activation: 'sigmoid' }, init),
    recovery: gruStack({ name: 'recovery', window, inDim: h, hidden: h, layers, outDim: f, activation: o.boundedData ? 'sigmoid' : 'linear' }, init),
    generator: gruStack({ name: 'generator', window, inDim: f, hidden: h, layers, outDim: h, activation: 'sigmoid' }, init),
    supervisor: gruStack({ name: 'supervisor', window, inDim: h, hidden: h, layers: Math.max(1, layers - 1), outDim: h, activation: 'sigmoid' }, init),
    discriminator: gruStack({ name: 'discriminator', window, inDim: h, hidden: h, layers, outDim: 1, activation: 'linear' }, init),
  };
}
