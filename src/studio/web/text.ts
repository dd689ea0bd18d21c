import { loadTextGenerator } from '../generator_core.js';
import { mountText } from '../text_page.js';
import { encodeSentences } from '../../data/tokenizer.js';
import { getRun, runPath } from './api.js';
import { esc } from './live.js';
import { loadTf, pickBackend } from './tf.js';

/** A text-to-image run in the page: the newest checkpoint's composed model (manifest.text), driven by text_page.ts. */
export async function showText(view: HTMLElement, id: string): Promise<() => void> {
  const run = await getRun(id);
  const info = run.manifest;
  if (!info || info.condition !== 'text' || !info.text) {
    const why = run.manifestError ?? (info ? `${info.model} does not draw from text.` : 'No checkpoint yet: drawing needs one.');
    view.innerHTML = `<h2>${esc(id)}</h2><p>${esc(why)}</p>`;
    return () => undefined;
  }
  const text = info.text;
  const tf = await loadTf();
  const backend = await pickBackend(tf);
  const g = await loadTextGenerator(tf, `${runPath(id)}/checkpoints/${info.checkpoint}/${text.model}/model.json`, info);
  view.innerHTML = `<h2>${esc(id)}: text to image <small>${esc(info.model)} · ${esc(info.data)} · ${esc(info.checkpoint)}, TF.js ${backend}</small></h2><div id="text"></div>`;
  mountText(view.querySelector('#text') as HTMLElement, g, (s) => encodeSentences(text.vocab, text.maxLen, s), text.vocab.slice(2, 5).join(' '));
  view.dataset.ready = '1';
  return () => g.dispose();
}
