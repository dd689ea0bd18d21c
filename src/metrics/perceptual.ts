import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as path from 'node:path';
import { loadModel } from '../gan/model_io.js';
import { UserError } from '../util/errors.js';
import { exists } from '../util/fs.js';
import { CLASSIFIER_INPUT, classifierDir } from './classifier.js';
import { shortSha256 } from './features.js';

/** The layers of the shipped CIFAR-10 network the distance reads: the ReLU after each conv stage (32², 16², 8²). */
export const PERCEPTUAL_LAYERS = ['relu1', 'relu2', 'relu3'] as const;

/**
 * A perceptual distance in the shipped RGB feature network (the CIFAR-10 CNN of src/metrics/classifier.ts), in
 * the form of LPIPS (Zhang et al. 2018) without its learned per-channel weights: at each of PERCEPTUAL_LAYERS,
 * every pixel's channel vector is scaled to unit length, and the distance is the squared difference summed over
 * channels, averaged over pixels, summed over layers. Images [B, H, W, C] in [−1, 1] are resized bilinearly to
 * the network's 32×32 (grey is repeated to RGB). Differentiable in both arguments, so `project` descends it.
 * Its scale is its own: PPL numbers in it are not comparable with VGG/LPIPS ones.
 */
export class PerceptualDistance {
  /** `model` reads the first layers of `net`, which owns every weight (the classifier head's too). */
  private constructor(readonly name: string, readonly weightsSha256: string, private readonly model: tfl.LayersModel,
    private readonly net: tfl.LayersModel) {}

  static async load(): Promise<PerceptualDistance> {
    const dir = classifierDir('cifar10');
    const weightsFile = path.join(dir, 'weights.bin');
    if (!(await exists(weightsFile))) throw new UserError(`the CIFAR-10 feature network is missing (${weightsFile}); run 'npm run train:feature-net -- --data cifar10 --cifar10 DIR'`);
    const net = await loadModel(dir);
    const features = tfl.model({ inputs: net.inputs, outputs: PERCEPTUAL_LAYERS.map((name) => net.getLayer(name).output as tfl.SymbolicTensor) });
    return new PerceptualDistance('ganforge-cifar10-cnn relu1-3, unit-normalised channels (LPIPS form, unweighted)', await shortSha256(weightsFile), features, net);
  }

  /** The network's unit-normalised feature maps of images [B, H, W, C] in [−1, 1]. */
  features(x: tf.Tensor4D): tf.Tensor4D[] {
    return tf.tidy(() => {
      const [h, w, c] = CLASSIFIER_INPUT.cifar10;
      let input = x;
      if (x.shape[1] !== h || x.shape[2] !== w) input = tf.image.resizeBilinear(input, [h, w], false, true);
      if (x.shape[3] === 1) input = tf.tile(input, [1, 1, 1, c]);
      const maps = this.model.apply(input, { training: false }) as tf.Tensor4D[];
      // ε inside the root keeps the gradient finite where a ReLU map is all zero at a pixel.
      return maps.map((m) => tf.div(m, tf.sqrt(tf.add(tf.sum(tf.square(m), -1, true), 1e-10))) as tf.Tensor4D);
    });
  }

  /** d(a, b) per example: [B]. */
  distance(a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor1D {
    return tf.tidy(() => {
      const fa = this.features(a);
      const fb = this.features(b);
      const per = fa.map((f, i) => tf.mean(tf.sum(tf.square(tf.sub(f, fb[i])), -1), [1, 2]));
      return tf.addN(per) as tf.Tensor1D;
    });
  }

  /** d between maps already computed by `features` (projection compares to a fixed target). */
  static between(fa: tf.Tensor4D[], fb: tf.Tensor4D[]): tf.Tensor1D {
    return tf.tidy(() => tf.addN(fa.map((f, i) => tf.mean(tf.sum(tf.square(tf.sub(f, fb[i])), -1), [1, 2]))) as tf.Tensor1D);
  }

  dispose(): void {
    this.net.dispose();
  }
}
