/**
 * Broadcasting binary ops and axis reductions on Float32Arrays without per-element index math.
 * The cpu backend converts every flat index to coordinates and back whenever an operand broadcasts
 * (e.g. BatchNorm's [1,1,1,C] × [N,H,W,C]), which costs ~100 ns an element. Here the shape is first
 * collapsed into runs of dimensions that behave alike for every operand, so the work becomes a few
 * nested loops whose innermost one is a plain strided sweep.
 */

/** One collapsed dimension: its extent and, per operand, the flat stride (0 where it broadcasts). */
interface Dim { size: number; strides: number[] }

/**
 * Collapses `outShape` for operands whose shapes (right-aligned, numpy style) are `shapes`.
 * Adjacent dimensions merge when each operand is either full in both or broadcast in both.
 */
function collapse(outShape: number[], shapes: number[][]): Dim[] {
  const r = outShape.length;
  const padded = shapes.map((s) => [...new Array<number>(r - s.length).fill(1), ...s]);
  const dims: { size: number; full: boolean[] }[] = [];
  for (let d = 0; d < r; d++) {
    if (outShape[d] === 1) continue;
    const full = padded.map((s) => s[d] !== 1);
    const last = dims[dims.length - 1];
    if (last && last.full.every((f, i) => f === full[i])) last.size *= outShape[d];
    else dims.push({ size: outShape[d], full });
  }
  // Strides from the innermost collapsed dimension outwards, per operand.
  const acc = shapes.map(() => 1);
  const out: Dim[] = new Array(dims.length);
  for (let k = dims.length - 1; k >= 0; k--) {
    out[k] = { size: dims[k].size, strides: dims[k].full.map((f, i) => (f ? acc[i] : 0)) };
    dims[k].full.forEach((f, i) => { if (f) acc[i] *= dims[k].size; });
  }
  return out;
}

/** The element-wise ops served here; each gets its own loop so V8 sees one monomorphic body. */
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'sqdiff';

type Run = (o: Float32Array, oi: number, a: Float32Array, ai: number, sa: number,
  b: Float32Array, bi: number, sb: number, n: number) => void;

const runs: Record<BinaryOp, Run> = {
  add: (o, oi, a, ai, sa, b, bi, sb, n) => { for (let j = 0; j < n; j++, ai += sa, bi += sb) o[oi + j] = a[ai] + b[bi]; },
  sub: (o, oi, a, ai, sa, b, bi, sb, n) => { for (let j = 0; j < n; j++, ai += sa, bi += sb) o[oi + j] = a[ai] - b[bi]; },
  mul: (o, oi, a, ai, sa, b, bi, sb, n) => { for (let j = 0; j < n; j++, ai += sa, bi += sb) o[oi + j] = a[ai] * b[bi]; },
  div: (o, oi, a, ai, sa, b, bi, sb, n) => { for (let j = 0; j < n; j++, ai += sa, bi += sb) o[oi + j] = a[ai] / b[bi]; },
  sqdiff: (o, oi, a, ai, sa, b, bi, sb, n) => {
    for (let j = 0; j < n; j++, ai += sa, bi += sb) { const d = a[ai] - b[bi]; o[oi + j] = d * d; }
  },
};

/** out = a ⊙ b with numpy broadcasting into `outShape` (already validated by the caller). */
export function broadcastBinary(op: BinaryOp, a: Float32Array, aShape: number[], b: Float32Array, bShape: number[],
  outShape: number[]): Float32Array {
  const size = outShape.reduce((p, q) => p * q, 1);
  const out = new Float32Array(size);
  if (size === 0) return out;
  const dims = collapse(outShape, [aShape, bShape]);
  const inner = dims.pop() ?? { size: 1, strides: [0, 0] };
  const run = runs[op];
  const idx = new Array<number>(dims.length).fill(0);
  let ai = 0, bi = 0;
  for (let oi = 0; oi < size; oi += inner.size) {
    run(out, oi, a, ai, inner.strides[0], b, bi, inner.strides[1], inner.size);
    // Odometer over the outer collapsed dims, keeping both operand offsets in step.
    for (let k = dims.length - 1; k >= 0; k--) {
      const d = dims[k];
      ai += d.strides[0]; bi += d.strides[1];
      if (++idx[k] < d.size) break;
      idx[k] = 0;
      ai -= d.strides[0] * d.size; bi -= d.strides[1] * d.size;
    }
  }
  return out;
}

/**
 * Sums x over `axes` (sorted, non-negative) and returns the kept dimensions in order; `scale`
 * multiplies the result (1 / count for Mean). Accumulates in float64 like the cpu backend does.
 */
export function reduceSum(x: Float32Array, shape: number[], axes: number[], scale: number): Float32Array {
  const keptShape = shape.map((s, d) => (axes.includes(d) ? 1 : s));
  const outSize = keptShape.reduce((p, q) => p * q, 1);
  const acc = new Float64Array(outSize);
  if (x.length > 0) {
    // Treat the kept shape as an operand that broadcasts along the reduced axes.
    const dims = collapse(shape, [keptShape]);
    const inner = dims.pop() ?? { size: 1, strides: [0] };
    const n = inner.size, so = inner.strides[0];
    const idx = new Array<number>(dims.length).fill(0);
    let oi = 0;
    for (let xi = 0; xi < x.length; xi += n) {
      if (so === 0) {
        let s = 0;
        for (let j = 0; j < n; j++) s += x[xi + j];
        acc[oi] += s;
      } else {
        for (let j = 0; j < n; j++) acc[oi + j] += x[xi + j];
      }
      for (let k = dims.length - 1; k >= 0; k--) {
        const d = dims[k];
        oi += d.strides[0];
        if (++idx[k] < d.size) break;
        idx[k] = 0;
        oi -= d.strides[0] * d.size;
      }
    }
  }
  const out = new Float32Array(outSize);
  for (let i = 0; i < outSize; i++) out[i] = acc[i] * scale;
  return out;
}
