import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import { biasActivate, equalizedInitializer } from './equalized.js';
import { downsample2x } from './resample.js';

type Shape = (number | null)[];

/** A 'same' conv with an equalized-learning-rate kernel (stored N(0, 1), times 1/√(k²·C_in)). */
function equalizedConv(x: tf.Tensor4D, kernel: tf.Tensor4D): tf.Tensor4D {
  const [kh, kw, cIn] = kernel.shape;
  return tf.conv2d(x, tf.mul(kernel, 1 / Math.sqrt(kh * kw * cIn)) as tf.Tensor4D, 1, 'same');
}

/**
 * The residual discriminator block of StyleGAN2 (Karras et al. 2020, §4.1 and Fig. 7c): [B, H, W, C_in] →
 * [B, H/2, W/2, C_out] as
 *   main = downsample(lrelu(conv3×3(lrelu(conv3×3(x)))))       (C_in → C_in → C_out)
 *   skip = conv1×1(downsample(x))                               (no bias, no activation)
 *   out  = (main + skip)/√2
 * The 1/√2 keeps the sum's variance that of one branch (the paper's footnote to Fig. 7). Convolutions use the
 * equalized learning rate, leaky ReLU(0.2)·√2 (equalized.ts), and downsampling the [1, 3, 3, 1] filter
 * (resample.ts); the skip's 1×1 convolution and the downsampling commute, so the skip convolves at H/2.
 * One layer holding its three kernels, so a discriminator is a short chain of them.
 *
 * @example
 * const h = new ResidualDBlock({ filters: 64, seed: 9 }).apply(x); // x [B, 32, 32, 32] → [B, 16, 16, 64]
 */
export class ResidualDBlock extends tfl.layers.Layer {
  static className = 'ResidualDBlock';
  readonly filters: number;
  readonly seed: number | null;
  private conv0!: tfl.LayerVariable;
  private bias0!: tfl.LayerVariable;
  private conv1!: tfl.LayerVariable;
  private bias1!: tfl.LayerVariable;
  private skip!: tfl.LayerVariable;

  constructor(args: LayerArgs & { filters: number; seed?: number | null }) {
    super(args);
    this.filters = args.filters;
    this.seed = args.seed ?? null;
  }

  override build(inputShape: Shape | Shape[]): void {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    if (s.length !== 4 || s[3] === null) throw new Error(`ResidualDBlock needs images [B, H, W, C] with known C, got [${s.join(', ')}]`);
    if ((s[1] ?? 0) % 2 !== 0 || (s[2] ?? 0) % 2 !== 0) throw new Error(`ResidualDBlock halves the image, so H and W must be even, got ${s[1]}×${s[2]}`);
    const cIn = s[3];
    const init = (k: number) => equalizedInitializer(1, this.seed === null ? null : this.seed + k);
    this.conv0 = this.addWeight('conv0_kernel', [3, 3, cIn, cIn], 'float32', init(0));
    this.bias0 = this.addWeight('conv0_bias', [cIn], 'float32', tfl.initializers.zeros());
    this.conv1 = this.addWeight('conv1_kernel', [3, 3, cIn, this.filters], 'float32', init(1));
    this.bias1 = this.addWeight('conv1_bias', [this.filters], 'float32', tfl.initializers.zeros());
    this.skip = this.addWeight('skip_kernel', [1, 1, cIn, this.filters], 'float32', init(2));
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [b, h, w] = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const half = (n: number | null) => (n === null ? null : n / 2);
    return [b, half(h), half(w), this.filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D; // [B, H, W, C_in]
      const h0 = biasActivate(equalizedConv(x, this.conv0.read() as tf.Tensor4D), this.bias0.read(), 'lrelu') as tf.Tensor4D;
      const h1 = biasActivate(equalizedConv(h0, this.conv1.read() as tf.Tensor4D), this.bias1.read(), 'lrelu') as tf.Tensor4D;
      const main = downsample2x(h1); // [B, H/2, W/2, C_out]
      const skip = equalizedConv(downsample2x(x), this.skip.read() as tf.Tensor4D); // [B, H/2, W/2, C_out]
      return tf.mul(tf.add(main, skip), Math.SQRT1_2);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), filters: this.filters, seed: this.seed };
  }
}
tf.serialization.registerClass(ResidualDBlock);
