/**
 * Scores and baselines of inpainting on plain arrays: an image is float [H, W, C] (any range), a hole mask
 * uint8 [H, W] with 1 = hole. The baselines fill the hole from the known pixels alone, with no learning: what a
 * trained inpainter must beat.
 */

/** Mean |a − b| over the hole's pixels and channels (over every pixel when `hole` is undefined); NaN for an empty hole. */
export function holeL1(a: ArrayLike<number>, b: ArrayLike<number>, hole: ArrayLike<number> | undefined, c: number): number {
  let s = 0;
  let n = 0;
  for (let p = 0; p < a.length / c; p++) {
    if (hole && !hole[p]) continue;
    for (let k = 0; k < c; k++) s += Math.abs(a[p * c + k] - b[p * c + k]);
    n += c;
  }
  return s / n;
}

/** PSNR in dB over the hole (every pixel when `hole` is undefined): 10·log10(range² / MSE); `range` 2 for [-1, 1]. Infinity when equal. */
export function holePsnr(a: ArrayLike<number>, b: ArrayLike<number>, hole: ArrayLike<number> | undefined, c: number, range = 2): number {
  let s = 0;
  let n = 0;
  for (let p = 0; p < a.length / c; p++) {
    if (hole && !hole[p]) continue;
    for (let k = 0; k < c; k++) s += (a[p * c + k] - b[p * c + k]) ** 2;
    n += c;
  }
  return 10 * Math.log10((range * range) / (s / n));
}

/** The hole filled with the mean of the known pixels, per channel (Pathak et al.'s mean-fill input). */
export function meanFill(image: ArrayLike<number>, hole: ArrayLike<number>, c: number): Float32Array {
  const out = Float32Array.from(image);
  const sums = new Float64Array(c);
  let known = 0;
  for (let p = 0; p < hole.length; p++) {
    if (hole[p]) continue;
    for (let k = 0; k < c; k++) sums[k] += image[p * c + k];
    known++;
  }
  if (known === 0) throw new Error('meanFill: the mask holds no known pixel');
  for (let p = 0; p < hole.length; p++) if (hole[p]) for (let k = 0; k < c; k++) out[p * c + k] = sums[k] / known;
  return out;
}

/**
 * Diffusion (harmonic) fill: the hole's values solve Laplace's equation Δu = 0 with the known pixels as the
 * boundary condition — each hole pixel the mean of its 4 neighbours inside the image (at the image's edge the
 * missing neighbours are left out, a zero-flux border). Solved by successive over-relaxation from the mean fill,
 * until no value moves by more than `tol` in a sweep or after `maxSweeps` sweeps. A linear ramp is harmonic,
 * so a hole away from the edge of a ramp comes back exactly.
 */
export function diffusionFill(image: ArrayLike<number>, hole: ArrayLike<number>, [h, w, c]: number[], opts: { tol?: number; maxSweeps?: number; omega?: number } = {}): Float32Array {
  const { tol = 1e-5, maxSweeps = 10000 } = opts;
  const u = Float64Array.from(meanFill(image, hole, c));
  const holes: number[] = [];
  for (let p = 0; p < h * w; p++) if (hole[p]) holes.push(p);
  // The optimal over-relaxation factor of the model problem on a grid as large as the hole's bounding side.
  let side = 1;
  if (holes.length > 0) {
    const ys = holes.map((p) => Math.floor(p / w));
    const xs = holes.map((p) => p % w);
    side = Math.max(Math.max(...ys) - Math.min(...ys), Math.max(...xs) - Math.min(...xs)) + 1;
  }
  const omega = opts.omega ?? 2 / (1 + Math.sin(Math.PI / (side + 1)));
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let moved = 0;
    for (const p of holes) {
      const y = Math.floor(p / w);
      const x = p % w;
      const nbrs = [y > 0 ? p - w : -1, y < h - 1 ? p + w : -1, x > 0 ? p - 1 : -1, x < w - 1 ? p + 1 : -1].filter((q) => q >= 0);
      for (let k = 0; k < c; k++) {
        let s = 0;
        for (const q of nbrs) s += u[q * c + k];
        const next = u[p * c + k] + omega * (s / nbrs.length - u[p * c + k]);
        moved = Math.max(moved, Math.abs(next - u[p * c + k]));
        u[p * c + k] = next;
      }
    }
    if (moved <= tol) break;
  }
  return Float32Array.from(u);
}

/** L1 and PSNR inside the hole and over the whole image, averaged over examples. */
export interface InpaintingScores {
  holeL1: number;
  holePsnr: number;
  l1: number;
  psnr: number;
}

/**
 * Scores of completed images against the originals: n examples of [H, W, C] each (`outputs`, `targets`
 * concatenated), holes n × [H·W]. PSNR with data range `range` (2 for [-1, 1]); averaged per example.
 */
export function inpaintingScores(outputs: ArrayLike<number>, targets: ArrayLike<number>, holes: ArrayLike<number>[], [h, w, c]: number[], range = 2): InpaintingScores {
  const size = h * w * c;
  const sum = { holeL1: 0, holePsnr: 0, l1: 0, psnr: 0 };
  const slice = (x: ArrayLike<number>, i: number) => Array.prototype.slice.call(x, i * size, (i + 1) * size) as number[];
  holes.forEach((hole, i) => {
    const [a, b] = [slice(outputs, i), slice(targets, i)];
    sum.holeL1 += holeL1(a, b, hole, c);
    sum.holePsnr += holePsnr(a, b, hole, c, range);
    sum.l1 += holeL1(a, b, undefined, c);
    sum.psnr += holePsnr(a, b, undefined, c, range);
  });
  const n = holes.length;
  return { holeL1: sum.holeL1 / n, holePsnr: sum.holePsnr / n, l1: sum.l1 / n, psnr: sum.psnr / n };
}

/** The two baselines' scores on the same examples: each image's hole mean-filled and diffusion-filled. */
export function baselineScores(targets: ArrayLike<number>, holes: ArrayLike<number>[], shape: number[], range = 2): { mean: InpaintingScores; diffusion: InpaintingScores } {
  const size = shape[0] * shape[1] * shape[2];
  const mean = new Float32Array(holes.length * size);
  const diffusion = new Float32Array(holes.length * size);
  holes.forEach((hole, i) => {
    const image = Array.prototype.slice.call(targets, i * size, (i + 1) * size) as number[];
    mean.set(meanFill(image, hole, shape[2]), i * size);
    diffusion.set(diffusionFill(image, hole, shape), i * size);
  });
  return { mean: inpaintingScores(mean, targets, holes, shape, range), diffusion: inpaintingScores(diffusion, targets, holes, shape, range) };
}
