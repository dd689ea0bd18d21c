/**
 * NHWC 2-D convolution and its two gradients as im2col + GEMM on Float32Arrays. Each pass turns the
 * receptive fields of a batch slice into a dense matrix (one row per output pixel, K = kh·kw·ci
 * columns in filter order) so the multiply-adds all run in the blocked GEMM of gemm.ts.
 */
import { gemmAcc } from './gemm.js';

/** Everything the loops need, already resolved from tfjs' Conv2DInfo (padding, rounding, dilation). */
export interface ConvGeom {
  batch: number; inH: number; inW: number; inC: number;
  outH: number; outW: number; outC: number;
  kH: number; kW: number; strideH: number; strideW: number; dilH: number; dilW: number;
  padTop: number; padLeft: number;
}

/** Keeps an im2col slice near 16 MiB: big enough to amortise GEMM packing, small enough for any batch. */
const COL_BUDGET = 4 << 20;

function batchChunk(g: ConvGeom): number {
  const perImage = g.outH * g.outW * g.kH * g.kW * g.inC;
  return Math.max(1, Math.min(g.batch, Math.floor(COL_BUDGET / Math.max(1, perImage))));
}

/**
 * Calls visit(dst, src) for every (output pixel, filter tap) of images b0..b0+nb−1, where dst is the
 * offset of that tap's ci-long run inside a [pixels, K] column matrix and src the matching offset in
 * x, or −1 when the tap falls into padding. Shared by im2col, the transposed variant and col2im.
 */
function forEachTap(g: ConvGeom, b0: number, nb: number, visit: (dst: number, src: number) => void): void {
  const { inH, inW, inC, outH, outW, kH, kW } = g;
  const rowLen = inW * inC;
  let dst = 0;
  for (let b = b0; b < b0 + nb; b++) {
    const xb = b * inH * rowLen;
    for (let oy = 0; oy < outH; oy++) {
      const iy0 = oy * g.strideH - g.padTop;
      for (let ox = 0; ox < outW; ox++) {
        const ix0 = ox * g.strideW - g.padLeft;
        for (let ky = 0; ky < kH; ky++) {
          const iy = iy0 + ky * g.dilH;
          const rowOk = iy >= 0 && iy < inH;
          const xRow = xb + iy * rowLen;
          for (let kx = 0; kx < kW; kx++, dst += inC) {
            const ix = ix0 + kx * g.dilW;
            visit(dst, rowOk && ix >= 0 && ix < inW ? xRow + ix * inC : -1);
          }
        }
      }
    }
  }
}

/** col[pixel, tap·ci + c] = x[…] for images b0..b0+nb−1; padding taps become zeros. */
function im2col(x: Float32Array, g: ConvGeom, b0: number, nb: number, col: Float32Array): void {
  const c = g.inC;
  forEachTap(g, b0, nb, (dst, src) => {
    if (src < 0) col.fill(0, dst, dst + c);
    else for (let i = 0; i < c; i++) col[dst + i] = x[src + i];
  });
}

/** The transpose of im2col, colT[tap·ci + c, pixel], written directly so the filter gradient is one GEMM. */
function im2colT(x: Float32Array, g: ConvGeom, b0: number, nb: number, colT: Float32Array): void {
  const c = g.inC;
  const kLen = g.kH * g.kW * c;
  const pixels = nb * g.outH * g.outW;
  forEachTap(g, b0, nb, (dst, src) => {
    const pixel = Math.floor(dst / kLen);
    let o = (dst - pixel * kLen) * pixels + pixel;
    if (src < 0) for (let i = 0; i < c; i++, o += pixels) colT[o] = 0;
    else for (let i = 0; i < c; i++, o += pixels) colT[o] = x[src + i];
  });
}

/** dx[…] += col[pixel, tap·ci + c]: scatters column gradients back onto the input grid. */
function col2imAdd(col: Float32Array, g: ConvGeom, b0: number, nb: number, dx: Float32Array): void {
  const c = g.inC;
  forEachTap(g, b0, nb, (dst, src) => {
    if (src >= 0) for (let i = 0; i < c; i++) dx[src + i] += col[dst + i];
  });
}

let colBuf = new Float32Array(0);
function colScratch(size: number): Float32Array {
  if (colBuf.length < size) colBuf = new Float32Array(size);
  return colBuf.subarray(0, size);
}

/** y = conv2d(x, w): x [b,h,w,ci], w [kh,kw,ci,co] (already the [K, co] GEMM operand), y [b,oh,ow,co]. */
export function conv2dForward(x: Float32Array, w: Float32Array, g: ConvGeom): Float32Array {
  const kLen = g.kH * g.kW * g.inC;
  const pix = g.outH * g.outW;
  const y = new Float32Array(g.batch * pix * g.outC);
  const step = batchChunk(g);
  for (let b0 = 0; b0 < g.batch; b0 += step) {
    const nb = Math.min(step, g.batch - b0);
    const col = colScratch(nb * pix * kLen);
    im2col(x, g, b0, nb, col);
    gemmAcc(nb * pix, g.outC, kLen, col, w, y.subarray(b0 * pix * g.outC, (b0 + nb) * pix * g.outC));
  }
  return y;
}

/** dW[kh,kw,ci,co] = Σ_{b,oy,ox} x[b, oy·s+ky·d−pt, ox·s+kx·d−pl, ci] · dy[b,oy,ox,co], as one GEMM colT · dy. */
export function conv2dFilterGrad(x: Float32Array, dy: Float32Array, g: ConvGeom): Float32Array {
  const kLen = g.kH * g.kW * g.inC;
  const pix = g.outH * g.outW;
  const dw = new Float32Array(kLen * g.outC);
  const step = batchChunk(g);
  for (let b0 = 0; b0 < g.batch; b0 += step) {
    const nb = Math.min(step, g.batch - b0);
    const colT = colScratch(nb * pix * kLen);
    im2colT(x, g, b0, nb, colT);
    gemmAcc(kLen, g.outC, nb * pix, colT, dy.subarray(b0 * pix * g.outC, (b0 + nb) * pix * g.outC), dw);
  }
  return dw;
}

/** dx = col2im(dy · wᵀ): the input gradient of conv2d, which is also conv2dTranspose's forward pass. */
export function conv2dInputGrad(dy: Float32Array, w: Float32Array, g: ConvGeom): Float32Array {
  const kLen = g.kH * g.kW * g.inC;
  const pix = g.outH * g.outW;
  const wT = new Float32Array(g.outC * kLen);
  for (let q = 0; q < kLen; q++) for (let o = 0; o < g.outC; o++) wT[o * kLen + q] = w[q * g.outC + o];
  const dx = new Float32Array(g.batch * g.inH * g.inW * g.inC);
  const step = batchChunk(g);
  for (let b0 = 0; b0 < g.batch; b0 += step) {
    const nb = Math.min(step, g.batch - b0);
    const col = colScratch(nb * pix * kLen);
    col.fill(0);
    gemmAcc(nb * pix, kLen, g.outC, dy.subarray(b0 * pix * g.outC, (b0 + nb) * pix * g.outC), wT, col);
    col2imAdd(col, g, b0, nb, dx);
  }
  return dx;
}
