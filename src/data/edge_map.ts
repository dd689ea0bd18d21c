/**
 * Canny-like edge maps (Canny 1986) that read as pen sketches: luma, a light [1 2 1] blur on images of 64 px
 * and more (small images such as MNIST would lose their strokes), Sobel gradient, non-maximum suppression to
 * one-pixel lines, hysteresis between 10 % and 25 % of the image's strongest gradient (relative thresholds, so
 * faint and contrasty images both give lines). Output: one channel, 0 = line, 255 = paper — dark lines on
 * white, as in pix2pix's edges2shoes inputs. A flat image gives blank paper.
 */
export function edgeMaps(values: Uint8Array, n: number, [h, w, c]: number[]): Uint8Array {
  const out = new Uint8Array(n * h * w).fill(255);
  for (let i = 0; i < n; i++) edgeMap(values.subarray(i * h * w * c, (i + 1) * h * w * c), h, w, c, out.subarray(i * h * w, (i + 1) * h * w));
  return out;
}

const LOW = 0.1;
const HIGH = 0.25;
const TAN_22_5 = Math.tan(Math.PI / 8);

function edgeMap(img: Uint8Array, h: number, w: number, c: number, out: Uint8Array): void {
  let L: Float32Array<ArrayBuffer> = new Float32Array(h * w);
  for (let p = 0; p < h * w; p++) L[p] = c === 1 ? img[p] : 0.299 * img[3 * p] + 0.587 * img[3 * p + 1] + 0.114 * img[3 * p + 2];
  if (Math.min(h, w) >= 64) L = blur(L, h, w);
  // Borders repeat the edge pixel, so the frame of the image is not itself an edge.
  const at = (y: number, x: number): number => L[Math.min(h - 1, Math.max(0, y)) * w + Math.min(w - 1, Math.max(0, x))];
  const gx = new Float32Array(h * w);
  const gy = new Float32Array(h * w);
  const mag = new Float32Array(h * w);
  let max = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      gx[p] = at(y - 1, x + 1) + 2 * at(y, x + 1) + at(y + 1, x + 1) - at(y - 1, x - 1) - 2 * at(y, x - 1) - at(y + 1, x - 1);
      gy[p] = at(y + 1, x - 1) + 2 * at(y + 1, x) + at(y + 1, x + 1) - at(y - 1, x - 1) - 2 * at(y - 1, x) - at(y - 1, x + 1);
      mag[p] = Math.hypot(gx[p], gy[p]);
      if (mag[p] > max) max = mag[p];
    }
  }
  if (max < 1e-3) return;
  const m = (y: number, x: number): number => (y < 0 || y >= h || x < 0 || x >= w ? 0 : mag[y * w + x]);
  // Non-maximum suppression across the gradient. A step edge has equal magnitude on both of its sides; keeping
  // the pixel that is ≥ its predecessor and > its successor leaves exactly one of them.
  const thin = new Float32Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      if (mag[p] === 0) continue;
      const ax = Math.abs(gx[p]);
      const ay = Math.abs(gy[p]);
      let dy = 0;
      let dx = 0;
      if (ay <= ax * TAN_22_5) dx = 1;
      else if (ax <= ay * TAN_22_5) dy = 1;
      else [dy, dx] = gx[p] * gy[p] > 0 ? [1, 1] : [1, -1];
      if (mag[p] >= m(y - dy, x - dx) && mag[p] > m(y + dy, x + dx)) thin[p] = mag[p];
    }
  }
  // Hysteresis: strong pixels seed lines that continue through connected weak ones (8-neighbourhood).
  const stack: number[] = [];
  for (let p = 0; p < h * w; p++) {
    if (thin[p] >= HIGH * max) {
      out[p] = 0;
      stack.push(p);
    }
  }
  while (stack.length > 0) {
    const p = stack.pop()!;
    const y = Math.floor(p / w);
    const x = p % w;
    for (let ny = Math.max(0, y - 1); ny <= Math.min(h - 1, y + 1); ny++) {
      for (let nx = Math.max(0, x - 1); nx <= Math.min(w - 1, x + 1); nx++) {
        const q = ny * w + nx;
        if (out[q] !== 0 && thin[q] >= LOW * max) {
          out[q] = 0;
          stack.push(q);
        }
      }
    }
  }
}

/** Separable [1 2 1]/4 blur with repeated borders. */
function blur(L: Float32Array, h: number, w: number): Float32Array<ArrayBuffer> {
  const t = new Float32Array(h * w);
  const o = new Float32Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) t[y * w + x] = (L[y * w + Math.max(0, x - 1)] + 2 * L[y * w + x] + L[y * w + Math.min(w - 1, x + 1)]) / 4;
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) o[y * w + x] = (t[Math.max(0, y - 1) * w + x] + 2 * t[y * w + x] + t[Math.min(h - 1, y + 1) * w + x]) / 4;
  }
  return o;
}
