/**
 * The inpainting page (#/inpaint/ID, and #/translate/ID for a run whose generator takes an image plus a mask
 * channel): a photo at the model's size — a test card to start with, or an uploaded image stretched to that
 * size — on which a person paints the hole with mouse, pen or touch; the generator fills it in the page, and
 * the output keeps every pixel outside the hole as it is. Its run-time imports are generator_core.js and
 * translate_page.js (the stroke drawing and its one-at-a-time runner), both copied by `ganforge export`.
 */
import { fromRgba, toRgba, type Translator } from './generator_core.js';
import { drawing, newestOnly } from './translate_page.js';

const SCREEN = 256; // on-screen side of the canvases, in CSS pixels
/** The hole's fill in G's input, as the training data has it (masks.ts HOLE_FILL = 128), in 0..1. */
const HOLE_FILL = 128 / 255;

/** True when a translator's input is its output plus one mask channel: an inpainter. */
export function isInpainter(t: Pick<Translator, 'input' | 'output'>): boolean {
  return t.input[0] === t.output[0] && t.input[1] === t.output[1] && t.input[2] === t.output[2] + 1;
}

/**
 * The completed image from a photo and a hole (both at the model's size): G's input is the photo with the hole
 * set to HOLE_FILL plus the hole as a channel, and G's output is kept inside the hole only. photo [h, w, c] in
 * 0..1, hole [h·w] of 0/1; returns [h, w, c] in 0..1.
 */
export async function fillHole(t: Translator, photo: Float32Array, hole: Uint8Array): Promise<Float32Array> {
  const [h, w, c] = t.output;
  const input = new Float32Array(h * w * (c + 1));
  for (let p = 0; p < h * w; p++) {
    for (let k = 0; k < c; k++) input[p * (c + 1) + k] = hole[p] ? HOLE_FILL : photo[p * c + k];
    input[p * (c + 1) + c] = hole[p];
  }
  const out = await t.translate(input);
  const done = Float32Array.from(photo);
  for (let p = 0; p < h * w; p++) if (hole[p]) for (let k = 0; k < c; k++) done[p * c + k] = out[p * c + k];
  return done;
}

/** Builds the page inside `root` around a loaded inpainting generator. */
export function mountInpaint(root: HTMLElement, t: Translator): void {
  const [h, w, c] = t.output;
  root.innerHTML = `
    <div style="display:flex;gap:2em;flex-wrap:wrap;align-items:flex-start">
      <div><h3>photo and hole (${w}×${h}×${c}): paint the part to fill</h3>
        <canvas id="ip-input" width="${w}" height="${h}" style="${canvasStyle}touch-action:none;cursor:crosshair"></canvas>
        <p><label>brush <input id="ip-brush" type="range" min="1" max="${Math.max(2, Math.round(w / 4))}" step="0.5" value="${Math.max(1, Math.round(w / 10))}"></label>
          <button id="ip-clear" type="button">clear hole</button></p>
        <p><label>photo <input id="ip-upload" type="file" accept="image/*"></label></p></div>
      <div><h3>filled</h3><canvas id="ip-output" width="${w}" height="${h}" style="${canvasStyle}"></canvas>
        <p id="ip-status"></p></div>
    </div>`;
  const $ = <T extends HTMLElement>(id: string) => root.querySelector(`#${id}`) as T;
  const input = $<HTMLCanvasElement>('ip-input');
  const output = $<HTMLCanvasElement>('ip-output');
  const ctx = input.getContext('2d', { willReadFrequently: true })!;
  // The hole lives on a canvas of its own (white = hole), so painting never touches the photo's pixels.
  const holeCanvas = Object.assign(document.createElement('canvas'), { width: w, height: h });
  const holeCtx = holeCanvas.getContext('2d', { willReadFrequently: true })!;
  let photo = testCard(h, w, c);

  const hole = (): Uint8Array => {
    const rgba = holeCtx.getImageData(0, 0, w, h).data;
    return Uint8Array.from({ length: h * w }, (_, p) => (rgba[p * 4] >= 128 ? 1 : 0));
  };
  // The input canvas shows the photo with the hole in a flat colour.
  const show = () => {
    const rgba = toRgba(photo, 0, [h, w, c]);
    const m = hole();
    for (let p = 0; p < h * w; p++) if (m[p]) rgba.set([255, 0, 255, 255], p * 4);
    ctx.putImageData(new ImageData(rgba, w, h), 0, 0);
  };

  const run = newestOnly(async () => {
    const start = performance.now();
    const m = hole();
    const filled = m.some((v) => v) ? await fillHole(t, photo, m) : photo;
    output.getContext('2d')!.putImageData(new ImageData(toRgba(filled, 0, [h, w, c]), w, h), 0, 0);
    output.dataset.frame = String(Number(output.dataset.frame ?? 0) + 1); // lets tests wait for a new frame
    const area = m.reduce((a, v) => a + v, 0);
    $('ip-status').textContent = area ? `filled ${area} pixel(s) in ${Math.round(performance.now() - start)} ms` : 'paint a hole on the photo';
  }, (e) => ($('ip-status').textContent = `inpainting failed: ${e.message}`));

  // White strokes on the hole canvas; anti-aliasing does not matter: a pixel is in the hole when its red is ≥ 128.
  drawing(input, holeCtx, () => ({ ink: '#fff', size: Number($<HTMLInputElement>('ip-brush').value) }), () => {
    show();
    void run();
  });
  $('ip-clear').addEventListener('click', () => {
    holeCtx.clearRect(0, 0, w, h);
    show();
    void run();
  });
  $<HTMLInputElement>('ip-upload').addEventListener('change', async (e) => {
    const file = (e.target as HTMLInputElement).files?.[0];
    if (!file) return;
    photo = await decode(file, [h, w, c]);
    show();
    void run();
  });
  show();
  void run();
}

const canvasStyle = `width:${SCREEN}px;height:${SCREEN}px;image-rendering:pixelated;border:1px solid #ccc;display:block;`;

/** A photo to start from: smooth colour ramps and a soft disc, [h, w, c] in 0..1. */
function testCard(h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(h * w * c);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const disc = Math.exp(-((x - w * 0.6) ** 2 + (y - h * 0.45) ** 2) / (2 * (w / 6) ** 2));
    const rgb = [0.2 + 0.6 * disc, x / w, 0.3 + 0.5 * (y / h)];
    for (let k = 0; k < c; k++) out[(y * w + x) * c + k] = c === 1 ? (rgb[0] + rgb[1] + rgb[2]) / 3 : rgb[k];
  }
  return out;
}

/** An image file stretched to the model's size (as `ganforge translate` resizes), as [h, w, c] in 0..1. */
async function decode(file: File, shape: [number, number, number]): Promise<Float32Array> {
  const [h, w] = shape;
  const bitmap = await createImageBitmap(file);
  const canvas = Object.assign(document.createElement('canvas'), { width: w, height: h });
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, w, h);
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, 0, 0, w, h);
  bitmap.close();
  return fromRgba(ctx.getImageData(0, 0, w, h).data, shape);
}
