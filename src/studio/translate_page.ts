/**
 * The translator page, shared by the studio (#/translate/ID) and `ganforge export`'s demo: a canvas at the
 * model's input size to draw on with mouse, pen or touch (dark ink on white paper by default, the convention
 * of edges:… sketches and pix2pix's edges2shoes), an upload that replaces the drawing with an image resized to
 * the input size, and a direction switch for runs that translate both ways. The output is recomputed in the
 * page while a stroke is drawn and after it ends. Its only run-time import is generator_core.js, which sits
 * next to it in an export and is bundled with it in the studio.
 */
import { fromRgba, toRgba, type Direction, type GeneratorManifest, type Translator } from './generator_core.js';

const SCREEN = 256; // on-screen side of the input and output canvases, in CSS pixels
const LABELS: Record<Direction, string> = { AtoB: 'A → B', BtoA: 'B → A' };

/** Builds the page inside `root`; translators holds one loaded Translator per direction of `info`. */
export function mountTranslate(root: HTMLElement, info: GeneratorManifest, translators: Partial<Record<Direction, Translator>>): void {
  const directions = (Object.keys(translators) as Direction[]).filter((d) => translators[d]);
  if (!directions.length) throw new Error('mountTranslate: no translator loaded');
  const [nameA, nameB] = info.domains ?? ['A', 'B'];
  root.innerHTML = `
    <div style="display:flex;gap:2em;flex-wrap:wrap;align-items:flex-start">
      <div><h3 id="tr-in-title"></h3>
        <canvas id="tr-input" style="${canvasStyle}touch-action:none;cursor:crosshair"></canvas>
        <p><label>brush <input id="tr-brush" type="range" min="0.5" max="6" step="0.5" value="1"></label>
          <button id="tr-clear" type="button">clear</button>
          <label><input id="tr-ink" type="checkbox"> light ink on dark</label></p>
        <p><label>translate an image <input id="tr-upload" type="file" accept="image/*"></label>
          <label ${directions.length > 1 ? '' : 'hidden'}>direction <select id="tr-direction">${directions
            .map((d) => `<option value="${d}">${LABELS[d]}</option>`)
            .join('')}</select></label></p></div>
      <div><h3 id="tr-out-title"></h3><canvas id="tr-output" style="${canvasStyle}"></canvas>
        <p id="tr-status"></p></div>
    </div>`;
  const $ = <T extends HTMLElement>(id: string) => root.querySelector(`#${id}`) as T;
  const input = $<HTMLCanvasElement>('tr-input');
  const output = $<HTMLCanvasElement>('tr-output');
  const ctx = input.getContext('2d', { willReadFrequently: true })!;
  let direction = directions[0];
  const current = () => translators[direction]!;
  const light = () => $<HTMLInputElement>('tr-ink').checked;

  const paper = () => (light() ? '#000' : '#fff');
  const clear = () => {
    ctx.fillStyle = paper();
    ctx.fillRect(0, 0, input.width, input.height);
  };
  // Shapes may change with the direction (CycleGAN between a grey and a colour domain): size both canvases.
  const setDirection = (d: Direction) => {
    direction = d;
    const [h, w] = current().input;
    const [oh, ow] = current().output;
    const [from, to] = d === 'AtoB' ? [nameA, nameB] : [nameB, nameA];
    $('tr-in-title').textContent = `input: ${from} (${w}×${h}×${current().input[2]})`;
    $('tr-out-title').textContent = `output: ${to} (${ow}×${oh}×${current().output[2]})`;
    if (input.width !== w || input.height !== h) {
      Object.assign(input, { width: w, height: h });
      clear();
    }
    Object.assign(output, { width: ow, height: oh });
  };

  // One translation at a time; strokes that come faster only ask for the newest drawing.
  const run = newestOnly(async () => {
    const t = current();
    const start = performance.now();
    const pixels = await t.translate(fromRgba(ctx.getImageData(0, 0, input.width, input.height).data, t.input));
    const [h, w] = t.output;
    output.getContext('2d')!.putImageData(new ImageData(toRgba(pixels, 0, t.output), w, h), 0, 0);
    output.dataset.frame = String(Number(output.dataset.frame ?? 0) + 1); // lets tests wait for a new frame
    const noise = info.trainingMode ? ' · dropout on, as in training: the same drawing may come out a little differently' : '';
    $('tr-status').textContent = `${LABELS[t.direction]} in ${Math.round(performance.now() - start)} ms${noise}`;
  }, (e) => ($('tr-status').textContent = `translation failed: ${e.message}`));

  drawing(input, ctx, () => ({ ink: light() ? '#fff' : '#000', size: Number($<HTMLInputElement>('tr-brush').value) }), () => void run());
  $('tr-clear').addEventListener('click', () => {
    clear();
    void run();
  });
  $('tr-ink').addEventListener('change', () => {
    invert(ctx, input.width, input.height); // the drawing so far keeps its strokes, in the new colours
    void run();
  });
  $<HTMLSelectElement>('tr-direction').addEventListener('change', (e) => {
    setDirection((e.target as HTMLSelectElement).value as Direction);
    void run();
  });
  $<HTMLInputElement>('tr-upload').addEventListener('change', async (e) => {
    const file = (e.target as HTMLInputElement).files?.[0];
    if (!file) return;
    await upload(file, ctx, current().input, paper());
    void run();
  });
  setDirection(direction);
  clear();
  void run();
}

const canvasStyle = `width:${SCREEN}px;height:${SCREEN}px;image-rendering:pixelated;border:1px solid #ccc;display:block;`;

/**
 * `work` run one call at a time: a call that comes while one runs only asks for one more run after it (of the
 * newest state), so fast strokes never queue. A failure goes to `failed`. Returns the function to call.
 */
export function newestOnly(work: () => Promise<void>, failed: (e: Error) => void): () => Promise<void> {
  let busy = false;
  let again = false;
  return async () => {
    if (busy) return void (again = true);
    busy = true;
    try {
      do {
        again = false;
        await work();
      } while (again);
    } catch (e) {
      failed(e as Error);
    } finally {
      busy = false;
    }
  };
}

/**
 * Freehand strokes with pointer events (mouse, pen and touch alike) on `canvas`, in its own pixels, drawn into
 * `ctx` (the canvas's own context, or another one of its size: the inpainting page paints its hole apart).
 */
export function drawing(canvas: HTMLCanvasElement, ctx: CanvasRenderingContext2D, brush: () => { ink: string; size: number }, changed: () => void): void {
  let last: [number, number] | null = null;
  const at = (e: PointerEvent): [number, number] => {
    const r = canvas.getBoundingClientRect();
    return [((e.clientX - r.left) * canvas.width) / r.width, ((e.clientY - r.top) * canvas.height) / r.height];
  };
  canvas.addEventListener('pointerdown', (e) => {
    canvas.setPointerCapture(e.pointerId);
    last = at(e);
    const { ink, size } = brush();
    ctx.fillStyle = ink;
    ctx.beginPath();
    ctx.arc(last[0], last[1], size / 2, 0, 2 * Math.PI);
    ctx.fill();
    changed();
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!last) return;
    const p = at(e);
    const { ink, size } = brush();
    Object.assign(ctx, { strokeStyle: ink, lineWidth: size, lineCap: 'round', lineJoin: 'round' });
    ctx.beginPath();
    ctx.moveTo(...last);
    ctx.lineTo(...p);
    ctx.stroke();
    last = p;
    changed();
  });
  const end = () => {
    if (last) changed();
    last = null;
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
}

/**
 * An image file drawn into the input canvas: over `paper` (transparent parts of icons become paper), stretched
 * to the input size as `ganforge translate` resizes, then shown as the model will see it (grey for one channel).
 */
async function upload(file: File, ctx: CanvasRenderingContext2D, shape: [number, number, number], paper: string): Promise<void> {
  const [h, w] = shape;
  const bitmap = await createImageBitmap(file);
  ctx.fillStyle = paper;
  ctx.fillRect(0, 0, w, h);
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, 0, 0, w, h);
  bitmap.close();
  ctx.putImageData(new ImageData(toRgba(fromRgba(ctx.getImageData(0, 0, w, h).data, shape), 0, shape), w, h), 0, 0);
}

function invert(ctx: CanvasRenderingContext2D, w: number, h: number): void {
  const img = ctx.getImageData(0, 0, w, h);
  for (let i = 0; i < img.data.length; i += 4) for (let k = 0; k < 3; k++) img.data[i + k] = 255 - img.data[i + k];
  ctx.putImageData(img, 0, 0);
}
