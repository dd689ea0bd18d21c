/**
 * The text-to-image page (the studio's #/text/ID and `ganforge export`'s demo of a text run): a sentence box
 * that draws a row of samples in the page as the person types, one latent per sample fixed by a seed, so only
 * the words change the pictures; words the run's vocabulary lacks are named under the box. Its run-time
 * imports are generator_core.js's types and translate_page.js's newest-only runner; the tokenizer is passed in
 * (data/tokenizer.js's encodeSentences), so the page, the exported module and `ganforge sample` tokenize alike.
 */
import { randomLatents, toRgba, type TextGenerator } from './generator_core.js';
import { newestOnly } from './translate_page.js';

/** What the page needs of the tokenizer: token ids [n·maxLen] of sentences, and the words it did not know. */
export type SentenceEncoder = (sentences: string[]) => { tokens: Int32Array; report: { unknownWords: string[]; truncated: number; empty: number } };

/** How many samples a sentence draws (one row). */
const SAMPLES = 8;

export function mountText(root: HTMLElement, g: TextGenerator, encode: SentenceEncoder, first = ''): void {
  const [h, w] = g.info.shapes.output;
  root.innerHTML = `
    <p><label>sentence <input id="tx-sentence" size="60" placeholder="describe an image"></label>
      <label>seed <input id="tx-seed" type="number" value="0" min="0" style="width:5em"></label>
      <span id="tx-status"></span></p>
    <p id="tx-notice" class="alerts"></p>
    <div id="tx-out"></div>`;
  const $ = <T extends HTMLElement>(id: string) => root.querySelector(`#${id}`) as T;
  const box = $<HTMLInputElement>('tx-sentence');
  box.value = first;
  const canvases = Array.from({ length: SAMPLES }, () => {
    const c = Object.assign(document.createElement('canvas'), { width: w, height: h });
    c.style.cssText = 'width:112px;image-rendering:pixelated;margin:2px;border:1px solid #ccc';
    $('tx-out').append(c);
    return c;
  });

  const draw = async () => {
    const sentence = box.value.trim();
    const { tokens, report } = encode(Array.from({ length: SAMPLES }, () => sentence));
    const notes = [
      ...(report.unknownWords.length ? [`not in the run's vocabulary (drawn as <unk>): ${report.unknownWords.join(', ')}`] : []),
      ...(report.truncated ? [`longer than ${g.info.text!.maxLen} words: cut`] : []),
      ...(report.empty ? ['no words yet: type a sentence'] : []),
    ];
    $('tx-notice').textContent = notes.join('; ');
    if (report.empty) return;
    const start = performance.now();
    const pixels = await g.generate(randomLatents(SAMPLES, g.info.latentDim, Number($<HTMLInputElement>('tx-seed').value) || 0), tokens);
    canvases.forEach((c, i) => c.getContext('2d')!.putImageData(new ImageData(toRgba(pixels, i, g.info.shapes.output), w, h), 0, 0));
    $('tx-status').textContent = `${SAMPLES} samples in ${Math.round(performance.now() - start)} ms`;
    root.dataset.drawn = sentence; // what the samples show (tests wait for it)
  };
  const run = newestOnly(draw, (e) => ($('tx-notice').textContent = e.message));
  box.addEventListener('input', () => void run());
  $('tx-seed').addEventListener('input', () => void run());
  if (first) void run();
}
