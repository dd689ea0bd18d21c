import * as tfl from '@tensorflow/tfjs-layers';
import type { GanFamily } from '../gan/family.js';
import { backboneHonours } from '../gan/settings.js';
import type { DatasetInfo } from '../data/types.js';
import type { RunConfig } from '../gan/config.js';
import { SeededInit } from '../nn/init.js';
import { vanilla } from './vanilla.js';

/**
 * Conditional GAN (Mirza & Osindero 2014, "Conditional Generative Adversarial Nets", §3.2, eq. 2): both
 * players see the class label y — G(z | y) and D(x | y) — so G learns one distribution per class and
 * `ganforge sample --class K` asks for class K. As in the paper's MNIST model, y enters as a one-hot vector
 * concatenated to the input of each multilayer perceptron (z for G, the flattened x for D); the paper's
 * separate z- and y-towers and maxout units are simplified to one joint MLP per player (vanilla's sizes).
 *
 * G takes [z [B, latentDim], y [B, K]]; D takes [x [B, ...shape], y [B, K]]. The D step shows D real pairs
 * (x, y) and fake pairs (G(z | y′), y′) with y′ drawn uniformly over the classes; the G step reuses y′.
 */
export const cgan: GanFamily = {
  name: 'cgan',
  summary: 'conditional GAN (Mirza & Osindero 2014): class label into G and D; sample --class K',
  paper: 'Mirza & Osindero 2014, Conditional Generative Adversarial Nets, arXiv:1411.1784',

  condition: 'class',
  // The standard step with labels in both players (n_critic, penalties and clipping included); MLPs sized by --hidden.
  honours: (data) => backboneHonours(data, { minibatch: false, mlpOnImages: true }),

  defaults: (data) => vanilla.defaults(data),

  check(data) {
    if (!data.numClasses || data.numClasses < 2) {
      return `cgan needs labelled data (a class per example), and ${data.name} has none; use toy:ring8, mnist or fashion-mnist, or an unconditional model`;
    }
    return null;
  },

  build(data, config, rng) {
    const init = new SeededInit(rng);
    return { generator: buildGenerator(data, config, init), discriminator: buildDiscriminator(data, config, init) };
  },

  // No step of its own: the standard step puts the real batch's labels into D and drawn classes y′ into G and D.
};

function buildGenerator(data: DatasetInfo, config: RunConfig, init: SeededInit): tfl.LayersModel {
  const k = data.numClasses!;
  const size = data.shape.reduce((a, b) => a * b, 1);
  const isImage = data.kind === 'image';
  const z = tfl.input({ shape: [config.latentDim], name: 'z' });
  const y = tfl.input({ shape: [k], name: 'label' });
  let h = tfl.layers.concatenate().apply([z, y]) as tfl.SymbolicTensor; // [B, latentDim + K]
  h = tfl.layers.dense({ units: config.hidden, activation: 'relu', kernelInitializer: init.glorotUniform() }).apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.dense({ units: config.hidden, activation: 'relu', kernelInitializer: init.glorotUniform() }).apply(h) as tfl.SymbolicTensor;
  let out = tfl.layers.dense({ units: size, activation: isImage ? 'tanh' : 'linear', kernelInitializer: init.glorotUniform() }).apply(h) as tfl.SymbolicTensor;
  if (isImage) out = tfl.layers.reshape({ targetShape: data.shape }).apply(out) as tfl.SymbolicTensor; // [B, H, W, C]
  return tfl.model({ inputs: [z, y], outputs: out, name: 'generator' });
}

function buildDiscriminator(data: DatasetInfo, config: RunConfig, init: SeededInit): tfl.LayersModel {
  const k = data.numClasses!;
  const x = tfl.input({ shape: data.shape, name: 'x' });
  const y = tfl.input({ shape: [k], name: 'label' });
  const flat = data.kind === 'image' ? (tfl.layers.flatten().apply(x) as tfl.SymbolicTensor) : x; // [B, H·W·C]
  let h = tfl.layers.concatenate().apply([flat, y]) as tfl.SymbolicTensor; // [B, size + K]
  for (let i = 0; i < 2; i++) {
    h = tfl.layers.dense({ units: config.hidden, kernelInitializer: init.glorotUniform() }).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.leakyReLU({ alpha: 0.2 }).apply(h) as tfl.SymbolicTensor;
  }
  const logit = tfl.layers.dense({ units: 1, kernelInitializer: init.glorotUniform() }).apply(h) as tfl.SymbolicTensor;
  return tfl.model({ inputs: [x, y], outputs: logit, name: 'discriminator' });
}
