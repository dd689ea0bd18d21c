/**
 * The upscale viewer (#/translate/ID and #/upscale/ID for a super-resolution run, and `ganforge export`'s demo of
 * one): a photo — a test card to start with, or an uploaded image — through the generator at its own size in the
 * page, shown as before (the input enlarged by the browser's smooth interpolation) and after (the generator's
 * output) under one frame with a slider that moves the split, plus a zoomed crop of both around the point last
 * clicked. Like translate_page.ts, its only run-time import is generator_core.js.
 */
import { fromRgba, toRgba, type Shape, type Translator } from './generator_core.js';

/** Longest input side the page upscales; larger uploads are shrunk to it first (`ganforge upscale` takes any size). */
const MAX_INPUT = 256;
/** Output pixels on each side of the zoomed crop, and how much it is magnified on screen. */
const CROP = 32;
const ZOOM = 6;

/** A generator's factor when its output is its input enlarged by a whole number ≥ 2 (same channels), else 0. */
export function upscaleFactorOf(t: Pick<Translator, 'input' | 'output'>): number {
  const s = t.output[0] / t.input[0];
  return Number.isInteger(s) && s >= 2 && t.output[1] === t.input[1] * s && t.output[2] === t.input[2] ? s : 0;
}

/** Builds the viewer inside `root` around a loaded super-resolution generator. */
export function mountUpscale(root: HTMLElement, t: Translator): void {
  const s = upscaleFactorOf(t);
  const c = t.input[2];
  root.innerHTML = `
    <p><label>photo <input id="up-upload" type="file" accept="image/*"></label>
      <label>before | after <input id="up-split" type="range" min="0" max="100" value="50"></label>
      <span id="up-status"></span></p>
    <div style="display:flex;gap:2em;flex-wrap:wrap;align-items:flex-start">
      <div id="up-frame" style="position:relative;display:inline-block;cursor:crosshair;border:1px solid #ccc;line-height:0">
        <canvas id="up-before" style="display:block;max-width:640px"></canvas>
        <canvas id="up-after" style="position:absolute;left:0;top:0;width:100%;height:100%;clip-path:inset(0 0 0 50%)"></canvas>
      </div>
      <div><h3>crop ×${ZOOM}: before | after</h3>
        <canvas id="up-zoom-before" width="${CROP}" height="${CROP}" style="width:${CROP * ZOOM}px;image-rendering:pixelated;border:1px solid #ccc"></canvas>
        <canvas id="up-zoom-after" width="${CROP}" height="${CROP}" style="width:${CROP * ZOOM}px;image-rendering:pixelated;border:1px solid #ccc"></canvas></div>
    </div>`;
  const $ = <T extends HTMLElement>(id: string) => root.querySelector(`#${id}`) as T;
  const before = $<HTMLCanvasElement>('up-before');
  const after = $<HTMLCanvasElement>('up-after');
  let focus: [number, number] = [0.5, 0.5]; // the crop's centre, as fractions of the output

  const split = () => (after.style.clipPath = `inset(0 0 0 ${$<HTMLInputElement>('up-split').value}%)`);
  const zoom = () => {
    const [W, H] = [after.width, after.height];
    const x0 = Math.max(0, Math.min(W - CROP, Math.round(focus[0] * W - CROP / 2)));
    const y0 = Math.max(0, Math.min(H - CROP, Math.round(focus[1] * H - CROP / 2)));
    for (const [from, to] of [[before, 'up-zoom-before'], [after, 'up-zoom-after']] as const) {
      const z = $<HTMLCanvasElement>(to).getContext('2d')!;
      z.imageSmoothingEnabled = false;
      z.clearRect(0, 0, CROP, CROP);
      z.drawImage(from, x0, y0, CROP, CROP, 0, 0, CROP, CROP);
    }
    root.dataset.zoom = `${x0},${y0}`;
  };

  const show = async (photo: Float32Array, h: number, w: number, note = '') => {
    const start = performance.now();
    const input: Shape = [h, w, c];
    const small = Object.assign(document.createElement('canvas'), { width: w, height: h });
    small.getContext('2d')!.putImageData(new ImageData(toRgba(photo, 0, input), w, h), 0, 0);
    Object.assign(before, { width: w * s, height: h * s });
    const b = before.getContext('2d')!;
    b.imageSmoothingQuality = 'high'; // the browser's smooth enlargement stands for "no model"
    b.drawImage(small, 0, 0, w * s, h * s);
    const out = await t.translateAnySize(photo, h, w);
    Object.assign(after, { width: out.shape[1], height: out.shape[0] });
    after.getContext('2d')!.putImageData(new ImageData(toRgba(out.pixels, 0, out.shape), out.shape[1], out.shape[0]), 0, 0);
    split();
    zoom();
    $('up-status').textContent = `${w}×${h} → ${out.shape[1]}×${out.shape[0]} (×${s}) in ${Math.round(performance.now() - start)} ms${note}`;
    root.dataset.renders = String(Number(root.dataset.renders ?? 0) + 1); // lets tests wait for a new picture
  };
  const run = (f: () => Promise<void>) => f().catch((e: Error) => ($('up-status').textContent = `upscaling failed: ${e.message}`));

  $('up-split').addEventListener('input', split);
  $('up-frame').addEventListener('click', (e) => {
    const r = after.getBoundingClientRect();
    focus = [(e.clientX - r.left) / r.width, (e.clientY - r.top) / r.height];
    zoom();
  });
  $<HTMLInputElement>('up-upload').addEventListener('change', (e) => {
    const file = (e.target as HTMLInputElement).files?.[0];
    if (file) void run(async () => {
      const { pixels, h, w, shrunk } = await decode(file, c);
      await show(pixels, h, w, shrunk ? ` (shrunk to ${w}×${h} first; ganforge upscale takes any size)` : '');
    });
  });
  const side = Math.min(MAX_INPUT, t.input[0] * 4);
  void run(() => show(testCard(side, side, c), side, side));
}

/** Rings and stripes with fine detail: what an upscaler should keep sharp. [h, w, c] in 0..1. */
function testCard(h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(h * w * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const r = Math.hypot(x - w / 2, y - h / 2);
      for (let k = 0; k < c; k++) out[(y * w + x) * c + k] = 0.5 + 0.5 * Math.sin(r * (0.5 + 0.25 * k) + (x < w / 2 ? 0 : y * 0.7));
    }
  }
  return out;
}

/** An uploaded image at its own size (shrunk to MAX_INPUT on its longer side), as [h, w, c] in 0..1. */
async function decode(file: File, c: number): Promise<{ pixels: Float32Array; h: number; w: number; shrunk: boolean }> {
  const bitmap = await createImageBitmap(file);
  const k = Math.min(1, MAX_INPUT / Math.max(bitmap.width, bitmap.height));
  const [w, h] = [Math.max(1, Math.round(bitmap.width * k)), Math.max(1, Math.round(bitmap.height * k))];
  const canvas = Object.assign(document.createElement('canvas'), { width: w, height: h });
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(bitmap, 0, 0, w, h);
  return { pixels: fromRgba(ctx.getImageData(0, 0, w, h).data, [h, w, c]), h, w, shrunk: k < 1 };
}
