/**
 * The browser side of a trained generator: load it as its manifest declares, map latents (and a class) or an
 * input image to pixels, the latent operations of the studio's explorer, and canvas pixel conversions. It imports nothing at run time — TF.js is passed in — so the compiled
 * file is copied as-is by `ganforge export` next to a vendored TF.js, and the studio page bundles it.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

/** TF.js core and layers in one namespace, as the vendored bundle exports them. */
export type TF = typeof tfc & { loadLayersModel: typeof tfl.loadLayersModel };

export type Shape = [number, number, number];
export type Direction = 'AtoB' | 'BtoA';

/** One way a translator translates: the checkpoint folder of its generator, and its image shapes [h, w, c]. */
export interface TranslatorDirection {
  generator: string;
  input: Shape;
  output: Shape;
}

/**
 * What a page must know to run a run's generator, declared by the run's family and data (see manifest.ts) —
 * written by `ganforge export` as manifest.json and served by the studio at /api/runs/ID/manifest — so that
 * nothing here guesses from the network (its name, its number of inputs).
 */
export interface GeneratorManifest {
  format: 'ganforge-generator';
  version: 1;
  /** Family and data names, for captions only. */
  model: string;
  data: string;
  /** Checkpoint folder name and its step. */
  checkpoint: string;
  step: number;
  /** 'none': G(z); 'class': G(z, one-hot class); 'image': a translator G(input image); 'text': G(z, a sentence's token ids). */
  condition: 'none' | 'class' | 'image' | 'text';
  /** Width of z (0 for translators: their only noise is dropout). */
  latentDim: number;
  /** One output image, and for translators one input image (direction AtoB). */
  shapes: { output: Shape; input?: Shape };
  /** 'class': how many classes (one-hot width) and their names. */
  numClasses: number;
  classNames?: string[];
  /** 'none' and 'class': the folder of the generator to sample (the EMA copy when the run keeps one). */
  generator?: string;
  /** 'image': each direction the family translates. */
  directions?: Partial<Record<Direction, TranslatorDirection>>;
  /** 'image': names of the domains [A, B], for labels. */
  domains?: [string, string];
  /** Run the generator as in training (dropout on, batch statistics), as the family's own sampling does. */
  trainingMode: boolean;
  /**
   * The family's truncation trick, when a page can apply it: 'z' (z ~ N(0, I) truncated to [−2, 2], × ψ;
   * truncatedSeedLatents) or 'w' (w̄ + ψ(w − w̄), through `style`). Absent: the family declares none.
   */
  truncation?: 'w' | 'z';
  /** A style-based generator (the family declares a style space): its two halves and w̄, see style_core.ts. */
  style?: StyleManifest;
  /** 'text': the run's vocabulary and caption length (tokenize with data/tokenizer.js), and the folder of the model (z, token ids) → images. */
  text?: TextManifest;
}

/** What a page needs to draw from a sentence: the vocabulary by token id, the caption length, and the composed model's folder. */
export interface TextManifest {
  vocab: string[];
  maxLen: number;
  model: string;
}

/**
 * A generator with an intermediate latent space W, as two models: mapping z [B, zDim] (and one-hot classes
 * [B, K] as a second input when the manifest's condition is 'class') → w [B, wDim], and synthesis w+ [B, numWs,
 * wDim] → images [B, H, W, C] in [−1, 1], whose per-pixel noise inputs a page pins (style_core.ts).
 */
export interface StyleManifest {
  zDim: number;
  wDim: number;
  /** Style inputs of the synthesis network, coarse to fine (one w each in w+). */
  numWs: number;
  /** Output resolution at each style input, index-aligned with w+ (for the layer ranges of style mixing). */
  resolutions: number[];
  /** [H, W] of each per-pixel noise input, in the synthesis network's layer order. */
  noiseShapes: [number, number][];
  /** w̄, the truncation trick's centre: one row for an unconditional mapping, one per class for a conditional one. */
  meanW: number[][];
  /** Folders (model.json + weights.bin) of the two models, relative to the manifest's. */
  mapping: string;
  synthesis: string;
}

export interface Generator {
  info: GeneratorManifest;
  /** True when the family declares a class condition. */
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
 * const info = await (await fetch('./manifest.json')).json();
 * const g = await loadGenerator(tf, `./${info.generator}/model.json`, info);
 * const pixels = await g.generate(randomLatents(4, info.latentDim, 1));   // 4·h·w·c values in 0..1
 */
export async function loadGenerator(tf: TF, modelUrl: string, info: GeneratorManifest): Promise<Generator> {
  if (info.condition === 'image') throw new Error('loadGenerator: this is a translator (condition image); use loadTranslator');
  const model = await tf.loadLayersModel(modelUrl);
  const conditional = info.condition === 'class';
  return {
    info,
    conditional,
    async generate(z, label = 0) {
      const n = z.length / info.latentDim;
      const out = tf.tidy(() => {
        const zt = tf.tensor2d(z, [n, info.latentDim]);
        const labels = Array.from({ length: n }, (_, i) => (Array.isArray(label) ? label[i] : label));
        // Class-conditional families take one-hot labels [n, numClasses] as G's second input.
        const onehot = () => tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), info.numClasses), 'float32');
        const y = model.apply(conditional ? [zt, onehot()] : zt, { training: info.trainingMode }) as tfc.Tensor; // [n, h, w, c] in [-1, 1]
        return tf.clipByValue(tf.div(tf.add(y, 1), 2), 0, 1);
      });
      return readAndDispose(out);
    },
    dispose: () => model.dispose(),
  };
}

export interface TextGenerator {
  info: GeneratorManifest;
  /**
   * Samples for latents `z` (n·latentDim numbers) and token ids `tokens` (n·maxLen, PAD = 0 after each
   * sentence, as data/tokenizer.js encodeSentences gives): [n, h, w, c] pixels in 0..1, row-major.
   */
  generate(z: Float32Array, tokens: Int32Array): Promise<Float32Array>;
  dispose(): void;
}

/**
 * A text-to-image run's composed model (the family's textGenerator: text encoder and G in one).
 * @example
 * const g = await loadTextGenerator(tf, `./${info.text.model}/model.json`, info);
 * const { tokens } = encodeSentences(info.text.vocab, info.text.maxLen, ['a red square']);
 * const pixels = await g.generate(randomLatents(1, info.latentDim, 0), tokens);
 */
export async function loadTextGenerator(tf: TF, modelUrl: string, info: GeneratorManifest): Promise<TextGenerator> {
  const text = info.text;
  if (info.condition !== 'text' || !text) throw new Error(`loadTextGenerator: the ${info.model} run does not draw from text`);
  const model = await tf.loadLayersModel(modelUrl);
  return {
    info,
    async generate(z, tokens) {
      const n = z.length / info.latentDim;
      if (tokens.length !== n * text.maxLen) throw new Error(`generate: ${tokens.length} token ids for ${n} samples of ${text.maxLen}`);
      const out = tf.tidy(() => {
        const y = model.apply([tf.tensor2d(z, [n, info.latentDim]), tf.tensor2d(Float32Array.from(tokens), [n, text.maxLen])], { training: info.trainingMode }) as tfc.Tensor;
        return tf.clipByValue(tf.div(tf.add(y, 1), 2), 0, 1);
      });
      return readAndDispose(out);
    },
    dispose: () => model.dispose(),
  };
}

export interface Translator {
  direction: Direction;
  input: Shape;
  output: Shape;
  /** `pixels`: n images [n, h, w, c] of the input shape in 0..1, row-major; returns n outputs in 0..1. */
  translate(pixels: Float32Array): Promise<Float32Array>;
  /**
   * One image of any height and width [h, w, c] in 0..1 through the generator, for a fully convolutional one
   * (a super-resolution G runs on the whole photo); returns its output in 0..1 and the output's [h, w, c].
   */
  translateAnySize(pixels: Float32Array, h: number, w: number): Promise<{ pixels: Float32Array; shape: Shape }>;
  dispose(): void;
}

/**
 * One direction of a translator run (pix2pix's G, or CycleGAN's G or F).
 * @example
 * const t = await loadTranslator(tf, `./${info.directions.AtoB.generator}/model.json`, info, 'AtoB');
 * const out = await t.translate(fromRgba(ctx.getImageData(0, 0, w, h).data, t.input)); // h·w·c values in 0..1
 */
export async function loadTranslator(tf: TF, modelUrl: string, info: GeneratorManifest, direction: Direction): Promise<Translator> {
  const dir = info.directions?.[direction];
  if (info.condition !== 'image' || !dir) throw new Error(`loadTranslator: the ${info.model} run does not translate ${direction}`);
  const model = await tf.loadLayersModel(modelUrl);
  const [h, w, c] = dir.input;
  return {
    direction,
    input: dir.input,
    output: dir.output,
    async translate(pixels) {
      const n = pixels.length / (h * w * c);
      const out = tf.tidy(() => {
        const x = tf.sub(tf.mul(tf.tensor4d(pixels, [n, h, w, c]), 2), 1); // [n, h, w, c] in [-1, 1]
        // One image at a time, as the Node side does: with batch statistics an output must not depend on its neighbours.
        const ys = Array.from({ length: n }, (_, i) =>
          model.apply(tf.slice(x, [i, 0, 0, 0], [1, h, w, c]), { training: info.trainingMode }) as tfc.Tensor,
        );
        const y = ys.length === 1 ? ys[0] : tf.concat(ys, 0);
        return tf.clipByValue(tf.div(tf.add(y, 1), 2), 0, 1);
      });
      return readAndDispose(out);
    },
    async translateAnySize(pixels, ih, iw) {
      const out = tf.tidy(() => {
        const x = tf.sub(tf.mul(tf.tensor4d(pixels, [1, ih, iw, c]), 2), 1);
        const y = model.apply(x, { training: info.trainingMode }) as tfc.Tensor;
        return tf.clipByValue(tf.div(tf.add(y, 1), 2), 0, 1);
      });
      const [, oh, ow, oc] = out.shape as number[];
      return { pixels: await readAndDispose(out), shape: [oh, ow, oc] };
    },
    dispose: () => model.dispose(),
  };
}

async function readAndDispose(t: tfc.Tensor): Promise<Float32Array> {
  const data = (await t.data()) as Float32Array;
  t.dispose();
  return data;
}

/**
 * The standard normals src/util/rng.ts's Rng draws from `seed` (sfc32 seeded by splitmix32, Box–Muller with the
 * pair's second value kept), so a page draws the latents `ganforge sample --seed` and `--style-mix` draw. Kept
 * as a copy because this file imports nothing at run time; test/studio/style_core.test.ts checks the two agree.
 */
export function seededNormals(seed: number): () => number {
  let x = seed >>> 0;
  const split = () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let [a, b, c, d] = [split(), split(), split(), split()];
  const next = () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  for (let i = 0; i < 12; i++) next();
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const v = spare;
      spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = next() / 4294967296;
    const v = next() / 4294967296;
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/** One latent [dim] per seed, each from its own stream: [seeds.length·dim], as `ganforge sample --style-mix` draws them. */
export function seedLatents(seeds: number[], dim: number): Float32Array {
  const z = new Float32Array(seeds.length * dim);
  seeds.forEach((s, i) => {
    const normal = seededNormals(s);
    for (let j = 0; j < dim; j++) z[i * dim + j] = normal();
  });
  return z;
}

/**
 * BigGAN's truncation for one seed per latent: N(0, 1) values beyond ±2 are redrawn, then all are scaled by ψ
 * (src/gan/sampling.ts truncatedLatents, on each seed's own stream). [seeds.length·dim].
 */
export function truncatedSeedLatents(seeds: number[], dim: number, psi: number): Float32Array {
  const z = new Float32Array(seeds.length * dim);
  seeds.forEach((s, i) => {
    const normal = seededNormals(s);
    for (let j = 0; j < dim; j++) {
      let v = normal();
      while (Math.abs(v) > 2) v = normal();
      z[i * dim + j] = psi * v;
    }
  });
  return z;
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
export function toRgba(pixels: Float32Array, i: number, shape: [number, number, number]): Uint8ClampedArray<ArrayBuffer> {
  const [h, w, c] = shape;
  const out = new Uint8ClampedArray(h * w * 4);
  for (let p = 0; p < h * w; p++) {
    const base = (i * h * w + p) * c;
    for (let k = 0; k < 3; k++) out[p * 4 + k] = pixels[base + (c === 1 ? 0 : k)] * 255;
    out[p * 4 + 3] = 255;
  }
  return out;
}

/**
 * Canvas RGBA bytes (h·w·4) as one image of `shape` [h, w, c] in 0..1: colour as is, grey as luminance
 * (Rec. 709 weights). Callers draw over an opaque background first, so alpha is ignored.
 */
export function fromRgba(rgba: Uint8ClampedArray, shape: Shape): Float32Array {
  const [h, w, c] = shape;
  const out = new Float32Array(h * w * c);
  for (let p = 0; p < h * w; p++) {
    const [r, g, b] = [rgba[p * 4], rgba[p * 4 + 1], rgba[p * 4 + 2]];
    if (c === 1) out[p] = (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
    else for (let k = 0; k < c; k++) out[p * c + k] = rgba[p * 4 + Math.min(k, 2)] / 255;
  }
  return out;
}
