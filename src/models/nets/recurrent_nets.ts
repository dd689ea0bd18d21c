import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { FusedLSTM } from '../../nn/fused_lstm.js';
import type { SeededInit } from '../../nn/init.js';

/** Sizes of RGAN's two recurrent networks (Esteban et al. 2017, §2). */
export interface RecurrentGanSpec {
  /** Time steps T of a sequence. */
  steps: number;
  /** Features F per time step. */
  features: number;
  /** Latent numbers per time step: G reads z_t of this size at step t. */
  latentPerStep: number;
  /** LSTM hidden units of G and of D. */
  hidden: number;
  /** Classes K of the condition, concatenated one-hot at every step (RCGAN); 0: unconditional. */
  classes: number;
  /** G's output per step: sigmoid for data scaled to [0, 1], linear for standardised data. */
  output: 'sigmoid' | 'linear';
}

/**
 * One LSTM over a whole sequence: returns every step's hidden state. Sigmoid gates as PyTorch's and TensorFlow's
 * LSTMCell (tfjs-layers' default is hardSigmoid); FusedLSTM runs it as one native kernel on aten.
 */
function lstm(spec: RecurrentGanSpec, init: SeededInit, name: string): tfl.layers.Layer {
  return new FusedLSTM({
    units: spec.hidden, returnSequences: true, recurrentActivation: 'sigmoid',
    kernelInitializer: init.glorotUniform(), recurrentInitializer: init.glorotUniform(), name,
  }) as unknown as tfl.layers.Layer;
}

/** The condition y [B, K] repeated at every step and put beside the per-step inputs: [B, T, E] → [B, T, E + K]. */
function withCondition(seq: SymbolicTensor, y: SymbolicTensor, steps: number, name: string): SymbolicTensor {
  const rows = tfl.layers.repeatVector({ n: steps, name: `${name}_repeat` }).apply(y) as SymbolicTensor; // [B, T, K]
  return tfl.layers.concatenate({ axis: -1, name: `${name}_concat` }).apply([seq, rows]) as SymbolicTensor;
}

/**
 * RGAN's generator: the latent sequence z_1..z_T (one flat vector [B, T·latentPerStep], read step by step) and,
 * for RCGAN, the one-hot condition at every step → LSTM(hidden) → the same dense layer at every step → [B, T, F].
 * Inputs: z, or [z, y [B, K]].
 */
export function rganGenerator(spec: RecurrentGanSpec, init: SeededInit): tfl.LayersModel {
  const { steps, latentPerStep } = spec;
  const z = tfl.input({ shape: [steps * latentPerStep], name: 'z' });
  let seq = tfl.layers.reshape({ targetShape: [steps, latentPerStep], name: 'z_steps' }).apply(z) as SymbolicTensor; // [B, T, L]
  const y = spec.classes > 0 ? tfl.input({ shape: [spec.classes], name: 'label' }) : null;
  if (y) seq = withCondition(seq, y, steps, 'g_label'); // [B, T, L + K]
  const h = lstm(spec, init, 'g_lstm').apply(seq) as SymbolicTensor; // [B, T, H]
  // tfjs-layers' dense acts on the last axis of a [B, T, H] input: one weight matrix shared by every step.
  const x = tfl.layers.dense({ units: spec.features, activation: spec.output, kernelInitializer: init.glorotUniform(), name: 'g_out' }).apply(h) as SymbolicTensor; // [B, T, F]
  return tfl.model({ inputs: y ? [z, y] : z, outputs: x, name: 'generator' });
}

/**
 * RGAN's discriminator: the sequence (and for RCGAN the one-hot condition at every step) → LSTM(hidden) → one
 * logit per step, [B, T]: D says at every step whether the sequence so far is real, and the adversarial loss,
 * a mean over its logits, averages over time as the paper's does. Inputs: x [B, T, F], or [x, y [B, K]].
 */
export function rganDiscriminator(spec: RecurrentGanSpec, init: SeededInit): tfl.LayersModel {
  const x = tfl.input({ shape: [spec.steps, spec.features], name: 'x' });
  const y = spec.classes > 0 ? tfl.input({ shape: [spec.classes], name: 'label' }) : null;
  const seq = y ? withCondition(x, y, spec.steps, 'd_label') : x; // [B, T, F (+ K)]
  const h = lstm(spec, init, 'd_lstm').apply(seq) as SymbolicTensor; // [B, T, H]
  const logits = tfl.layers.dense({ units: 1, kernelInitializer: init.glorotUniform(), name: 'd_out' }).apply(h) as SymbolicTensor; // [B, T, 1]
  const perStep = tfl.layers.reshape({ targetShape: [spec.steps], name: 'd_logits' }).apply(logits) as SymbolicTensor; // [B, T]
  return tfl.model({ inputs: y ? [x, y] : x, outputs: perStep, name: 'discriminator' });
}
