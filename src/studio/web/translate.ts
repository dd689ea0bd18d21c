import { loadTranslator, type Direction, type Translator } from '../generator_core.js';
import { mountTranslate } from '../translate_page.js';
import { isInpainter, mountInpaint } from '../inpaint_page.js';
import { mountUpscale, upscaleFactorOf } from '../upscale_page.js';
import { getRun, runPath } from './api.js';
import { esc } from './live.js';
import { loadTf, pickBackend } from './tf.js';

/**
 * A translator run in the page: the newest checkpoint's generator for each direction its family declares
 * (the manifest), driven by the shared draw/upload page (translate_page.ts, also `ganforge export`'s demo).
 */
export async function showTranslate(view: HTMLElement, id: string): Promise<() => void> {
  const run = await getRun(id);
  const info = run.manifest;
  if (!info || info.condition !== 'image') {
    const why = run.manifestError ?? (info ? `${info.model} is not a translator: explore its latents instead.` : 'No checkpoint yet: translating needs one.');
    view.innerHTML = `<h2>${esc(id)}</h2><p>${esc(why)}</p>`;
    return () => undefined;
  }
  const tf = await loadTf();
  const backend = await pickBackend(tf);
  const translators: Partial<Record<Direction, Translator>> = {};
  for (const [d, dir] of Object.entries(info.directions ?? {}) as [Direction, { generator: string }][]) {
    translators[d] = await loadTranslator(tf, `${runPath(id)}/checkpoints/${info.checkpoint}/${dir.generator}/model.json`, info, d);
  }
  // A generator of an image plus its mask channel fills holes: the page to paint them (inpaint_page.ts).
  const inpainter = translators.AtoB && isInpainter(translators.AtoB) ? translators.AtoB : undefined;
  // One whose output is its input enlarged by a whole factor upscales: the before/after viewer (upscale_page.ts).
  const upscaler = translators.AtoB && upscaleFactorOf(translators.AtoB) ? translators.AtoB : undefined;
  view.innerHTML = `<h2>${esc(id)}: ${inpainter ? 'inpaint' : upscaler ? 'upscale' : 'translate'} <small>${esc(info.model)} · ${esc(info.data)} · ${esc(info.checkpoint)}, TF.js ${backend}</small></h2>
    <div id="translate"></div>`;
  const root = view.querySelector('#translate') as HTMLElement;
  if (inpainter) mountInpaint(root, inpainter);
  else if (upscaler) mountUpscale(root, upscaler);
  else mountTranslate(root, info, translators);
  view.dataset.ready = '1';
  return () => Object.values(translators).forEach((t) => t?.dispose());
}
