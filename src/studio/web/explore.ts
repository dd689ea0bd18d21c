import { arithmetic, lerp, loadGenerator, randomLatents, slerp, toRgba, truncate, truncatedSeedLatents, type Generator } from '../generator_core.js';
import { loadStyleGenerator } from '../style_core.js';
import { mountStyleExplorer } from '../style_page.js';
import { getRun, runPath } from './api.js';
import { esc } from './live.js';
import { loadTf, pickBackend } from './tf.js';

const GALLERY = 16;

/**
 * The latent explorer: a gallery of samples to pick A, B and C from, interpolation A→B (linear or
 * spherical), truncation ψ (the family's own trick when it truncates z), a class picker for conditional
 * generators, and A − B + C. A run whose manifest has a style section gets the style explorer instead
 * (style_page.ts). Every frame runs the run's newest generator checkpoint in this page with TF.js; the server
 * only serves the weights.
 */
export async function showExplore(view: HTMLElement, id: string): Promise<() => void> {
  const run = await getRun(id);
  const info = run.manifest;
  if (run.kind === 'sequence') {
    location.replace(`#/sequences/${encodeURIComponent(id)}`); // sequences are sampled on the server: their own page
    return () => undefined;
  }
  if (info?.condition === 'text') {
    location.replace(`#/text/${encodeURIComponent(id)}`); // a text run draws from sentences: its own page
    return () => undefined;
  }
  if (info?.condition === 'image') {
    location.replace(`#/translate/${encodeURIComponent(id)}`); // a translator has no latents: its own page
    return () => undefined;
  }
  if (!info) {
    view.innerHTML = `<h2>${esc(id)}</h2><p>${esc(run.manifestError ?? 'No checkpoint yet: the explorer needs one.')}</p>`;
    return () => undefined;
  }
  const tf = await loadTf();
  const backend = await pickBackend(tf);
  const checkpointUrl = `${runPath(id)}/checkpoints/${info.checkpoint}`;
  if (info.style) {
    // A style-based generator: its own explorer (truncation in W, style mixing, interpolation in W).
    const sg = await loadStyleGenerator(tf, checkpointUrl, info);
    view.innerHTML = `<h2>${esc(id)}: style explorer <small>${esc(info.model)} · ${esc(info.data)} · ${esc(info.checkpoint)}, TF.js ${backend}</small></h2>
      <div id="style"></div>`;
    await mountStyleExplorer(view.querySelector('#style') as HTMLElement, sg);
    view.dataset.ready = '1';
    return () => sg.dispose();
  }
  const { latentDim, shapes: { output: shape } } = info;
  const g: Generator = await loadGenerator(tf, `${checkpointUrl}/${info.generator}/model.json`, info);
  const classes = g.conditional ? (info.classNames ?? Array.from({ length: info.numClasses }, (_, i) => String(i))) : [];
  // A family that truncates z (BigGAN) samples z ~ N(0, I) truncated to ±2, scaled by ψ ≤ 1; others get z·ψ.
  const inZ = info.truncation === 'z';
  view.innerHTML = `
    <h2>${esc(id)}: latent explorer <small>${esc(info.checkpoint)}, TF.js ${backend}</small></h2>
    <p><button id="reroll">new samples</button>
      <label title="${inZ ? 'z truncated to [−2, 2], times ψ (the family\'s truncation trick)' : 'z times ψ'}">truncation ψ <input id="psi" type="range" min="0" max="${inZ ? 1 : 1.5}" step="0.05" value="1"> <span id="psi-v">1.00</span></label>
      <label>class <select id="label" ${classes.length ? '' : 'disabled'}>${
        classes.length ? classes.map((c, i) => `<option value="${i}">${esc(c)}</option>`).join('') : '<option>unconditional</option>'
      }</select></label></p>
    <p>Click samples to choose A, B, C in turn.</p>
    <div id="gallery"></div>
    <div class="row">
      <div><h3>A → B</h3><canvas id="interp" class="big"></canvas><br>
        <label><input type="range" id="t" min="0" max="1" step="0.01" value="0.5"> t</label>
        <label><input type="radio" name="mode" value="slerp" checked> slerp</label><label><input type="radio" name="mode" value="lerp"> linear</label></div>
      <div><h3>A − B + C</h3><canvas id="arith" class="big"></canvas></div>
    </div>`;
  const [h, w] = shape;
  const $ = <T extends HTMLElement>(sel: string) => view.querySelector(sel) as T;
  const gallery = Array.from({ length: GALLERY }, () => {
    const c = document.createElement('canvas');
    Object.assign(c, { width: w, height: h, className: 'sample' });
    $('#gallery').append(c);
    return c;
  });
  for (const c of [$<HTMLCanvasElement>('#interp'), $<HTMLCanvasElement>('#arith')]) Object.assign(c, { width: w, height: h });

  let seed = 1;
  const draw = (page: number) =>
    inZ ? truncatedSeedLatents(Array.from({ length: GALLERY }, (_, i) => (page - 1) * GALLERY + i + 1), latentDim, 1) : randomLatents(GALLERY, latentDim, page);
  let z = draw(seed);
  const picks = [0, 1, 2]; // gallery indices of A, B, C
  let nextPick = 0;
  const row = (i: number) => z.subarray(i * latentDim, (i + 1) * latentDim);
  const psi = () => Number($<HTMLInputElement>('#psi').value);
  const label = () => (classes.length ? Number($<HTMLSelectElement>('#label').value) : 0);

  const paint = (canvas: HTMLCanvasElement, pixels: Float32Array, i: number) => {
    canvas.getContext('2d')!.putImageData(new ImageData(toRgba(pixels, i, shape), w, h), 0, 0);
    canvas.dataset.frame = String(Number(canvas.dataset.frame ?? 0) + 1); // lets tests wait for a new frame
  };
  const drawGallery = async () => {
    const pixels = await g.generate(truncate(z, psi()), label());
    gallery.forEach((c, i) => {
      paint(c, pixels, i);
      c.classList.toggle('sel', picks.includes(i));
      c.title = ['A', 'B', 'C'].filter((_, k) => picks[k] === i).join(',');
    });
  };
  // Frames are generated one at a time; a slider that moves faster only asks for the latest position.
  let busy = false;
  let again = false;
  const drawMixes = async () => {
    if (busy) return void (again = true);
    busy = true;
    do {
      again = false;
      const mode = $<HTMLInputElement>('input[name=mode]:checked').value;
      const t = Number($<HTMLInputElement>('#t').value);
      const [a, b, c] = picks.map(row);
      const mixed = mode === 'slerp' ? slerp(a, b, t) : lerp(a, b, t);
      const both = new Float32Array(2 * latentDim);
      both.set(truncate(mixed, psi()));
      both.set(truncate(arithmetic(a, b, c), psi()), latentDim);
      const pixels = await g.generate(both, label());
      paint($('#interp'), pixels, 0);
      paint($('#arith'), pixels, 1);
    } while (again);
    busy = false;
  };
  const redraw = async () => {
    $('#psi-v').textContent = psi().toFixed(2);
    await drawGallery();
    await drawMixes();
  };

  gallery.forEach((c, i) =>
    c.addEventListener('click', () => {
      picks[nextPick] = i;
      nextPick = (nextPick + 1) % 3;
      void redraw();
    }),
  );
  $('#reroll').addEventListener('click', () => {
    z = draw(++seed);
    void redraw();
  });
  for (const sel of ['#psi', '#label']) $(sel).addEventListener('input', () => void redraw());
  $('#t').addEventListener('input', () => void drawMixes());
  view.querySelectorAll('input[name=mode]').forEach((r) => r.addEventListener('change', () => void drawMixes()));
  await redraw();
  view.dataset.ready = '1';
  return () => g.dispose();
}
