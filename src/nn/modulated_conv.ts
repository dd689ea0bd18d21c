import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import { BiasActivation, equalizedInitializer } from './equalized.js';
import { upsample2x } from './resample.js';
import { NoiseInjection } from './synthesis_inputs.js';
import { runBackendKernel } from './backend_kernels.js';

type Shape = (number | null)[];

/** The backend's one-pass x [B, H, W, C] · s [B, C] (on 'aten'; its gradient for s is one pass too, no product tensor). */
export const CHANNEL_SCALE_KERNEL = 'ChannelScale';

/** x [B, H, W, C] times s [B, C], per sample and channel: the kernel where the backend has it, else a broadcast multiply. */
export function scaleChannels(x: tf.Tensor4D, s: tf.Tensor2D): tf.Tensor4D {
  const [b, , , c] = x.shape;
  return runBackendKernel<tf.Tensor4D>(CHANNEL_SCALE_KERNEL, { x, s }) ?? tf.mul(x, tf.reshape(s, [b, 1, 1, c]));
}

/** ε under the demodulation's square root (StyleGAN2 eq. 3). */
export const DEMOD_EPS = 1e-8;

/**
 * Modulated convolution, the non-fused form of StyleGAN2 (Karras et al. 2020, "Analyzing and Improving the
 * Image Quality of StyleGAN", §2.2 and appendix B): with per-sample styles s [B, C_in] and one shared weight
 * w [k, k, C_in, C_out],
 *   modulation (eq. 1):   w'_ijk = s_i · w_ijk              — done as x_i · s_i before the convolution,
 *   demodulation (eq. 3): d_j = 1/√(Σ_{i,k} w'_ijk² + ε)    — done as y_j · d_j after it,
 * which equals convolving each sample with its own w''_ijk = d_j·w'_ijk, without building B weight tensors.
 * Since Σ_{i,k} (s_i w_ijk)² = Σ_i s_i² Σ_k w_ijk², d is one [B, C_in]×[C_in, C_out] product.
 * With unit-variance, independent inputs the output then has unit variance (§2.2).
 *
 * `upsample` doubles H and W first with the [1, 3, 3, 1] filter (resample.ts), then convolves at the new size:
 * resize-then-convolve has no checkerboard pattern (Odena et al. 2016), needs no blur after it (StyleGAN2's
 * transposed convolution does), and its ops are native on 'aten' and twice differentiable. It costs about 4× the
 * multiply-adds of a stride-2 transposed convolution, which is acceptable at 32–128 px.
 *
 * @example
 * const y = modulatedConv2d(x, styles, weight, { demodulate: true, upsample: false }); // [B, H, W, C_out]
 */
export function modulatedConv2d(
  x: tf.Tensor4D, styles: tf.Tensor2D, weight: tf.Tensor4D, opts: { demodulate: boolean; upsample: boolean },
): tf.Tensor4D {
  return tf.tidy(() => {
    let h = scaleChannels(x, styles); // [B, H, W, C_in] · s_i
    if (opts.upsample) h = upsample2x(h); // [B, 2H, 2W, C_in]
    const y = tf.conv2d(h, weight, 1, 'same'); // [B, H', W', C_out]
    if (!opts.demodulate) return y;
    const d = tf.rsqrt(tf.add(tf.matMul(tf.square(styles), tf.sum(tf.square(weight), [0, 1]) as tf.Tensor2D), DEMOD_EPS)); // [B, C_out]
    return scaleChannels(y, d as tf.Tensor2D);
  });
}

export interface ModulatedConv2DArgs extends LayerArgs {
  filters: number;
  kernelSize: number;
  /** Default true; toRGB turns it off (StyleGAN2 appendix B). */
  demodulate?: boolean;
  /** 2× bilinear upsampling before the convolution. Default false. */
  upsample?: boolean;
  seed?: number | null;
}

/**
 * Modulated convolution as a layer with inputs [x [B, H, W, C_in], w [B, w_dim]]. The style s = A(w) comes
 * from an equalized dense layer with bias initialised to 1 (StyleGAN2 appendix B: styles start at 1, so a new
 * layer begins as a plain convolution). Weights are N(0, 1) with equalized learning rate (equalized.ts): the He
 * constant 1/√(k²·C_in) multiplies the styles rather than the weight, the same product s_i·c·w_ijk on B·C_in
 * numbers instead of k²·C_in·C_out. No bias here: StyleGAN2 adds noise first, then the bias (styledConv).
 */
export class ModulatedConv2D extends tfl.layers.Layer {
  static className = 'ModulatedConv2D';
  readonly filters: number;
  readonly kernelSize: number;
  readonly demodulate: boolean;
  readonly upsample: boolean;
  readonly seed: number | null;
  protected affineKernel!: tfl.LayerVariable;
  protected affineBias!: tfl.LayerVariable;
  protected kernel!: tfl.LayerVariable;
  /** 1/√w_dim for the affine map, and the convolution's He constant 1/√(k²·C_in); set in build. */
  private affineGain = 1;
  private convGain = 1;

  constructor(args: ModulatedConv2DArgs) {
    super(args);
    this.filters = args.filters;
    this.kernelSize = args.kernelSize;
    this.demodulate = args.demodulate ?? true;
    this.upsample = args.upsample ?? false;
    this.seed = args.seed ?? null;
  }

  override build(inputShape: Shape | Shape[]): void {
    const [xs, ws] = inputShape as Shape[];
    if (!Array.isArray(xs) || xs.length !== 4 || !ws || ws.length !== 2) throw new Error(`${this.getClassName()} takes [x [B, H, W, C], w [B, w_dim]], got ${JSON.stringify(inputShape)}`);
    const seed = this.seed;
    this.affineGain = 1 / Math.sqrt(ws[1]!);
    this.convGain = 1 / Math.sqrt(this.kernelSize * this.kernelSize * xs[3]!);
    this.affineKernel = this.addWeight('affine_kernel', [ws[1]!, xs[3]!], 'float32', equalizedInitializer(1, seed));
    this.affineBias = this.addWeight('affine_bias', [xs[3]!], 'float32', tfl.initializers.ones());
    this.kernel = this.addWeight('kernel', [this.kernelSize, this.kernelSize, xs[3]!, this.filters], 'float32', equalizedInitializer(1, seed === null ? null : seed + 1));
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [b, h, w] = (inputShape as Shape[])[0];
    const up = (n: number | null) => (n === null || !this.upsample ? n : 2 * n);
    return [b, up(h), up(w), this.filters];
  }

  /** s = A(w)·c: the equalized affine map w [B, w_dim] → [B, C_in], times the conv's He constant c. */
  styles(w: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const a = tf.mul(this.affineKernel.read(), this.affineGain) as tf.Tensor2D; // [w_dim, C_in]
      return tf.mul(tf.add(tf.matMul(w, a), this.affineBias.read()), this.convGain) as tf.Tensor2D;
    });
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [x, w] = inputs as tf.Tensor[];
    return tf.tidy(() => modulatedConv2d(x as tf.Tensor4D, this.styles(w as tf.Tensor2D), this.kernel.read() as tf.Tensor4D, { demodulate: this.demodulate, upsample: this.upsample }));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), filters: this.filters, kernelSize: this.kernelSize, demodulate: this.demodulate, upsample: this.upsample, seed: this.seed };
  }
}

/**
 * toRGB of StyleGAN2's skip generator (Karras et al. 2020, §4.1 and Fig. 7b): a modulated 1×1 convolution
 * without demodulation, plus a bias, to `channels` (3) colours; given the previous resolution's image as a third
 * input, that image is upsampled 2× (the same [1, 3, 3, 1] filter) and added, so each resolution contributes a
 * residual to the output picture. Inputs [x, w] or [x, w, rgb [B, H/2, W/2, channels]].
 *
 * @example
 * const rgb8 = new ToRGB({ seed: 5 }).apply([x8, w, rgb4]); // [B, 8, 8, 3]
 */
export class ToRGB extends ModulatedConv2D {
  static override className = 'ToRGB';
  private rgbBias!: tfl.LayerVariable;

  constructor(args: Omit<ModulatedConv2DArgs, 'filters' | 'kernelSize' | 'demodulate' | 'upsample'> & { channels?: number }) {
    super({ ...args, filters: args.channels ?? 3, kernelSize: 1, demodulate: false, upsample: false });
  }

  override build(inputShape: Shape | Shape[]): void {
    super.build((inputShape as Shape[]).slice(0, 2));
    this.rgbBias = this.addWeight('bias', [this.filters], 'float32', tfl.initializers.zeros());
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [x, w, previous] = inputs as tf.Tensor[];
    return tf.tidy(() => {
      const y = tf.add(super.call([x, w]), this.rgbBias.read()); // [B, H, W, channels]
      return previous ? tf.add(y, upsample2x(previous as tf.Tensor4D)) : y;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    const { filters, kernelSize, demodulate, upsample, ...rest } = super.getConfig();
    return { ...rest, channels: filters };
  }
}

tf.serialization.registerClass(ModulatedConv2D);
tf.serialization.registerClass(ToRGB);

export interface StyledConvOptions {
  filters: number;
  kernelSize?: number;
  upsample?: boolean;
  /** Seeds the weights (seed, seed + 1) and the noise (seed + 2). */
  seed: number;
  /** A symbolic [B, H, W, 1] noise input instead of seeded draws. */
  noise?: SymbolicTensor;
  namePrefix?: string;
}

/**
 * One synthesis layer of StyleGAN2 (Karras et al. 2020, Fig. 2c): modulated conv (demodulated), per-pixel
 * noise, bias, leaky ReLU·√2. A function over layers for the functional API: x [B, H, W, C], w [B, w_dim] →
 * [B, H', W', filters].
 *
 * @example
 * const x8 = styledConv(x4, w, { filters: 64, upsample: true, seed: 11 }); // [B, 4, 4, C] → [B, 8, 8, 64]
 */
export function styledConv(x: SymbolicTensor, w: SymbolicTensor, opts: StyledConvOptions): SymbolicTensor {
  const name = (part: string) => (opts.namePrefix ? { name: `${opts.namePrefix}_${part}` } : {});
  const conv = new ModulatedConv2D({ filters: opts.filters, kernelSize: opts.kernelSize ?? 3, upsample: opts.upsample, seed: opts.seed, ...name('conv') });
  const noise = new NoiseInjection({ seed: opts.seed + 2, ...name('noise') });
  const h = conv.apply([x, w]) as SymbolicTensor;
  const n = noise.apply(opts.noise ? [h, opts.noise] : h) as SymbolicTensor;
  return new BiasActivation({ activation: 'lrelu', ...name('act') }).apply(n) as SymbolicTensor;
}
