import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { EmbeddingView, SequenceView } from '../sequences.js';
import { getRun, runPath } from './api.js';
import { esc } from './live.js';

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4b5563', '#ca8a04'];
/** The TimeGAN figure's colours (metrics/sequence_embedding.ts EMBEDDING_COLOURS): red real, blue synthetic. */
const SET_COLOURS = { real: 'rgba(220, 38, 38, 0.3)', fake: 'rgba(37, 99, 235, 0.3)' };
const METHODS = [['pca', 'PCA'], ['tsne', 't-SNE']] as const;

async function json<T>(url: string): Promise<T> {
  const res = await fetch(url);
  const body = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(body.error ?? `${url}: ${res.status}`);
  return body;
}

/**
 * A sequence run: real windows of its data and samples of its newest checkpoint as line charts side by side, one
 * feature at a time, in original units on one y scale; "resample" draws other windows and samples (the seed
 * counts up). Below, the TimeGAN figure: PCA and t-SNE of up to 1,000 real and 1,000 synthetic sequences. The
 * server computes all of it (sequences.ts): the page only draws.
 */
export async function showSequences(view: HTMLElement, id: string): Promise<() => void> {
  const run = await getRun(id);
  if (run.kind !== 'sequence' || !run.checkpoint) {
    const why = run.kind !== 'sequence' ? `${String(run.config.model)} on ${String(run.config.data)} does not make sequences.` : 'No checkpoint yet: generated sequences need one.';
    view.innerHTML = `<h2>${esc(id)}</h2><p>${esc(why)}</p>`;
    return () => undefined;
  }
  view.innerHTML = `
    <h2>${esc(id)}: sequences <small>${esc(String(run.config.model))} · ${esc(String(run.config.data))} · <span id="sq-ckpt"></span></small></h2>
    <p><label>feature <select id="sq-feature"></select></label>
      <label id="sq-class-label" hidden>condition <select id="sq-class"></select></label>
      <button id="sq-resample">resample</button> <span id="sq-status"></span></p>
    <p class="alerts" id="sq-error"></p>
    <div class="row">
      <div><h3>real</h3><div id="sq-real"></div></div>
      <div><h3>generated</h3><div id="sq-fake"></div></div>
    </div>
    <h3>real vs synthetic (the TimeGAN paper's figure)</h3>
    <div class="row">${METHODS.map(([m, name]) => `<figure><canvas id="sq-${m}" width="380" height="340" style="border:1px solid #ccc;background:#fff"></canvas>
      <figcaption style="max-width:380px"><b>${name}</b> <span style="color:#dc2626">● real</span> <span style="color:#2563eb">● synthetic</span><br><small id="sq-${m}-note">computing…</small></figcaption></figure>`).join('')}</div>`;
  const $ = <T extends HTMLElement>(sel: string) => view.querySelector(sel) as T;
  const select = $<HTMLSelectElement>('#sq-feature');
  const classSelect = $<HTMLSelectElement>('#sq-class');
  const plots: uPlot[] = [];
  let shown: SequenceView | null = null;
  let seed = 0;
  let closed = false;

  const draw = () => {
    if (!shown) return;
    const s = shown;
    const j = Number(select.value) || 0;
    const f = s.features.length, t = s.window;
    const column = (values: number[], k: number) => Array.from({ length: t }, (_, i) => values[(k * t + i) * f + j]);
    const real = Array.from({ length: s.count }, (_, k) => column(s.real, k));
    const fake = Array.from({ length: s.fake.length / (t * f) }, (_, k) => column(s.fake, k));
    // One y range for both charts, so real and generated compare by eye.
    const all = [...real.flat(), ...fake.flat()];
    const lo = Math.min(...all), hi = Math.max(...all);
    const pad = (hi - lo) * 0.05 || 1;
    plots.splice(0).forEach((p) => p.destroy());
    for (const [sel, rows] of [['#sq-real', real], ['#sq-fake', fake]] as const) {
      const el = $<HTMLElement>(sel);
      el.innerHTML = '';
      const plot = new uPlot(
        {
          width: 420,
          height: 240,
          legend: { show: false },
          scales: { x: { time: false }, y: { range: [lo - pad, hi + pad] } },
          axes: [{ label: 'time step' }, { label: s.features[j] }],
          series: [{}, ...rows.map((_, k) => ({ label: `#${k + 1}`, stroke: COLORS[k % COLORS.length], width: 1.2 }))],
        },
        [Array.from({ length: t }, (_, i) => i), ...rows] as uPlot.AlignedData,
        el,
      );
      plots.push(plot);
      Object.assign(el, { plot }); // what is drawn, for tests
      el.dataset.drawn = `${s.seed}:${j}${s.class !== undefined ? `:${s.class}` : ''}`;
    }
  };

  const load = async () => {
    $('#sq-status').textContent = 'sampling…';
    try {
      const k = classSelect.value === '' ? '' : `&class=${classSelect.value}`;
      const s = await json<SequenceView>(`${runPath(id)}/sequences?seed=${seed}${k}`);
      if (closed) return;
      if (!shown) {
        select.innerHTML = s.features.map((name, j) => `<option value="${j}">${esc(name)}</option>`).join('');
        // A class-conditional run (rcgan): real windows of one class beside samples drawn with it.
        classSelect.innerHTML = `<option value="">all (samples cycle through them)</option>${(s.classNames ?? []).map((c, i) => `<option value="${i}">${esc(c)}</option>`).join('')}`;
        $('#sq-class-label').hidden = !s.classNames;
      }
      shown = s;
      $('#sq-ckpt').textContent = `${s.checkpoint} (step ${s.step})`;
      $('#sq-status').textContent = `${s.count} real windows and ${s.fake.length / (s.window * s.features.length)} samples${s.class !== undefined ? ` of class ${s.classNames?.[s.class] ?? s.class}` : ''}, seed ${s.seed}, original units`;
      $('#sq-error').textContent = '';
      draw();
      view.dataset.ready = '1';
    } catch (e) {
      $('#sq-error').textContent = (e as Error).message;
    }
  };

  const embed = async (method: string) => {
    const note = $(`#sq-${method}-note`);
    try {
      const e = await json<EmbeddingView>(`${runPath(id)}/embedding?method=${method}&seed=0`);
      if (closed) return;
      scatter($<HTMLCanvasElement>(`#sq-${method}`), e);
      note.textContent = e.protocol;
    } catch (err) {
      note.textContent = (err as Error).message;
    }
  };

  select.addEventListener('change', draw);
  classSelect.addEventListener('change', () => void load());
  $('#sq-resample').addEventListener('click', () => {
    seed += 1;
    void load();
  });
  await load();
  void embed('pca').then(() => embed('tsne')); // one at a time: t-SNE is the slow one
  return () => {
    closed = true;
    plots.forEach((p) => p.destroy());
  };
}

/** The embedding as a scatter plot: real points first, synthetic over them, both translucent (the authors' α 0.2–0.3). */
function scatter(canvas: HTMLCanvasElement, e: EmbeddingView): void {
  const ctx = canvas.getContext('2d')!;
  const { width, height } = canvas;
  const xs = [...e.real.filter((_, i) => i % 2 === 0), ...e.fake.filter((_, i) => i % 2 === 0)];
  const ys = [...e.real.filter((_, i) => i % 2 === 1), ...e.fake.filter((_, i) => i % 2 === 1)];
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const margin = 12;
  const px = (x: number) => margin + ((x - x0) / (x1 - x0 || 1)) * (width - 2 * margin);
  const py = (y: number) => height - margin - ((y - y0) / (y1 - y0 || 1)) * (height - 2 * margin);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, height);
  for (const [set, values] of [['real', e.real], ['fake', e.fake]] as const) {
    ctx.fillStyle = SET_COLOURS[set];
    for (let i = 0; i < values.length; i += 2) {
      ctx.beginPath();
      ctx.arc(px(values[i]), py(values[i + 1]), 2.5, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
  Object.assign(canvas, { points: { real: e.real, fake: e.fake } }); // what is drawn, for tests
  canvas.dataset.drawn = `${e.method}:${e.count}`;
}
