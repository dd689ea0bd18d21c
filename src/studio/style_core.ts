/**
 * The browser side of a style-based generator (manifest.style): mapping z → w, the truncation trick in W, w+
 * (one w per style input), style mixing and interpolation in W, and synthesis with its per-pixel noise pinned,
 * so that a slider moving ψ changes the styles and nothing else. The definitions are the server's
 * (src/gan/sampling.ts truncateW and broadcastW, src/gan/style_mixing.ts styleMixGrid), and the same seeds give
 * the same pictures as `ganforge sample --style-mix`; test/studio/style_core.test.ts compares the two.
 *
 * Like generator_core.ts it takes TF.js as an argument, and its only run-time import is generator_core.js, which
 * sits next to it in an export and is bundled with it in the studio.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { seedLatents, seededNormals, type GeneratorManifest, type StyleManifest, type TF } from './generator_core.js';

/** Which style inputs a mix takes from the column's w: w+ indices a..b inclusive (0 is the coarsest, 4×4). */
export type LayerRange = [number, number];

/**
 * The per-pixel noise of a frame, one map for the whole batch: 'zero' turns it off; a number seeds one N(0, 1)
 * map per noise input (noiseMaps); explicit maps are h·w values each, in the manifest's noiseShapes order.
 */
export type Noise = 'zero' | number | Float32Array[];

/** A class for every sample, or one per sample (conditional mappings only). */
export type Label = number | number[];

export interface StyleGenerator {
  info: GeneratorManifest;
  style: StyleManifest;
  /** True when the mapping takes a class (the manifest's condition is 'class'). */
  conditional: boolean;
  /** z (n·zDim values) → w (n·wDim). */
  mapping(z: Float32Array, label?: Label): Promise<Float32Array>;
  /** w̄ of a class (or the one w̄ of an unconditional mapping): wDim values. */
  meanW(label?: number): Float32Array;
  /** w̄ + ψ(w − w̄) for each of the n rows of w, each toward its own class's w̄. */
  truncate(w: Float32Array, psi: number, label?: Label): Float32Array;
  /** w+ (n·numWs·wDim values) → n images [h, w, c] in 0..1, row-major. Noise default: seed 0. */
  synthesize(wplus: Float32Array, options?: { noise?: Noise }): Promise<Float32Array>;
  /** z → w → (truncation) → w+ → images in 0..1: what `ganforge sample --truncation ψ` does, with pinned noise. */
  generate(z: Float32Array, options?: { truncation?: number; label?: Label; noise?: Noise }): Promise<Float32Array>;
  dispose(): void;
}

/** A loaded layer, typed as far as this file reads it (the vendored TF.js's own classes are not importable here). */
interface NoiseLayer {
  outputShape: (number | null)[];
  fixedNoise: tfc.Tensor | null;
}

/**
 * The two halves from `baseUrl` (the folder the manifest's style.mapping and style.synthesis are relative to).
 * @example
 * const g = await loadStyleGenerator(tf, new URL('./', import.meta.url).href, info);
 * const pixels = await g.generate(seedLatents([1, 2], info.style.zDim), { truncation: 0.7 }); // 2 images in 0..1
 */
export async function loadStyleGenerator(tf: TF, baseUrl: string, info: GeneratorManifest): Promise<StyleGenerator> {
  const style = info.style;
  if (!style) throw new Error(`loadStyleGenerator: the ${info.model} run has no style space (manifest.style)`);
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const mappingModel = await tf.loadLayersModel(`${base}${style.mapping}/model.json`);
  const synthesisModel = await tf.loadLayersModel(`${base}${style.synthesis}/model.json`);
  const noiseLayers = findNoiseLayers(synthesisModel, style);
  const conditional = info.condition === 'class';
  const { zDim, wDim, numWs } = style;
  const labelsOf = (label: Label | undefined, n: number) => Array.from({ length: n }, (_, i) => (Array.isArray(label) ? label[i] : (label ?? 0)));
  const meanW = (label = 0) => {
    const row = style.meanW[conditional ? label : 0];
    if (!row) throw new Error(`no mean w for class ${label}: the run has ${style.meanW.length}`);
    return Float32Array.from(row);
  };

  const g: StyleGenerator = {
    info,
    style,
    conditional,
    async mapping(z, label) {
      const n = z.length / zDim;
      const out = tf.tidy(() => {
        const zt = tf.tensor2d(z, [n, zDim]);
        const onehot = () => tf.cast(tf.oneHot(tf.tensor1d(labelsOf(label, n), 'int32'), info.numClasses), 'float32');
        return mappingModel.apply(conditional ? [zt, onehot()] : zt, { training: false }) as tfc.Tensor; // [n, wDim]
      });
      return read(out);
    },
    meanW,
    truncate(ws, psi, label) {
      const n = ws.length / wDim;
      const labels = labelsOf(label, n);
      const out = new Float32Array(ws.length);
      for (let i = 0; i < n; i++) out.set(truncateW(ws.subarray(i * wDim, (i + 1) * wDim), meanW(labels[i]), psi), i * wDim);
      return out;
    },
    async synthesize(wplus, options = {}) {
      const n = wplus.length / (numWs * wDim);
      const maps = noiseTensors(tf, style, options.noise ?? 0);
      noiseLayers.forEach((l, i) => (l.fixedNoise = maps[i]));
      try {
        const out = tf.tidy(() => {
          const y = synthesisModel.apply(tf.tensor3d(wplus, [n, numWs, wDim]), { training: false }) as tfc.Tensor; // [n, h, w, c] in [-1, 1]
          return tf.clipByValue(tf.div(tf.add(y, 1), 2), 0, 1);
        });
        return await read(out);
      } finally {
        for (const l of noiseLayers) l.fixedNoise = null;
        tf.dispose(maps);
      }
    },
    async generate(z, options = {}) {
      let ws = await g.mapping(z, options.label);
      // ψ = 1 leaves w as it is (w̄ + (w − w̄) would round), as the server's sampling does.
      if (options.truncation !== undefined && options.truncation !== 1) ws = g.truncate(ws, options.truncation, options.label);
      return g.synthesize(broadcastW(ws, numWs, wDim), { noise: options.noise });
    },
    dispose() {
      mappingModel.dispose();
      synthesisModel.dispose();
    },
  };
  return g;
}

/** The synthesis network's per-pixel noise layers, checked against the manifest's noiseShapes. */
function findNoiseLayers(model: tfl.LayersModel, style: StyleManifest): NoiseLayer[] {
  const found: NoiseLayer[] = [];
  const visit = (layers: tfl.layers.Layer[]) => {
    for (const l of layers) {
      if ('layers' in l) visit((l as unknown as tfl.LayersModel).layers);
      else if (l.getClassName() === 'NoiseInjection') found.push(l as unknown as NoiseLayer);
    }
  };
  visit(model.layers);
  const shapes = found.map((l) => `${l.outputShape[1]}×${l.outputShape[2]}`).join(', ');
  const declared = style.noiseShapes.map(([a, b]) => `${a}×${b}`).join(', ');
  if (shapes !== declared) throw new Error(`the synthesis network's noise inputs (${shapes || 'none'}) are not the manifest's (${declared || 'none'})`);
  return found;
}

/** One map [1, h, w, 1] per noise input, shared by every sample of the batch. */
function noiseTensors(tf: TF, style: StyleManifest, noise: Noise): tfc.Tensor[] {
  const maps = typeof noise === 'number' ? noiseMaps(noise, style.noiseShapes) : noise === 'zero' ? null : noise;
  return style.noiseShapes.map(([h, w], i) => {
    if (!maps) return tf.zeros([1, h, w, 1]);
    if (maps[i]?.length !== h * w) throw new Error(`noise map ${i} must hold ${h}·${w} values, got ${maps[i]?.length}`);
    return tf.tensor4d(maps[i], [1, h, w, 1]);
  });
}

async function read(t: tfc.Tensor): Promise<Float32Array> {
  const data = (await t.data()) as Float32Array;
  t.dispose();
  return data;
}

/** N(0, 1) noise maps of `shapes`, in order, from one stream seeded by `seed` (the server's style-mixing figure draws them so). */
export function noiseMaps(seed: number, shapes: [number, number][]): Float32Array[] {
  const normal = seededNormals(seed);
  return shapes.map(([h, w]) => Float32Array.from({ length: h * w }, normal));
}

/**
 * The truncation trick in W (Karras et al. 2019, appendix B): w̄ + ψ(w − w̄), rounded to float32 at each step
 * as TF.js computes it. `w` and `mean` are wDim values each.
 */
export function truncateW(w: Float32Array, mean: Float32Array, psi: number): Float32Array {
  const p = Math.fround(psi);
  return w.map((x, i) => Math.fround(mean[i] + Math.fround(p * Math.fround(x - mean[i]))));
}

/** One w per style input: n·wDim values (by default one w) → w+ (n·numWs·wDim). */
export function broadcastW(w: Float32Array, numWs: number, wDim = w.length): Float32Array {
  const n = w.length / wDim;
  const out = new Float32Array(n * numWs * wDim);
  for (let i = 0; i < n; i++) for (let l = 0; l < numWs; l++) out.set(w.subarray(i * wDim, (i + 1) * wDim), (i * numWs + l) * wDim);
  return out;
}

/**
 * Style mixing (Karras et al. 2019, §3.1 and Fig. 3): the row's w at every style input except `layers` a..b,
 * which take the column's w. Coarse inputs (4–8 px) carry pose and shape, fine ones colour. → numWs·wDim values.
 */
export function mixW(rowW: Float32Array, colW: Float32Array, layers: LayerRange, numWs: number): Float32Array {
  const wDim = rowW.length;
  const out = new Float32Array(numWs * wDim);
  for (let l = 0; l < numWs; l++) out.set(l >= layers[0] && l <= layers[1] ? colW : rowW, l * wDim);
  return out;
}

/** The point t of the way from a to b (interpolation in W is linear: W is not a Gaussian's sphere). */
export function lerpW(a: Float32Array, b: Float32Array, t: number): Float32Array {
  return a.map((x, i) => x + (b[i] - x) * t);
}

/**
 * Karras et al. 2019 §3.1's groups of style inputs by resolution: coarse 4–8 px (pose, face shape), middle
 * 16–32 px (features, hair style), fine 64 px and up (colours, micro-structure). Groups the network lacks are left out.
 */
export function layerPresets(style: Pick<StyleManifest, 'resolutions'>): { name: 'coarse' | 'middle' | 'fine'; range: LayerRange }[] {
  const groups = [['coarse', 0, 8], ['middle', 16, 32], ['fine', 64, Infinity]] as const;
  const out: { name: 'coarse' | 'middle' | 'fine'; range: LayerRange }[] = [];
  for (const [name, lo, hi] of groups) {
    const idx = style.resolutions.map((r, i) => (r >= lo && r <= hi ? i : -1)).filter((i) => i >= 0);
    if (idx.length) out.push({ name, range: [idx[0], idx[idx.length - 1]] });
  }
  return out;
}

/** The w of each seed (z from the seed's own stream), truncated toward the class's w̄ when ψ ≠ 1. n·wDim values. */
export async function seedWs(g: StyleGenerator, seeds: number[], options: { truncation?: number; label?: number } = {}): Promise<Float32Array> {
  const ws = await g.mapping(seedLatents(seeds, g.style.zDim), options.label);
  return options.truncation !== undefined && options.truncation !== 1 ? g.truncate(ws, options.truncation, options.label) : ws;
}

/**
 * The style-mixing figure, as `ganforge sample --style-mix ROWS COLS --mix-layers a-b` draws it: the columns'
 * images (top), the rows' (left), and at (r, c) the row's w+ with inputs a..b from the column's w. One noise
 * draw serves every cell; by default the server's (seeded by the first row seed). Each part: images in 0..1.
 */
export async function mixGrid(
  g: StyleGenerator, request: { rows: number[]; cols: number[]; layers: LayerRange; truncation?: number; label?: number; noise?: Noise },
): Promise<{ top: Float32Array; left: Float32Array; cells: Float32Array }> {
  const { rows, cols, layers } = request;
  const { numWs, wDim } = g.style;
  if (!(layers[0] >= 0 && layers[0] <= layers[1] && layers[1] < numWs)) throw new Error(`layers ${layers[0]}–${layers[1]} are outside the network's 0–${numWs - 1}`);
  const opts = { truncation: request.truncation, label: request.label };
  const [wr, wc] = [await seedWs(g, rows, opts), await seedWs(g, cols, opts)];
  const noise = request.noise ?? rows[0];
  const mixed = new Float32Array(rows.length * cols.length * numWs * wDim);
  for (let r = 0; r < rows.length; r++) {
    for (let c = 0; c < cols.length; c++) {
      mixed.set(mixW(wr.subarray(r * wDim, (r + 1) * wDim), wc.subarray(c * wDim, (c + 1) * wDim), layers, numWs), (r * cols.length + c) * numWs * wDim);
    }
  }
  return {
    top: await g.synthesize(broadcastW(wc, numWs, wDim), { noise }),
    left: await g.synthesize(broadcastW(wr, numWs, wDim), { noise }),
    cells: await g.synthesize(mixed, { noise }),
  };
}

/** Frames along the line from seed a's w to seed b's (both truncated alike): `steps` images, ends included. */
export async function interpolateW(
  g: StyleGenerator, a: number, b: number, steps: number, options: { truncation?: number; label?: number; noise?: Noise } = {},
): Promise<Float32Array> {
  const { numWs, wDim } = g.style;
  const ws = await seedWs(g, [a, b], options);
  const [wa, wb] = [ws.subarray(0, wDim), ws.subarray(wDim)];
  const frames = new Float32Array(steps * wDim);
  for (let i = 0; i < steps; i++) frames.set(lerpW(wa, wb, steps === 1 ? 0 : i / (steps - 1)), i * wDim);
  return g.synthesize(broadcastW(frames, numWs, wDim), { noise: options.noise });
}
