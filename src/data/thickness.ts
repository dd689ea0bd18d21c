import { UserError } from '../util/errors.js';
import { loadMnist } from './mnist.js';
import type { ArraySource } from './types.js';

/** The five stroke-thickness bins of mnist-thickness, thinnest first (quantiles of the training digits). */
export const THICKNESS_BINS = ['thinnest', 'thin', 'medium', 'thick', 'thickest'] as const;

/** Ink is a pixel at or above this grey level (0–255): MNIST strokes are anti-aliased, so half-on counts as on. */
const INK = 128;

/**
 * The stroke thickness of one grey image, uint8 [h·w] (ink bright on dark, as MNIST), in pixels, from its ink
 * area A and the length S of its skeleton (Zhang–Suen thinning). A stroke of width t and length L has A = t·L,
 * and its skeleton stops about t/2 short of each end, S ≈ L − t; so A ≈ t·(S + t), solved for t:
 * t = (√(S² + 4A) − S) / 2 — exact for a straight bar, close for curves and loops (where A = t·S), and
 * independent of a digit's size (Morpho-MNIST, Castro et al. 2019, also measures thickness on the skeleton, there
 * with a distance transform). An image without ink is 0.
 */
export function strokeThickness(pixels: ArrayLike<number>, h: number, w: number): number {
  const ink = new Uint8Array(h * w);
  let area = 0;
  for (let i = 0; i < h * w; i++) if (pixels[i] >= INK) (ink[i] = 1), area++;
  if (area === 0) return 0;
  const skeleton = thin(ink, h, w);
  let length = 0;
  for (const v of skeleton) length += v;
  return (Math.sqrt(length * length + 4 * area) - length) / 2;
}

/**
 * Zhang & Suen's thinning (1984, "A fast parallel algorithm for thinning digital patterns"): peel boundary
 * pixels in two alternating sub-iterations until none changes, leaving a one-pixel-wide 8-connected skeleton.
 * A pixel p1 with neighbours p2..p9 (clockwise from north) is removed when it has 2–6 ink neighbours, exactly
 * one 0→1 transition around it, and (first pass) p2·p4·p6 = p4·p6·p8 = 0, (second pass) p2·p4·p8 = p2·p6·p8 = 0.
 */
export function thin(ink: Uint8Array, h: number, w: number): Uint8Array {
  // A one-pixel border of background, so every pixel has eight neighbours to read.
  const W = w + 2;
  const img = new Uint8Array((h + 2) * W);
  for (let y = 0; y < h; y++) img.set(ink.subarray(y * w, (y + 1) * w), (y + 1) * W + 1);
  const remove: number[] = [];
  for (let changed = true; changed;) {
    changed = false;
    for (const pass of [0, 1]) {
      remove.length = 0;
      for (let y = 1; y <= h; y++) {
        for (let x = 1; x <= w; x++) {
          const i = y * W + x;
          if (!img[i]) continue;
          // p2..p9: N, NE, E, SE, S, SW, W, NW
          const p2 = img[i - W], p3 = img[i - W + 1], p4 = img[i + 1], p5 = img[i + W + 1];
          const p6 = img[i + W], p7 = img[i + W - 1], p8 = img[i - 1], p9 = img[i - W - 1];
          const b = p2 + p3 + p4 + p5 + p6 + p7 + p8 + p9;
          if (b < 2 || b > 6) continue;
          const a = (+(!p2 && p3)) + (+(!p3 && p4)) + (+(!p4 && p5)) + (+(!p5 && p6)) + (+(!p6 && p7)) + (+(!p7 && p8)) + (+(!p8 && p9)) + (+(!p9 && p2));
          if (a !== 1) continue;
          if (pass === 0 ? p2 * p4 * p6 !== 0 || p4 * p6 * p8 !== 0 : p2 * p4 * p8 !== 0 || p2 * p6 * p8 !== 0) continue;
          remove.push(i);
        }
      }
      for (const i of remove) img[i] = 0;
      if (remove.length > 0) changed = true;
    }
  }
  const out = new Uint8Array(h * w);
  for (let y = 0; y < h; y++) out.set(img.subarray((y + 1) * W + 1, (y + 1) * W + 1 + w), y * w);
  return out;
}

/** Thickness of each of `count` grey images uint8 [count, h, w, 1]. */
export function thicknesses(values: Uint8Array, count: number, h: number, w: number): Float64Array {
  const per = h * w;
  return Float64Array.from({ length: count }, (_, i) => strokeThickness(values.subarray(i * per, (i + 1) * per), h, w));
}

/** The k − 1 inner quantile edges that split `measures` into k bins of (about) equal count. */
export function quantileEdges(measures: ArrayLike<number>, k: number): number[] {
  const sorted = Float64Array.from(measures).sort();
  if (sorted.length < k) throw new UserError(`ordinal bins: ${sorted.length} examples cannot fill ${k} bins`);
  return Array.from({ length: k - 1 }, (_, j) => sorted[Math.floor(((j + 1) * sorted.length) / k)]);
}

/** The bin of a measure: the number of edges at or below it (0 … edges.length). */
export function binOf(measure: number, edges: readonly number[]): number {
  let b = 0;
  while (b < edges.length && measure >= edges[b]) b++;
  return b;
}

/**
 * Bin edges of mnist-thickness: quantiles of the whole MNIST training split, whatever split or limit is
 * loaded, so a bin means the same thickness in training, evaluation and `ganforge edit`. Measured once per process.
 */
let trainEdges: Promise<number[]> | undefined;
export function mnistThicknessEdges(): Promise<number[]> {
  trainEdges ??= loadMnist({ split: 'train' }).then((train) => {
    const [h, w] = train.info.shape;
    return quantileEdges(thicknesses(train.values as Uint8Array, train.count, h, w), THICKNESS_BINS.length);
  });
  return trainEdges;
}

/**
 * `mnist-thickness`: MNIST with an ordinal label, stroke thickness (strokeThickness) in five quantile bins of
 * the training digits, thinnest first (DatasetInfo.ordinal). The digit, which an attribute edit must keep, is
 * each example's name ('0'–'9'), index-aligned with the images.
 */
export async function loadMnistThickness(opts: { split?: 'train' | 'test'; limit?: number } = {}): Promise<ArraySource> {
  const mnist = await loadMnist(opts);
  const [h, w] = mnist.info.shape;
  const edges = await mnistThicknessEdges();
  const measures = thicknesses(mnist.values as Uint8Array, mnist.count, h, w);
  const labels = Int32Array.from(measures, (m) => binOf(m, edges));
  return {
    kind: 'array',
    info: { name: 'mnist-thickness', kind: 'image', shape: [...mnist.info.shape], count: mnist.count, numClasses: THICKNESS_BINS.length, classNames: [...THICKNESS_BINS], ordinal: true },
    count: mnist.count,
    values: mnist.values,
    labels,
    names: Array.from(mnist.labels!, String),
    notices: [`mnist-thickness: stroke thickness (from ink area and skeleton length, px) in 5 quantile bins of the training digits, edges ${edges.map((e) => e.toFixed(2)).join(', ')}; the digit is kept as each example's name`],
  };
}
