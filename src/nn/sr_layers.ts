// Layers of the super-resolution generators tf.layers lacks: sub-pixel upsampling (SRGAN) and ESRGAN's scaled
// residual. Both register with tfjs's serialization, so checkpoints and exported generators holding them load.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology.js';

type Shape = (number | null)[];

/**
 * Sub-pixel rearrangement (Shi et al. 2016), r = 2: [B, H, W, 4C] → [B, 2H, 2W, C] with
 * out[b, 2h + i, 2w + j, c] = in[b, h, w, (2i + j)·C + c], TensorFlow's depth_to_space order (PyTorch's
 * PixelShuffle takes channel c·4 + 2i + j instead; the conv before it learns either). Written as reshape and
 * transpose, whose gradients every backend has (tfjs has no DepthToSpace gradient).
 */
export function pixelShuffle2x(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, h, w, c4] = x.shape;
    const c = c4 / 4;
    const split = tf.reshape(x, [b, h, w, 2, 2, c]); // [B, H, W, i, j, C]
    const rows = tf.transpose(split, [0, 1, 3, 2, 4, 5]); // [B, H, i, W, j, C]
    return tf.reshape(rows, [b, 2 * h, 2 * w, c]);
  });
}

/** The layer form of pixelShuffle2x. Weightless. */
export class PixelShuffle2x extends tfl.layers.Layer {
  static className = 'PixelShuffle2x';

  constructor(args: LayerArgs = {}) {
    super(args);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [b, h, w, c] = inputShape as Shape;
    return [b, h == null ? null : 2 * h, w == null ? null : 2 * w, c == null ? null : c / 4];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    if (x.shape[3] % 4 !== 0) throw new Error(`PixelShuffle2x needs channels divisible by 4, got ${x.shape[3]}`);
    return pixelShuffle2x(x);
  }
}
tf.serialization.registerClass(PixelShuffle2x);

/** x + β·h for inputs [x, h]: ESRGAN's residual scaling (§3.2), β = 0.2, which keeps a deep stack without BN stable. */
export class ScaledResidual extends tfl.layers.Layer {
  static className = 'ScaledResidual';
  readonly beta: number;

  constructor(args: LayerArgs & { beta?: number } = {}) {
    super(args);
    this.beta = args.beta ?? 0.2;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return (inputShape as Shape[])[0];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [x, h] = inputs as tf.Tensor[];
    return tf.tidy(() => tf.add(x, tf.mul(this.beta, h)));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), beta: this.beta };
  }
}
tf.serialization.registerClass(ScaledResidual);

/**
 * PReLU with one slope per channel (He et al. 2015), shared over H and W: max(0, x) + α_c·min(0, x), α starting
 * at `init` (0.25, PyTorch's default, which SRGAN uses). tf.layers' PReLU with sharedAxes pins the height and width
 * it was built at in its input spec, so a generator made of it only takes images of its training size; this one
 * checks the channels alone, so a fully convolutional G runs on a whole photo (the studio's upscale viewer) as well
 * as on tiles. The kernel is TF.js's Prelu with α [C] (native on aten, forward and gradient).
 */
export class ChannelPReLU extends tfl.layers.Layer {
  static className = 'ChannelPReLU';
  readonly init: number;
  private alpha!: tfl.LayerVariable;

  constructor(args: LayerArgs & { init?: number } = {}) {
    super(args);
    this.init = args.init ?? 0.25;
  }

  override build(inputShape: Shape | Shape[]): void {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const c = s[s.length - 1];
    if (c == null) throw new Error(`ChannelPReLU needs a known channel count, got [${s.join(', ')}]`);
    this.alpha = this.addWeight('alpha', [c], 'float32', tfl.initializers.constant({ value: this.init }));
    this.inputSpec = [new tfl.InputSpec({ ndim: s.length, axes: { [s.length - 1]: c } })];
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.prelu(Array.isArray(inputs) ? inputs[0] : inputs, this.alpha.read()));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), init: this.init };
  }
}
tf.serialization.registerClass(ChannelPReLU);
