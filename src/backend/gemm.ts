/**
 * A register-blocked single-precision GEMM in plain JavaScript, the workhorse behind the fast cpu
 * convolution kernels. V8 does not vectorise, so speed comes from (a) keeping a 4×4 tile of C in
 * local variables (16 multiply-adds per 8 loads), (b) packing a K-slice of B into 4-wide column
 * panels so the inner loop reads one contiguous stream, and (c) blocking K so the packed slice and
 * the current 4 rows of A stay in cache while every panel is swept.
 */

/** Depth of one K block: 4 A rows × 256 floats plus one packed 256×4 B panel sit in L1. */
const KC = 256;
/** Width of one N block: its packed K-slice (256×256 floats, 256 KiB) stays in L2 while A streams. */
const NC = 256;

let packBuf = new Float32Array(0);

/** Reuses one scratch buffer for packed B panels; growing it rarely avoids GC churn per call. */
function scratch(size: number): Float32Array {
  if (packBuf.length < size) packBuf = new Float32Array(size);
  return packBuf;
}

/**
 * C[m×n] += A[m×k] · B[k×n]; all three dense and row-major (leading dimensions k, n, n).
 * Accumulates into C, so the caller zero-fills C for a plain product.
 */
export function gemmAcc(m: number, n: number, k: number, a: Float32Array, b: Float32Array, c: Float32Array): void {
  if (m === 0 || n === 0 || k === 0) return;
  const packed = scratch(NC * KC);
  for (let j0 = 0; j0 < n; j0 += NC) {
    const nc = Math.min(NC, n - j0);
    const nPanels = (nc + 3) >> 2;
    for (let k0 = 0; k0 < k; k0 += KC) {
      const kc = Math.min(KC, k - k0);
      packPanels(b, n, j0, nc, k0, kc, nPanels, packed);
      let i = 0;
      for (; i + 4 <= m; i += 4) tile4(i, n, j0, nc, k, k0, kc, nPanels, a, packed, c);
      for (; i < m; i++) tile1(i, n, j0, nc, k, k0, kc, nPanels, a, packed, c);
    }
  }
}

/** packed[p][kk][jj] = B[k0+kk, j0+4p+jj], zero past the block edge so tiles need no edge case. */
function packPanels(b: Float32Array, n: number, j0: number, nc: number, k0: number, kc: number,
  nPanels: number, packed: Float32Array): void {
  for (let p = 0; p < nPanels; p++) {
    const j = j0 + (p << 2);
    const w = Math.min(4, j0 + nc - j);
    let dst = p * 4 * kc;
    let src = k0 * n + j;
    if (w === 4) {
      for (let kk = 0; kk < kc; kk++, dst += 4, src += n) {
        packed[dst] = b[src];
        packed[dst + 1] = b[src + 1];
        packed[dst + 2] = b[src + 2];
        packed[dst + 3] = b[src + 3];
      }
    } else {
      for (let kk = 0; kk < kc; kk++, dst += 4, src += n) {
        for (let jj = 0; jj < 4; jj++) packed[dst + jj] = jj < w ? b[src + jj] : 0;
      }
    }
  }
}

/** Four rows of C (i..i+3) against every packed panel of the current K block. */
function tile4(i: number, n: number, j0: number, nc: number, k: number, k0: number, kc: number, nPanels: number,
  a: Float32Array, packed: Float32Array, c: Float32Array): void {
  const r0 = i * k + k0, r1 = r0 + k, r2 = r1 + k, r3 = r2 + k;
  for (let p = 0; p < nPanels; p++) {
    let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
    let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
    let bp = p * 4 * kc;
    for (let kk = 0; kk < kc; kk++, bp += 4) {
      const b0 = packed[bp], b1 = packed[bp + 1], b2 = packed[bp + 2], b3 = packed[bp + 3];
      const a0 = a[r0 + kk], a1 = a[r1 + kk], a2 = a[r2 + kk], a3 = a[r3 + kk];
      c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
      c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
      c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
      c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
    }
    const j = p << 2;
    const w = Math.min(4, nc - j);
    const o = i * n + j0 + j;
    store(c, o, w, c00, c01, c02, c03);
    store(c, o + n, w, c10, c11, c12, c13);
    store(c, o + 2 * n, w, c20, c21, c22, c23);
    store(c, o + 3 * n, w, c30, c31, c32, c33);
  }
}

/** One leftover row of C when m is not a multiple of 4. */
function tile1(i: number, n: number, j0: number, nc: number, k: number, k0: number, kc: number, nPanels: number,
  a: Float32Array, packed: Float32Array, c: Float32Array): void {
  const r0 = i * k + k0;
  for (let p = 0; p < nPanels; p++) {
    let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
    let bp = p * 4 * kc;
    for (let kk = 0; kk < kc; kk++, bp += 4) {
      const a0 = a[r0 + kk];
      c0 += a0 * packed[bp]; c1 += a0 * packed[bp + 1]; c2 += a0 * packed[bp + 2]; c3 += a0 * packed[bp + 3];
    }
    const j = p << 2;
    store(c, i * n + j0 + j, Math.min(4, nc - j), c0, c1, c2, c3);
  }
}

/** Adds up to four accumulators into a row of C, stopping at the matrix edge (w < 4). */
function store(c: Float32Array, o: number, w: number, v0: number, v1: number, v2: number, v3: number): void {
  c[o] += v0;
  if (w > 1) c[o + 1] += v1;
  if (w > 2) c[o + 2] += v2;
  if (w > 3) c[o + 3] += v3;
}
