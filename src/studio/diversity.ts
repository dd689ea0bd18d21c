import { promises as fs } from 'node:fs';
import sharp from 'sharp';

/**
 * Sample diversity of one progress grid, a cheap mode-collapse signal: the per-pixel standard deviation
 * across the grid's samples, averaged over pixels, in units of the 0..1 intensity range. Collapsed samples
 * all look alike, so it falls toward 0; a healthy generator on Fashion-MNIST stays around 0.2–0.35.
 *
 * It assumes the trainer's layout (see trainer.ts and io/png.ts): 64 samples in 8 columns, 2-pixel padding.
 * It is a heuristic, not a metric: it sees only the fixed latent batch, and a blurry but varied generator
 * scores like a sharp one. Scatter plots of 2-D data have no cells and return null.
 */
export async function gridDiversity(png: Buffer, opts: { cols?: number; rows?: number; pad?: number } = {}): Promise<number | null> {
  const cols = opts.cols ?? 8;
  const rows = opts.rows ?? 8;
  const pad = opts.pad ?? 2;
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const w = (info.width - (cols + 1) * pad) / cols;
  const h = (info.height - (rows + 1) * pad) / rows;
  if (!Number.isInteger(w) || !Number.isInteger(h) || w < 2 || h < 2) return null;
  const c = info.channels;
  const n = cols * rows;
  let sumStd = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < Math.min(c, 3); k++) {
        // Welford-free two-pass is fine here: n = 64 values per pixel.
        let mean = 0;
        const v = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          const px = pad + (i % cols) * (w + pad) + x;
          const py = pad + Math.floor(i / cols) * (h + pad) + y;
          v[i] = data[(py * info.width + px) * c + k] / 255;
          mean += v[i] / n;
        }
        let varSum = 0;
        for (let i = 0; i < n; i++) varSum += (v[i] - mean) ** 2;
        sumStd += Math.sqrt(varSum / n);
      }
    }
  }
  return sumStd / (w * h * Math.min(c, 3));
}

/** Diversity per sample file, cached by path and modification time (a grid is never rewritten in place). */
const cache = new Map<string, { mtime: number; value: number | null }>();
export async function fileDiversity(file: string): Promise<number | null> {
  try {
    const { mtimeMs } = await fs.stat(file);
    const hit = cache.get(file);
    if (hit && hit.mtime === mtimeMs) return hit.value;
    const value = await gridDiversity(await fs.readFile(file));
    if (cache.size > 5000) cache.clear(); // bound memory on a long-lived studio
    cache.set(file, { mtime: mtimeMs, value });
    return value;
  } catch {
    return null;
  }
}
