/**
 * The style explorer, shared by the studio (#/explore/ID for a run whose manifest has a style section) and the
 * demo page of an exported style generator: samples of chosen seeds under a truncation ψ slider, the
 * style-mixing grid of row and column seeds over a range of style inputs (coarse, middle, fine, or any a–b),
 * interpolation between two seeds in W, and a class picker for conditional runs. Every picture is computed in
 * the page (style_core.ts); the per-pixel noise is one fixed draw, so moving a control changes styles only.
 * Its only run-time imports are generator_core.js and style_core.js, next to it in an export and bundled with it in the studio.
 */
import { seedLatents, toRgba } from './generator_core.js';
import { broadcastW, interpolateW, layerPresets, lerpW, mixGrid, seedWs, type LayerRange, type Noise, type StyleGenerator } from './style_core.js';

const CELL = 72; // on-screen side of an image, in CSS pixels
const MAX_SEEDS = 16;
const STRIP = 8; // frames in the interpolation strip
type Part = 'gallery' | 'mix' | 'strip' | 'frame';

/**
 * Builds the explorer inside `root` and draws it once. `root.dataset.renders` counts the times every requested
 * picture has been redrawn (tests wait on it); errors show in #st-status.
 */
export async function mountStyleExplorer(root: HTMLElement, g: StyleGenerator): Promise<void> {
  const { style, info } = g;
  const presets = layerPresets(style);
  const classes = g.conditional ? (info.classNames ?? Array.from({ length: info.numClasses }, (_, i) => String(i))) : [];
  const initial = presets[0]?.range ?? [0, Math.max(0, Math.floor(style.numWs / 2) - 1)];
  const rangeText = ([a, b]: LayerRange) => `${a}–${b}, ${style.resolutions[a]}–${style.resolutions[b]} px`;
  root.innerHTML = `
    <p><label>truncation ψ <input id="st-psi" type="range" min="0" max="1" step="0.05" value="1"> <span id="st-psi-v">1.00</span></label>
      <label ${classes.length ? '' : 'hidden'}>class <select id="st-class">${classes.map((c, i) => `<option value="${i}">${escape(c)}</option>`).join('')}</select></label>
      <label>noise <select id="st-noise"><option value="fixed">one fixed draw</option><option value="zero">off</option></select></label></p>
    <p class="st-note">w = w̄ + ψ(w − w̄): ψ = 0 is the mean w (every seed the same image), 1 the untouched sample.
      ${style.numWs} style inputs at ${[...new Set(style.resolutions)].join(', ')} px; the noise is the same for every image.</p>
    <h3>Samples</h3>
    <p><label>seeds <input id="st-seeds" value="1,2,3,4,5,6,7,8" size="30"></label></p>
    <div id="st-gallery" class="st-images"></div>
    <h3>Style mixing</h3>
    <p><label>row seeds <input id="st-rows" value="1,2,3" size="14"></label>
      <label>column seeds <input id="st-cols" value="4,5,6,7" size="14"></label></p>
    <p>style inputs taken from the column: <select id="st-preset">${presets
      .map((p) => `<option value="${p.name}">${p.name} (${rangeText(p.range)})</option>`)
      .join('')}<option value="custom">custom</option></select>
      <label>from <input id="st-a" type="number" min="0" max="${style.numWs - 1}" value="${initial[0]}" style="width:4em"></label>
      <label>to <input id="st-b" type="number" min="0" max="${style.numWs - 1}" value="${initial[1]}" style="width:4em"></label>
      <span id="st-range"></span></p>
    <div id="st-mix" class="st-images"></div>
    <h3>Interpolation in W</h3>
    <p><label>from seed <input id="st-ia" type="number" min="0" value="1" style="width:6em"></label>
      <label>to seed <input id="st-ib" type="number" min="0" value="2" style="width:6em"></label></p>
    <div id="st-strip" class="st-images"></div>
    <p><label><input id="st-t" type="range" min="0" max="1" step="0.01" value="0.5"> t = <span id="st-t-v">0.50</span></label></p>
    <canvas id="st-frame"></canvas>
    <p id="st-status"></p>`;
  const $ = <T extends HTMLElement>(id: string) => root.querySelector(`#${id}`) as T;
  const value = (id: string) => $<HTMLInputElement>(id).value;
  const [h, w] = info.shapes.output;
  const shape = info.shapes.output;
  Object.assign($<HTMLCanvasElement>('st-frame'), { width: w, height: h });
  $('st-frame').style.cssText = `width:${3 * CELL}px;height:${3 * CELL}px;image-rendering:pixelated;border:1px solid #ccc`;
  if (!presets.length) $<HTMLSelectElement>('st-preset').value = 'custom';

  const psi = () => Number(value('st-psi'));
  const label = () => (classes.length ? Number(value('st-class')) : undefined);
  const fixed = () => value('st-noise') === 'fixed';
  const noise = (seed: number): Noise => (fixed() ? seed : 'zero');
  const common = () => ({ truncation: psi(), label: label() });

  const paint = (canvas: HTMLCanvasElement, pixels: Float32Array, i: number) => {
    canvas.getContext('2d')!.putImageData(new ImageData(toRgba(pixels, i, shape), w, h), 0, 0);
  };
  const canvas = (title: string, data: Record<string, string> = {}) => {
    const c = Object.assign(document.createElement('canvas'), { width: w, height: h, title });
    c.style.cssText = `width:${CELL}px;height:${CELL}px;image-rendering:pixelated;border:1px solid #ddd`;
    Object.assign(c.dataset, data);
    return c;
  };
  const row = (...items: HTMLElement[]) => {
    const div = document.createElement('div');
    div.style.cssText = 'display:flex;gap:4px;margin-bottom:4px';
    div.append(...items);
    return div;
  };

  /** The layer range the controls say, or why not. */
  const range = (): LayerRange => {
    const [a, b] = [Number(value('st-a')), Number(value('st-b'))];
    if (!(Number.isInteger(a) && Number.isInteger(b) && a >= 0 && a <= b && b < style.numWs)) {
      throw new Error(`style inputs must be a ≤ b within 0–${style.numWs - 1}, got ${value('st-a')}–${value('st-b')}`);
    }
    return [a, b];
  };

  const draw: Record<Part, () => Promise<void>> = {
    async gallery() {
      const seeds = parseSeeds(value('st-seeds'), 'seeds');
      const pixels = await g.generate(seedLatents(seeds, style.zDim), { ...common(), noise: noise(0) });
      const box = $('st-gallery');
      box.replaceChildren(row(...seeds.map((s, i) => {
        const c = canvas(`seed ${s}`, { seed: String(s) });
        paint(c, pixels, i);
        return c;
      })));
    },
    async mix() {
      const [rows, cols, layers] = [parseSeeds(value('st-rows'), 'row seeds'), parseSeeds(value('st-cols'), 'column seeds'), range()];
      $('st-range').textContent = `(inputs ${rangeText(layers)})`;
      // Noise as `ganforge sample --style-mix` draws it: from the first row seed.
      const grid = await mixGrid(g, { rows, cols, layers, ...common(), noise: fixed() ? rows[0] : 'zero' });
      const blank = document.createElement('div');
      blank.style.cssText = `width:${CELL + 2}px`;
      const top = row(blank, ...cols.map((s, c) => {
        const el = canvas(`column seed ${s}`, { col: String(c) });
        paint(el, grid.top, c);
        return el;
      }));
      const lines = rows.map((s, r) => {
        const left = canvas(`row seed ${s}`, { row: String(r) });
        paint(left, grid.left, r);
        return row(left, ...cols.map((cs, c) => {
          const el = canvas(`row seed ${s}, inputs ${layers[0]}–${layers[1]} from column seed ${cs}`, { cell: `${r},${c}` });
          paint(el, grid.cells, r * cols.length + c);
          return el;
        }));
      });
      $('st-mix').replaceChildren(top, ...lines);
    },
    async strip() {
      const [a, b] = [seedOf(value('st-ia')), seedOf(value('st-ib'))];
      const pixels = await interpolateW(g, a, b, STRIP, { ...common(), noise: noise(0) });
      $('st-strip').replaceChildren(row(...Array.from({ length: STRIP }, (_, i) => {
        const c = canvas(`t = ${(i / (STRIP - 1)).toFixed(2)}`, { t: String(i) });
        paint(c, pixels, i);
        return c;
      })));
    },
    async frame() {
      const [a, b] = [seedOf(value('st-ia')), seedOf(value('st-ib'))];
      const t = Number(value('st-t'));
      $('st-t-v').textContent = t.toFixed(2);
      const pixels = await interpolateAt(g, a, b, t, { ...common(), noise: noise(0) });
      paint($('st-frame'), pixels, 0);
    },
  };

  // One redraw at a time; controls that move faster only ask for the parts they touch to be drawn again.
  const pending = new Set<Part>();
  let busy: Promise<void> | null = null;
  const schedule = (...parts: Part[]) => {
    parts.forEach((p) => pending.add(p));
    busy ??= (async () => {
      while (pending.size) {
        const todo = (['gallery', 'mix', 'strip', 'frame'] as Part[]).filter((p) => pending.has(p));
        pending.clear();
        const start = performance.now();
        try {
          for (const p of todo) await draw[p]();
          $('st-status').textContent = `drawn in ${Math.round(performance.now() - start)} ms`;
        } catch (e) {
          $('st-status').textContent = (e as Error).message;
        }
      }
      root.dataset.renders = String(Number(root.dataset.renders ?? 0) + 1);
      busy = null;
    })();
    return busy;
  };

  const on = (ids: string[], event: string, parts: Part[], before?: () => void) =>
    ids.forEach((id) => $(id).addEventListener(event, () => {
      before?.();
      void schedule(...parts);
    }));
  on(['st-psi', 'st-class', 'st-noise'], 'input', ['gallery', 'mix', 'strip', 'frame'], () => ($('st-psi-v').textContent = psi().toFixed(2)));
  on(['st-seeds'], 'change', ['gallery']);
  on(['st-rows', 'st-cols'], 'change', ['mix']);
  on(['st-preset'], 'change', ['mix'], () => {
    const preset = presets.find((p) => p.name === value('st-preset'));
    if (preset) [$<HTMLInputElement>('st-a').value, $<HTMLInputElement>('st-b').value] = preset.range.map(String);
  });
  on(['st-a', 'st-b'], 'change', ['mix'], () => {
    const [a, b] = [Number(value('st-a')), Number(value('st-b'))];
    $<HTMLSelectElement>('st-preset').value = presets.find((p) => p.range[0] === a && p.range[1] === b)?.name ?? 'custom';
  });
  on(['st-ia', 'st-ib'], 'change', ['strip', 'frame']);
  on(['st-t'], 'input', ['frame']);
  await schedule('gallery', 'mix', 'strip', 'frame');
}

/** The point t of the way from seed a's w to seed b's, as one image in 0..1. */
async function interpolateAt(g: StyleGenerator, a: number, b: number, t: number, options: { truncation?: number; label?: number; noise?: Noise }): Promise<Float32Array> {
  const ws = await seedWs(g, [a, b], options);
  const wDim = g.style.wDim;
  return g.synthesize(broadcastW(lerpW(ws.subarray(0, wDim), ws.subarray(wDim), t), g.style.numWs), { noise: options.noise });
}

function parseSeeds(text: string, what: string): number[] {
  const seeds = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (!seeds.length || seeds.length > MAX_SEEDS || seeds.some((s) => !/^\d+$/.test(s))) {
    throw new Error(`${what}: 1–${MAX_SEEDS} comma-separated non-negative integers, e.g. 1,2,3; got '${text}'`);
  }
  return seeds.map(Number);
}

function seedOf(text: string): number {
  if (!/^\s*\d+\s*$/.test(text)) throw new Error(`a seed is a non-negative integer, got '${text}'`);
  return Number(text);
}

function escape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
