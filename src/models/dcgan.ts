import * as tfl from '@tensorflow/tfjs-layers';
import type { GanFamily } from '../gan/family.js';
import { backboneHonours } from '../gan/settings.js';
import type { DatasetInfo } from '../data/types.js';
import { SeededInit } from '../nn/init.js';
import { minibatchLayers } from '../nn/minibatch.js';
import type { Rng } from '../util/rng.js';
import { batchNormalization } from '../nn/batch_norm.js';

/**
 * DCGAN (Radford, Metz & Chintala 2015, "Unsupervised Representation Learning with Deep Convolutional
 * GANs", §3): no pooling — strided convolutions in D, transposed convolutions in G; batch norm in both
 * (except D's input layer and G's output); ReLU in G with a tanh output; LeakyReLU(0.2) in D; weights from
 * N(0, 0.02); Adam with lr 2e-4 and β1 = 0.5.
 *
 * Image side s = base · 2^n with base ≤ 8: 28 = 7·2² (Fashion-MNIST), 32 = 4·2³, 64 = 4·2⁴. G starts from a
 * dense projection to [base, base, width·2^(n−1)] and halves the channels at each ×2 upsampling; D mirrors it.
 * For 28×28×1 with width 64 this is exactly the network of shared/reference/dcgan_torch.py.
 */
export const dcgan: GanFamily = {
  name: 'dcgan',
  summary: 'deep convolutional GAN (Radford et al. 2015) for 28×28, 32×32 and 64×64 images',
  paper: 'Radford, Metz & Chintala 2015, arXiv:1511.06434',

  honours: (data) => backboneHonours(data, { minibatch: true }),

  defaults: () => ({ lrG: 2e-4, lrD: 2e-4, beta1: 0.5, latentDim: 100, width: 64 }),

  check(data) {
    if (data.kind !== 'image') return `dcgan needs image data, and ${data.name} is 2-D points; use 'vanilla' for toy mixtures`;
    return dcganShapeProblem('dcgan', data);
  },

  build(data, config, rng) {
    const init = new SeededInit(rng);
    const [size, , channels] = data.shape;
    const { base, n } = upsamplings(size)!;
    const widthAt = (level: number) => config.width * 2 ** level; // level n−1 is the deepest
    return {
      generator: buildGenerator(config.latentDim, base, n, channels, widthAt, init),
      discriminator: buildDiscriminator(data, n, widthAt, init, { kernels: config.minibatchDiscrimination, stddevGroup: config.minibatchStddev, rng }),
    };
  },
};

/** side = base · 2^n with base ≤ 8 and n ≥ 1 (28 = 7·2², 32 = 4·2³, 64 = 4·2⁴), or null. */
export function upsamplings(side: number): { base: number; n: number } | null {
  let base = side;
  let n = 0;
  while (base > 8 && base % 2 === 0) {
    base /= 2;
    n++;
  }
  return base <= 8 && n >= 1 ? { base, n } : null;
}

/** Why `family`'s DCGAN-shaped nets cannot take these images (not square, or a side not base·2^n), or null. */
export function dcganShapeProblem(family: string, data: DatasetInfo): string | null {
  const [h, w] = data.shape;
  if (data.shape.length !== 3 || h !== w) return `${family} needs square images [H, H, C], got [${data.shape.join(', ')}]; pass --image-size N`;
  if (upsamplings(h) === null) return `${family} needs an image side of base·2^n with base ≤ 8 and n ≥ 1 (e.g. 28, 32, 64), got ${h}; pass --image-size 32 or 64`;
  return null;
}

/** DCGAN's G: z [B, latentDim] → images [B, base·2^n, base·2^n, channels] in [-1, 1]. */
export function buildGenerator(latentDim: number, base: number, n: number, channels: number, widthAt: (l: number) => number, init: SeededInit) {
  // Batch-norm momentum 0.9 = PyTorch's 0.1; γ starts at 1 (a γ near 0 would silence the layer).
  const bnInit = () => ({ momentum: 0.9, epsilon: 1e-5 });
  const g = tfl.sequential({ name: 'generator' });
  g.add(tfl.layers.dense({ inputShape: [latentDim], units: base * base * widthAt(n - 1), kernelInitializer: init.normal(0.02) }));
  g.add(batchNormalization(bnInit()));
  g.add(tfl.layers.reLU());
  g.add(tfl.layers.reshape({ targetShape: [base, base, widthAt(n - 1)] })); // [B, base, base, C]
  for (let level = n - 2; level >= 0; level--) {
    g.add(tfl.layers.conv2dTranspose({ filters: widthAt(level), kernelSize: 4, strides: 2, padding: 'same', kernelInitializer: init.normal(0.02) }));
    g.add(batchNormalization(bnInit()));
    g.add(tfl.layers.reLU());
  }
  g.add(tfl.layers.conv2dTranspose({ filters: channels, kernelSize: 4, strides: 2, padding: 'same', kernelInitializer: init.normal(0.02) }));
  g.add(tfl.layers.activation({ activation: 'tanh' })); // [B, side, side, channels] in [-1, 1]
  return g;
}

/** `minibatch`: the minibatch layers to insert before the logit (--minibatch-discrimination, --minibatch-stddev; none when absent). */
function buildDiscriminator(
  data: DatasetInfo, n: number, widthAt: (l: number) => number, init: SeededInit,
  minibatch?: { kernels: number; stddevGroup: number; rng: Rng },
) {
  const d = tfl.sequential({ name: 'discriminator' });
  for (let level = 0; level < n; level++) {
    d.add(tfl.layers.conv2d({
      ...(level === 0 ? { inputShape: data.shape } : {}),
      filters: widthAt(level), kernelSize: 4, strides: 2, padding: 'same', kernelInitializer: init.normal(0.02),
    }));
    // DCGAN: no batch norm on D's input layer.
    if (level > 0) d.add(batchNormalization({ momentum: 0.9, epsilon: 1e-5 }));
    d.add(tfl.layers.leakyReLU({ alpha: 0.2 }));
  }
  d.add(tfl.layers.flatten()); // [B, base·base·C]
  for (const layer of minibatch ? minibatchLayers(minibatch, minibatch.rng) : []) d.add(layer); // [B, base·base·C + K (+ 1)]
  d.add(tfl.layers.dense({ units: 1, kernelInitializer: init.normal(0.02) })); // logit
  return d;
}
