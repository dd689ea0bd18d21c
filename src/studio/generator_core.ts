/**
 * The browser side of a trained generator: load it, map latents (and a class) to pixels, and the latent
 * operations of the studio's explorer. It imports nothing at run time — TF.js is passed in — so the compiled
 * file is copied as-is by `ganforge export` next to a vendored TF.js, and the studio page bundles it.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

/** TF.js core and layers in one namespace, as the vendored bundle exports them. */
export type TF = typeof tfc & { loadLayersModel: typeof tfl.loadLayersModel };

export interface GeneratorInfo {
  latentDim: number;
  /** [height, width, channels] of one sample. */
  shape: [number, number, number];
  /** Classes the generator is conditioned on (0 = unconditional). */
  numClasses: number;
  classNames?: string[];
}

export interface Generator {
  info: GeneratorInfo;
  /** True when the network has a second (label) input. */
  conditional: boolean;
  /**
   * Samples for `z` (n·latentDim numbers, row-major), with `label` a class per sample or one for all (used
   * only by conditional generators). Returns [n, h, w, c] pixels in 0..1, row-major.
   */
  generate(z: Float32Array, label?: number | number[]): Promise<Float32Array>;
  dispose(): void;
}

/**
 * @example
 * const g = await loadGenerator(tf, './model.json', { latentDim: 100, shape: [28, 28, 1], numClasses: 0 });
 * const pixels = await g.generate(randomLatents(4, 100, 1));   // 4·28·28 values in 0..1
 */
export async function loadGenerator(tf: TF, modelUrl: string, info: GeneratorInfo): Promise<Generator> {
  const model = await tf.loadLayersModel(modelUrl);
  const conditional = model.inputs.length > 1;
  // A label input of width numClasses takes one-hot rows; a width-1 input takes the class index.
  const labelWidth = conditional ? (model.inputs[1].shape.at(-1) ?? 1) : 0;
  return {
    info,
    conditional,
    async generate(z, label = 0) {
      const n = z.length / info.latentDim;
      const out = tf.tidy(() => {
        const zt = tf.tensor2d(z, [n, info.latentDim]);
        const inputs: tfc.Tensor[] = [zt];
        if (conditional) {
          const labels = Array.from({ length: n }, (_, i) => (Array.isArray(label) ? label[i] : label));
          inputs.push(labelWidth > 1 ? tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), labelWidth), 'float32') : tf.tensor2d(labels, [n, 1]));
        }
        const y = model.predict(conditional ? inputs : zt) as tfc.Tensor; // [n, h, w, c] in [-1, 1] (tanh)
        return tf.clipByValue(tf.div(tf.add(y, 1), 2), 0, 1);
      });
      const data = (await out.data()) as Float32Array;
      out.dispose();
      return data;
    },
    dispose: () => model.dispose(),
  };
}

/** n standard-normal latents from a seed (mulberry32 + Box–Muller), the same in every browser. */
export function randomLatents(n: number, dim: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const z = new Float32Array(n * dim);
  for (let i = 0; i < z.length; i++) z[i] = Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return z;
}

export function lerp(a: Float32Array, b: Float32Array, t: number): Float32Array {
  return a.map((x, i) => x + (b[i] - x) * t);
}

/**
 * Spherical interpolation (White 2016, "Sampling Generative Networks"): Gaussian latents live near a sphere,
 * and the straight line between two of them passes through low-norm points the generator rarely saw.
 */
export function slerp(a: Float32Array, b: Float32Array, t: number): Float32Array {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  const omega = Math.acos(Math.min(1, Math.max(-1, dot / Math.sqrt(na * nb || 1))));
  if (omega < 1e-6) return lerp(a, b, t); // (nearly) parallel: slerp degenerates to lerp
  const sa = Math.sin((1 - t) * omega) / Math.sin(omega);
  const sb = Math.sin(t * omega) / Math.sin(omega);
  return a.map((x, i) => sa * x + sb * b[i]);
}

/** Truncation by scaling toward the mean, z·ψ: ψ < 1 trades variety for typical samples, smoothly in ψ. */
export function truncate(z: Float32Array, psi: number): Float32Array {
  return z.map((x) => x * psi);
}

/** Latent arithmetic a − b + c (e.g. "smiling woman − woman + man" in Radford et al. 2015, §6.3). */
export function arithmetic(a: Float32Array, b: Float32Array, c: Float32Array): Float32Array {
  return a.map((x, i) => x - b[i] + c[i]);
}

/** Sample `i` of generate()'s output as RGBA bytes for a canvas ImageData. */
export function toRgba(pixels: Float32Array, i: number, shape: [number, number, number]): Uint8ClampedArray {
  const [h, w, c] = shape;
  const out = new Uint8ClampedArray(h * w * 4);
  for (let p = 0; p < h * w; p++) {
    const base = (i * h * w + p) * c;
    for (let k = 0; k < 3; k++) out[p * 4 + k] = pixels[base + (c === 1 ? 0 : k)] * 255;
    out[p * 4 + 3] = 255;
  }
  return out;
}
