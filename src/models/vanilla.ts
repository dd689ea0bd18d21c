import * as tfl from '@tensorflow/tfjs-layers';
import type { GanFamily } from '../gan/family.js';
import { backboneHonours } from '../gan/settings.js';
import { SeededInit } from '../nn/init.js';
import { minibatchLayers } from '../nn/minibatch.js';

/**
 * The original GAN (Goodfellow et al. 2014, "Generative Adversarial Nets", Algorithm 1): two multilayer
 * perceptrons. G maps z ~ N(0, I) through two hidden ReLU layers to a point (or a flattened image with a
 * tanh output); D maps a point through two hidden LeakyReLU layers to one logit. Our toy defaults follow
 * the spirit of the 2-D mixture experiments of Unrolled GAN (Metz et al. 2017) — small MLPs, Adam with
 * β1 = 0.5, the non-saturating loss — tuned so that ring8 is covered within a CPU-sized budget (below).
 */
export const vanilla: GanFamily = {
  name: 'vanilla',
  summary: 'MLP generator and discriminator (Goodfellow et al. 2014); 2-D mixtures or flattened images',
  paper: 'Goodfellow et al. 2014, Generative Adversarial Nets, arXiv:1406.2661',

  // Its MLPs on points or flattened images, the standard step, every trick; minibatch layers sit before D's logit.
  honours: (data) => backboneHonours(data, { minibatch: true, mlpOnImages: true }),

  defaults(data) {
    // Toy 2-D mixtures. ring8's modes have σ = 0.02, and a sample counts only within 3σ of a centre, so
    // what takes time is precision, not finding the ring. Measured on ring8 (2,000 samples, 20 % threshold):
    // with lrG = lrD = 1e-3 the generator lands only ~6 % of its samples within 3σ after 1,500 steps; a
    // discriminator twice as fast (lrD = 2e-3, the two-time-scale rule of Heusel et al. 2017) sharpens its
    // boundaries sooner and G follows, reaching 7–8 modes and 50–85 % precise samples by 3,000–3,500 steps
    // (seeds 0 and 1). z needs no 256 dimensions for a 2-D target: 16 keeps the first layer cheap, and
    // batch 256 halves the step cost of 512 with gradients still smooth enough for the 3σ targets.
    return data.kind === 'points'
      ? { latentDim: 16, hidden: 128, lrG: 1e-3, lrD: 2e-3, beta1: 0.5, batchSize: 256, steps: 3500, sampleEvery: 500, checkpointEvery: 1000 }
      : { latentDim: 100, hidden: 256, lrG: 2e-4, lrD: 2e-4, beta1: 0.5 };
  },

  check: () => null,

  build(data, config, rng) {
    const init = new SeededInit(rng);
    const size = data.shape.reduce((a, b) => a * b, 1);
    const isImage = data.kind === 'image';

    const generator = tfl.sequential({ name: 'generator' });
    generator.add(tfl.layers.dense({ inputShape: [config.latentDim], units: config.hidden, activation: 'relu', kernelInitializer: init.glorotUniform() }));
    generator.add(tfl.layers.dense({ units: config.hidden, activation: 'relu', kernelInitializer: init.glorotUniform() }));
    generator.add(tfl.layers.dense({ units: size, activation: isImage ? 'tanh' : 'linear', kernelInitializer: init.glorotUniform() }));
    if (isImage) generator.add(tfl.layers.reshape({ targetShape: data.shape })); // [B, H, W, C]

    const discriminator = tfl.sequential({ name: 'discriminator' });
    if (isImage) discriminator.add(tfl.layers.flatten({ inputShape: data.shape })); // [B, H·W·C]
    discriminator.add(tfl.layers.dense({ ...(isImage ? {} : { inputShape: data.shape }), units: config.hidden, kernelInitializer: init.glorotUniform() }));
    discriminator.add(tfl.layers.leakyReLU({ alpha: 0.2 }));
    discriminator.add(tfl.layers.dense({ units: config.hidden, kernelInitializer: init.glorotUniform() }));
    discriminator.add(tfl.layers.leakyReLU({ alpha: 0.2 }));
    // --minibatch-discrimination / --minibatch-stddev: batch-level features for the last layer (none by default).
    for (const layer of minibatchLayers({ kernels: config.minibatchDiscrimination, stddevGroup: config.minibatchStddev }, rng)) discriminator.add(layer);
    discriminator.add(tfl.layers.dense({ units: 1, kernelInitializer: init.glorotUniform() })); // logit
    return { generator, discriminator };
  },
};
